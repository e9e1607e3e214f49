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

struct ArtifactLayout {
  std::vector<ArtifactTensor> inputs, outputs, weights;
  std::vector<ArtifactState> states;
  uint64_t payloadSize = 0;
  uint64_t checksum = 0;
};

/// Assigns 64-byte aligned offsets to the weights and hashes the payload.
void layoutWeights(ArtifactLayout &layout);
/// The manifest text embedded in model.so (docs/artifact.md).
std::string manifestText(const ArtifactLayout &layout);
/// The same as JSON, for people and tools.
std::string manifestJSON(const ArtifactLayout &layout);
/// Writes model.qcw to `path`.
llvm::Error writeWeightsFile(const ArtifactLayout &layout,
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
