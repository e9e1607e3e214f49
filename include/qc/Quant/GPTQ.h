//===- GPTQ.h - Hessian-aware weight quantization ---------------*- C++ -*-===//
//
// GPTQ (Frantar et al., 2023) and the two-stage group-scale optimization for
// the schemes of Uniform.h and BCQ.h. Every function takes the layer's input
// statistics H = sum_t x_t^T x_t (K x K, row-major, symmetric, double) and
// uses the conventions of Uniform.h: W is K x N row-major, y = x @ W, so a
// row k of W holds the weights of input channel k.
//
// The Hessian-weighted error of a quantized W^ is
//   E(W^) = sum_n (w_n - w^_n)^T H (w_n - w^_n),
// the squared output error summed over the calibration tokens.
//
// Singular statistics: an input channel that was always zero (H[k][k] == 0)
// is decoupled (H[k][k] = 1, the rest of its row and column 0) and its
// weights are rounded without error feedback; every Hessian is damped by
// `damp` times the mean of its diagonal. If the damped Hessian is still not
// positive definite the damping is raised tenfold, up to three times, then
// the call fails with an error. No NaN ever reaches the output.
//
//===----------------------------------------------------------------------===//

#ifndef QC_QUANT_GPTQ_H
#define QC_QUANT_GPTQ_H

#include "qc/Quant/BCQ.h"
#include "qc/Quant/Uniform.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qc {
namespace quant {

struct GPTQOptions {
  /// Relative damping: H + damp * mean(diag H) * I.
  double damp = 0.01;
  /// Quantize input channels in decreasing order of H[k][k]. Group
  /// parameters are then fixed before the sweep ("static groups"), so the
  /// groups stay contiguous in the original channel order and the packed
  /// layout needs no permutation at run time.
  bool actOrder = false;
  /// Rows per lazy batch update.
  int64_t blockSize = 128;
};

/// E(W^) above, in double. `What` may equal `W` (gives 0).
double hessianError(const float *W, const float *What, int64_t K, int64_t N,
                    const double *H);

/// Stage 1 of the two-stage optimization: per group, the clipping range
/// (RTN-MSE's choice or shrink factors 1.0, 0.975 .. 0.425 of min-max) that minimizes
/// the group's reconstruction error under the input statistics,
/// (w_g - w^_g)^T H_gg (w_g - w^_g) for a per-OC group (H_gg the group's
/// diagonal block of H); for a per-IC group H_gg is the scalar H[k][k], which
/// is plain MSE. Codes are the round-to-nearest codes of those parameters.
bool quantizeUniformHessianInit(const float *W, int64_t K, int64_t N,
                                const UniformParams &params, const double *H,
                                UniformResult &out, std::string &err);

/// GPTQ with a uniform grid. Without `staticParams`, the parameters of each
/// group are chosen (by `clip`) from the error-updated weights when GPTQ
/// reaches the group's first row (per-OC) or the row itself (per-IC), as
/// GPTQ's reference does; with `staticParams` (same shape and settings as
/// `params`) they are kept fixed and only codes are chosen. actOrder
/// requires staticParams for per-OC groups; when it is missing they are
/// computed by RTN with `clip` first.
bool gptqUniform(const float *W, int64_t K, int64_t N, const double *H,
                 const UniformParams &params, ClipSearch clip,
                 const GPTQOptions &options, const UniformResult *staticParams,
                 UniformResult &out, std::string &err);

/// Stage 2: with the integer codes and zero points of `q` frozen, refines
/// its scales by cyclic coordinate descent on
///   F(s) = sum_n w^_n^T Ht w^_n - 2 w^_n^T C w_n,
/// where Ht = sum x~^T x~ are the statistics of the layer's inputs in the
/// partly quantized model and C = sum x~^T x the cross statistics with the
/// float model's inputs x (so F + const = sum ||X w_n - X~ w^_n||^2: the
/// error coming from preceding layers is included). With C null, C = Ht
/// (F + const = E). Each coordinate step is the closed-form minimizer
///   s_g += (a_g^T (C w) - a_g^T Ht w^) / (a_g^T Ht a_g),
/// a_g the group's (code - zero) entries, so F never increases. Stops after
/// `sweeps` sweeps or when a sweep lowers F by less than 1e-9 relative.
/// `trace`, if given, receives F before the first sweep and after each.
bool refineUniformScales(const float *W, int64_t K, int64_t N,
                         const double *Ht, const double *C, int sweeps,
                         UniformResult &q, std::string &err,
                         std::vector<double> *trace = nullptr);

/// A correction of the error propagated from earlier quantized layers (as
/// TurboBoA's, and QEP's with full strength): the weights V minimizing
/// sum ||X~ V - X W||^2 (X~ the layer's inputs in the partly quantized
/// model, X the float model's) are Ht^-1 C W, Ht = X~^T X~, C = X~^T X.
/// Computed as
///   W + (Ht + lambda I)^-1 (C - Ht) W,   lambda = damp x mean diag(Ht),
/// so that damping shrinks only the correction: C = Ht leaves W as it is.
/// Quantizing this target by GPTQ minimizes the error against the float
/// model's output instead of against W on the quantized inputs.
bool inputErrorTarget(const float *W, int64_t K, int64_t N, const double *Ht,
                      const double *C, double damp, std::vector<float> &out,
                      std::string &err);

/// GPTQ for binary-coding weights: the scales (alphas) and offsets of `q`
/// (from fitBCQ on W) are kept; GPTQ chooses each weight's sign pattern as
/// the nearest of its group's 2^planes levels (the BCQ projector) and feeds
/// the rounding error forward. Only per-OC BCQ groups exist.
bool gptqBCQ(const float *W, int64_t K, int64_t N, const double *H,
             const GPTQOptions &options, BCQResult &q, std::string &err);

} // namespace quant
} // namespace qc

#endif // QC_QUANT_GPTQ_H
