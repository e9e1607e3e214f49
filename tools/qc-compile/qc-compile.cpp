//===- qc-compile.cpp - ahead-of-time compile a model to an artifact ------===//

#include "qc/Calibrate/Calibrate.h"
#include "qc/Codegen/KernelTarget.h"
#include "qc/Import/ONNX.h"
#include "qc/Tools/CalibFlags.h"
#include "qc/Transforms/Passes.h"
#include "qc/Pipelines/Pipelines.h"
#include "qc/Target/AOT.h"
#include "qc/Tools/ToolContext.h"
#include "qc/Tools/ImportFlags.h"
#include "qc/Tools/QuantFlags.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Timer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  qc::registerTestKernelTargets();
  cl::opt<std::string> input(cl::Positional,
                             cl::desc("<model.onnx | module.mlir>"),
                             cl::Required,
      cl::cat(qc::toolCategory()));
  cl::opt<std::string> outputDir("o", cl::desc("artifact folder"),
                                 cl::value_desc("dir"), cl::Required,
      cl::cat(qc::toolCategory()));
  cl::opt<std::string> cpu("cpu",
                           cl::desc("target CPU (default: the host's)"),
                           cl::init("host"),
      cl::cat(qc::toolCategory()));
  cl::opt<std::string> features("features",
                                cl::desc("extra LLVM target features"),
      cl::cat(qc::toolCategory()));
  cl::opt<bool> noVectorize("no-vectorize",
                            cl::desc("do not tile and vectorize matmuls"),
      cl::cat(qc::toolCategory()));
  cl::opt<std::string> kernels(
      "kernels",
      cl::desc("quantized layers: 'generated' (the generated low-bit "
               "kernels where one fits, the default) or 'reference' "
               "(dequantize, then matmul)"),
      cl::init("generated"), cl::cat(qc::toolCategory()));
  cl::opt<std::string> target(
      "target",
      cl::desc("instruction set of the generated kernels: host, x86-64-v3, "
               "x86-64-v4, x86-64-v4-vnni, x86-64-v4-vbmi, aarch64 or "
               "generic (default: "
               "host with --cpu=host, else generic)"),
      cl::cat(qc::toolCategory()));
  cl::opt<bool> uniformLut(
      "uniform-lut",
      cl::desc("give uniform 2-4 bit layers the LUT-GEMM kernel through "
               "their exact binary-coding form instead of dequant_i8"),
      cl::cat(qc::toolCategory()));
  cl::opt<bool> noRaise("no-raise-linear",
                        cl::desc("do not raise matmuls to qc.linear"),
      cl::cat(qc::toolCategory()));
  cl::opt<std::string> dumpLLVM("dump-llvm-ir",
                                cl::desc("also write the LLVM IR here"),
                                cl::value_desc("file"),
      cl::cat(qc::toolCategory()));
  qc::ImportFlags flags;
  qc::QuantFlags quantFlags;
  qc::CalibFlags calibFlags;
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  cl::HideUnrelatedOptions(qc::toolCategory());
  cl::ParseCommandLineOptions(argc, argv, "qc ahead-of-time compiler\n");

  qc::ONNXImportOptions importOptions;
  if (std::string e = flags.apply(importOptions); !e.empty()) {
    WithColor::error(errs(), "qc-compile") << e << "\n";
    return 1;
  }
  qc::ToolContext tool("qc-compile");
  mlir::MLIRContext &context = tool.get();

  mlir::OwningOpRef<mlir::ModuleOp> module =
      tool.loadModel(input, importOptions);
  if (!module)
    return 1;

  if (!noRaise) {
    mlir::PassManager pm(&context);
    if (failed(mlir::parsePassPipeline("func.func(qc-raise-linear)", pm)) ||
        failed(pm.run(*module)))
      return 1;
  }

  qc::QuantRecipe recipe;
  if (std::string e = quantFlags.apply(recipe); !e.empty()) {
    WithColor::error(errs(), "qc-compile") << e << "\n";
    return 1;
  }
  if (std::string e = calibFlags.apply(recipe); !e.empty()) {
    WithColor::error(errs(), "qc-compile") << e << "\n";
    return 1;
  }
  if (!calibFlags.data.empty() &&
      (recipe.empty() || !qc::CalibFlags::needsStats(recipe))) {
    WithColor::error(errs(), "qc-compile")
        << "--calib-data is used by --algo gptq and --assign-bits only"
        << "\n";
    return 1;
  }
  qc::AOTOptions options;
  options.outputDir = outputDir;
  options.cpu = cpu;
  options.features = features;
  options.vectorize = !noVectorize;
  options.kernels = kernels;
  options.uniformLut = uniformLut;
  if (kernels != "generated" && kernels != "reference") {
    WithColor::error(errs(), "qc-compile")
        << "--kernels must be 'generated' or 'reference', not '" << kernels
        << "'\n";
    return 1;
  }
  if (uniformLut && kernels != "generated") {
    WithColor::error(errs(), "qc-compile")
        << "--uniform-lut chooses a generated kernel; it cannot be combined "
           "with --kernels=reference\n";
    return 1;
  }
  options.kernelTarget =
      !target.empty() ? target.getValue()
                      : (cpu == "host" ? std::string("host")
                                       : std::string("generic"));
  {
    std::string error;
    mlir::FailureOr<const qc::KernelTarget *> kernelTarget =
        qc::resolveKernelTarget(options.kernelTarget, error);
    if (failed(kernelTarget)) {
      WithColor::error(errs(), "qc-compile") << "--target: " << error << "\n";
      return 1;
    }
    if (uniformLut && !(*kernelTarget)->hasByteLookup()) {
      WithColor::error(errs(), "qc-compile")
          << "--uniform-lut needs byte table lookups: pass --target "
             "x86-64-v3 (or higher) or aarch64, or --cpu=host on such a "
             "machine (target '"
          << options.kernelTarget << "' is " << (*kernelTarget)->name()
          << ")\n";
      return 1;
    }
  }
  options.dumpLLVMIR = dumpLLVM;

  // Statistics: gathered now (--calib-data; kept in --calib-stats if given,
  // else in a temporary file) or read from --calib-stats.
  SmallString<128> tempStats;
  auto removeTemp = llvm::make_scope_exit([&] {
    if (!tempStats.empty())
      sys::fs::remove(tempStats);
  });
  if (!recipe.empty() && (qc::CalibFlags::needsStats(recipe) ||
                          !calibFlags.stats.empty())) {
    recipe.stats = calibFlags.stats;
    if (!calibFlags.data.empty()) {
      if (recipe.stats.empty()) {
        if (std::error_code ec = sys::fs::createTemporaryFile(
                "qc-calib", "qcstats", tempStats)) {
          WithColor::error(errs(), "qc-compile")
              << "cannot create a temporary file: " << ec.message() << "\n";
          return 1;
        }
        recipe.stats = tempStats.str().str();
      }
      qc::AOTOptions calibAOT = options;
      calibAOT.dumpLLVMIR.clear();
      if (failed(qc::calibrateForRecipe(*module, recipe,
                                        calibFlags.request(calibAOT),
                                        recipe.stats)))
        return 1;
    }
  }
  std::vector<qc::QuantReportRow> report;
  if (!recipe.empty()) {
    if (noRaise) {
      WithColor::error(errs(), "qc-compile")
          << "--quant needs the linear layers raised (drop --no-raise-linear)"
          << "\n";
      return 1;
    }
    mlir::PassManager pm(&context);
    if (failed(qc::addQuantizePass(pm, recipe)) || failed(pm.run(*module)))
      return 1;
    report = qc::collectQuantReport(*module);
  }

  if (failed(qc::compileToArtifact(*module, options)))
    return 1;
  if (!recipe.empty()) {
    qc::printQuantReport(outs(), report);
    std::string path = outputDir + "/quant-report.json";
    // writeToOutput writes a temporary file and renames it into place.
    if (Error e = writeToOutput(path, [&](raw_ostream &os) {
          os << qc::quantReportJSON(report) << "\n";
          return Error::success();
        })) {
      WithColor::error(errs(), "qc-compile")
          << path << ": " << toString(std::move(e)) << "\n";
      return 1;
    }
  }
  return 0;
}
