//===- ONNX.h - write qc-quantized models back as ONNX ----------*- C++ -*-===//

#ifndef QC_EXPORT_ONNX_H
#define QC_EXPORT_ONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

namespace qc {

/// Writes the ONNX model at `sourcePath` to `outputPath` with every MatMul
/// that `quantized` (the same model, imported and run through qc-quantize)
/// holds as a uniform per-OC `qc.qlinear` replaced by a
/// `com.microsoft::MatMulNBits` node carrying qc's codes, scales and zero
/// points, so onnxruntime computes what qc computes. Layers quantized with a
/// scheme MatMulNBits cannot express are errors. The file is written under
/// a temporary name and renamed. Errors are emitted on `quantized`'s context.
mlir::LogicalResult exportMatMulNBits(llvm::StringRef sourcePath,
                                      mlir::ModuleOp quantized,
                                      llvm::StringRef outputPath);

} // namespace qc

#endif // QC_EXPORT_ONNX_H
