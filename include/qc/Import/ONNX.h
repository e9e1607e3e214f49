//===- ONNX.h - ONNX model import into MLIR ---------------------*- C++ -*-===//

#ifndef QC_IMPORT_ONNX_H
#define QC_IMPORT_ONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <string>

namespace qc {

struct ONNXImportOptions {
  /// Static shapes for graph inputs, by input name; they override the model.
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// Values for symbolic dimensions (`dim_param`), by symbol name.
  llvm::StringMap<int64_t> dimValues;
  /// Graph inputs frozen to the contents of an .npy file, by input name:
  /// they become constants (so shape-like inputs such as Reshape's shape or
  /// Slice's starts are known at compile time) and leave the signature.
  llvm::StringMap<std::string> boundInputs;
  /// Name of the entry function.
  std::string entryName = "main";
  /// Run the ONNX checker and shape inference (when libonnx knows the opset).
  bool runChecker = true;
  /// GGUF models: dequantize every tensor to f32, also where a qc scheme
  /// holds its ggml type exactly (Q4_0, Q8_0 matrices, kept as quantized
  /// layers otherwise). qc-compile sets it when --quant quantizes anew.
  bool dequantizeGGUF = false;
  /// GGUF models: > 0 builds the key-value cache form with caches of this
  /// many positions (GroupQueryAttention's shared-buffer form).
  int64_t kvCacheLength = 0;
};

/// Imports the ONNX model at `path` as a module with one function holding the
/// graph in linalg / tensor / arith / math on tensors. Errors are reported as
/// diagnostics on `context` (one line, naming the file, node and op) and
/// yield a null module.
mlir::OwningOpRef<mlir::ModuleOp>
importONNXFile(llvm::StringRef path, mlir::MLIRContext *context,
               const ONNXImportOptions &options = {});

/// Registers the dialects the importer emits.
void registerONNXImportDialects(mlir::DialectRegistry &registry);

/// Parses `--input-shape NAME=D0xD1x...` and `--dim NAME=V` flag values into
/// `options`; returns an error message on malformed text.
std::string parseInputShapeFlag(llvm::StringRef text,
                                ONNXImportOptions &options);
std::string parseDimFlag(llvm::StringRef text, ONNXImportOptions &options);
/// Parses `--bind-input NAME=FILE.npy`.
std::string parseBindInputFlag(llvm::StringRef text,
                               ONNXImportOptions &options);

} // namespace qc

#endif // QC_IMPORT_ONNX_H
