//===- QuantRecipe.h - what to quantize, and the report of it ---*- C++ -*-===//

#ifndef QC_TRANSFORMS_QUANTRECIPE_H
#define QC_TRANSFORMS_QUANTRECIPE_H

#include "QC/IR/QCAttrs.h"
#include "qc/Transforms/QuantizeWeights.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <utility>
#include <vector>

namespace qc {

/// The quantization a user asks for: a default scheme, per-layer overrides
/// and exclusions (layer-name regexes), and options of the algorithm.
struct QuantRecipe {
  std::string scheme;
  /// Activation scheme of the quantized layers (qc::activationFor).
  std::string act = "auto";
  std::string clip = "mse";
  std::string algo = "rtn";
  std::vector<std::pair<std::string, std::string>> overrides;
  std::vector<std::string> exclude;
  /// algo=gptq: statistics file, two-stage scale optimization, act-order,
  /// damping.
  std::string stats;
  bool twoStage = false;
  /// Quantize towards quant::inputErrorTarget (needs cross statistics:
  /// block-by-block calibration gathers them when this is set).
  bool inputCorrection = false;
  bool actOrder = false;
  double damp = 0.01;
  /// Mixed precision: > 0 runs qc-assign-precision with this budget (bits
  /// per weight) over `candidates` (empty: its default) first.
  double assignBits = 0;
  std::vector<std::string> candidates;
  /// Where qc-assign-precision writes its choice as a recipe ("": nowhere).
  std::string assignRecipe;
  /// SmoothQuant migration strength (qc-smooth) before quantizing; 0: none.
  double smooth = 0;
  /// Hadamard rotations (qc-rotate) before quantizing (not with smooth).
  bool rotate = false;
  /// AnyBCQ (qc-quantize min-planes / planes): BCQ layers fitted for every
  /// precision from minPlanes planes up; `planes` is the one this module
  /// computes with (0: all of the scheme's).
  unsigned minPlanes = 0;
  unsigned planes = 0;
  /// Layer i of n on stderr while quantizing (when it is a terminal).
  bool progress = false;

  bool empty() const { return scheme.empty() && assignBits <= 0; }
  /// "" when every name is a plain name (letters, digits, '_', '-', '.')
  /// and no pattern or path holds a single quote; else why not. The
  /// fields reach qc-quantize as pass options: anything else could set
  /// other options than its own.
  std::string check() const;
  /// Whether quantizing needs calibration statistics (GPTQ, BoA, mixed
  /// precision, static activations).
  bool needsStats() const {
    return algoUsesHessian(algo) || assignBits > 0 ||
           isStaticActivationName(act);
  }

  /// The scheme the recipe gives `layer` (exclusions first, then the
  /// overrides, then the default); "" when the layer stays in float.
  std::string schemeFor(llvm::StringRef layer) const;
};

/// Layer-name patterns as the passes use them: each regex must match the
/// whole layer name.
class LayerPatterns {
public:
  /// Compiles `patterns`; false with `error` naming the bad one.
  bool compile(llvm::ArrayRef<std::string> patterns, std::string &error);
  bool matches(llvm::StringRef layer) const;

private:
  std::vector<llvm::Regex> regexes;
};

/// Reads a JSON recipe:
///   {"scheme": "w4g128", "act": "int8", "smooth": 0.5, "rotate": true,
///    "clip": "mse",
///    "algo": "rtn",
///    "overrides": {"lm_head": "w8g128", ".*mlp.*": "w3g128"},
///    "exclude": ["embed.*"]}
/// Unknown keys are errors. Returns false with `error` set.
bool readQuantRecipe(llvm::StringRef path, QuantRecipe &recipe,
                     std::string &error);

/// Adds qc-quantize configured by `recipe` to `pm`.
mlir::LogicalResult addQuantizePass(mlir::OpPassManager &pm,
                                    const QuantRecipe &recipe);

/// One row of the per-layer report (from the `qc.report` of each
/// qc.qlinear).
struct QuantReportRow {
  std::string layer, scheme, act;
  int64_t k = 0, n = 0, bytes = 0;
  double bitsPerWeight = 0, weightMSE = 0, outputMSE = 0;
  std::string algo;
  /// Output MSE on the calibration data; -1 without statistics.
  double calibOutputMSE = -1;
};

std::vector<QuantReportRow> collectQuantReport(mlir::ModuleOp module);
/// A fixed-width table with a total line.
void printQuantReport(llvm::raw_ostream &os,
                      const std::vector<QuantReportRow> &rows);
/// The report as JSON: {"layers": [...], "total": {...}}.
std::string quantReportJSON(const std::vector<QuantReportRow> &rows);

} // namespace qc

#endif // QC_TRANSFORMS_QUANTRECIPE_H
