//===- BoA.h - Attention-aware quantization of Q/K/V layers -----*- C++ -*-===//
//
// BoA (Kim et al., "BoA: Attention-Aware Post-Training Quantization without
// Backpropagation", ICML 2025) quantizes the query and key projections
// against the error of the attention scores instead of each layer's own
// output. For a query projection W (K x N, N = heads x d, y = x @ W) and
// head h with columns W_h (K x d), a change D_h of W_h moves the scores of
// query t against key s by x_t D_h R_t^T k~_s (R_t the rotary embedding of
// position t, k~_s the post-rotary key), so, averaging R_t over positions,
//   E_h(D) = tr(D_h^T H D_h M_h),   M_h = mean_t R_t^T C_h R_t,
// with H = sum_t x_t^T x_t (the layer's input statistics, as GPTQ's) and
// C_h = sum_s k~_s k~_s^T the covariance of head h's post-rotary keys (for a
// key projection: of the post-rotary queries of the heads sharing it). The
// objective is the quadratic form of the Kronecker product M_h (x) H; BoA is
// GPTQ on it: the columns of a head are quantized one after the other, each
// by a GPTQ sweep along K with H's inverse Cholesky factor, and each column's
// scaled errors are fed to the head's later columns through M_h's.
//
// The value projection's head h contributes P_h X W_h to the attention
// output (P_h the attention probabilities), so its columns are quantized by
// GPTQ on the Hessian H_h = sum (P_h X)^T (P_h X) instead of X^T X, one per
// key/value head (summed over the query heads that share it).
//
// Conventions are those of GPTQ.h (W row-major K x N, double statistics,
// relative damping, dead input channels decoupled).
//
//===----------------------------------------------------------------------===//

#ifndef QC_QUANT_BOA_H
#define QC_QUANT_BOA_H

#include "qc/Quant/Stats.h"
#include "qc/Quant/Uniform.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qc {
namespace quant {

/// Per-head output-side ("row") Hessians M_h of a layer whose N output
/// columns are `heads` consecutive blocks of `headDim`.
struct RowHessians {
  int64_t heads = 0, headDim = 0;
  /// heads x headDim x headDim, row-major, symmetric.
  std::vector<double> M;
};

struct BoAOptions {
  /// Relative damping of H and of every M_h.
  double damp = 0.01;
  /// Quantize a head's columns in decreasing order of M_h's diagonal (BoA's
  /// Hessian-based row reordering), else in order.
  bool rowOrder = false;
  /// Columns of a head quantized jointly (TurboBoA, Kim et al., ICLR 2026):
  /// a step takes `jointColumns` consecutive columns B (in the head's
  /// order) and quantizes their weights row by row, the columns of a row
  /// one after the other: GPTQ in the order (row, column) on their
  /// conditional inverse Hessian, which factors as U_H (x) U'_BB
  /// (U' = chol(M_h^-1)), so a weight's error reaches its row's later
  /// columns through U'_BB and the later rows through U_H. The step's
  /// change D_B = W_B - Q_B (W_B their values when the step began) then
  /// goes to the head's later columns R in closed form,
  ///   W_R -= D_B U'_BB^-1 U'_BR,
  /// their optimum given D_B (the objective is Kronecker, so H cancels).
  /// 1 is BoA's order (column, row); d sweeps K once per head.
  int64_t jointColumns = 1;
};

/// BoA with a uniform grid (per-OC groups only: per-IC groups would tie the
/// parameters of a row to columns quantized later). Group parameters are
/// chosen (by `clip`) from the error-updated weights when the sweep of a
/// column reaches the group's first row, as gptqUniform does. Heads run in
/// parallel.
bool boaUniform(const float *W, int64_t K, int64_t N, const double *H,
                const RowHessians &rows, const UniformParams &params,
                ClipSearch clip, const BoAOptions &options,
                UniformResult &out, std::string &err);

/// GPTQ of each head's columns (N = heads x headDim) on its own Hessian
/// `headH[h]` (K x K): BoA's value projection. Per-OC groups only.
bool gptqPerHead(const float *W, int64_t K, int64_t N,
                 const std::vector<const double *> &headH,
                 const UniformParams &params, ClipSearch clip, double damp,
                 UniformResult &out, std::string &err);

/// BoA's objective sum_h tr(D_h^T H D_h M_h), D = W - What, in double.
double kroneckerError(const float *W, const float *What, int64_t K, int64_t N,
                      const double *H, const RowHessians &rows);

/// mean_t R_t^T C R_t for the rotate-half rotary embedding
///   R_t q = cos_t * q + sin_t * rotate_half(q),
///   rotate_half(q) = [-q[d/2:], q[:d/2]],
/// from Z = sum_t z_t^T z_t over `positions` rows z_t = [cos_t, sin_t]
/// (2d x 2d): every entry of the mean is a sum of products of C with the
/// second moments of the tables. C and M are d x d; d even.
void rotaryAverage(const double *C, int64_t d, const double *Z,
                   uint64_t positions, double *M);

// -- the attention taps of qc-insert-observe{attention} ---------------------
//
// The statistics of a query (key) projection's partner, the post-rotary
// keys (queries) as the score product reads them, are gathered at a tap
// named rowTapName(layer, d, heads): rows of `observed` heads of d values
// each per batch item, `heads` of them per item. The rotary tables of the
// attention, rows [cos_t, sin_t], at a tap named ropeTapName(layer) (one
// tap, named after both projections). A layer name never contains '#'.

std::string rowTapName(const std::string &layer, int64_t headDim,
                       int64_t heads);
std::string ropeTapName(const std::string &layer);
/// A value projection's tap of key/value head `head` of `heads`.
std::string valueTapName(const std::string &layer, int64_t head,
                         int64_t heads);
/// The layer a tap name belongs to: the text before '#'.
std::string baseLayerName(const std::string &tapName);

/// The row Hessians of `layer` (N output columns) from its attention taps in
/// `taps`: each of its heads takes the mean of the partner's head blocks
/// mapped to it (grouped-query attention: a key head averages its query
/// heads; a query head reads its key head), rotated by rotaryAverage when a
/// rotary tap exists. `found` is false (and the call succeeds) when the
/// layer has no row tap.
bool rowHessiansFromTaps(const std::vector<TapStats> &taps,
                         const std::string &layer, int64_t N,
                         RowHessians &out, bool &found, std::string &err);

/// The per-head Hessians of a value projection (K inputs, N outputs) from
/// its value taps, pointing into `taps`; empty (and success) when it has
/// none.
bool valueHessiansFromTaps(const std::vector<TapStats> &taps,
                           const std::string &layer, int64_t K, int64_t N,
                           std::vector<const double *> &out,
                           std::string &err);

/// What BoA knows of one layer: row Hessians (a query or key projection)
/// or per-head Hessians (a value projection), or nothing.
struct AttentionStats {
  RowHessians rows;
  std::vector<const double *> valueH;
  bool empty() const { return rows.heads == 0 && valueH.empty(); }
};

/// Both of the above for `layer`.
bool attentionStatsFromTaps(const std::vector<TapStats> &taps,
                            const std::string &layer, int64_t K, int64_t N,
                            AttentionStats &out, std::string &err);

} // namespace quant
} // namespace qc

#endif // QC_QUANT_BOA_H
