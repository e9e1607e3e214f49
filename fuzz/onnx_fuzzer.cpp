//===- onnx_fuzzer.cpp - libFuzzer harness of the ONNX importer -----------===//
//
// Any bytes as an .onnx file: importONNXFile returns a module that verifies
// or refuses with a diagnostic; it never crashes, reads out of bounds or
// allocates what the file cannot hold. Both paths a user can take are
// tried: with libonnx's checker and shape inference (the default) and
// without them (--no-onnx-checker), where the importer alone meets the graph.
// A crash file reproduces with `qc-import-onnx FILE [--no-onnx-checker]`.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = qc::fuzz::writeInput(data, size, "onnx");
  if (path.empty())
    return 0;
  for (bool checker : {true, false}) {
    qc::fuzz::CountingContext context;
    qc::ONNXImportOptions options;
    options.runChecker = checker;
    mlir::OwningOpRef<mlir::ModuleOp> module =
        qc::importONNXFile(path, context.get(), options);
    qc::fuzz::checkImport(module, context);
  }
  return 0;
}
