//===- ConstantData.h - element data of constant tensors --------*- C++ -*-===//

#ifndef QC_TRANSFORMS_CONSTANTDATA_H
#define QC_TRANSFORMS_CONSTANTDATA_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace qc {
class LinearOp;

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

/// The operand number of `generic`'s input whose block argument is
/// `bodyValue`, when that input is a constant f32 [k] read along the last
/// loop dimension (a normalization's gamma or beta).
std::optional<unsigned> channelConstantOperand(mlir::linalg::GenericOp generic,
                                               mlir::Value bodyValue,
                                               int64_t k);

/// Whether `linear` has a constant f32 [K, N] weight (not panel-packed) and
/// no bias or a constant one: the layers outlier suppression rewrites.
bool hasRewritableWeight(LinearOp linear);

/// A new `arith.constant` of `type` holding `values` in a dense_resource
/// blob named `name`.
mlir::Value floatConstant(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::RankedTensorType type, llvm::StringRef name,
                          llvm::ArrayRef<float> values);

/// A new `arith.constant` of `type` holding the raw `bytes` (its elements'
/// storage) in a dense_resource blob named `name`.
mlir::Value bytesConstant(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::RankedTensorType type, llvm::StringRef name,
                          llvm::ArrayRef<char> bytes);

/// Makes `operand` read a new f32 constant `name` holding `values`, built at
/// `b`'s insertion point; the old constant is erased when nothing else
/// reads it.
void replaceConstant(mlir::OpBuilder &b, mlir::OpOperand &operand,
                     llvm::ArrayRef<float> values, llvm::StringRef name);

} // namespace qc

#endif // QC_TRANSFORMS_CONSTANTDATA_H
