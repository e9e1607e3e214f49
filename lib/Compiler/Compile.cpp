//===- Compile.cpp - qc-compile as a library call -------------------------===//

#include "qc/Compiler/Compile.h"
#include "QC/IR/QCOps.h"
#include "qc/Calibrate/Calibrate.h"
#include "qc/Support/AtomicFile.h"
#include "qc/Transforms/Passes.h"
#include "qc/Transforms/QuantizeWeights.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace qc;

namespace {
/// Runs the request's calibration, if any, into recipe.stats.
LogicalResult runCalibration(ModuleOp module, const CompileRequest &request,
                             QuantRecipe &recipe, SmallString<128> &tempStats) {
  recipe.stats = request.calibStats;
  if (!request.calibration)
    return success();
  if (recipe.stats.empty()) {
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "qc-calib", "qcstats", tempStats))
      return emitError(module.getLoc())
             << "cannot create a temporary file: " << ec.message();
    recipe.stats = tempStats.str().str();
  }
  return calibrateForRecipe(module, recipe, *request.calibration, recipe.stats);
}

/// Stores the model's key-value caches as `format` says.
LogicalResult setKVCacheFormat(ModuleOp module, KVCacheFormat format) {
  if (!hasKVCache(module))
    return emitError(module.getLoc())
           << "--kv-cache: the model has no key-value cache (compile a GGUF "
              "model with --context N)";
  PassManager pm(module.getContext());
  KVCacheFormatPassOptions options;
  options.format = kvCacheFormatName(format).str();
  pm.addPass(createKVCacheFormatPass(options));
  return pm.run(module);
}

/// SmoothQuant (qc-smooth) with the recipe's strength, on statistics of
/// the float model: the request's file when it gives one without data,
/// else `smoothStats` (gathered by the first entry, in one pass over the
/// float model, reused by the others).
LogicalResult smoothModule(ModuleOp module, const CompileRequest &request,
                           const QuantRecipe &recipe,
                           SmallString<128> &smoothStats) {
  if (!request.calibration && !request.calibStats.empty())
    smoothStats = request.calibStats;
  if (smoothStats.empty()) {
    if (!request.calibration)
      return emitError(module.getLoc())
             << "smoothing needs calibration data (--calib-data)";
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "qc-smooth", "qcstats", smoothStats))
      return emitError(module.getLoc())
             << "cannot create a temporary file: " << ec.message();
    CalibrationRequest floatPass = *request.calibration;
    floatPass.mode = "all";
    if (failed(calibrateForRecipe(module, recipe, floatPass,
                                  smoothStats.str().str())))
      return failure();
  }
  PassManager pm(module.getContext());
  SmoothPassOptions options;
  options.stats = smoothStats.str().str();
  options.alpha = recipe.smooth;
  pm.addPass(createSmoothPass(options));
  return pm.run(module);
}

/// Raises, smooths, quantizes and formats the caches of one entry's module.
/// `recipe.stats` is where the statistics are, once the first entry has
/// calibrated (`calibrated`); the report rows are the first entry's.
LogicalResult prepareModule(ModuleOp module, const CompileRequest &request,
                            QuantRecipe &recipe, bool &calibrated,
                            SmallString<128> &tempStats,
                            SmallString<128> &smoothStats,
                            std::vector<QuantReportRow> *rows) {
  MLIRContext *ctx = module.getContext();
  if (request.raiseLinear) {
    PassManager pm(ctx);
    // Convolutions become linear layers (im2col): quantizable, and in float
    // the packed GEMM beats the direct convolution loops by far (ResNet-18:
    // 46 ms against 1.9 s).
    RaiseLinearPassOptions raise;
    raise.convs = true;
    pm.addNestedPass<func::FuncOp>(createRaiseLinearPass(raise));
    if (failed(pm.run(module)))
      return failure();
  }
  if (recipe.rotate) {
    PassManager pm(ctx);
    pm.addPass(createRotatePass());
    if (failed(pm.run(module)))
      return failure();
  }
  if (recipe.smooth > 0 &&
      failed(smoothModule(module, request, recipe, smoothStats)))
    return failure();
  if (!recipe.empty()) {
    // Statistics read from a file are the float model's: after smoothing
    // or rotating they no longer describe the layers' inputs.
    bool transformed = recipe.smooth > 0 || recipe.rotate;
    bool statsFromFile = !request.calibStats.empty() &&
                         (!transformed || request.calibration);
    if (!calibrated && (recipe.needsStats() || statsFromFile) &&
        failed(runCalibration(module, request, recipe, tempStats)))
      return failure();
    calibrated = true;
    PassManager pm(ctx);
    if (failed(addQuantizePass(pm, recipe)) || failed(pm.run(module)))
      return failure();
    if (rows)
      *rows = collectQuantReport(module);
  }
  if (!request.activations.empty()) {
    PassManager pm(ctx);
    SetActivationsPassOptions options;
    options.act = request.activations;
    pm.addPass(createSetActivationsPass(options));
    if (failed(pm.run(module)))
      return failure();
  }
  if (request.kvCache && failed(setKVCacheFormat(module, *request.kvCache)))
    return failure();
  return success();
}
} // namespace

bool qc::hasKVCache(ModuleOp module) {
  return module
      .walk([](qc::CachedAttentionOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

/// One line on the layers the model brought quantized (MatMulNBits, QDQ,
/// GGUF): how many, by weight and activation scheme, in order of first
/// appearance. Nothing when there are none.
static void reportImportedLayers(ModuleOp module, raw_ostream &os) {
  std::vector<std::pair<std::string, int64_t>> counts;
  module.walk([&](QLinearOp op) {
    if (op->hasAttr("qc.report"))
      return; // quantized here: the per-layer table shows it
    ActivationAttr act = op.getActAttr();
    std::string key = op.getScheme().getShortName() + " / " +
                      (act ? act.getShortName() : std::string("f32"));
    auto it = llvm::find_if(counts,
                            [&](const auto &c) { return c.first == key; });
    if (it == counts.end())
      counts.emplace_back(key, 1);
    else
      ++it->second;
  });
  if (counts.empty())
    return;
  int64_t total = 0;
  for (const auto &entry : counts)
    total += entry.second;
  os << total << " layer(s) imported quantized (weights / activations):";
  for (const auto &[schemes, count] : counts)
    os << " " << schemes << " x " << count << ";";
  os << "\n";
}

LogicalResult qc::compileModule(ModuleOp module, const CompileRequest &request,
                                raw_ostream &report) {
  return compileModules({{"", module}}, request, report);
}

LogicalResult qc::compileModules(ArrayRef<ArtifactEntry> entries,
                                 const CompileRequest &request,
                                 raw_ostream &report) {
  QuantRecipe recipe = request.recipe;
  SmallString<128> tempStats, smoothStats;
  auto removeTemp = llvm::make_scope_exit([&] {
    clearAnyBCQFits();
    if (!tempStats.empty())
      llvm::sys::fs::remove(tempStats);
    // The smoothing statistics are a temporary unless they are the user's.
    if (!smoothStats.empty() && smoothStats.str() != request.calibStats)
      llvm::sys::fs::remove(smoothStats);
  });
  std::vector<QuantReportRow> rows;
  bool calibrated = false;
  for (const ArtifactEntry &entry : entries) {
    recipe.planes = entry.planes;
    if (failed(prepareModule(entry.module, request, recipe, calibrated,
                             tempStats, smoothStats,
                             &entry == &entries.front() ? &rows : nullptr)))
      return failure();
  }
  reportImportedLayers(entries.front().module, report);
  if (failed(compileToArtifact(entries, request.aot)))
    return failure();
  if (recipe.empty())
    return success();
  printQuantReport(report, rows);
  std::string path = request.aot.outputDir + "/quant-report.json";
  std::string error;
  if (!writeFileAtomically(path, quantReportJSON(rows) + "\n", error))
    return emitError(ModuleOp(entries.front().module).getLoc()) << error;
  return success();
}
