//===- Model.cpp - Loading model.so and calling qc_entry ------------------===//

#include "Model.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <sys/stat.h>

namespace qc::rt {

static_assert(sizeof(void *) == sizeof(int64_t),
              "memref descriptors are laid out for 64-bit targets");

namespace {

void storePointer(int64_t *field, const void *pointer) {
  std::memcpy(field, &pointer, sizeof(pointer));
}

/// Fields of a rank-r descriptor: allocated, aligned, offset, sizes, strides.
size_t descriptorFields(const TensorDecl &decl) {
  return 3 + 2 * decl.dims.size();
}

} // namespace

Model::~Model() {
  // dlopen reference-counts, so this unloads model.so only when no other
  // Model loaded the same file.
  if (handle)
    dlclose(handle);
}

Status Model::open(const std::string &path) {
  soPath = path;
  // RTLD_LOCAL: two models must not resolve each other's symbols.
  handle = dlopen(soPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle)
    return Status::success();
  const char *why = dlerror();
  return Status::error(QCRT_ERR_LOAD,
                       formatString("%s: cannot load: %s", soPath.c_str(),
                                    why ? why : "unknown dlopen error"));
}

Status Model::bindEntry(const std::string &name) {
  std::string suffix = name.empty() ? "" : "_" + name;
  std::string manifestSym = "qc_manifest" + suffix;
  std::string entrySym = "qc_entry" + suffix;
  dlerror();
  const auto *manifestText =
      static_cast<const char *>(dlsym(handle, manifestSym.c_str()));
  if (!manifestText)
    return Status::error(QCRT_ERR_LOAD,
                         formatString("%s: does not export '%s' (not a qc "
                                      "model?)",
                                      soPath.c_str(), manifestSym.c_str()));
  void *fn = dlsym(handle, entrySym.c_str());
  if (!fn)
    return Status::error(QCRT_ERR_LOAD,
                         formatString("%s: does not export '%s'",
                                      soPath.c_str(), entrySym.c_str()));
  // POSIX guarantees that dlsym results convert to function pointers.
  entry = reinterpret_cast<EntryFn>(fn);
  return parseManifest(manifestText, soPath, parsed);
}

Status Model::load(const std::string &dir, std::unique_ptr<Model> &out) {
  out.reset();
  if (dir.empty())
    return Status::error(QCRT_ERR_ARGUMENT, "artifact directory is empty");
  std::string soPath = dir + "/model.so";

  // dlerror() on a missing file is vague about what was looked for; say it.
  struct stat info;
  if (stat(soPath.c_str(), &info) != 0)
    return Status::error(QCRT_ERR_IO,
                         formatString("%s: %s (is '%s' a qc artifact folder?)",
                                      soPath.c_str(), std::strerror(errno),
                                      dir.c_str()));

  std::unique_ptr<Model> model(new Model());
  Status status = model->open(soPath);
  if (status.ok())
    status = model->bindEntry("");
  if (!status.ok())
    return status;
  auto weights = std::make_shared<WeightsFile>();
  status = weights->open(dir + "/" + model->parsed.weightsFile, model->parsed);
  if (!status.ok())
    return status;
  model->weights = std::move(weights);
  model->buildDescriptors();
  out = std::move(model);
  return Status::success();
}

Status Model::loadEntry(const Model &base, const std::string &name,
                        std::unique_ptr<Model> &out) {
  out.reset();
  const std::vector<std::string> &names = base.parsed.entries;
  // "" is the default entry itself, loaded again.
  if (!name.empty() &&
      std::find(names.begin(), names.end(), name) == names.end()) {
    std::string known;
    for (const std::string &n : names)
      known += (known.empty() ? "" : ", ") + n;
    return Status::error(
        QCRT_ERR_ARGUMENT,
        formatString("%s: the artifact has no entry '%s' (it has: %s)",
                     base.soPath.c_str(), name.c_str(),
                     known.empty() ? "the default one only" : known.c_str()));
  }
  std::unique_ptr<Model> model(new Model());
  Status status = model->open(base.soPath);
  if (status.ok())
    status = model->bindEntry(name);
  if (!status.ok())
    return status;
  const Manifest &m = model->parsed;
  if (m.weightsFile != base.parsed.weightsFile ||
      m.payloadBytes != base.parsed.payloadBytes ||
      m.checksum != base.parsed.checksum)
    return Status::error(
        QCRT_ERR_MANIFEST,
        formatString("%s: entry '%s' names other weights than the default "
                     "entry",
                     base.soPath.c_str(), name.c_str()));
  if (status = base.weights->checkBounds(m); !status.ok())
    return status;
  model->weights = base.weights;
  model->buildDescriptors();
  out = std::move(model);
  return Status::success();
}

void Model::buildDescriptors() {
  std::vector<const TensorDecl *> args;
  for (const TensorDecl &decl : parsed.inputs)
    args.push_back(&decl);
  for (const TensorDecl &decl : parsed.weights)
    args.push_back(&decl);
  for (size_t i = 0; i < parsed.outputs.size(); ++i)
    if (!parsed.isStateOutput(i))
      args.push_back(&parsed.outputs[i]);

  size_t total = 0;
  for (const TensorDecl *decl : args) {
    descriptorStart.push_back(total);
    total += descriptorFields(*decl);
  }
  descriptorTemplate.assign(total, 0);

  for (size_t i = 0; i < args.size(); ++i) {
    const TensorDecl &decl = *args[i];
    int64_t *fields = descriptorTemplate.data() + descriptorStart[i];
    // fields[0..1] (allocated, aligned) are patched per call for inputs and
    // outputs; offset stays 0.
    size_t rank = decl.dims.size();
    int64_t stride = 1;
    for (size_t d = rank; d-- > 0;) {
      fields[3 + d] = decl.dims[d];
      fields[3 + rank + d] = stride;
      stride *= decl.dims[d];
    }
  }
  size_t firstWeight = parsed.inputs.size();
  for (size_t i = 0; i < parsed.weights.size(); ++i) {
    int64_t *fields =
        descriptorTemplate.data() + descriptorStart[firstWeight + i];
    const void *data = weights->base() + parsed.weights[i].offset;
    storePointer(fields + 0, data);
    storePointer(fields + 1, data);
  }
}

Status Model::run(const void *const *inputs, void *const *outputs,
                  const void *const *weights) const {
  size_t numInputs = parsed.inputs.size();
  size_t numWeights = parsed.weights.size();
  size_t numOutputs = parsed.outputs.size();
  if (numInputs && !inputs)
    return Status::error(QCRT_ERR_ARGUMENT, "inputs array is null");
  if (numOutputs && !outputs)
    return Status::error(QCRT_ERR_ARGUMENT, "outputs array is null");

  std::vector<int64_t> fields = descriptorTemplate;
  for (size_t i = 0; i < numInputs; ++i) {
    if (!inputs[i] && parsed.inputs[i].byteSize)
      return Status::error(QCRT_ERR_ARGUMENT,
                           formatString("buffer of input '%s' is null",
                                        parsed.inputs[i].escapedName.c_str()));
    int64_t *desc = fields.data() + descriptorStart[i];
    storePointer(desc + 0, inputs[i]);
    storePointer(desc + 1, inputs[i]);
  }
  size_t slot = numInputs + numWeights;
  for (size_t i = 0; i < numOutputs; ++i) {
    if (!outputs[i] && parsed.outputs[i].byteSize)
      return Status::error(QCRT_ERR_ARGUMENT,
                           formatString("buffer of output '%s' is null",
                                        parsed.outputs[i].escapedName.c_str()));
    if (parsed.isStateOutput(i))
      continue;
    int64_t *desc = fields.data() + descriptorStart[slot++];
    storePointer(desc + 0, outputs[i]);
    storePointer(desc + 1, outputs[i]);
  }
  // A state is updated in place: its new value is computed in the output
  // buffer, which starts as a copy of the input (inputs stay unwritten).
  for (const StateDecl &st : parsed.states) {
    if (outputs[st.output] != inputs[st.input])
      std::memcpy(outputs[st.output], inputs[st.input],
                  parsed.inputs[st.input].byteSize);
    int64_t *desc = fields.data() + descriptorStart[st.input];
    storePointer(desc + 0, outputs[st.output]);
    storePointer(desc + 1, outputs[st.output]);
  }

  if (weights)
    for (size_t i = 0; i < numWeights; ++i) {
      if (!weights[i])
        continue;
      int64_t *desc = fields.data() + descriptorStart[numInputs + i];
      storePointer(desc + 0, weights[i]);
      storePointer(desc + 1, weights[i]);
    }

  std::vector<void *> args(descriptorStart.size());
  for (size_t i = 0; i < args.size(); ++i)
    args[i] = fields.data() + descriptorStart[i];
  entry(args.data());
  return Status::success();
}

} // namespace qc::rt
