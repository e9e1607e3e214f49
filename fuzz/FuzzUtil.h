//===- FuzzUtil.h - what the importers' harnesses share ---------*- C++ -*-===//
//
// The importers read paths, so each input is written to a file of the
// process's own; an MLIR context whose diagnostics are counted instead of
// printed; and the check every harness makes of an import: a module that
// verifies, or a refusal that said why.
//
//===----------------------------------------------------------------------===//

#ifndef QC_FUZZ_FUZZUTIL_H
#define QC_FUZZ_FUZZUTIL_H

#include "qc/Import/ONNX.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace qc::fuzz {

/// Writes `data` to /tmp/qc-fuzz-PID.SUFFIX (the same file every call) and
/// returns its path; "" when it cannot be written.
inline std::string writeInput(const uint8_t *data, size_t size,
                              const char *suffix) {
  static const std::string base =
      "/tmp/qc-fuzz-" + std::to_string(::getpid()) + ".";
  std::string path = base + suffix;
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return "";
  bool ok = std::fwrite(data, 1, size, f) == size;
  ok = std::fclose(f) == 0 && ok;
  return ok ? path : "";
}

/// A context with the importer's dialects loaded, whose error diagnostics
/// are counted (and not printed: the fuzzer's log stays readable).
class CountingContext {
public:
  CountingContext() : context(makeRegistry()) {
    context.loadAllAvailableDialects();
    context.getDiagEngine().registerHandler([this](mlir::Diagnostic &d) {
      if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
        ++errors;
      return mlir::success();
    });
  }
  mlir::MLIRContext *get() { return &context; }
  int errors = 0;

private:
  static mlir::DialectRegistry makeRegistry() {
    mlir::DialectRegistry registry;
    registerONNXImportDialects(registry);
    return registry;
  }
  mlir::MLIRContext context;
};

/// The contract of an import: it refuses with an error diagnostic, or it
/// returns a module that verifies. Anything else is a bug: trap.
inline void checkImport(mlir::OwningOpRef<mlir::ModuleOp> &module,
                        CountingContext &context) {
  if (!module) {
    if (context.errors == 0)
      __builtin_trap(); // a refusal must say why
    return;
  }
  if (mlir::failed(mlir::verify(*module)))
    __builtin_trap(); // the importer built invalid IR
}

} // namespace qc::fuzz

#endif // QC_FUZZ_FUZZUTIL_H
