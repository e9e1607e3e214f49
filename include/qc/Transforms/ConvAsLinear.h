//===- ConvAsLinear.h - a 2-D convolution as a linear layer -----*- C++ -*-===//
//
// The im2col view of a 2-D NCHW convolution, which makes it one linear layer
// over [N, OH, OW, C * kh * kw] with a [C * kh * kw, F] weight: built by
// qc-raise-linear{convs} for float filters and by the ONNX importer for
// QDQ models' quantized ones.
//
//===----------------------------------------------------------------------===//

#ifndef QC_TRANSFORMS_CONVASLINEAR_H
#define QC_TRANSFORMS_CONVASLINEAR_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

#include <cstdint>
#include <vector>

namespace qc {

/// The im2col view of `x` [N, C, H, W] (padded already) for a kh x kw
/// kernel: [N, OH, OW, C * kh * kw], element (n, oh, ow, (c, i, j)) =
/// x[n, c, oh * sh + i * dh, ow * sw + j * dw]; `out` is (OH, OW).
mlir::Value im2colView(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                       llvm::ArrayRef<int64_t> out,
                       llvm::ArrayRef<int64_t> kernel,
                       llvm::ArrayRef<int64_t> strides,
                       llvm::ArrayRef<int64_t> dilations);

/// A copy of `x` into a new [shape] tensor read through `read` (one result
/// per dimension of `x`, over the loops of `shape`), collapsed by
/// `reassociation` (none: not collapsed): the im2col gathers of both
/// convolution layouts, and transposes.
mlir::Value gatherView(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                       mlir::AffineMap read, llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<mlir::ReassociationIndices> reassociation);

/// out[n, f, h, w] = y[n, h, w, f] + init[n, f, h, w]: the linear layer's
/// NHWC result as the convolution's NCHW one, `init` (bias or zeros) added.
mlir::Value nhwcToNchwPlus(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value y, mlir::Value init);

/// Whether `g` is an all-parallel generic that yields its only input (a
/// gather, a transpose, a copy).
bool isCopyGeneric(mlir::linalg::GenericOp g);

/// The im2col gather [N, OH, OW, C, kh, kw] (im2colView's) that `input`,
/// its collapse to [N, OH, OW, K], is the only reader of; else null.
mlir::linalg::GenericOp im2colOf(mlir::Value input);

/// A filter [F, K] (row-major, K = C * kh * kw) as the weight [K, F].
template <typename T>
std::vector<T> filterColumns(llvm::ArrayRef<T> filter, int64_t f, int64_t k) {
  std::vector<T> weight(filter.size());
  for (int64_t o = 0; o < f; ++o)
    for (int64_t r = 0; r < k; ++r)
      weight[r * f + o] = filter[o * k + r];
  return weight;
}

} // namespace qc

#endif // QC_TRANSFORMS_CONVASLINEAR_H
