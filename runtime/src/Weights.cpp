//===- Weights.cpp - Validation and mapping of model.qcw ------------------===//

#include "Weights.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qc::rt {

namespace {

// The format is little-endian; decode byte by byte so the code is right on
// any host and needs no aligned access.
uint64_t readLE64(const uint8_t *p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i)
    value = (value << 8) | p[i];
  return value;
}

unsigned long long ull(uint64_t value) {
  return static_cast<unsigned long long>(value);
}

} // namespace

uint64_t fnv1a64(const void *data, size_t size) {
  const auto *bytes = static_cast<const uint8_t *>(data);
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

WeightsFile::~WeightsFile() { close(); }

void WeightsFile::close() {
  if (mapping)
    munmap(const_cast<uint8_t *>(mapping), mappedSize);
  mapping = nullptr;
  mappedSize = 0;
}

Status WeightsFile::open(const std::string &path, const Manifest &manifest) {
  close();
  filePath = path;
  auto fail = [&](qcrt_status code, const std::string &what) {
    return Status::error(code,
                         formatString("%s: %s", path.c_str(), what.c_str()));
  };

  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(QCRT_ERR_IO, formatString("cannot open weights file: %s",
                                          std::strerror(errno)));
  struct stat info;
  if (fstat(fd, &info) != 0) {
    int err = errno;
    ::close(fd);
    return fail(QCRT_ERR_IO,
                formatString("cannot stat: %s", std::strerror(err)));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return fail(QCRT_ERR_IO, "not a regular file");
  }
  auto fileSize = static_cast<uint64_t>(info.st_size);
  if (fileSize < kWeightsHeaderSize) {
    ::close(fd);
    return fail(QCRT_ERR_WEIGHTS,
                formatString("truncated: file is %llu bytes, the header alone "
                             "needs %zu",
                             ull(fileSize), kWeightsHeaderSize));
  }
  void *map = mmap(nullptr, static_cast<size_t>(fileSize), PROT_READ,
                   MAP_PRIVATE, fd, 0);
  int mapErr = errno;
  // The mapping keeps the file alive; the descriptor is no longer needed.
  ::close(fd);
  if (map == MAP_FAILED)
    return fail(QCRT_ERR_IO,
                formatString("cannot mmap: %s", std::strerror(mapErr)));
  mapping = static_cast<const uint8_t *>(map);
  mappedSize = static_cast<size_t>(fileSize);

  // On any failure below, drop the mapping so a failed open leaves nothing.
  auto reject = [&](const std::string &what) {
    close();
    return fail(QCRT_ERR_WEIGHTS, what);
  };

  if (std::memcmp(mapping, kWeightsMagic, sizeof(kWeightsMagic)) != 0)
    return reject("bad magic: not a qc weights file (expected \"QCWEIGHT\")");
  uint64_t version = readLE64(mapping + 8);
  uint64_t payloadOffset = readLE64(mapping + 16);
  uint64_t payloadSize = readLE64(mapping + 24);
  uint64_t checksum = readLE64(mapping + 32);
  if (version != kWeightsVersion)
    return reject(formatString("unsupported weights format version %llu "
                               "(this runtime reads %llu)",
                               ull(version), ull(kWeightsVersion)));
  if (payloadOffset < kWeightsHeaderSize)
    return reject(formatString("payload offset %llu overlaps the %zu-byte "
                               "header",
                               ull(payloadOffset), kWeightsHeaderSize));
  uint64_t payloadEnd;
  if (__builtin_add_overflow(payloadOffset, payloadSize, &payloadEnd) ||
      payloadEnd > fileSize)
    return reject(formatString("truncated: file is %llu bytes, but the "
                               "header puts the payload at [%llu, %llu+%llu)",
                               ull(fileSize), ull(payloadOffset),
                               ull(payloadOffset), ull(payloadSize)));
  if (payloadSize != manifest.payloadBytes)
    return reject(formatString("payload is %llu bytes, the manifest says %llu "
                               "(model.so and weights from different builds?)",
                               ull(payloadSize), ull(manifest.payloadBytes)));
  if (checksum != manifest.checksum)
    return reject(formatString("header checksum %016llx differs from the "
                               "manifest's %016llx (model.so and weights from "
                               "different builds?)",
                               ull(checksum), ull(manifest.checksum)));
  // Bounds before hashing: both are fatal, and this one is cheap.
  payloadBegin = payloadOffset;
  payloadLimit = payloadEnd;
  if (Status bounds = checkBounds(manifest); !bounds.ok()) {
    close();
    return bounds;
  }
  uint64_t actual = fnv1a64(mapping + payloadOffset, payloadSize);
  if (actual != checksum)
    return reject(formatString("checksum mismatch: payload hashes to %016llx, "
                               "header says %016llx (file corrupted)",
                               ull(actual), ull(checksum)));
  return Status::success();
}

Status WeightsFile::checkBounds(const Manifest &manifest) const {
  for (const TensorDecl &weight : manifest.weights) {
    uint64_t end;
    if (weight.offset < payloadBegin ||
        __builtin_add_overflow(weight.offset, weight.byteSize, &end) ||
        end > payloadLimit)
      return Status::error(
          QCRT_ERR_WEIGHTS,
          formatString("%s: weight '%s' at [%llu, %llu+%llu) lies outside "
                       "the payload [%llu, %llu)",
                       filePath.c_str(), weight.escapedName.c_str(),
                       ull(weight.offset), ull(weight.offset),
                       ull(weight.byteSize), ull(payloadBegin),
                       ull(payloadLimit)));
  }
  return Status::success();
}

} // namespace qc::rt
