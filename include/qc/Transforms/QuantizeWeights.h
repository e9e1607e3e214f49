//===- QuantizeWeights.h - One layer's weights in a scheme ------*- C++ -*-===//
//
// The scheme dispatch shared by qc-quantize, qc-assign-precision and the
// block-by-block calibration driver: a K x N float weight in, the scheme's
// canonical operands (QCAttrs.td) and the dequantized weight out.
//
//===----------------------------------------------------------------------===//

#ifndef QC_TRANSFORMS_QUANTIZEWEIGHTS_H
#define QC_TRANSFORMS_QUANTIZEWEIGHTS_H

#include "QC/IR/QCAttrs.h"
#include "qc/Quant/BoA.h"
#include "qc/Quant/Stats.h"

#include "mlir/IR/Types.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace qc {

/// The algorithms with BoA's attention-aware objective for the query, key
/// and value projections (they read qc-calibrate's attention taps): BoA,
/// TurboBoA and aespa.
inline bool algoUsesAttention(llvm::StringRef algo) {
  return algo == "boa" || algo == "turboboa" || algo == "aespa";
}
/// The algorithms that read calibration statistics.
inline bool algoUsesHessian(llvm::StringRef algo) {
  return algo == "gptq" || algoUsesAttention(algo);
}
/// The weight quantization algorithms, and their list for messages.
inline bool isWeightQuantAlgo(llvm::StringRef algo) {
  return algo == "rtn" || algoUsesHessian(algo);
}
inline constexpr const char kWeightQuantAlgos[] =
    "rtn, gptq, boa, turboboa or aespa";
/// TurboBoA's columns per step (BoAOptions::jointColumns).
inline constexpr int64_t kTurboBoAJointColumns = 8;

struct WeightQuantOptions {
  /// "rtn", "gptq", "boa" (GPTQ, with BoA's attention-aware objective for
  /// the layers that have attention statistics), "turboboa" (BoA with
  /// kTurboBoAJointColumns columns per step) or "aespa" (the attention
  /// layers' codes learned by AdaRound on the same objectives, then
  /// polished by coordinate descent; the others by GPTQ).
  std::string algo = "rtn";
  /// Whether the algorithm reads calibration statistics.
  bool usesHessian() const { return algoUsesHessian(algo); }
  /// MSE clipping search (else min-max) for uniform grids.
  bool mseClip = true;
  /// Two-stage group-scale optimization (uniform schemes, with gptq; with
  /// boa and turboboa, of the layers GPTQ quantizes).
  bool twoStage = false;
  /// Quantize towards quant::inputErrorTarget where the statistics have
  /// cross terms (not the value projections of the attention algorithms,
  /// whose objective reads P_h X).
  bool inputCorrection = false;
  bool actOrder = false;
  double damp = 0.01;
  /// AnyBCQ (> 0): BCQ layers are fitted for every precision from
  /// minPlanes to the scheme's stored planes (quant::fitAnyBCQ) and take
  /// the scheme's `planes` of them; the codes hold all stored planes.
  int minPlanes = 0;
};

/// A layer's quantized operands in canonical layout.
struct QuantizedWeight {
  std::vector<int32_t> codes; // widened; narrowed on emission
  llvm::SmallVector<int64_t> codesShape;
  mlir::Type codesType; // null: i8; else i32
  std::vector<float> scales, zeros, codebook;
  std::vector<float> dequantized; // K x N
  /// The algorithm that produced the codes ("rtn", "gptq", "gptq+2stage",
  /// "boa", "boa-value", "turboboa", "turboboa-value", "aespa",
  /// "aespa-value", or "rtn (no gptq for this scheme)"); "+corr" when the
  /// target was corrected for the error of the quantized inputs.
  std::string algo;
};

/// AnyBCQ fits are kept by content for the process (the entries of one
/// artifact fit the same weights once per precision; only the first runs
/// the fit): this drops them.
void clearAnyBCQFits();

/// Quantizes `w` (K x N) in `scheme`. Every algo but rtn needs `stats`
/// (the layer's calibration statistics, K matching); algo=boa|turboboa
/// quantizes a uniform per-OC layer with `attention` statistics by BoA (row
/// Hessians: boaUniform; per-head Hessians: gptqPerHead), algo=aespa by
/// adaroundUniform and coordinateDescentCodes on the same objectives, any
/// other layer by GPTQ. Scales
/// come out rounded to the scheme's storage type. Returns false and sets
/// `err` on failure.
bool quantizeWeights(QuantSchemeAttrInterface scheme,
                     const std::vector<float> &w, int64_t k, int64_t n,
                     const WeightQuantOptions &options,
                     const quant::TapStats *stats, QuantizedWeight &q,
                     std::string &err,
                     const quant::AttentionStats *attention = nullptr);

} // namespace qc

#endif // QC_TRANSFORMS_QUANTIZEWEIGHTS_H
