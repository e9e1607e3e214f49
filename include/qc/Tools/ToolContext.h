//===- ToolContext.h - the MLIR context every qc tool sets up ---*- C++ -*-===//

#ifndef QC_TOOLS_TOOLCONTEXT_H
#define QC_TOOLS_TOOLCONTEXT_H

#include "qc/Pipelines/Pipelines.h"
#include "qc/Tools/Diagnostics.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

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
