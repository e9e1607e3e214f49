//===- ConstantData.h - element data of constant tensors --------*- C++ -*-===//

#ifndef QC_TRANSFORMS_CONSTANTDATA_H
#define QC_TRANSFORMS_CONSTANTDATA_H

#include "mlir/IR/Types.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <vector>

namespace qc {

/// The row-major element bytes of `v` when it is an `arith.constant` holding
/// a dense_resource blob or dense elements (splats expanded); failure
/// otherwise or when the size disagrees with the type.
mlir::FailureOr<std::vector<char>> getConstantBytes(mlir::Value v);

/// The elements of a constant f16 / bf16 / f32 tensor, as f32.
mlir::FailureOr<std::vector<float>> getConstantFloats(mlir::Value v);

/// `v` rounded to the f16 / bf16 `type` (identity for f32), as f32.
float roundToType(float v, mlir::Type type);

/// The 16 bits of `v` rounded to f16 or bf16 (`type`).
uint16_t toHalfBits(float v, mlir::Type type);

} // namespace qc

#endif // QC_TRANSFORMS_CONSTANTDATA_H
