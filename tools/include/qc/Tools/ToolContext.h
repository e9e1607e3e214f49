//===- ToolContext.h - the MLIR context every qc tool sets up ---*- C++ -*-===//

#ifndef QC_TOOLS_TOOLCONTEXT_H
#define QC_TOOLS_TOOLCONTEXT_H

#include "qc/Pipelines/Pipelines.h"
#include "qc/Tools/Diagnostics.h"

#include "qc/Import/GGUF.h"
#include "qc/Import/ONNX.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/SourceMgr.h"

namespace qc {

/// An MLIR context with qc's dialects and passes registered and loaded, and
/// one-line diagnostics prefixed with the tool's name.
class ToolContext {
public:
  explicit ToolContext(std::string tool)
      : registry(makeRegistry()), context(registry),
        diagnostics(context, std::move(tool)) {
    context.printOpOnDiagnostic(false);
    context.loadAllAvailableDialects();
  }

  mlir::MLIRContext &get() { return context; }

  /// Reads `input`: an .mlir module, a GGUF model or an ONNX model to
  /// import. Errors are
  /// reported as diagnostics; null on failure.
  mlir::OwningOpRef<mlir::ModuleOp>
  loadModel(llvm::StringRef input, const ONNXImportOptions &options) {
    if (input.ends_with(".mlir")) {
      llvm::SourceMgr sourceMgr;
      mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
      return mlir::parseSourceFile<mlir::ModuleOp>(input, sourceMgr, &context);
    }
    if (input.ends_with(".gguf"))
      return importGGUFFile(input, &context, options);
    return importONNXFile(input.str(), &context, options);
  }

private:
  static mlir::DialectRegistry makeRegistry() {
    registerAllPasses();
    mlir::DialectRegistry registry;
    registerAllDialects(registry);
    return registry;
  }

  mlir::DialectRegistry registry;
  mlir::MLIRContext context;
  ToolDiagnostics diagnostics;
};

} // namespace qc

#endif // QC_TOOLS_TOOLCONTEXT_H
