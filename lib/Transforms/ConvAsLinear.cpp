//===- ConvAsLinear.cpp - a 2-D convolution as a linear layer -------------===//

#include "qc/Transforms/ConvAsLinear.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

Value qc::im2colView(OpBuilder &b, Location loc, Value x,
                     ArrayRef<int64_t> out, ArrayRef<int64_t> kernel,
                     ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations) {
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t c = xt.getDimSize(1);
  SmallVector<int64_t> shape = {xt.getDimSize(0), out[0], out[1], c,
                                kernel[0], kernel[1]};
  auto d = [&](unsigned i) { return b.getAffineDimExpr(i); };
  AffineMap read = AffineMap::get(
      6, 0,
      {d(0), d(3), d(1) * strides[0] + d(4) * dilations[0],
       d(2) * strides[1] + d(5) * dilations[1]},
      b.getContext());
  return gatherView(b, loc, x, read, shape,
                    SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4, 5}});
}

Value qc::gatherView(OpBuilder &b, Location loc, Value x, AffineMap read,
                     ArrayRef<int64_t> shape,
                     ArrayRef<ReassociationIndices> reassociation) {
  auto xt = cast<RankedTensorType>(x.getType());
  Value init = tensor::EmptyOp::create(b, loc, shape, xt.getElementType());
  unsigned rank = shape.size();
  Value cols =
      linalg::GenericOp::create(
          b, loc, init.getType(), x, init,
          SmallVector<AffineMap>{read, b.getMultiDimIdentityMap(rank)},
          SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
          [](OpBuilder &nb, Location l, ValueRange args) {
            linalg::YieldOp::create(nb, l, args[0]);
          })
          .getResult(0);
  if (reassociation.empty())
    return cols;
  return tensor::CollapseShapeOp::create(b, loc, cols, reassociation);
}

bool qc::isCopyGeneric(linalg::GenericOp g) {
  if (g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 ||
      g.getNumReductionLoops() != 0)
    return false;
  auto yield = cast<linalg::YieldOp>(g.getBody()->getTerminator());
  return yield.getNumOperands() == 1 &&
         yield.getOperand(0) == g.getBody()->getArgument(0);
}

linalg::GenericOp qc::im2colOf(Value input) {
  auto collapse = input.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse || !collapse->hasOneUse() ||
      collapse.getReassociationIndices() !=
          SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4, 5}})
    return {};
  auto g = collapse.getSrc().getDefiningOp<linalg::GenericOp>();
  if (!g || !g->hasOneUse() || !isCopyGeneric(g) || g.getNumLoops() != 6 ||
      !g.getIndexingMapsArray()[1].isIdentity())
    return {};
  return g;
}

Value qc::nhwcToNchwPlus(OpBuilder &b, Location loc, Value y, Value init) {
  auto ot = cast<RankedTensorType>(init.getType());
  auto d = [&](unsigned i) { return b.getAffineDimExpr(i); };
  AffineMap nhwc = AffineMap::get(4, 0, {d(0), d(2), d(3), d(1)},
                                  b.getContext());
  AffineMap id = b.getMultiDimIdentityMap(4);
  Value empty =
      tensor::EmptyOp::create(b, loc, ot.getShape(), ot.getElementType());
  return linalg::GenericOp::create(
             b, loc, ot, ValueRange{y, init}, empty,
             SmallVector<AffineMap>{nhwc, id, id},
             SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
             [](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(
                   nb, l,
                   Value(arith::AddFOp::create(nb, l, args[0], args[1])));
             })
      .getResult(0);
}
