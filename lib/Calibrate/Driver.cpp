//===- Driver.cpp - calibration as the tools ask for it -------------------===//

#include "qc/Calibrate/Calibrate.h"

#include "qc/Transforms/QuantRecipe.h"
#include "qc/Transforms/QuantizeWeights.h"

#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace qc;

LogicalResult qc::calibrateForRecipe(ModuleOp module,
                                     const QuantRecipe &recipe,
                                     const CalibrationRequest &request,
                                     const std::string &statsPath) {
  Location loc = module.getLoc();
  if (request.data.empty())
    return emitError(loc) << "calibration needs data (--calib-data)";
  if (request.mode != "block" && request.mode != "all")
    return emitError(loc) << "calibration mode must be block or all, found '"
                          << request.mode << "'";
  CalibrateOptions options;
  for (const std::string &d : request.data) {
    auto [name, path] = StringRef(d).rsplit('=');
    if (path.empty())
      options.data.emplace_back("", d);
    else
      options.data.emplace_back(name.str(), path.str());
  }
  options.maxSamples = request.maxSamples;
  options.threads = request.threads;
  options.progress = request.progress;
  options.aot = request.aot;
  options.exclude = recipe.exclude;
  // Mixed precision chooses schemes from float statistics, so it gathers
  // them in one pass.
  options.blockByBlock = request.mode == "block" && recipe.assignBits <= 0;
  options.crossStats = recipe.twoStage || recipe.inputCorrection;
  options.attentionTaps = algoUsesAttention(recipe.algo);
  MLIRContext *ctx = module.getContext();
  WeightQuantOptions quantOptions;
  quantOptions.algo = recipe.algo;
  quantOptions.mseClip = recipe.clip == "mse";
  quantOptions.twoStage = recipe.twoStage;
  quantOptions.inputCorrection = recipe.inputCorrection;
  quantOptions.actOrder = recipe.actOrder;
  quantOptions.damp = recipe.damp;
  options.quantizeLayer = [&](const std::string &layer,
                              const std::vector<float> &w, int64_t k,
                              int64_t n, const quant::TapStats &stats,
                              const std::vector<quant::TapStats> &taps,
                              std::vector<float> &dequantized,
                              std::string &err) {
    std::string name = recipe.schemeFor(layer);
    if (name.empty()) {
      dequantized = w;
      return true;
    }
    QuantSchemeAttrInterface scheme = parseQuantScheme(ctx, name, err);
    if (!scheme)
      return false;
    quant::AttentionStats attention;
    if (algoUsesAttention(quantOptions.algo) &&
        !quant::attentionStatsFromTaps(taps, layer, k, n, attention, err))
      return false;
    QuantizedWeight q;
    if (!quantizeWeights(scheme, w, k, n, quantOptions, &stats, q, err,
                         &attention))
      return false;
    dequantized = std::move(q.dequantized);
    return true;
  };
  quant::CalibrationStats stats;
  if (failed(calibrate(module, options, stats)))
    return failure();
  std::string error;
  if (!quant::writeStats(statsPath, stats, error))
    return emitError(loc) << error;
  return success();
}
