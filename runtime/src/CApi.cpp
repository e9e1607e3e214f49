//===- CApi.cpp - The extern "C" surface of libqcrt -----------------------===//

#include "Model.h"
#include "qcrt.h"

#include "ThreadPool.h"

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
