//===- CalibFlags.h - calibration and GPTQ flags of qc tools ----*- C++ -*-===//

#ifndef QC_TOOLS_CALIBFLAGS_H
#define QC_TOOLS_CALIBFLAGS_H

#include "qc/Calibrate/Calibrate.h"
#include "qc/Tools/ImportFlags.h"
#include "qc/Transforms/QuantRecipe.h"

#include "llvm/Support/CommandLine.h"

namespace qc {

/// `--algo`, `--two-stage`, `--act-order`, `--damp`, `--assign-bits`,
/// `--assign-candidates`, `--calib-*`, as qc-compile and qc-calibrate take
/// them.
struct CalibFlags {
  llvm::cl::opt<std::string> algo{
      "algo",
      llvm::cl::desc("quantization algorithm: rtn, gptq, boa (GPTQ with "
                     "attention-aware Hessians for the query, key and value "
                     "projections), turboboa (BoA with joint columns and a "
                     "correction for the error of the quantized inputs) or "
                     "aespa (their rounding learned on the same objectives); "
                     "all but rtn need --calib-data or --calib-stats"),
      llvm::cl::init(""), llvm::cl::cat(toolCategory())};
  llvm::cl::opt<bool> twoStage{
      "two-stage",
      llvm::cl::desc("two-stage group-scale optimization around GPTQ"),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<bool> inputCorrection{
      "input-correction",
      llvm::cl::desc("quantize each layer towards the weights that undo the "
                     "error of its quantized inputs (block-by-block "
                     "calibration's cross statistics; overfits small "
                     "calibration sets, see docs/results.md)"),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<bool> actOrder{
      "act-order",
      llvm::cl::desc("GPTQ in decreasing order of the Hessian diagonal"),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<double> damp{
      "damp", llvm::cl::desc("GPTQ damping (relative, default 0.01)"),
      llvm::cl::init(0.01), llvm::cl::cat(toolCategory())};
  llvm::cl::opt<double> assignBits{
      "assign-bits",
      llvm::cl::desc("mixed precision: choose a scheme per layer for this "
                     "average bits per weight (needs calibration)"),
      llvm::cl::init(0.0), llvm::cl::cat(toolCategory())};
  llvm::cl::list<std::string> candidates{
      "assign-candidates",
      llvm::cl::desc("schemes --assign-bits chooses from (comma-separated; "
                     "default w2g64,w3g128,w4g128,w8g128)"),
      llvm::cl::CommaSeparated, llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> assignRecipe{
      "assign-recipe",
      llvm::cl::desc("with --assign-bits: also write the chosen schemes as a "
                     "recipe (JSON, the --recipe format) to edit and reuse"),
      llvm::cl::value_desc("file.json"), llvm::cl::cat(toolCategory())};
  llvm::cl::list<std::string> data{
      "calib-data",
      llvm::cl::desc("calibration samples: [INPUT=]FILE.npy, S samples on a "
                     "leading axis (repeatable, one per model input)"),
      llvm::cl::value_desc("[input=]file.npy"),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<int64_t> samples{
      "calib-samples",
      llvm::cl::desc("use at most this many calibration samples"),
      llvm::cl::init(0), llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> mode{
      "calib-mode",
      llvm::cl::desc("block: quantize block by block, each calibrated on the "
                     "quantized blocks before it (default); all: every layer "
                     "from the float model in one pass"),
      llvm::cl::init("block"), llvm::cl::cat(toolCategory())};
  llvm::cl::opt<int> threads{
      "calib-threads",
      llvm::cl::desc("samples run concurrently during calibration"),
      llvm::cl::init(2), llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> stats{
      "calib-stats",
      llvm::cl::desc("statistics file: read it (without --calib-data) or "
                     "write the gathered statistics there"),
      llvm::cl::value_desc("file.qcstats"), llvm::cl::cat(toolCategory())};

  /// Copies the algorithm flags into `recipe`; an error message or "".
  std::string apply(QuantRecipe &recipe) const {
    if (!algo.empty())
      recipe.algo = algo;
    recipe.twoStage = twoStage;
    recipe.inputCorrection = inputCorrection;
    recipe.actOrder = actOrder;
    recipe.damp = damp;
    recipe.assignBits = assignBits;
    recipe.candidates.assign(candidates.begin(), candidates.end());
    recipe.assignRecipe = assignRecipe;
    if (!assignRecipe.empty() && assignBits <= 0)
      return "--assign-recipe needs --assign-bits";
    if (std::string e = recipe.check(); !e.empty())
      return e;
    if (!isWeightQuantAlgo(recipe.algo))
      return std::string("--algo must be ") + kWeightQuantAlgos +
             ", found '" + recipe.algo + "'";
    if (inputCorrection && !algoUsesHessian(recipe.algo))
      return "--input-correction needs --algo gptq, boa, turboboa or aespa";
    if (twoStage && !algoUsesHessian(recipe.algo))
      return "--two-stage needs --algo gptq, boa, turboboa or aespa";
    if (recipe.needsStats() && data.empty() && stats.empty())
      return "--algo gptq|boa|turboboa|aespa, --assign-bits and --act int8s "
             "need calibration: "
             "--calib-data or --calib-stats";
    if (recipe.smooth > 0 && data.empty() && stats.empty())
      return "--smooth needs --calib-data or --calib-stats (statistics of "
             "the float model)";
    if (recipe.smooth > 0 && data.empty() && recipe.needsStats())
      return "--smooth with --algo gptq, --assign-bits or --act int8s needs "
             "--calib-data: "
             "their statistics must be of the smoothed model";
    if (recipe.rotate && data.empty() && !stats.empty() && recipe.needsStats())
      return "--rotate with --algo gptq, --assign-bits or --act int8s needs "
             "--calib-data: "
             "their statistics must be of the rotated model";
    if (threads < 1)
      return "--calib-threads must be >= 1";
    if (samples < 0)
      return "--calib-samples must be >= 0 (0: every sample)";
    if (!(damp >= 0))
      return "--damp must be >= 0";
    return "";
  }
  CalibrationRequest request(const AOTOptions &aot) const {
    CalibrationRequest r;
    r.data.assign(data.begin(), data.end());
    r.maxSamples = samples;
    r.mode = mode;
    r.threads = threads;
    r.aot = aot;
    return r;
  }
};

} // namespace qc

#endif // QC_TOOLS_CALIBFLAGS_H
