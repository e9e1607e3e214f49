//===- manifest_fuzzer.cpp - libFuzzer harness of the manifest parser -----===//
//
// Any text: parseManifest accepts it with consistent declarations or
// refuses it with a message naming the source; it never crashes.
//
//===----------------------------------------------------------------------===//

#include "Manifest.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  qc::rt::Manifest manifest;
  qc::rt::Status status = qc::rt::parseManifest(
      std::string_view(reinterpret_cast<const char *>(data), size),
      "fuzz/model.so", manifest);
  if (!status.ok()) {
    if (status.message().find("fuzz/model.so") == std::string::npos)
      __builtin_trap(); // messages name the file
    return 0;
  }
  for (const auto &w : manifest.weights)
    if (w.offset % 64 != 0)
      __builtin_trap();
  for (const auto &s : manifest.states)
    if (s.input >= manifest.inputs.size() ||
        s.output >= manifest.outputs.size())
      __builtin_trap();
  return 0;
}
