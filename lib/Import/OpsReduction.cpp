//===- OpsReduction.cpp - ONNX Reduce* and ArgMax / ArgMin ----------------===//
//
// Every reduction becomes one linalg.generic whose reduced dims are
// reduction iterators: an optional per-element prologue (abs, square,
// exp(x - max)), a combiner (add, mul, max, min) and an elementwise epilogue
// (divide by the count, sqrt, log). Half-precision sums accumulate in f32.
// ArgMax / ArgMin carry (value, index) pairs through one generic with two
// outputs.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"
#include "ShapeUtils.h"

#include <limits>

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

namespace {

enum class ReduceKind {
  Sum,
  Mean,
  Max,
  Min,
  Prod,
  L1,
  L2,
  LogSum,
  LogSumExp,
  SumSquare
};

/// The smallest / largest value of a float or integer element type, with
/// signedness taken from `d` (float: -inf / +inf).
Value extremeValue(OpBuilder &b, Location loc, Type elt, DType d, bool max) {
  if (auto ft = dyn_cast<FloatType>(elt)) {
    APFloat inf = APFloat::getInf(ft.getFloatSemantics(), /*Negative=*/!max);
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, inf));
  }
  unsigned w = elt.getIntOrFloatBitWidth();
  APInt v;
  if (isUnsigned(d) || isBool(d))
    v = max ? APInt::getMaxValue(w) : APInt::getMinValue(w);
  else
    v = max ? APInt::getSignedMaxValue(w) : APInt::getSignedMinValue(w);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(elt, v));
}

/// Reads the axes of a reduction (attribute `axes` or input 1), normalized,
/// sorted and unique; empty when no reduction must happen at all
/// (`noop_with_empty_axes`).
FailureOr<SmallVector<int64_t>> readAxes(NodeContext &nc, int64_t rank) {
  SmallVector<int64_t> raw;
  bool given = false;
  if (nc.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> a = nc.constantInts(1, "axes");
    if (failed(a))
      return failure();
    raw = *a;
    given = true;
  } else if (nc.hasAttr("axes")) {
    raw = nc.attrInts("axes");
    given = true;
  }
  SmallVector<int64_t> axes;
  if (!given || raw.empty()) {
    if (nc.attrInt("noop_with_empty_axes", 0) != 0)
      return axes;
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
    return axes;
  }
  for (int64_t a : raw) {
    if (a < -rank || a >= rank) {
      nc.error() << "axis " << a << " is out of range for rank " << rank;
      return failure();
    }
    int64_t n = a < 0 ? a + rank : a;
    if (llvm::is_contained(axes, n)) {
      nc.error() << "axis " << a << " is repeated";
      return failure();
    }
    axes.push_back(n);
  }
  llvm::sort(axes);
  return axes;
}

/// One linalg.generic reducing `x` over `axes` (the result drops them).
/// `side` values have the kept shape (reduced dims of size 1) and are read
/// broadcast along the reduced dims. The body gets (x, side..., acc).
Value reduceGeneric(NodeContext &nc, Value x, ValueRange side,
                    ArrayRef<int64_t> axes, Value init,
                    const NodeContext::ScalarBody &body) {
  OpBuilder &b = nc.b;
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> outExprs, sideExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = llvm::is_contained(axes, i);
    iters.push_back(reduced ? utils::IteratorType::reduction
                            : utils::IteratorType::parallel);
    sideExprs.push_back(reduced ? b.getAffineConstantExpr(0)
                                : b.getAffineDimExpr(i));
    if (!reduced) {
      outShape.push_back(type.getDimSize(i));
      outExprs.push_back(b.getAffineDimExpr(i));
    }
  }
  Value acc = nc.filled(outShape, init);
  SmallVector<Value> ins = {x};
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  for (Value s : side) {
    ins.push_back(s);
    maps.push_back(AffineMap::get(rank, 0, sideExprs, nc.ctx()));
  }
  maps.push_back(AffineMap::get(rank, 0, outExprs, nc.ctx()));
  return linalg::GenericOp::create(
             b, nc.loc, acc.getType(), ins, ValueRange{acc}, maps, iters,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, body(nb, nl, args));
             })
      .getResult(0);
}

Value fconst(OpBuilder &b, Location l, Type t, double v) {
  return arith::ConstantOp::create(b, l, b.getFloatAttr(t, v));
}

LogicalResult importReduce(NodeContext &nc, ReduceKind kind) {
  using K = ReduceKind;
  DType d = nc.inputDType(0);
  Value x = nc.input(0);
  if (!x) {
    nc.error() << "expects an input tensor";
    return failure();
  }
  bool minMax = kind == K::Max || kind == K::Min;
  if (!isFloat(d) && !isInteger(d) && !(minMax && isBool(d))) {
    nc.error() << "element type " << dtypeName(d) << " is not supported";
    return failure();
  }
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  FailureOr<SmallVector<int64_t>> axesOr = readAxes(nc, rank);
  if (failed(axesOr))
    return failure();
  SmallVector<int64_t> axes = *axesOr;
  bool keepDims = nc.attrInt("keepdims", 1) != 0;

  // The accumulation type: f32 for half floats, f64 for the integer
  // variants that need a transcendental, else the input type.
  DType acc = d;
  if ((d == TP::FLOAT16 || d == TP::BFLOAT16) && !minMax)
    acc = TP::FLOAT;
  if (isInteger(d) &&
      (kind == K::L2 || kind == K::LogSum || kind == K::LogSumExp))
    acc = TP::DOUBLE;
  Type accElt = toMLIRType(nc.ctx(), acc);
  bool fp = isFloat(acc);
  bool uns = isUnsigned(d) || isBool(d);

  SmallVector<int64_t> keptShape, outShape;
  int64_t count = 1;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = llvm::is_contained(axes, i);
    keptShape.push_back(reduced ? 1 : type.getDimSize(i));
    if (reduced)
      count *= type.getDimSize(i);
    else
      outShape.push_back(type.getDimSize(i));
  }

  // log-sum-exp subtracts the max first (a non-finite max is replaced by 0,
  // which keeps all -inf / +inf rows and empty sets exact).
  SmallVector<Value> side;
  if (kind == K::LogSumExp) {
    Value xa = nc.castTo(x, d, acc);
    Value m = reduceGeneric(
        nc, xa, {}, axes, extremeValue(nc.b, nc.loc, accElt, acc, false),
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return arith::MaximumFOp::create(b, l, a[0], a[1]);
        });
    m = nc.elementwiseTo(
        m, outShape, accElt, [](OpBuilder &b, Location l, ValueRange a) {
          Value inf = fconst(b, l, a[0].getType(),
                             std::numeric_limits<double>::infinity());
          Value isInf = arith::CmpFOp::create(
              b, l, arith::CmpFPredicate::OEQ, math::AbsFOp::create(b, l, a[0]),
              inf);
          return arith::SelectOp::create(
              b, l, isInf, fconst(b, l, a[0].getType(), 0.0), a[0]).getResult();
        });
    side.push_back(nc.reshape(m, keptShape));
  }

  Value init;
  switch (kind) {
  case K::Max:
    init = isBool(d) ? nc.scalar(accElt, 0)
                     : extremeValue(nc.b, nc.loc, accElt, d, false);
    break;
  case K::Min:
    init = isBool(d) ? nc.scalar(accElt, 1)
                     : extremeValue(nc.b, nc.loc, accElt, d, true);
    break;
  case K::Prod:
    init = nc.scalar(accElt, 1);
    break;
  default:
    init = nc.scalar(accElt, 0);
    break;
  }

  Value r = reduceGeneric(
      nc, x, side, axes, init,
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value v = nc.convertScalar(b, l, a[0], d, acc);
        Value s = a.back();
        switch (kind) {
        case K::L1:
          v = fp ? (Value)math::AbsFOp::create(b, l, v)
                 : (uns ? v : (Value)math::AbsIOp::create(b, l, v));
          break;
        case K::L2:
        case K::SumSquare:
          v = fp ? (Value)arith::MulFOp::create(b, l, v, v)
                 : (Value)arith::MulIOp::create(b, l, v, v);
          break;
        case K::LogSumExp:
          v = math::ExpOp::create(b, l, arith::SubFOp::create(b, l, v, a[1]));
          break;
        default:
          break;
        }
        switch (kind) {
        case K::Max:
          if (isBool(d))
            return arith::OrIOp::create(b, l, s, v);
          if (fp)
            return arith::MaximumFOp::create(b, l, s, v);
          return uns ? (Value)arith::MaxUIOp::create(b, l, s, v)
                     : (Value)arith::MaxSIOp::create(b, l, s, v);
        case K::Min:
          if (isBool(d))
            return arith::AndIOp::create(b, l, s, v);
          if (fp)
            return arith::MinimumFOp::create(b, l, s, v);
          return uns ? (Value)arith::MinUIOp::create(b, l, s, v)
                     : (Value)arith::MinSIOp::create(b, l, s, v);
        case K::Prod:
          return fp ? (Value)arith::MulFOp::create(b, l, s, v)
                    : (Value)arith::MulIOp::create(b, l, s, v);
        default:
          return fp ? (Value)arith::AddFOp::create(b, l, s, v)
                    : (Value)arith::AddIOp::create(b, l, s, v);
        }
      });

  // Epilogue (and the conversion back to the input type).
  SmallVector<Value> epiIns = {r};
  if (kind == K::LogSumExp)
    epiIns.push_back(nc.reshape(side[0], outShape));
  bool needEpilogue = acc != d || kind == K::Mean || kind == K::L2 ||
                      kind == K::LogSum || kind == K::LogSumExp;
  if (needEpilogue) {
    r = nc.elementwiseTo(
        epiIns, outShape, toMLIRType(nc.ctx(), d),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value v = a[0];
          switch (kind) {
          case K::Mean:
            if (fp)
              v = arith::DivFOp::create(b, l, v,
                                        fconst(b, l, accElt, double(count)));
            else if (count > 0)
              v = uns ? (Value)arith::DivUIOp::create(
                            b, l, v, nc.scalar(accElt, double(count)))
                      : (Value)arith::DivSIOp::create(
                            b, l, v, nc.scalar(accElt, double(count)));
            break;
          case K::L2:
            v = math::SqrtOp::create(b, l, v);
            break;
          case K::LogSum:
            v = math::LogOp::create(b, l, v);
            break;
          case K::LogSumExp:
            v = arith::AddFOp::create(b, l, math::LogOp::create(b, l, v),
                                      a[1]);
            break;
          default:
            break;
          }
          return nc.convertScalar(b, l, v, acc, d);
        });
  }
  if (keepDims)
    r = nc.reshape(r, keptShape);
  nc.setOutput(0, r, d);
  return success();
}

/// The index (i64) of the largest (isMax) or smallest element of `x` (of
/// ONNX type d) along `axis`, the first of equals unless `last`; NaN counts
/// as the extreme value. The result drops the axis.
Value argExtreme(NodeContext &nc, Value x, DType d, int64_t axis, bool isMax,
                 bool last) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  Type elt = type.getElementType();
  Type i64 = nc.b.getI64Type();
  bool fp = isFloat(d), uns = isUnsigned(d);

  OpBuilder &b = nc.b;
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t i = 0; i < rank; ++i) {
    iters.push_back(i == axis ? utils::IteratorType::reduction
                              : utils::IteratorType::parallel);
    if (i != axis) {
      outShape.push_back(type.getDimSize(i));
      outExprs.push_back(b.getAffineDimExpr(i));
    }
  }
  Value valInit =
      nc.filled(outShape, extremeValue(b, nc.loc, elt, d, /*max=*/!isMax));
  Value idxInit = nc.filled(outShape, nc.scalar(i64, 0));
  AffineMap outMap = AffineMap::get(rank, 0, outExprs, nc.ctx());
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank), outMap,
                                 outMap};
  auto generic = linalg::GenericOp::create(
      b, nc.loc, TypeRange{valInit.getType(), idxInit.getType()},
      ValueRange{x}, ValueRange{valInit, idxInit}, maps, iters,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value v = a[0], best = a[1], bestIdx = a[2];
        Value idx = arith::IndexCastOp::create(
            nb, l, i64, linalg::IndexOp::create(nb, l, axis));
        Value take;
        if (fp) {
          // NaN counts as the extreme value (numpy semantics): the first
          // NaN wins, or the last one with select_last_index.
          auto strict = isMax ? arith::CmpFPredicate::OGT
                              : arith::CmpFPredicate::OLT;
          auto loose = isMax ? arith::CmpFPredicate::OGE
                             : arith::CmpFPredicate::OLE;
          Value vNaN = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::UNO,
                                             v, v);
          Value bNaN = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::UNO,
                                             best, best);
          Value bOrd = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::ORD,
                                             best, best);
          if (last) {
            Value ge = arith::CmpFOp::create(nb, l, loose, v, best);
            take = arith::OrIOp::create(
                nb, l, vNaN, arith::AndIOp::create(nb, l, bOrd, ge));
          } else {
            Value gt = arith::CmpFOp::create(nb, l, strict, v, best);
            Value firstNaN = arith::AndIOp::create(
                nb, l, vNaN,
                arith::XOrIOp::create(
                    nb, l, bNaN,
                    arith::ConstantOp::create(nb, l, nb.getBoolAttr(true))));
            take = arith::OrIOp::create(nb, l, gt, firstNaN);
          }
        } else {
          arith::CmpIPredicate p;
          if (isMax)
            p = last ? (uns ? arith::CmpIPredicate::uge
                            : arith::CmpIPredicate::sge)
                     : (uns ? arith::CmpIPredicate::ugt
                            : arith::CmpIPredicate::sgt);
          else
            p = last ? (uns ? arith::CmpIPredicate::ule
                            : arith::CmpIPredicate::sle)
                     : (uns ? arith::CmpIPredicate::ult
                            : arith::CmpIPredicate::slt);
          take = arith::CmpIOp::create(nb, l, p, v, best);
        }
        // The first element always replaces the initial value, which is
        // not an element of the input.
        Value isFirst = arith::CmpIOp::create(
            nb, l, arith::CmpIPredicate::eq, idx,
            arith::ConstantOp::create(nb, l, nb.getI64IntegerAttr(0)));
        take = arith::OrIOp::create(nb, l, take, isFirst);
        Value nv = arith::SelectOp::create(nb, l, take, v, best);
        Value ni = arith::SelectOp::create(nb, l, take, idx, bestIdx);
        linalg::YieldOp::create(nb, l, ValueRange{nv, ni});
      });
  return generic.getResult(1);
}

/// ArgMax / ArgMin: a reduction carrying (best value, its index).
LogicalResult importArg(NodeContext &nc, bool isMax) {
  DType d = nc.inputDType(0);
  Value x = nc.input(0);
  if (!x) {
    nc.error() << "expects an input tensor";
    return failure();
  }
  if (!isFloat(d) && !isInteger(d)) {
    nc.error() << "element type " << dtypeName(d) << " is not supported";
    return failure();
  }
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  if (rank == 0) {
    nc.error() << "expects an input of rank >= 1, found a scalar";
    return failure();
  }
  FailureOr<int64_t> axisOr = nc.normalizeAxis(nc.attrInt("axis", 0), rank);
  if (failed(axisOr))
    return failure();
  int64_t axis = *axisOr;
  if (type.getDimSize(axis) == 0) {
    nc.error() << "cannot reduce over the empty axis " << axis;
    return failure();
  }
  bool keepDims = nc.attrInt("keepdims", 1) != 0;
  bool last = nc.attrInt("select_last_index", 0) != 0;
  Value out = argExtreme(nc, x, d, axis, isMax, last);
  SmallVector<int64_t> keptShape(type.getShape());
  keptShape[axis] = 1;
  if (keepDims)
    out = nc.reshape(out, keptShape);
  nc.setOutput(0, out, TP::INT64);
  return success();
}

/// TopK: the k largest (smallest) elements along the axis and their
/// indices, the earlier of equal elements first. Each element's rank is
/// counted (the elements before it in that order: O(n^2) per slice, fine
/// for the short axes TopK meets in inference graphs), then output position
/// j takes the element of rank j.
LogicalResult importTopK(NodeContext &nc) {
  Value x = nc.input(0);
  DType d = nc.inputDType(0);
  if (!x || (!isFloat(d) && !isInteger(d))) {
    nc.error() << "expects a float or integer input tensor";
    return failure();
  }
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  FailureOr<SmallVector<int64_t>> kv = nc.constantInts(1, "K (input 1)");
  if (failed(kv))
    return failure();
  if (rank == 0) {
    nc.error() << "expects an input of rank >= 1, found a scalar";
    return failure();
  }
  FailureOr<int64_t> axisOr = nc.normalizeAxis(nc.attrInt("axis", -1), rank);
  if (failed(axisOr))
    return failure();
  int64_t axis = *axisOr;
  if (kv->size() != 1 || (*kv)[0] < 0 || (*kv)[0] > type.getDimSize(axis)) {
    nc.error() << "K must be one value in [0, " << type.getDimSize(axis)
               << "]";
    return failure();
  }
  int64_t k = (*kv)[0];
  bool largest = nc.attrInt("largest", 1) != 0;
  bool fp = isFloat(d), uns = isUnsigned(d);
  OpBuilder &b = nc.b;
  MLIRContext *ctx = nc.ctx();
  Type i64 = b.getI64Type();
  // Domain (dims..., t): t runs over the axis.
  SmallVector<AffineExpr> self, other;
  for (int64_t i = 0; i < rank; ++i) {
    self.push_back(b.getAffineDimExpr(i));
    other.push_back(b.getAffineDimExpr(i == axis ? rank : i));
  }
  AffineMap selfMap = AffineMap::get(rank + 1, 0, self, ctx);
  AffineMap otherMap = AffineMap::get(rank + 1, 0, other, ctx);
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  auto before = [&](OpBuilder &nb, Location l, Value a, Value c) -> Value {
    if (fp)
      return arith::CmpFOp::create(nb, l,
                                   largest ? arith::CmpFPredicate::OGT
                                           : arith::CmpFPredicate::OLT,
                                   a, c);
    auto pred = largest ? (uns ? arith::CmpIPredicate::ugt
                               : arith::CmpIPredicate::sgt)
                        : (uns ? arith::CmpIPredicate::ult
                               : arith::CmpIPredicate::slt);
    return arith::CmpIOp::create(nb, l, pred, a, c);
  };
  Value ranks =
      linalg::GenericOp::create(
          b, nc.loc, RankedTensorType::get(type.getShape(), i64),
          ValueRange{x, x},
          ValueRange{nc.filled(type.getShape(), nc.scalar(i64, 0))},
          {selfMap, otherMap, selfMap}, iters,
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value i = linalg::IndexOp::create(nb, l, axis);
            Value t = linalg::IndexOp::create(nb, l, rank);
            Value equal =
                fp ? (Value)arith::CmpFOp::create(
                         nb, l, arith::CmpFPredicate::OEQ, a[1], a[0])
                   : (Value)arith::CmpIOp::create(
                         nb, l, arith::CmpIPredicate::eq, a[1], a[0]);
            Value earlier = arith::AndIOp::create(
                nb, l, equal,
                arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, t, i));
            Value counts = arith::OrIOp::create(
                nb, l, before(nb, l, a[1], a[0]), earlier);
            Value one = arith::ExtUIOp::create(nb, l, i64, counts);
            linalg::YieldOp::create(
                nb, l, Value(arith::AddIOp::create(nb, l, a[2], one)));
          })
          .getResult(0);
  // Domain (out dims..., t): position j takes the element of rank j.
  SmallVector<int64_t> outShape(type.getShape());
  outShape[axis] = k;
  Value vals = nc.empty(outShape, type.getElementType());
  Value idxs = nc.filled(outShape, nc.scalar(i64, 0));
  auto pick = linalg::GenericOp::create(
      b, nc.loc, TypeRange{vals.getType(), idxs.getType()}, ValueRange{x, ranks},
      ValueRange{vals, idxs}, {otherMap, otherMap, selfMap, selfMap}, iters,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value j = arith::IndexCastOp::create(
            nb, l, i64, linalg::IndexOp::create(nb, l, axis));
        Value t = arith::IndexCastOp::create(
            nb, l, i64, linalg::IndexOp::create(nb, l, rank));
        Value hit =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, a[1], j);
        linalg::YieldOp::create(
            nb, l,
            ValueRange{arith::SelectOp::create(nb, l, hit, a[0], a[2]),
                       arith::SelectOp::create(nb, l, hit, t, a[3])});
      });
  nc.setOutput(0, pick.getResult(0), d);
  if (nc.hasOutput(1))
    nc.setOutput(1, pick.getResult(1), TP::INT64);
  return success();
}

/// Hardmax: 1 at the first largest element along the axis, 0 elsewhere.
/// Before opset 13 the input is viewed as 2-D [a0..a(k-1), ak..] and the
/// axis is the whole tail.
LogicalResult importHardmax(NodeContext &nc) {
  Value x = floatInput(nc, 0);
  if (!x)
    return failure();
  DType d = nc.inputDType(0);
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  bool coerce = nc.opset() < 13;
  if (rank == 0) {
    nc.error() << "expects an input of rank >= 1, found a scalar";
    return failure();
  }
  FailureOr<int64_t> axisOr =
      nc.normalizeAxis(nc.attrInt("axis", coerce ? 1 : -1), rank);
  if (failed(axisOr))
    return failure();
  int64_t axis = *axisOr;
  SmallVector<int64_t> shape(type.getShape());
  if (coerce) {
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < rank; ++i)
      (i < axis ? outer : inner) *= shape[i];
    x = nc.reshape(x, {outer, inner});
    axis = 1;
  }
  auto viewed = cast<RankedTensorType>(x.getType());
  if (viewed.getDimSize(axis) == 0) {
    nc.setOutput(0, nc.input(0), d);
    return success();
  }
  Value best = argExtreme(nc, x, d, axis, /*isMax=*/true, /*last=*/false);
  Type elt = viewed.getElementType();
  Value out = emitGeneric(
      nc, viewed.getShape(), elt, {}, {},
      [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> ivs) {
        SmallVector<Value> at;
        for (int64_t i = 0; i < viewed.getRank(); ++i)
          if (i != axis)
            at.push_back(ivs[i]);
        Value idx = tensor::ExtractOp::create(b, l, best, at);
        Value here = arith::IndexCastOp::create(b, l, b.getI64Type(),
                                                ivs[axis]);
        Value hit =
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, here, idx);
        return arith::SelectOp::create(
            b, l, hit, arith::ConstantOp::create(b, l, b.getOneAttr(elt)),
            arith::ConstantOp::create(b, l, b.getZeroAttr(elt)));
      });
  nc.setOutput(0, coerce ? nc.reshape(out, shape) : out, d);
  return success();
}

} // namespace

void qc::detail::registerReductionOps(OpRegistry &r) {
  auto add = [&](StringRef name, ReduceKind kind) {
    r.add(name, [kind](NodeContext &nc) { return importReduce(nc, kind); });
  };
  add("ReduceSum", ReduceKind::Sum);
  add("ReduceMean", ReduceKind::Mean);
  add("ReduceMax", ReduceKind::Max);
  add("ReduceMin", ReduceKind::Min);
  add("ReduceProd", ReduceKind::Prod);
  add("ReduceL1", ReduceKind::L1);
  add("ReduceL2", ReduceKind::L2);
  add("ReduceLogSum", ReduceKind::LogSum);
  add("ReduceLogSumExp", ReduceKind::LogSumExp);
  add("ReduceSumSquare", ReduceKind::SumSquare);
  r.add("ArgMax", [](NodeContext &nc) { return importArg(nc, true); });
  r.add("ArgMin", [](NodeContext &nc) { return importArg(nc, false); });
  r.add("Hardmax", importHardmax);
  r.add("TopK", importTopK);
}
