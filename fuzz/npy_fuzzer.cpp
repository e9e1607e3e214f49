//===- npy_fuzzer.cpp - libFuzzer harness of the .npy reader --------------===//
//
// Any bytes: parseNpy accepts them with a consistent array or refuses them
// with a message; it never crashes, reads out of bounds or overflows.
//
//===----------------------------------------------------------------------===//

#include "qcrt/Npy.h"

#include <cstdint>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qc::npy::Array array;
  std::string error;
  if (!qc::npy::parseNpy(data, size, array, error)) {
    if (error.empty())
      __builtin_trap(); // a refusal must say why
    return 0;
  }
  uint64_t elements = 1;
  for (int64_t d : array.shape())
    elements *= static_cast<uint64_t>(d);
  if (elements != array.numElements() ||
      array.byteSize() != elements * qc::npy::dtypeSize(array.dtype()) ||
      array.byteSize() > size)
    __builtin_trap();
  // The data is the file's tail, byte for byte.
  if (array.byteSize() &&
      std::memcmp(array.data(), data + size - array.byteSize(),
                  array.byteSize()) != 0)
    __builtin_trap();
  return 0;
}
