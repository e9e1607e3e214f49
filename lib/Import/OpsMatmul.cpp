//===- OpsMatmul.cpp - ONNX MatMul and Gemm to linalg contractions --------===//
//
// A matmul with a 2-D right-hand side becomes flatten / linalg.matmul /
// unflatten: the form `qc-raise-linear` recognizes when that operand is a
// constant weight. Batched matmuls become linalg.batch_matmul, and batch
// broadcasting a linalg.generic contraction.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

namespace {

Value zeroAcc(NodeContext &nc, ArrayRef<int64_t> shape, Type elt) {
  return nc.filled(shape, nc.scalar(elt, 0));
}

/// [..., K] x [K, N] -> [..., N] through a 2-D linalg.matmul.
Value matmulRhs2D(NodeContext &nc, Value a, Value b) {
  auto at = cast<RankedTensorType>(a.getType());
  auto bt = cast<RankedTensorType>(b.getType());
  Type elt = at.getElementType();
  int64_t k = at.getShape().back(), n = bt.getDimSize(1);
  int64_t m = at.getNumElements() / std::max<int64_t>(k, 1);
  if (k == 0) {
    m = 1;
    for (int64_t d : at.getShape().drop_back())
      m *= d;
  }
  Value flat = at.getRank() == 2 ? a : nc.reshape(a, {m, k});
  Value acc = zeroAcc(nc, {m, n}, elt);
  Value mm = linalg::MatmulOp::create(nc.b, nc.loc, ValueRange{flat, b},
                                      ValueRange{acc})
                 .getResult(0);
  SmallVector<int64_t> shape(at.getShape().drop_back());
  shape.push_back(n);
  return nc.reshape(mm, shape);
}

/// Batched matmul with numpy broadcasting of the batch dims.
FailureOr<Value> matmulBatched(NodeContext &nc, Value a, Value b) {
  auto at = cast<RankedTensorType>(a.getType());
  auto bt = cast<RankedTensorType>(b.getType());
  Type elt = at.getElementType();
  SmallVector<int64_t> aBatch(at.getShape().drop_back(2));
  SmallVector<int64_t> bBatch(bt.getShape().drop_back(2));
  FailureOr<SmallVector<int64_t>> batch =
      nc.broadcastShape({aBatch, bBatch});
  if (failed(batch))
    return failure();
  int64_t m = at.getDimSize(at.getRank() - 2), k = at.getShape().back();
  int64_t n = bt.getShape().back();
  if (bt.getDimSize(bt.getRank() - 2) != k) {
    nc.error() << "inner dimensions differ: " << k << " vs "
               << bt.getDimSize(bt.getRank() - 2);
    return failure();
  }
  SmallVector<int64_t> outShape(*batch);
  outShape.push_back(m);
  outShape.push_back(n);
  int64_t nb = 1;
  for (int64_t d : *batch)
    nb *= d;
  if (ArrayRef<int64_t>(aBatch) == ArrayRef<int64_t>(*batch) &&
      ArrayRef<int64_t>(bBatch) == ArrayRef<int64_t>(*batch)) {
    Value a3 = nc.reshape(a, {nb, m, k});
    Value b3 = nc.reshape(b, {nb, k, n});
    Value acc = zeroAcc(nc, {nb, m, n}, elt);
    Value mm = linalg::BatchMatmulOp::create(nc.b, nc.loc, ValueRange{a3, b3},
                                             ValueRange{acc})
                   .getResult(0);
    return nc.reshape(mm, outShape);
  }
  // General broadcast: dims (batch..., m, n, k).
  int64_t r = batch->size();
  MLIRContext *ctx = nc.ctx();
  auto operandMap = [&](RankedTensorType t, bool isA) {
    SmallVector<AffineExpr> exprs;
    int64_t tr = t.getRank() - 2;
    for (int64_t i = 0; i < tr; ++i) {
      int64_t j = r - tr + i;
      exprs.push_back(t.getDimSize(i) == (*batch)[j]
                          ? getAffineDimExpr(j, ctx)
                          : getAffineConstantExpr(0, ctx));
    }
    if (isA) {
      exprs.push_back(getAffineDimExpr(r, ctx));
      exprs.push_back(getAffineDimExpr(r + 2, ctx));
    } else {
      exprs.push_back(getAffineDimExpr(r + 2, ctx));
      exprs.push_back(getAffineDimExpr(r + 1, ctx));
    }
    return AffineMap::get(r + 3, 0, exprs, ctx);
  };
  SmallVector<AffineExpr> outExprs;
  for (int64_t i = 0; i < r + 2; ++i)
    outExprs.push_back(getAffineDimExpr(i, ctx));
  SmallVector<AffineMap> maps = {operandMap(at, true), operandMap(bt, false),
                                 AffineMap::get(r + 3, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iters(r + 2, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  Value acc = zeroAcc(nc, outShape, elt);
  bool fp = isa<FloatType>(elt);
  return linalg::GenericOp::create(
             nc.b, nc.loc, acc.getType(), ValueRange{a, b}, ValueRange{acc},
             maps, iters,
             [&](OpBuilder &ob, Location l, ValueRange args) {
               Value p = fp ? (Value)arith::MulFOp::create(ob, l, args[0], args[1])
                            : (Value)arith::MulIOp::create(ob, l, args[0], args[1]);
               Value s = fp ? (Value)arith::AddFOp::create(ob, l, args[2], p)
                            : (Value)arith::AddIOp::create(ob, l, args[2], p);
               linalg::YieldOp::create(ob, l, s);
             })
      .getResult(0);
}

FailureOr<Value> emitMatMul(NodeContext &nc, Value a, Value b) {
  auto at = cast<RankedTensorType>(a.getType());
  auto bt = cast<RankedTensorType>(b.getType());
  if (at.getRank() == 0 || bt.getRank() == 0) {
    nc.error() << "operands must have rank >= 1";
    return failure();
  }
  if (at.getElementType() != bt.getElementType()) {
    nc.error() << "operand element types differ";
    return failure();
  }
  // Rank-1 operands are promoted and the added dim dropped afterwards.
  bool aVec = at.getRank() == 1, bVec = bt.getRank() == 1;
  if (aVec)
    a = nc.reshape(a, {1, at.getDimSize(0)});
  if (bVec)
    b = nc.reshape(b, {bt.getDimSize(0), 1});
  at = cast<RankedTensorType>(a.getType());
  bt = cast<RankedTensorType>(b.getType());
  if (at.getShape().back() != bt.getDimSize(bt.getRank() - 2)) {
    nc.error() << "inner dimensions differ: " << at.getShape().back()
               << " vs " << bt.getDimSize(bt.getRank() - 2);
    return failure();
  }
  Value out;
  if (bt.getRank() == 2) {
    out = matmulRhs2D(nc, a, b);
  } else {
    FailureOr<Value> v = matmulBatched(nc, a, b);
    if (failed(v))
      return failure();
    out = *v;
  }
  if (aVec || bVec) {
    auto ot = cast<RankedTensorType>(out.getType());
    SmallVector<int64_t> shape(ot.getShape());
    if (bVec)
      shape.pop_back();
    if (aVec)
      shape.erase(shape.end() - (bVec ? 1 : 2));
    out = nc.reshape(out, shape);
  }
  return out;
}

LogicalResult importMatMul(NodeContext &nc) {
  FailureOr<Value> v = emitMatMul(nc, nc.input(0), nc.input(1));
  if (failed(v))
    return failure();
  nc.setOutput(0, *v, nc.inputDType(0));
  return success();
}

/// Transposes a 2-D host tensor.
HostTensor transposeHost(const HostTensor &t) {
  HostTensor out;
  out.dtype = t.dtype;
  out.shape = {t.shape[1], t.shape[0]};
  int64_t es = dtypeSize(t.dtype), rows = t.shape[0], cols = t.shape[1];
  out.data.resize(t.data.size());
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      std::memcpy(&out.data[(j * rows + i) * es], &t.data[(i * cols + j) * es],
                  es);
  return out;
}

LogicalResult importGemm(NodeContext &nc) {
  DType d = nc.inputDType(0);
  if (nc.inputType(0).getRank() != 2 || nc.inputType(1).getRank() != 2) {
    nc.error() << "expects rank-2 A and B";
    return failure();
  }
  Value a = nc.input(0);
  if (nc.attrInt("transA", 0))
    a = nc.transpose(a, {1, 0});
  Value b;
  if (nc.attrInt("transB", 0)) {
    // A constant weight is stored transposed so that it stays a constant
    // (and a qc.linear candidate) instead of a run-time transpose.
    if (const HostTensor *c = nc.inputConstant(1))
      b = nc.constant(transposeHost(*c), nc.node.input(1));
    else
      b = nc.transpose(nc.input(1), {1, 0});
  } else {
    b = nc.input(1);
  }
  FailureOr<Value> y = emitMatMul(nc, a, b);
  if (failed(y))
    return failure();
  Value out = *y;
  Type elt = toMLIRType(nc.ctx(), d);
  double alpha = nc.attrFloat("alpha", 1.0f), beta = nc.attrFloat("beta", 1.0f);
  auto shape = cast<RankedTensorType>(out.getType()).getShape();
  bool fp = isFloat(d);
  if (alpha != 1.0) {
    Value s = nc.scalar(elt, alpha);
    out = nc.elementwiseTo(out, shape, elt,
                           [&](OpBuilder &ob, Location l, ValueRange v) -> Value {
                             return fp ? (Value)arith::MulFOp::create(ob, l, v[0], s)
                                       : (Value)arith::MulIOp::create(ob, l, v[0], s);
                           });
  }
  if (nc.hasInput(2) && beta != 0.0) {
    Value c = nc.input(2);
    Value s = nc.scalar(elt, beta);
    out = nc.elementwiseTo(
        ValueRange{out, c}, shape, elt,
        [&](OpBuilder &ob, Location l, ValueRange v) -> Value {
          if (!fp) {
            Value bc = beta == 1.0 ? v[1] : (Value)arith::MulIOp::create(ob, l, v[1], s);
            return arith::AddIOp::create(ob, l, v[0], bc);
          }
          Value bc = beta == 1.0 ? v[1] : (Value)arith::MulFOp::create(ob, l, v[1], s);
          return arith::AddFOp::create(ob, l, v[0], bc);
        });
  }
  nc.setOutput(0, out, d);
  return success();
}

} // namespace

FailureOr<Value> qc::detail::emitMatMulOf(NodeContext &nc, Value a, Value b) {
  return emitMatMul(nc, a, b);
}

void qc::detail::registerMatmulOps(OpRegistry &r) {
  r.add("MatMul", importMatMul);
  r.add("Gemm", importGemm);
}
