//===- qc-export-onnx.cpp - quantize and write back as ONNX ---------------===//
//
// Imports an ONNX model, quantizes its MatMul layers with qc-quantize and
// writes the model back with com.microsoft::MatMulNBits nodes holding qc's
// codes, scales and zero points.
//
//===----------------------------------------------------------------------===//

#include "qc/Export/ONNX.h"
#include "qc/Import/ONNX.h"
#include "qc/Pipelines/Pipelines.h"
#include "qc/Tools/ToolContext.h"
#include "qc/Tools/CalibFlags.h"
#include "qc/Tools/QuantFlags.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::opt<std::string> input(cl::Positional, cl::desc("<model.onnx>"),
                             cl::Required, cl::cat(qc::toolCategory()));
  cl::opt<std::string> output("o", cl::desc("output model"),
                              cl::value_desc("file.onnx"), cl::Required,
                              cl::cat(qc::toolCategory()));
  qc::ImportFlags importFlags;
  qc::QuantFlags quantFlags;
  qc::CalibFlags calibFlags;
  cl::HideUnrelatedOptions(qc::toolCategory());
  cl::ParseCommandLineOptions(
      argc, argv,
      "qc ONNX exporter: quantize MatMul weights (uniform per-OC schemes) "
      "and write them as com.microsoft::MatMulNBits\n\n"
      "  --algo gptq|boa|turboboa|aespa and --assign-bits read statistics "
      "from qc-calibrate (--calib-stats).\n");

  qc::ONNXImportOptions importOptions;
  qc::QuantRecipe recipe;
  std::string e = importFlags.apply(importOptions);
  if (e.empty())
    e = quantFlags.apply(recipe);
  if (e.empty() && !calibFlags.data.empty())
    e = "--calib-data: qc-export-onnx does not run the model; gather the "
        "statistics with qc-calibrate and pass --calib-stats";
  if (e.empty())
    e = calibFlags.apply(recipe);
  if (e.empty() && recipe.empty())
    e = "give the quantization with --quant or --recipe";
  recipe.stats = calibFlags.stats;
  if (e.empty() && recipe.smooth > 0)
    e = "--smooth needs calibration, which qc-compile runs; qc-export-onnx "
        "does not";
  if (e.empty() && recipe.rotate)
    e = "--rotate adds online rotations that MatMulNBits cannot express; "
        "use qc-compile";
  if (!e.empty()) {
    WithColor::error(errs(), "qc-export-onnx") << e << "\n";
    return 1;
  }
  qc::ToolContext tool("qc-export-onnx");
  mlir::MLIRContext &context = tool.get();

  mlir::OwningOpRef<mlir::ModuleOp> module =
      qc::importONNXFile(input, &context, importOptions);
  if (!module)
    return 1;
  mlir::PassManager pm(&context);
  if (failed(mlir::parsePassPipeline("func.func(qc-raise-linear)", pm)) ||
      failed(qc::addQuantizePass(pm, recipe)) || failed(pm.run(*module)))
    return 1;
  if (failed(qc::exportMatMulNBits(input, *module, output)))
    return 1;
  return 0;
}
