//===- stats_fuzzer.cpp - libFuzzer harness of the statistics reader ------===//
//
// Any bytes as a .qcstats file: readStats accepts them with consistent
// statistics or refuses them with a message; it never crashes or allocates
// what the file cannot hold.
//
//===----------------------------------------------------------------------===//

#include "qc/Quant/Stats.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const std::string path =
      "/tmp/qc-stats-fuzz-" + std::to_string(::getpid()) + ".qcstats";
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  qc::quant::CalibrationStats stats;
  std::string error;
  if (!qc::quant::readStats(path, stats, error)) {
    if (error.empty())
      __builtin_trap();
    return 0;
  }
  for (const qc::quant::TapStats &tap : stats.taps)
    if (tap.H.size() != static_cast<size_t>(tap.K * tap.K))
      __builtin_trap();
  return 0;
}
