//===- qc-import-onnx.cpp - ONNX or GGUF model to MLIR --------------------===//

#include "qc/Import/ONNX.h"
#include "qc/Pipelines/Pipelines.h"
#include "qc/Tools/ToolContext.h"
#include "qc/Tools/ImportFlags.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::opt<std::string> input(cl::Positional, cl::desc("<model.onnx|model.gguf>"),
                             cl::Required,
      cl::cat(qc::toolCategory()));
  cl::opt<std::string> output("o", cl::desc("output file (default: stdout)"),
                              cl::value_desc("file"), cl::init("-"),
      cl::cat(qc::toolCategory()));
  cl::opt<bool> raise("raise-linear",
                      cl::desc("also run qc-raise-linear on the result"),
      cl::cat(qc::toolCategory()));
  qc::ImportFlags flags;
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  cl::HideUnrelatedOptions(qc::toolCategory());
  cl::ParseCommandLineOptions(argc, argv, "qc model importer (ONNX, GGUF)\n");

  qc::ONNXImportOptions options;
  if (std::string e = flags.apply(options); !e.empty()) {
    WithColor::error(errs(), "qc-import-onnx") << e << "\n";
    return 1;
  }
  qc::ToolContext tool("qc-import-onnx");
  mlir::MLIRContext &context = tool.get();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      StringRef(input).ends_with(".gguf")
          ? qc::importGGUFFile(input, &context, options)
          : qc::importONNXFile(input, &context, options);
  if (!module)
    return 1;
  if (raise) {
    mlir::PassManager pm(&context);
    if (failed(mlir::parsePassPipeline("func.func(qc-raise-linear)", pm)) ||
        failed(pm.run(*module)))
      return 1;
  }
  std::string error;
  auto out = mlir::openOutputFile(output, &error);
  if (!out) {
    WithColor::error(errs(), "qc-import-onnx") << error << "\n";
    return 1;
  }
  module->print(out->os());
  out->keep();
  return 0;
}
