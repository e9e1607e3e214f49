//===- Uniform.h - Uniform integer weight quantization ----------*- C++ -*-===//
//
// Round-to-nearest uniform integer quantization of a weight matrix with
// optional min-max or MSE clipping search.
//
// Conventions shared by all of qc/Quant: a weight matrix W is K x N,
// row-major float (K input features, N output features; y = x @ W).
// "Per-OC groups" are `group` consecutive rows along K within one output
// column n (GPTQ/AWQ/MatMulNBits layout, parameter index [k/group][n]).
// "Per-IC groups" (AdaDim) are `group` consecutive columns along N within one
// input row k (parameter index [k][n/group]). A group of -1 or 0 means the
// whole axis; when the axis is not a multiple of the group the last group is
// shorter. Functions report bad arguments by returning false and setting
// `err`; they never assert or abort on user input.
//
// This library is plain C++17 (plus Eigen): no MLIR or LLVM headers.
//
//===----------------------------------------------------------------------===//

#ifndef QC_QUANT_UNIFORM_H
#define QC_QUANT_UNIFORM_H

#include <cstdint>
#include <string>
#include <vector>

namespace qc {
namespace quant {

/// How the clipping range of each group is chosen.
enum class ClipSearch {
  /// The range is the group's min and max (min-max / absmax).
  MinMax,
  /// Grid search over shrink factors p = 1.0 ... 0.2 (100 steps) of the
  /// min-max range, keeping per group the p with the least squared error
  /// (GPTQ/AWQ style). p = 1.0 is a candidate and only a strictly better
  /// factor replaces it, so the result is never worse than MinMax.
  MSE,
};

/// Parameters of uniform integer quantization.
struct UniformParams {
  /// Bits per code, 2..8.
  int bits = 4;
  /// Group size along the grouped axis; -1 or 0 = whole axis.
  int64_t group = 128;
  /// false: per-OC groups (along K, index [k/group][n]);
  /// true: per-IC groups (along N, index [k][n/group]).
  bool perIC = false;
  /// Symmetric: zero = 2^(bits-1), scale = absmax / (2^(bits-1) - 1).
  /// Asymmetric: the range [min(xmin,0), max(xmax,0)] is mapped onto
  /// [0, 2^bits - 1] with scale = (max - min) / (2^bits - 1) and the integer
  /// zero point round(-min / scale), which lies in [0, 2^bits - 1].
  bool symmetric = false;
};

/// Uniform quantization of a K x N matrix: w[k][n] ~ scale * (code - zero).
struct UniformResult {
  int64_t K = 0, N = 0;
  int bits = 0;
  /// Resolved group size (> 0; the whole axis when -1/0 was requested).
  int64_t group = 0;
  bool perIC = false;
  bool symmetric = false;
  /// One code per weight, K x N row-major, each in [0, 2^bits - 1].
  std::vector<uint8_t> codes;
  /// Per-group scales, numGroupRows() x numGroupCols() row-major.
  std::vector<float> scales;
  /// Per-group integer-valued zero points (same layout as scales).
  std::vector<float> zeros;

  /// Rows of the scale/zero arrays: ceil(K/group) per-OC, K per-IC.
  int64_t numGroupRows() const;
  /// Columns of the scale/zero arrays: N per-OC, ceil(N/group) per-IC.
  int64_t numGroupCols() const;
  /// Index into scales/zeros of the group holding weight (k, n).
  int64_t paramIndex(int64_t k, int64_t n) const;
};

/// Quantizes W (K x N) with round-to-nearest-even codes. Returns false and
/// sets `err` on bad arguments (null W, K or N <= 0, bits outside 2..8,
/// group < -1, non-finite weights).
bool quantizeUniformRTN(const float *W, int64_t K, int64_t N,
                        const UniformParams &params, ClipSearch clip,
                        UniformResult &out, std::string &err);

/// Reconstructs W[k][n] = scale * (code - zero) into `W` (resized to K*N).
/// Returns false and sets `err` if `q` is inconsistent.
bool dequantizeUniform(const UniformResult &q, std::vector<float> &W,
                       std::string &err);

/// Checks the internal consistency of `q` (sizes, code range).
bool verifyUniform(const UniformResult &q, std::string &err);

} // namespace quant
} // namespace qc

#endif // QC_QUANT_UNIFORM_H
