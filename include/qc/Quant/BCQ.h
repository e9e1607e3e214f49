//===- BCQ.h - Binary-coding quantization -----------------------*- C++ -*-===//
//
// Binary-coding quantization (BCQ): within each per-OC group (`group`
// consecutive rows along K of one output column n)
//
//   w[k][n] ~ sum_{i < planes} alpha[i][k/group][n] * b[i][k][n]  (+ beta)
//
// with b in {-1, +1}. See Uniform.h for the matrix and group conventions.
//
//===----------------------------------------------------------------------===//

#ifndef QC_QUANT_BCQ_H
#define QC_QUANT_BCQ_H

#include "qc/Quant/Uniform.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qc {
namespace quant {

/// A BCQ-quantized K x N matrix.
struct BCQResult {
  int64_t K = 0, N = 0;
  /// Number of bit-planes q, 1..8.
  int planes = 0;
  /// Resolved per-OC group size along K (> 0).
  int64_t group = 0;
  /// Whether `offsets` holds a per-group offset beta.
  bool hasOffset = false;
  /// Bit-planes as int8 values -1/+1, laid out [plane][K][N] row-major
  /// (planes * K * N entries). packBitPlanes (Packing.h) packs them.
  std::vector<int8_t> signs;
  /// Scales, [plane][ceil(K/group)][N] row-major.
  std::vector<float> alphas;
  /// Offsets beta, [ceil(K/group)][N]; empty when !hasOffset.
  std::vector<float> offsets;

  /// ceil(K / group).
  int64_t numGroupRows() const;
};

/// Fits BCQ to W (K x N): greedy initialization (beta = group mean when
/// `offset`; then per plane b = sign(residual), alpha = mean |residual|),
/// followed by `alsIters` rounds of alternating least squares (alphas and
/// beta by least squares given the planes, then the planes by exhaustive
/// search over the 2^planes combinations given alphas and beta). Each step
/// is accepted only if it does not increase the group's squared error, so
/// the error is monotonically non-increasing. If `errorTrace` is given it
/// receives the total squared error after the initialization and after each
/// ALS round (alsIters + 1 values). Returns false and sets `err` on bad
/// arguments.
bool fitBCQ(const float *W, int64_t K, int64_t N, int planes, int64_t group,
            bool offset, int alsIters, BCQResult &out, std::string &err,
            std::vector<double> *errorTrace = nullptr);

/// AnyBCQ: one set of `maxPlanes` bit-planes serving every precision p in
/// [minPlanes, maxPlanes], each with scales (and offset) of its own, so that
/// a p-plane model reads the first p planes. Start: the minPlanes-plane base
/// fitted as fitBCQ does, each further plane added greedily (the signs of
/// the residual) and refined by least-squares scales and signs of the new
/// plane only. Then `alsIters` rounds over all precisions at once:
/// least-squares scales and offset per precision, and every weight's sign
/// combination (of 2^maxPlanes) minimizing sum_p w_p e_p, e_p the group's
/// squared error at precision p, w_p = 2^(p - minPlanes) / e_p at the start
/// (kept only if that sum does not grow). Scales are least squares last, so
/// the error never grows with p. out[i] is the (minPlanes + i)-plane model;
/// its signs are the first planes of out.back()'s.
bool fitAnyBCQ(const float *W, int64_t K, int64_t N, int minPlanes,
               int maxPlanes, int64_t group, bool offset, int alsIters,
               std::vector<BCQResult> &out, std::string &err);

/// Reconstructs W (resized to K*N) from `q`. Returns false on inconsistent
/// input.
bool dequantizeBCQ(const BCQResult &q, std::vector<float> &W, std::string &err);

/// Checks the internal consistency of `q` (sizes, signs in {-1, +1}).
bool verifyBCQ(const BCQResult &q, std::string &err);

/// Converts a per-OC uniform quantization with b bits exactly into b-plane
/// BCQ with offset: with code = sum_i 2^i c_i and b_i = 2 c_i - 1,
///   scale * (code - zero) = sum_i (scale * 2^(i-1)) b_i
///                           + scale * ((2^b - 1) / 2 - zero).
/// Plane i holds bit i of each code (+1 for 1, -1 for 0). Works for both
/// asymmetric and symmetric inputs; per-IC inputs are rejected.
bool uniformToBCQ(const UniformResult &u, BCQResult &out, std::string &err);

} // namespace quant
} // namespace qc

#endif // QC_QUANT_BCQ_H
