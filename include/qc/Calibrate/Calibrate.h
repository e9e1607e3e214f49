//===- Calibrate.h - statistics from running the compiled model -*- C++ -*-===//
//
// qc-calibrate's engine: compiles the float module with qc.observe taps
// (qc-insert-observe) through the AOT path, loads it with libqcrt and runs
// it on calibration samples, accumulating per tap the statistics of
// qc/Quant/Stats.h. No second interpreter: the statistics come from qc's
// own generated code.
//
// Block-by-block mode: layers are grouped into transformer blocks (by a
// regex on the layer name) in program order; block i's statistics are
// gathered with blocks 0..i-1 already quantized (their weights replaced, at
// run time, by the dequantized result of `quantizeLayer`), as GPTQ's
// reference does. With cross statistics, the float model also runs on each
// sample and C = x~^T x is gathered for two-stage scale refinement.
//
//===----------------------------------------------------------------------===//

#ifndef QC_CALIBRATE_CALIBRATE_H
#define QC_CALIBRATE_CALIBRATE_H

#include "qc/Quant/Stats.h"
#include "qc/Target/AOT.h"

#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace qc {

struct CalibrateOptions {
  /// (input name, .npy path); an empty name means "the only input". Each
  /// array holds S samples stacked on a leading axis: shape [S, ...] whose
  /// trailing dims are the input's shape (a leading 1 of the input may be
  /// absent or present).
  std::vector<std::pair<std::string, std::string>> data;
  /// Use at most this many samples (0: all).
  int64_t maxSamples = 0;
  /// Threads running samples concurrently.
  int threads = 2;
  bool blockByBlock = false;
  /// Regex whose first capture group names a layer's block; layers that do
  /// not match form blocks of their own.
  std::string blockPattern = "^(.*layers?[._/][0-9]+)[._/]";
  /// Gather C = x~^T x in block-by-block mode.
  bool crossStats = false;
  /// Show progress on stderr (when it is a terminal).
  bool progress = true;
  /// Layers (regexes) that get no tap.
  std::vector<std::string> exclude;
  /// Also gather BoA's attention statistics (qc-insert-observe{attention}).
  bool attentionTaps = false;
  /// How the calibration model is compiled (output folder: a temporary).
  AOTOptions aot;
  /// Block-by-block mode: quantizes a layer from its statistics (`taps`:
  /// every tap, those of the layer's block gathered; BoA reads its
  /// attention taps there) and returns its dequantized K x N weight.
  std::function<bool(const std::string &layer, const std::vector<float> &w,
                     int64_t k, int64_t n, const quant::TapStats &stats,
                     const std::vector<quant::TapStats> &taps,
                     std::vector<float> &dequantized, std::string &err)>
      quantizeLayer;
};

/// Runs calibration on `module` (not modified). Errors are emitted as
/// diagnostics at the module's location.
mlir::LogicalResult calibrate(mlir::ModuleOp module,
                              const CalibrateOptions &options,
                              quant::CalibrationStats &stats);

struct QuantRecipe;

/// What a tool asks of calibration (qc-compile / qc-calibrate flags).
struct CalibrationRequest {
  /// [NAME=]FILE.npy per model input.
  std::vector<std::string> data;
  int64_t maxSamples = 0;
  /// "block" (block-by-block, the default) or "all" (every layer from the
  /// float model in one pass).
  std::string mode = "block";
  int threads = 2;
  bool progress = true;
  AOTOptions aot;
};

/// Gathers statistics for `recipe` and writes them to `statsPath`
/// (atomically): block mode quantizes block by block with the recipe's
/// schemes and algorithm (cross statistics when it asks for two-stage).
mlir::LogicalResult calibrateForRecipe(mlir::ModuleOp module,
                                       const QuantRecipe &recipe,
                                       const CalibrationRequest &request,
                                       const std::string &statsPath);

} // namespace qc

#endif // QC_CALIBRATE_CALIBRATE_H
