//===- Stats.h - Calibration statistics of linear-layer inputs --*- C++ -*-===//
//
// What qc-calibrate gathers per calibration tap (one tap per distinct input
// of one or more linear layers) and what Hessian-aware passes read:
//   H = sum_t x_t^T x_t   (K x K, double; the GPTQ Hessian up to a factor),
//   C = sum_t x~_t^T x_t  (optional cross statistics of the partly quantized
//                          model's inputs x~ with the float model's x),
//   per-channel max |x| and mean |x|, and the number of rows (tokens) seen.
//
// File format (little-endian), written atomically (temporary file + rename):
//   "QCSTATS\0", u32 version (2), u32 number of taps, then per tap:
//     u32 number of layer names, each u32 length + bytes;
//     u64 K, u64 rows, u32 flags (bit 0: C present);
//     f32 H[K*K], f32 C[K*K] if present, f32 absMax[K], f32 meanAbs[K];
//   then u64 FNV-1a of every byte before it.
// The sums are accumulated in double and stored rounded to single
// precision (relative 6e-8, far below GPTQ's 1% damping; GPTQ's factor is
// single precision anyway): half the size. Version 1 files, which store H
// and C in double, are still read.
//
//===----------------------------------------------------------------------===//

#ifndef QC_QUANT_STATS_H
#define QC_QUANT_STATS_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qc {
namespace quant {

struct TapStats {
  /// The linear layers that read this input.
  std::vector<std::string> layers;
  int64_t K = 0;
  uint64_t rows = 0;
  std::vector<double> H;   // K*K
  std::vector<double> C;   // K*K or empty
  std::vector<float> absMax, meanAbs; // K each (meanAbs: mean over rows)

  /// Sets K and zeroes the sums.
  void reset(int64_t k, bool withCross);
  /// Adds `rows` rows of x (row r at x + r * rowStride, K floats each).
  /// With `xFloat` (the float model's rows, same layout) also adds x^T
  /// xFloat to C. Non-finite values are refused (returns false).
  bool accumulate(const float *x, int64_t rows, int64_t rowStride,
                  const float *xFloat, std::string &err);
  /// Adds the sums of `other` (same K; its C only if this has one), as if
  /// its rows had been accumulated here.
  void merge(const TapStats &other);
};

struct CalibrationStats {
  std::vector<TapStats> taps;
  /// Index of each layer's tap.
  std::map<std::string, size_t> tapOfLayer;

  const TapStats *lookup(const std::string &layer) const;
  /// Rebuilds tapOfLayer; fails if a layer appears twice.
  bool index(std::string &err);
};

bool writeStats(const std::string &path, const CalibrationStats &stats,
                std::string &err);
/// Reads and validates (magic, version, sizes, checksum, finite values).
bool readStats(const std::string &path, CalibrationStats &stats,
               std::string &err);

} // namespace quant
} // namespace qc

#endif // QC_QUANT_STATS_H
