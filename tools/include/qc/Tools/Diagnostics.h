//===- Diagnostics.h - one-line diagnostics for qc tools --------*- C++ -*-===//

#ifndef QC_TOOLS_DIAGNOSTICS_H
#define QC_TOOLS_DIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace qc {

/// Prints each diagnostic as one line, `TOOL: error: FILE[:LINE:COL]: MSG`,
/// instead of MLIR's `loc(...)` form: the importer's locations are node names
/// inside a file with no line structure.
class ToolDiagnostics {
public:
  ToolDiagnostics(mlir::MLIRContext &context, std::string tool)
      : tool(std::move(tool)),
        handler(&context, [this](mlir::Diagnostic &diag) {
          print(diag);
          return mlir::success();
        }) {}

private:
  static std::string where(mlir::Location loc) {
    std::string out;
    loc->walk([&](mlir::Location l) {
      if (auto file = llvm::dyn_cast<mlir::FileLineColLoc>(l)) {
        out = file.getFilename().str();
        if (file.getLine() != 0)
          out += ":" + std::to_string(file.getLine()) + ":" +
                 std::to_string(file.getColumn());
        return mlir::WalkResult::interrupt();
      }
      return mlir::WalkResult::advance();
    });
    return out;
  }

  void print(mlir::Diagnostic &diag) {
    const char *kind = "error";
    switch (diag.getSeverity()) {
    case mlir::DiagnosticSeverity::Warning:
      kind = "warning";
      break;
    case mlir::DiagnosticSeverity::Note:
      kind = "note";
      break;
    case mlir::DiagnosticSeverity::Remark:
      kind = "remark";
      break;
    default:
      break;
    }
    std::string file = where(diag.getLocation());
    llvm::errs() << tool << ": " << kind << ": ";
    if (!file.empty())
      llvm::errs() << file << ": ";
    llvm::errs() << diag.str() << "\n";
    for (mlir::Diagnostic &note : diag.getNotes())
      print(note);
  }

  std::string tool;
  mlir::ScopedDiagnosticHandler handler;
};

} // namespace qc

#endif // QC_TOOLS_DIAGNOSTICS_H
