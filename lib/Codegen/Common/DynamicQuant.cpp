//===- DynamicQuant.cpp - a tensor's DynamicQuantizeLinear parameters -----===//

#include "qc/Codegen/DynamicQuant.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

std::pair<Value, Value> qc::buildTensorRange(OpBuilder &b, Location loc,
                                             Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  // Both reductions from 0, in one pass.
  Value init = linalg::FillOp::create(
                   b, loc,
                   arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f))
                       .getResult(),
                   Value(tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{},
                                                 f32)))
                   .getResult(0);
  unsigned rank = type.getRank();
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx),
                                 AffineMap::get(rank, 0, ctx),
                                 AffineMap::get(rank, 0, ctx)};
  SmallVector<utils::IteratorType> iters(rank,
                                         utils::IteratorType::reduction);
  auto range = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType(), init.getType()}, x,
      ValueRange{init, init}, maps, iters,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value v = a[0];
        if (!v.getType().isF32())
          v = arith::ExtFOp::create(nb, l, nb.getF32Type(), v);
        linalg::YieldOp::create(
            nb, l,
            ValueRange{arith::MaximumFOp::create(nb, l, a[1], v),
                       arith::MinimumFOp::create(nb, l, a[2], v)});
      });
  return {tensor::ExtractOp::create(b, loc, range.getResult(0)),
          tensor::ExtractOp::create(b, loc, range.getResult(1))};
}

qc::DynamicQuantParams qc::buildDynamicQuantParams(OpBuilder &b, Location loc,
                                                   Value hi, Value lo) {
  auto c = [&](float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v)).getResult();
  };
  Value s = arith::DivFOp::create(b, loc, arith::SubFOp::create(b, loc, hi, lo),
                                  c(255.0f));
  Value positive =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, s, c(0.0f));
  s = arith::SelectOp::create(b, loc, positive, s, c(1.0f));
  Value z = arith::NegFOp::create(b, loc, arith::DivFOp::create(b, loc, lo, s));
  z = arith::MinimumFOp::create(
      b, loc, arith::MaximumFOp::create(b, loc, z, c(0.0f)), c(255.0f));
  return {s, math::RoundEvenOp::create(b, loc, z)};
}

Value qc::buildStaticCode(OpBuilder &b, Location loc, Value x, Value scale,
                          Value zp, Value lo, Value hi) {
  Value q = arith::AddFOp::create(
      b, loc,
      math::RoundEvenOp::create(b, loc,
                                arith::DivFOp::create(b, loc, x, scale)),
      zp);
  return arith::MinimumFOp::create(
      b, loc, arith::MaximumFOp::create(b, loc, q, lo), hi);
}
