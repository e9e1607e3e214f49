//===- ArtifactWriter.h - manifest and weights file writing -----*- C++ -*-===//

#ifndef QC_LIB_TARGET_ARTIFACTWRITER_H
#define QC_LIB_TARGET_ARTIFACTWRITER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace qc {
namespace detail {

struct ArtifactTensor {
  std::string name;
  std::string dtype; // manifest dtype name
  llvm::SmallVector<int64_t> shape;
  /// For weights: the bytes, and the offset assigned in the weights file.
  llvm::ArrayRef<char> data;
  uint64_t offset = 0;
};

/// An input the entry updates in place (a key-value cache) and the output
/// that names its new value: the entry takes no separate buffer for it.
struct ArtifactState {
  size_t input, output;
};

/// One entry point of the artifact: its interface and weights.
struct ArtifactLayout {
  /// "" for the default entry (qc_entry), else the name of a further one
  /// (qc_entry_<name>).
  std::string entry;
  std::vector<ArtifactTensor> inputs, outputs, weights;
  std::vector<ArtifactState> states;
  /// AnyBCQ: the bit-planes the entry computes with; 0 for none.
  unsigned planes = 0;
  uint64_t payloadSize = 0;
  uint64_t checksum = 0;
};

/// The bytes of model.qcw after its header: each distinct weight once.
struct WeightsPayload {
  /// (offset, bytes), in offset order.
  std::vector<std::pair<uint64_t, llvm::ArrayRef<char>>> pieces;
  uint64_t size = 0;
  uint64_t checksum = 0;
  /// Bytes the entries' weights would take without sharing.
  uint64_t unsharedSize = 0;
};

/// Assigns 64-byte aligned offsets to the weights of every entry, storing
/// a tensor that several entries (or one entry twice) hold with the same
/// bytes once, and hashes the payload; every layout gets its size and
/// checksum.
WeightsPayload layoutWeights(llvm::MutableArrayRef<ArtifactLayout> layouts);
/// The manifest text of `layout`, embedded in model.so (docs/artifact.md);
/// the default entry's lists the names of the others.
std::string manifestText(const ArtifactLayout &layout,
                         llvm::ArrayRef<ArtifactLayout> others = {});
/// The manifests of all entries as JSON, for people and tools: the default
/// entry's fields, and the others under "entries".
std::string manifestJSON(llvm::ArrayRef<ArtifactLayout> layouts);
/// Writes model.qcw to `path`.
llvm::Error writeWeightsFile(const WeightsPayload &payload,
                             const std::string &path);
/// FNV-1a 64 over bytes, continuing from `hash`.
uint64_t fnv1a64(llvm::ArrayRef<char> bytes,
                 uint64_t hash = 0xcbf29ce484222325ULL);
/// Size in bytes of an element of a manifest dtype.
int64_t manifestDTypeSize(llvm::StringRef dtype);

constexpr uint64_t kWeightsPayloadOffset = 4096;
constexpr uint64_t kWeightsAlignment = 64;

} // namespace detail
} // namespace qc

#endif // QC_LIB_TARGET_ARTIFACTWRITER_H
