//===- Microscaling.h - the shared scale of an MXFP4 block ------*- C++ -*-===//
//
// One definition of the MXFP4 block scale, built by both the reference
// lowering (qc-lower-qlinear) and the generated activation quantizer, which
// must round identically.
//
//===----------------------------------------------------------------------===//

#ifndef QC_CODEGEN_MICROSCALING_H
#define QC_CODEGEN_MICROSCALING_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

#include <utility>

namespace qc {

/// For a block whose max |x| is the f32 `maxAbs`: {2^-p, 2^p} (f32, exact)
/// with p = floor(log2 maxAbs) - 2, read from maxAbs's exponent bits and
/// clamped to [-126, 126] so that both are normal.
std::pair<mlir::Value, mlir::Value>
mxfp4BlockScale(mlir::OpBuilder &b, mlir::Location loc, mlir::Value maxAbs);

} // namespace qc

#endif // QC_CODEGEN_MICROSCALING_H
