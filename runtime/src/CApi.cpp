//===- CApi.cpp - The extern "C" surface of libqcrt -----------------------===//

#include "Model.h"
#include "qcrt.h"

#include "ThreadPool.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <string>
#include <vector>

extern "C" void memrefCopy(int64_t elemSize, void *src, void *dst);

/// The opaque handle. qcrt_tensor_info points into the manifest it owns,
/// which never changes after load.
struct qcrt_model {
  std::unique_ptr<qc::rt::Model> impl;
};

namespace qc::rt {
/// A zeroed, 64-byte aligned byte buffer.
class AlignedBuffer {
public:
  explicit AlignedBuffer(size_t bytes)
      : bytes(bytes), ptr(static_cast<char *>(std::aligned_alloc(
                          64, std::max<size_t>(64, (bytes + 63) / 64 * 64)))) {
    zero();
  }
  AlignedBuffer(AlignedBuffer &&other) noexcept
      : bytes(other.bytes), ptr(other.ptr) {
    other.ptr = nullptr;
  }
  AlignedBuffer(const AlignedBuffer &) = delete;
  ~AlignedBuffer() { std::free(ptr); }
  void zero() {
    if (ptr)
      std::memset(ptr, 0, bytes);
  }
  void *data() { return ptr; }

private:
  size_t bytes;
  char *ptr;
};
} // namespace qc::rt

/// A model's states between runs.
struct qcrt_session {
  const qcrt_model *model = nullptr;
  std::vector<qc::rt::AlignedBuffer> states;
};

namespace {

thread_local std::string lastError;

qcrt_status fail(const qc::rt::Status &status) {
  lastError = status.message();
  return status.code();
}

qcrt_status fail(qcrt_status code, const char *message) {
  lastError = message;
  return code;
}

/// model.so leaves memrefCopy undefined and expects the process to provide
/// it. That works when libqcrt is a link-time dependency (global scope), but
/// not when a host such as Python's ctypes dlopen()s libqcrt with
/// RTLD_LOCAL. Re-opening ourselves with RTLD_NOLOAD | RTLD_GLOBAL promotes
/// libqcrt to the global scope; the extra reference is intentionally kept.
void exposeRuntimeSymbols() {
  static std::once_flag once;
  std::call_once(once, [] {
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&memrefCopy), &info) && info.dli_fname)
      dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
  });
}

qcrt_status tensorInfo(const std::vector<qc::rt::TensorDecl> &decls,
                       const char *kind, size_t index, qcrt_tensor_info *out) {
  if (!out)
    return fail(QCRT_ERR_ARGUMENT, "info output pointer is null");
  if (index >= decls.size()) {
    lastError = qc::rt::formatString(
        "%s index %zu out of range (model has %zu)", kind, index, decls.size());
    return QCRT_ERR_ARGUMENT;
  }
  const qc::rt::TensorDecl &decl = decls[index];
  out->name = decl.name.c_str();
  out->dtype = decl.dtype;
  out->rank = static_cast<int32_t>(decl.dims.size());
  out->dims = decl.dims.empty() ? nullptr : decl.dims.data();
  out->elem_size = qc::rt::dtypeSize(decl.dtype);
  out->num_elements = decl.numElements;
  out->byte_size = decl.byteSize;
  return QCRT_OK;
}

} // namespace

extern "C" {

qcrt_status qcrt_load(const char *artifact_dir, qcrt_model **out) {
  if (out)
    *out = nullptr;
  if (!artifact_dir || !out)
    return fail(QCRT_ERR_ARGUMENT, "qcrt_load: null argument");
  exposeRuntimeSymbols();
  std::unique_ptr<qc::rt::Model> impl;
  qc::rt::Status status = qc::rt::Model::load(artifact_dir, impl);
  if (!status.ok())
    return fail(status);
  *out = new qcrt_model{std::move(impl)};
  return QCRT_OK;
}

void qcrt_free(qcrt_model *model) { delete model; }

size_t qcrt_num_entries(const qcrt_model *model) {
  return model ? model->impl->manifest().entries.size() : 0;
}

const char *qcrt_entry_name(const qcrt_model *model, size_t index) {
  if (!model || index >= model->impl->manifest().entries.size())
    return nullptr;
  return model->impl->manifest().entries[index].c_str();
}

qcrt_status qcrt_load_entry(const qcrt_model *model, const char *name,
                            qcrt_model **out) {
  if (out)
    *out = nullptr;
  if (!model || !name || !out)
    return fail(QCRT_ERR_ARGUMENT, "qcrt_load_entry: null argument");
  std::unique_ptr<qc::rt::Model> impl;
  qc::rt::Status status = qc::rt::Model::loadEntry(*model->impl, name, impl);
  if (!status.ok())
    return fail(status);
  *out = new qcrt_model{std::move(impl)};
  return QCRT_OK;
}

unsigned qcrt_model_planes(const qcrt_model *model) {
  return model ? model->impl->manifest().planes : 0;
}

qcrt_status qcrt_load_planes(const qcrt_model *model, unsigned planes,
                             qcrt_model **out) {
  if (out)
    *out = nullptr;
  if (!model || !out)
    return fail(QCRT_ERR_ARGUMENT, "qcrt_load_planes: null argument");
  const qc::rt::Manifest &manifest = model->impl->manifest();
  if (manifest.planes == 0)
    return fail(QCRT_ERR_ARGUMENT,
                "the artifact serves one precision (it was not compiled "
                "with --min-planes)");
  std::string name = planes == manifest.planes
                         ? std::string() // the default entry again
                         : "planes" + std::to_string(planes);
  if (!name.empty() && std::find(manifest.entries.begin(),
                                 manifest.entries.end(),
                                 name) == manifest.entries.end()) {
    std::string served;
    for (const std::string &entry : manifest.entries)
      if (entry.rfind("planes", 0) == 0)
        served += entry.substr(6) + ", ";
    std::string message = "the artifact serves " + served +
                          std::to_string(manifest.planes) +
                          " bit-planes, not " + std::to_string(planes);
    return fail(QCRT_ERR_ARGUMENT, message.c_str());
  }
  std::unique_ptr<qc::rt::Model> impl;
  qc::rt::Status status = qc::rt::Model::loadEntry(*model->impl, name, impl);
  if (!status.ok())
    return fail(status);
  *out = new qcrt_model{std::move(impl)};
  return QCRT_OK;
}

const char *qcrt_last_error(void) { return lastError.c_str(); }

size_t qcrt_num_inputs(const qcrt_model *model) {
  return model ? model->impl->manifest().inputs.size() : 0;
}

size_t qcrt_num_outputs(const qcrt_model *model) {
  return model ? model->impl->manifest().outputs.size() : 0;
}

size_t qcrt_num_weights(const qcrt_model *model) {
  return model ? model->impl->manifest().weights.size() : 0;
}

qcrt_status qcrt_input_info(const qcrt_model *model, size_t index,
                            qcrt_tensor_info *out) {
  if (!model)
    return fail(QCRT_ERR_ARGUMENT, "qcrt_input_info: model is null");
  return tensorInfo(model->impl->manifest().inputs, "input", index, out);
}

qcrt_status qcrt_output_info(const qcrt_model *model, size_t index,
                             qcrt_tensor_info *out) {
  if (!model)
    return fail(QCRT_ERR_ARGUMENT, "qcrt_output_info: model is null");
  return tensorInfo(model->impl->manifest().outputs, "output", index, out);
}

qcrt_status qcrt_weight_info(const qcrt_model *model, size_t index,
                             qcrt_tensor_info *out) {
  if (!model)
    return fail(QCRT_ERR_ARGUMENT, "qcrt_weight_info: model is null");
  return tensorInfo(model->impl->manifest().weights, "weight", index, out);
}

const char *qcrt_model_qc_version(const qcrt_model *model) {
  return model ? model->impl->manifest().qcVersion.c_str() : "";
}

const char *qcrt_dtype_name(qcrt_dtype dtype) {
  return qc::rt::dtypeName(dtype);
}

qcrt_status qcrt_run(const qcrt_model *model, const void *const *inputs,
                     void *const *outputs) {
  return qcrt_run_with_weights(model, inputs, outputs, nullptr);
}

qcrt_status qcrt_run_with_weights(const qcrt_model *model,
                                  const void *const *inputs,
                                  void *const *outputs,
                                  const void *const *weights) {
  if (!model)
    return fail(QCRT_ERR_ARGUMENT, "qcrt_run: model is null");
  qc::rt::Status status = model->impl->run(inputs, outputs, weights);
  if (!status.ok())
    return fail(status);
  return QCRT_OK;
}

size_t qcrt_num_states(const qcrt_model *model) {
  return model ? model->impl->manifest().states.size() : 0;
}

qcrt_status qcrt_state_info(const qcrt_model *model, size_t index,
                            size_t *input_index, size_t *output_index) {
  if (!model || !input_index || !output_index)
    return fail(QCRT_ERR_ARGUMENT, "qcrt_state_info: null argument");
  const auto &states = model->impl->manifest().states;
  if (index >= states.size()) {
    lastError = qc::rt::formatString(
        "state index %zu out of range (model has %zu)", index, states.size());
    return QCRT_ERR_ARGUMENT;
  }
  *input_index = states[index].input;
  *output_index = states[index].output;
  return QCRT_OK;
}

qcrt_status qcrt_session_create(const qcrt_model *model, qcrt_session **out) {
  if (out)
    *out = nullptr;
  if (!model || !out)
    return fail(QCRT_ERR_ARGUMENT, "qcrt_session_create: null argument");
  auto *session = new qcrt_session;
  session->model = model;
  for (const qc::rt::StateDecl &st : model->impl->manifest().states) {
    const qc::rt::TensorDecl &decl = model->impl->manifest().inputs[st.input];
    session->states.emplace_back(decl.byteSize);
    if (!session->states.back().data()) {
      delete session;
      lastError = qc::rt::formatString(
          "qcrt_session_create: cannot allocate %llu bytes for state '%s'",
          static_cast<unsigned long long>(decl.byteSize),
          decl.escapedName.c_str());
      return QCRT_ERR_ARGUMENT;
    }
  }
  *out = session;
  return QCRT_OK;
}

void qcrt_session_free(qcrt_session *session) { delete session; }

void qcrt_session_reset(qcrt_session *session) {
  if (session)
    for (qc::rt::AlignedBuffer &b : session->states)
      b.zero();
}

void *qcrt_session_state(qcrt_session *session, size_t index) {
  if (!session || index >= session->states.size())
    return nullptr;
  return session->states[index].data();
}

qcrt_status qcrt_session_run(qcrt_session *session, const void *const *inputs,
                             void *const *outputs) {
  if (!session)
    return fail(QCRT_ERR_ARGUMENT, "qcrt_session_run: session is null");
  const qc::rt::Manifest &m = session->model->impl->manifest();
  if ((!inputs && !m.inputs.empty()) || (!outputs && !m.outputs.empty()))
    return fail(QCRT_ERR_ARGUMENT, "qcrt_session_run: null buffer array");
  std::vector<const void *> in(inputs, inputs + m.inputs.size());
  std::vector<void *> out(outputs, outputs + m.outputs.size());
  for (size_t i = 0; i < m.states.size(); ++i) {
    in[m.states[i].input] = session->states[i].data();
    out[m.states[i].output] = session->states[i].data();
  }
  qc::rt::Status status = session->model->impl->run(in.data(), out.data());
  if (!status.ok())
    return fail(status);
  return QCRT_OK;
}

namespace {
thread_local qcrt_observer_fn observerFn = nullptr;
thread_local void *observerUser = nullptr;
} // namespace

void qcrt_set_observer(qcrt_observer_fn fn, void *user) {
  observerFn = fn;
  observerUser = user;
}

void qcrt_observe(int64_t tap, float *allocated, float *aligned,
                  int64_t offset, int64_t rows, int64_t cols,
                  int64_t row_stride, int64_t col_stride) {
  (void)allocated;
  if (!observerFn || rows <= 0 || cols <= 0)
    return;
  const float *base = aligned + offset;
  if (col_stride == 1) {
    observerFn(observerUser, tap, base, rows, cols, row_stride);
    return;
  }
  // A strided view: hand the observer dense rows.
  std::vector<float> dense(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      dense[static_cast<size_t>(r * cols + c)] =
          base[r * row_stride + c * col_stride];
  observerFn(observerUser, tap, dense.data(), rows, cols, cols);
}

} // extern "C"

qcrt_status qcrt_set_num_threads(int n) {
  if (n < 1 || n > 1024)
    return fail(QCRT_ERR_ARGUMENT,
                ("qcrt_set_num_threads: the count must be in [1, 1024], not " +
                 std::to_string(n))
                    .c_str());
  qc::rt::ThreadPool::global().resize(n);
  return QCRT_OK;
}

int qcrt_get_num_threads(void) { return qc::rt::ThreadPool::global().size(); }

void qcrt_parallel_for(qcrt_task_fn task, void *ctx, int64_t begin,
                       int64_t end, int64_t align) {
  qc::rt::ThreadPool::global().parallelFor(task, ctx, begin, end, align);
}
