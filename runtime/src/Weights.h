//===- Weights.h - Read-only mapping of a validated model.qcw ---*- C++ -*-===//
//
// The weights file is mapped, never copied: weight descriptors point straight
// into the mapping, so loading a large model costs one checksum pass and no
// extra memory.
//
//===----------------------------------------------------------------------===//

#ifndef QCRT_SRC_WEIGHTS_H
#define QCRT_SRC_WEIGHTS_H

#include "Manifest.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace qc::rt {

constexpr char kWeightsMagic[8] = {'Q', 'C', 'W', 'E', 'I', 'G', 'H', 'T'};
constexpr uint64_t kWeightsVersion = 1;
constexpr size_t kWeightsHeaderSize = 40;

/// FNV-1a, 64-bit, over `size` bytes.
uint64_t fnv1a64(const void *data, size_t size);

class WeightsFile {
public:
  WeightsFile() = default;
  ~WeightsFile();
  WeightsFile(const WeightsFile &) = delete;
  WeightsFile &operator=(const WeightsFile &) = delete;

  /// Maps `path` and checks it against `manifest` as docs/artifact.md
  /// requires: magic, version, file size, payload size and checksum against
  /// the manifest, and that every weight lies inside the payload. Errors name
  /// the file; corrupt contents give QCRT_ERR_WEIGHTS, unreadable files
  /// QCRT_ERR_IO.
  Status open(const std::string &path, const Manifest &manifest);

  /// Checks that every weight of `manifest` lies inside this file's payload
  /// (another entry of the artifact that shares the file).
  Status checkBounds(const Manifest &manifest) const;

  /// Start of the mapped file; weight offsets are relative to it.
  const uint8_t *base() const { return mapping; }
  size_t size() const { return mappedSize; }

private:
  void close();

  const uint8_t *mapping = nullptr;
  size_t mappedSize = 0;
  std::string filePath;
  uint64_t payloadBegin = 0, payloadLimit = 0;
};

} // namespace qc::rt

#endif // QCRT_SRC_WEIGHTS_H
