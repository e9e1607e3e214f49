//===- Model.h - A loaded artifact: model.so, manifest, weights -*- C++ -*-===//
//
// Model owns the dlopen handle and the weights mapping and knows how to lay
// out the memref descriptors that qc_entry expects.
//
//===----------------------------------------------------------------------===//

#ifndef QCRT_SRC_MODEL_H
#define QCRT_SRC_MODEL_H

#include "Manifest.h"
#include "Weights.h"

#include <memory>
#include <string>
#include <vector>

namespace qc::rt {

class Model {
public:
  using EntryFn = void (*)(void **args);

  ~Model();
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  /// Loads `dir`/model.so and the weights file its manifest names: the
  /// artifact's default entry.
  static Status load(const std::string &dir, std::unique_ptr<Model> &out);

  /// The further entry `name` of the artifact `base` was loaded from (its
  /// manifest lists them), on the same mapping of the weights.
  static Status loadEntry(const Model &base, const std::string &name,
                          std::unique_ptr<Model> &out);

  const Manifest &manifest() const { return parsed; }

  /// Runs qc_entry on caller buffers (manifest order, dense row-major).
  /// Thread-safe: all per-call state lives on this call's stack and heap.
  /// `weights`: null, or one entry per weight (null = from model.qcw).
  Status run(const void *const *inputs, void *const *outputs,
             const void *const *weights = nullptr) const;

private:
  Model() = default;
  /// dlopens soPath (again: dlopen counts references).
  Status open(const std::string &path);
  /// Finds the entry `name` ("" for the default) and parses its manifest.
  Status bindEntry(const std::string &name);
  void buildDescriptors();

  std::string soPath;
  void *handle = nullptr;
  EntryFn entry = nullptr;
  Manifest parsed;
  std::shared_ptr<const WeightsFile> weights;
  /// Every descriptor of every argument, packed as 8-byte fields, with weight
  /// pointers filled in; run() copies it and patches input/output pointers.
  std::vector<int64_t> descriptorTemplate;
  /// Index into descriptorTemplate where each argument's descriptor starts.
  std::vector<size_t> descriptorStart;
};

} // namespace qc::rt

#endif // QCRT_SRC_MODEL_H
