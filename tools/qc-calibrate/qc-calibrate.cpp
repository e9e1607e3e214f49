//===- qc-calibrate.cpp - gather calibration statistics of a model --------===//
//
// Imports a model, raises its linear layers, compiles it with calibration
// taps and runs it on calibration samples; writes the statistics file that
// qc-compile --calib-stats, qc-quantize{stats=} and qc-assign-precision read.
//
//===----------------------------------------------------------------------===//

#include "qc/Calibrate/Calibrate.h"
#include "qc/Import/ONNX.h"
#include "qc/Tools/CalibFlags.h"
#include "qc/Tools/ImportFlags.h"
#include "qc/Tools/QuantFlags.h"
#include "qc/Tools/ToolContext.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::opt<std::string> input(cl::Positional,
                             cl::desc("<model.onnx | module.mlir>"),
                             cl::Required, cl::cat(qc::toolCategory()));
  cl::opt<std::string> output("o", cl::desc("statistics file to write"),
                              cl::value_desc("file.qcstats"), cl::Required,
                              cl::cat(qc::toolCategory()));
  cl::opt<std::string> cpu("cpu", cl::desc("target CPU (default: the host's)"),
                           cl::init("host"), cl::cat(qc::toolCategory()));
  qc::ImportFlags flags;
  qc::QuantFlags quantFlags;
  qc::CalibFlags calibFlags;
  cl::HideUnrelatedOptions(qc::toolCategory());
  cl::ParseCommandLineOptions(
      argc, argv,
      "qc calibration: statistics of every linear layer's inputs\n\n"
      "  --calib-mode all: one pass of the float model (no quantization "
      "flags needed).\n"
      "  --calib-mode block: block by block, quantizing with --quant/--recipe "
      "and --algo as it goes.\n");
  auto fail = [](const std::string &msg) {
    WithColor::error(errs(), "qc-calibrate") << msg << "\n";
    return 1;
  };
  qc::ONNXImportOptions importOptions;
  if (std::string e = flags.apply(importOptions); !e.empty())
    return fail(e);
  // Statistics are of the float model (a GGUF's too).
  importOptions.dequantizeGGUF = true;
  qc::QuantRecipe recipe;
  if (std::string e = quantFlags.apply(recipe); !e.empty())
    return fail(e);
  if (recipe.smooth > 0 || recipe.rotate)
    return fail("--smooth and --rotate are for qc-compile (statistics here "
                "are of the float model)");
  if (calibFlags.data.empty())
    return fail("needs calibration data: --calib-data [INPUT=]FILE.npy");
  if (!calibFlags.stats.empty())
    return fail("--calib-stats is for qc-compile; write the file with -o");
  if (calibFlags.mode == "block" && recipe.empty())
    return fail("--calib-mode block quantizes as it goes: give --quant or "
                "--recipe (or use --calib-mode all)");
  if (std::string e = calibFlags.apply(recipe); !e.empty())
    return fail(e);

  qc::ToolContext tool("qc-calibrate");
  mlir::MLIRContext &context = tool.get();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      tool.loadModel(input, importOptions);
  if (!module)
    return 1;
  mlir::PassManager pm(&context);
  if (failed(mlir::parsePassPipeline("func.func(qc-raise-linear{convs})", pm)) ||
      failed(pm.run(*module)))
    return 1;
  qc::AOTOptions aot;
  aot.cpu = cpu;
  if (failed(qc::calibrateForRecipe(*module, recipe, calibFlags.request(aot),
                                    output)))
    return 1;
  return 0;
}
