//===- DynamicQuant.h - a tensor's DynamicQuantizeLinear parameters -*- C++ -*-===//
//
// One definition of the per-tensor dynamic uint8 parameters of `#qc.act<kind
// = uint8>` (ONNX DynamicQuantizeLinear), built by both the reference
// lowering (qc-lower-qlinear) and the call site of the generated int8
// kernels, which must round identically.
//
//===----------------------------------------------------------------------===//

#ifndef QC_CODEGEN_DYNAMICQUANT_H
#define QC_CODEGEN_DYNAMICQUANT_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

#include <utility>

namespace qc {

/// The integer code, as f32, of `x` on scale `scale` and zero point `zp`:
/// clamp(roundeven(x / scale) + zp, lo, hi), ONNX QuantizeLinear's
/// arithmetic. Scalars or vectors alike (the other operands of `x`'s type).
/// One definition for the generated static quantizer and the quantizing
/// gathers, which must round identically (and as the reference lowering's
/// QuantizeLinear does).
mlir::Value buildStaticCode(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value x, mlir::Value scale, mlir::Value zp,
                            mlir::Value lo, mlir::Value hi);

/// The scale and zero point (f32 scalars) of a tensor whose range (zero
/// included) is [lo, hi] (f32 scalars): s = (hi - lo) / 255 (1 when that is
/// 0, so that an all-zero tensor stays zero), zp = roundeven(clamp(-lo / s,
/// 0, 255)).
struct DynamicQuantParams {
  mlir::Value scale, zeroPoint;
};
DynamicQuantParams buildDynamicQuantParams(mlir::OpBuilder &b,
                                           mlir::Location loc, mlir::Value hi,
                                           mlir::Value lo);

/// {max(0, max x), min(0, min x)} over every element of the ranked float
/// tensor `x` (the generated kernels reduce rows first: max over their
/// column 0 and min over their column 1 of an [M, 2] tensor give the same).
std::pair<mlir::Value, mlir::Value>
buildTensorRange(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x);

} // namespace qc

#endif // QC_CODEGEN_DYNAMICQUANT_H
