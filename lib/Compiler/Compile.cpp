//===- Compile.cpp - qc-compile as a library call -------------------------===//

#include "qc/Compiler/Compile.h"
#include "QC/IR/QCOps.h"
#include "qc/Support/AtomicFile.h"
#include "qc/Transforms/Passes.h"

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
  bool any = false;
  module.walk([&](qc::CachedAttentionOp) { any = true; });
  if (!any)
    return emitError(module.getLoc())
           << "--kv-cache: the model has no key-value cache (compile a GGUF "
              "model with --context N)";
  PassManager pm(module.getContext());
  KVCacheFormatPassOptions options;
  options.format = kvCacheFormatName(format).str();
  pm.addPass(createKVCacheFormatPass(options));
  return pm.run(module);
}
} // namespace

LogicalResult qc::compileModule(ModuleOp module, const CompileRequest &request,
                                raw_ostream &report) {
  MLIRContext *ctx = module.getContext();
  if (request.raiseLinear) {
    PassManager pm(ctx);
    pm.addNestedPass<func::FuncOp>(createRaiseLinearPass());
    if (failed(pm.run(module)))
      return failure();
  }
  QuantRecipe recipe = request.recipe;
  SmallString<128> tempStats;
  auto removeTemp = llvm::make_scope_exit([&] {
    if (!tempStats.empty())
      llvm::sys::fs::remove(tempStats);
  });
  std::vector<QuantReportRow> rows;
  if (!recipe.empty()) {
    if ((recipe.needsStats() || !request.calibStats.empty()) &&
        failed(runCalibration(module, request, recipe, tempStats)))
      return failure();
    PassManager pm(ctx);
    if (failed(addQuantizePass(pm, recipe)) || failed(pm.run(module)))
      return failure();
    rows = collectQuantReport(module);
  }

  if (request.kvCache && failed(setKVCacheFormat(module, *request.kvCache)))
    return failure();
  if (failed(compileToArtifact(module, request.aot)))
    return failure();
  if (recipe.empty())
    return success();
  printQuantReport(report, rows);
  std::string path = request.aot.outputDir + "/quant-report.json";
  std::string error;
  if (!writeFileAtomically(path, quantReportJSON(rows) + "\n", error))
    return emitError(module.getLoc()) << error;
  return success();
}
