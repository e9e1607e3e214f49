//===- AdaRound.h - Learned rounding on a quadratic objective ---*- C++ -*-===//
//
// aespa (Kim et al., "Towards Next-Level Post-Training Quantization of
// Hyper-Scale Transformers", NeurIPS 2024) quantizes the query, key and
// value projections one layer at a time but against the attention output:
// the refined objectives of a layer are quadratic forms of the weight change
// D = W^ - W that need only precomputed statistics,
//   query / key:  sum_h tr(D_h^T H D_h M_h)   (M_h: the partner's
//                 covariance, as BoA's row Hessians),
//   value:        sum_h tr(D_h^T H_h D_h)     (H_h = sum (P_h X)^T (P_h X)),
// and the rounding of every weight is learned on them by AdaRound (Nagel et
// al., ICML 2020): with the grid fixed, each weight rounds down or up,
//   W^ = s (clamp(floor(W / s) + z + h(V), 0, 2^b - 1) - z),
//   h(V) = clamp(sigmoid(V) (zeta - gamma) + gamma, 0, 1),
// and V minimizes the objective (relative to round-to-nearest's) plus
// lambda mean(1 - |2 h(V) - 1|^beta), beta annealed from 20 to 2 after a
// warm-up without it, by Adam; at the end h >= 1/2 rounds up. The gradient
// of the objective is 2 H_h D_h M_h, a matrix product per step and no pass
// over the calibration data.
//
//===----------------------------------------------------------------------===//

#ifndef QC_QUANT_ADAROUND_H
#define QC_QUANT_ADAROUND_H

#include "qc/Quant/Uniform.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qc {
namespace quant {

/// sum_h tr(D_h^T H_h D_h M_h) over `heads` blocks of `headDim` consecutive
/// output columns (heads x headDim = N).
struct QuadraticObjective {
  int64_t heads = 0, headDim = 0;
  /// One K x K input-side Hessian per head (row-major, symmetric; heads
  /// may share one).
  std::vector<const double *> H;
  /// heads x headDim x headDim output-side Hessians (row-major,
  /// symmetric); empty: identity.
  std::vector<double> M;
};

struct AdaRoundOptions {
  int iterations = 1000;
  /// Adam's step size on V.
  double learningRate = 0.03;
  /// Weight of the rounding regularizer (a mean over the weights) against
  /// the objective relative to round-to-nearest's. AdaRound's 0.01 is for
  /// a sum over the weights against an unnormalized loss; this scale was
  /// tuned on synthetic Kronecker objectives (3..10 reach BoA's error, 0.01
  /// stays at 0.7 of round-to-nearest's after 1000 steps).
  double lambda = 5;
  /// Fraction of the iterations without the regularizer.
  double warmup = 0.2;
  double betaStart = 20, betaEnd = 2;
};

/// The objective's value at W^ (K x N) for weights W, in double.
double quadraticError(const float *W, const float *What, int64_t K, int64_t N,
                      const QuadraticObjective &objective);

/// AdaRound of W (K x N, row-major) on `objective`, on the grid of
/// round-to-nearest with `clip` (per-OC groups). Never returns codes worse
/// than round-to-nearest's on the objective. `finalError`, if given,
/// receives the objective of the result relative to round-to-nearest's.
bool adaroundUniform(const float *W, int64_t K, int64_t N,
                     const QuadraticObjective &objective,
                     const UniformParams &params, ClipSearch clip,
                     const AdaRoundOptions &options, UniformResult &out,
                     std::string &err, double *finalError = nullptr);

/// Greedy coordinate descent on the codes of `q` (per-OC uniform, scales
/// and zero points kept): each weight in turn moves one step down or up
/// when that lowers `objective`, the change
///   2 delta (H_h D_h M_h)_kn + delta^2 H_h[k][k] M_h[n][n]
/// read off the kept product G = H_h D_h M_h, which a move updates by a
/// rank-1 term. At most `sweeps` sweeps over the weights, stopping when one
/// moves none. The objective never increases. `moves`, if given, receives
/// the number of moves.
bool coordinateDescentCodes(const float *W, int64_t K, int64_t N,
                            const QuadraticObjective &objective, int sweeps,
                            UniformResult &q, std::string &err,
                            int64_t *moves = nullptr);

} // namespace quant
} // namespace qc

#endif // QC_QUANT_ADAROUND_H
