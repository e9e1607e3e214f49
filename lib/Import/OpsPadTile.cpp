//===- OpsPadTile.cpp - ONNX Expand, Tile, Pad, Trilu, CumSum -------------===//
//
// Shapes, axes and bounds are static (ShapeUtils.h); known data folds on the
// host (OpsShape.cpp explains when).
//
//===----------------------------------------------------------------------===//

#include "ShapeUtils.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

namespace {

//===----------------------------------------------------------------------===//
// Broadcasts, tiles, pads
//===----------------------------------------------------------------------===//

LogicalResult importExpand(NodeContext &nc) {
  if (failed(requireInputs(nc, 2)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  FailureOr<SmallVector<int64_t>> shape =
      nc.constantInts(1, "the target shape (input 1)");
  if (failed(shape) || failed(checkShape(nc, *shape, "target shape")))
    return failure();
  std::optional<SmallVector<int64_t>> out = hostBroadcastShape({in, *shape});
  if (!out) {
    nc.error() << "cannot broadcast an input of shape " << listStr(in)
               << " to " << listStr(*shape);
    return failure();
  }
  if (failed(checkShape(nc, *out, "result shape")))
    return failure();
  DType d = nc.inputDType(0);
  if (const HostTensor *c = nc.inputConstant(0);
      c && worthFolding(shapeProduct(*out), c->numElements())) {
    nc.setOutputConstant(0, hostRemap(*c, *out, [&](ArrayRef<int64_t> idx) {
                           return broadcastFlatIndex(in, idx);
                         }));
    return success();
  }
  Value v = nc.elementwiseTo(nc.input(0), *out, toMLIRType(nc.ctx(), d),
                             [](OpBuilder &, Location, ValueRange a) {
                               return a[0];
                             });
  nc.setOutput(0, v, d);
  return success();
}

LogicalResult importTile(NodeContext &nc) {
  if (failed(requireInputs(nc, 2)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  FailureOr<SmallVector<int64_t>> reps =
      nc.constantInts(1, "'repeats' (input 1)");
  if (failed(reps))
    return failure();
  int64_t rank = in.size();
  if (static_cast<int64_t>(reps->size()) != rank) {
    nc.error() << "repeats " << listStr(*reps) << " must have one entry per "
               << "input dim (" << rank << ")";
    return failure();
  }
  SmallVector<int64_t> outShape, wide;
  for (int64_t i = 0; i < rank; ++i) {
    if ((*reps)[i] < 0) {
      nc.error() << "repeats " << listStr(*reps) << " has a negative entry";
      return failure();
    }
    outShape.push_back(in[i] * (*reps)[i]);
    wide.push_back((*reps)[i]);
    wide.push_back(in[i]);
  }
  if (failed(checkShape(nc, wide, "tiled shape")))
    return failure();
  DType d = nc.inputDType(0);
  if (const HostTensor *c = nc.inputConstant(0);
      c && worthFolding(shapeProduct(outShape), c->numElements())) {
    SmallVector<int64_t> strides = rowMajorStrides(in);
    nc.setOutputConstant(0, hostRemap(*c, outShape, [&](ArrayRef<int64_t> idx) {
                           int64_t flat = 0;
                           for (int64_t i = 0; i < rank; ++i)
                             flat += (idx[i] % in[i]) * strides[i];
                           return flat;
                         }));
    return success();
  }
  // Broadcast to (r0, d0, r1, d1, ...), then merge each pair.
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    exprs.push_back(nc.b.getAffineDimExpr(2 * i + 1));
  AffineMap map = AffineMap::get(2 * rank, 0, exprs, nc.ctx());
  Value v = emitGeneric(nc, wide, toMLIRType(nc.ctx(), d), nc.input(0), map,
                        [](OpBuilder &, Location, ValueRange args,
                           ArrayRef<Value>) { return args[0]; });
  nc.setOutput(0, nc.reshape(v, outShape), d);
  return success();
}

enum class PadMode { Constant, Reflect, Edge, Wrap };

/// The source index along an axis of size n for padded position i (already
/// shifted by the leading pad), or -1 for the constant value.
int64_t padSource(PadMode mode, int64_t i, int64_t n) {
  if (i >= 0 && i < n)
    return i;
  switch (mode) {
  case PadMode::Constant:
    return -1;
  case PadMode::Edge:
    return std::clamp<int64_t>(i, 0, n - 1);
  case PadMode::Wrap:
    return ((i % n) + n) % n;
  case PadMode::Reflect: {
    if (n == 1)
      return 0;
    int64_t p = 2 * (n - 1), m = ((i % p) + p) % p;
    return m < n ? m : p - m;
  }
  }
  return -1;
}

LogicalResult importPad(NodeContext &nc) {
  if (failed(requireInputs(nc, nc.opset() < 11 ? 1 : 2)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  int64_t rank = in.size();
  DType d = nc.inputDType(0);
  Type elt = toMLIRType(nc.ctx(), d);
  std::string modeName = nc.attrString("mode", "constant");
  PadMode mode;
  if (modeName == "constant")
    mode = PadMode::Constant;
  else if (modeName == "reflect")
    mode = PadMode::Reflect;
  else if (modeName == "edge")
    mode = PadMode::Edge;
  else if (modeName == "wrap")
    mode = PadMode::Wrap;
  else {
    nc.error() << "mode '" << modeName << "' is not supported (expected "
               << "constant, reflect, edge or wrap)";
    return failure();
  }
  SmallVector<int64_t> pads, axes;
  // The constant value: a host scalar, a run-time scalar, or zero.
  std::optional<HostTensor> hostValue;
  Value runtimeValue;
  if (nc.opset() < 11) {
    pads = nc.hasAttr("pads") ? nc.attrInts("pads") : nc.attrInts("paddings");
    hostValue = HostTensor::fromDoubles({nc.attrFloat("value", 0.0f)}, {}, d);
  } else {
    auto p = nc.constantInts(1, "'pads' (input 1)");
    if (failed(p))
      return failure();
    pads = *p;
    if (nc.hasInput(2)) {
      if (nc.inputDType(2) != d) {
        nc.error() << "constant_value has element type "
                   << dtypeName(nc.inputDType(2)) << " but data has "
                   << dtypeName(d);
        return failure();
      }
      if (shapeProduct(inputShape(nc, 2)) != 1) {
        nc.error() << "constant_value must be a scalar";
        return failure();
      }
      if (const HostTensor *c = nc.inputConstant(2))
        hostValue = hostReshape(*c, {});
    } else {
      hostValue = HostTensor::fromDoubles({0.0}, {}, d);
    }
    if (nc.hasInput(3)) {
      auto a = nc.constantInts(3, "'axes' (input 3)");
      if (failed(a))
        return failure();
      axes = *a;
    }
  }
  if (!nc.hasInput(3))
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  FailureOr<SmallVector<int64_t>> naxes = normalizeAxes(nc, axes, rank);
  if (failed(naxes))
    return failure();
  int64_t na = naxes->size();
  if (static_cast<int64_t>(pads.size()) != 2 * na) {
    nc.error() << "pads " << listStr(pads) << " must have " << 2 * na
               << " entries (begin and end for " << na << " axes)";
    return failure();
  }
  SmallVector<int64_t> lo(rank, 0), hi(rank, 0), outShape(in);
  for (int64_t i = 0; i < na; ++i) {
    int64_t a = (*naxes)[i];
    lo[a] = pads[i];
    hi[a] = pads[na + i];
    outShape[a] = in[a] + lo[a] + hi[a];
    if (outShape[a] < 0) {
      nc.error() << "pads " << listStr(pads) << " remove more than the "
                 << in[a] << " elements of axis " << a;
      return failure();
    }
    if (mode != PadMode::Constant && in[a] == 0 && outShape[a] > 0) {
      nc.error() << "cannot pad the empty axis " << a << " in mode '"
                 << modeName << "'";
      return failure();
    }
  }
  if (failed(checkShape(nc, outShape, "result shape")))
    return failure();

  const HostTensor *c = nc.inputConstant(0);
  if (c && hostValue &&
      worthFolding(shapeProduct(outShape), c->numElements())) {
    SmallVector<int64_t> strides = rowMajorStrides(in);
    nc.setOutputConstant(
        0, hostRemap(
               *c, outShape,
               [&](ArrayRef<int64_t> idx) {
                 int64_t flat = 0;
                 for (int64_t i = 0; i < rank; ++i) {
                   int64_t s = padSource(mode, idx[i] - lo[i], in[i]);
                   if (s < 0)
                     return int64_t(-1);
                   flat += s * strides[i];
                 }
                 return flat;
               },
               &*hostValue));
    return success();
  }

  Value x = nc.input(0);
  if (mode == PadMode::Constant) {
    // Crop the negative pads, then insert into a filled tensor.
    SmallVector<int64_t> cropOff(rank), cropSize(rank), ones(rank, 1),
        insertOff(rank);
    bool crop = false, grow = false;
    for (int64_t i = 0; i < rank; ++i) {
      cropOff[i] = std::max<int64_t>(-lo[i], 0);
      cropSize[i] = in[i] - cropOff[i] - std::max<int64_t>(-hi[i], 0);
      insertOff[i] = std::max<int64_t>(lo[i], 0);
      crop |= lo[i] < 0 || hi[i] < 0;
      grow |= lo[i] > 0 || hi[i] > 0;
    }
    if (crop)
      x = tensor::ExtractSliceOp::create(nc.b, nc.loc, x,
                                         indexAttrs(nc.b, cropOff),
                                         indexAttrs(nc.b, cropSize),
                                         indexAttrs(nc.b, ones));
    if (grow) {
      Value v = hostValue ? hostScalar(nc, *hostValue, 0, elt)
                          : extractAt(nc, nc.input(2), 0);
      Value filled = nc.filled(outShape, v);
      x = shapeProduct(cropSize) == 0
              ? filled
              : tensor::InsertSliceOp::create(
                    nc.b, nc.loc, x, filled, indexAttrs(nc.b, insertOff),
                    indexAttrs(nc.b, cropSize), indexAttrs(nc.b, ones))
                    .getResult();
    }
    nc.setOutput(0, x, d);
    return success();
  }
  // Other modes: read the input at the reflected / clamped / wrapped index.
  Value out = emitGeneric(
      nc, outShape, elt, ValueRange{}, {},
      [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> ivs) {
        SmallVector<Value> coords;
        for (int64_t i = 0; i < rank; ++i) {
          if (lo[i] == 0 && hi[i] <= 0) {
            coords.push_back(ivs[i]);
            continue;
          }
          int64_t n = in[i];
          Value v = arith::SubIOp::create(b, l, ivs[i], cidx(b, l, lo[i]));
          Value zero = cidx(b, l, 0);
          auto posMod = [&](Value a, int64_t m) -> Value {
            Value r = arith::RemSIOp::create(b, l, a, cidx(b, l, m));
            Value neg =
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, r, zero);
            return arith::SelectOp::create(
                b, l, neg, arith::AddIOp::create(b, l, r, cidx(b, l, m)), r);
          };
          if (mode == PadMode::Edge) {
            v = arith::MaxSIOp::create(b, l, v, zero);
            v = arith::MinSIOp::create(b, l, v, cidx(b, l, n - 1));
          } else if (mode == PadMode::Wrap) {
            v = posMod(v, n);
          } else if (n == 1) {
            v = zero;
          } else {
            int64_t p = 2 * (n - 1);
            Value m = posMod(v, p);
            Value inRange = arith::CmpIOp::create(
                b, l, arith::CmpIPredicate::slt, m, cidx(b, l, n));
            v = arith::SelectOp::create(
                b, l, inRange, m,
                arith::SubIOp::create(b, l, cidx(b, l, p), m));
          }
          coords.push_back(v);
        }
        return tensor::ExtractOp::create(b, l, x, coords);
      });
  nc.setOutput(0, out, d);
  return success();
}

//===----------------------------------------------------------------------===//
// Trilu, CumSum
//===----------------------------------------------------------------------===//

LogicalResult importTrilu(NodeContext &nc) {
  if (failed(requireInputs(nc, 1)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  int64_t rank = in.size();
  if (rank < 2) {
    nc.error() << "expects an input of rank >= 2, found rank " << rank;
    return failure();
  }
  bool upper = nc.attrInt("upper", 1) != 0;
  DType d = nc.inputDType(0);
  Type elt = toMLIRType(nc.ctx(), d);
  Value k;
  if (nc.hasInput(1)) {
    if (!isInteger(nc.inputDType(1)) || shapeProduct(inputShape(nc, 1)) != 1) {
      nc.error() << "k (input 1) must be an integer scalar";
      return failure();
    }
    if (const HostTensor *ck = nc.inputConstant(1)) {
      // Clamp so that the index arithmetic cannot overflow.
      int64_t kv = std::clamp<int64_t>(ck->getInt(0), -(int64_t(1) << 40),
                                       int64_t(1) << 40);
      k = cidx(nc.b, nc.loc, kv);
    } else {
      k = toIndex(nc.b, nc.loc, extractAt(nc, nc.input(1), 0),
                  nc.inputDType(1));
    }
  } else {
    k = cidx(nc.b, nc.loc, 0);
  }
  Value zero =
      arith::ConstantOp::create(nc.b, nc.loc, nc.b.getZeroAttr(elt));
  Value out = emitGeneric(
      nc, in, elt, nc.input(0), nc.b.getMultiDimIdentityMap(rank),
      [&](OpBuilder &b, Location l, ValueRange args, ArrayRef<Value> ivs) {
        Value diff = arith::SubIOp::create(b, l, ivs[rank - 1], ivs[rank - 2]);
        Value keep = arith::CmpIOp::create(
            b, l, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
            diff, k);
        return arith::SelectOp::create(b, l, keep, args[0], zero);
      });
  nc.setOutput(0, out, d);
  return success();
}

/// CumSum / CumProd along a constant axis.
LogicalResult importCumulative(NodeContext &nc, bool product) {
  if (failed(requireInputs(nc, 2)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  int64_t rank = in.size();
  DType d = nc.inputDType(0);
  if (!isFloat(d) && !isInteger(d)) {
    nc.error() << "element type " << dtypeName(d) << " is not supported";
    return failure();
  }
  FailureOr<SmallVector<int64_t>> axisV = nc.constantInts(1, "axis (input 1)");
  if (failed(axisV))
    return failure();
  if (axisV->size() != 1 || rank == 0) {
    nc.error() << "expects a scalar axis and an input of rank >= 1";
    return failure();
  }
  FailureOr<int64_t> axis = nc.normalizeAxis((*axisV)[0], rank);
  if (failed(axis))
    return failure();
  bool exclusive = nc.attrInt("exclusive", 0) != 0;
  bool reverse = nc.attrInt("reverse", 0) != 0;
  // Domain (dims..., j): out[.., i, ..] sums (multiplies) x[.., j, ..] for
  // the j that precede i (follow it when reversed), i itself unless
  // exclusive.
  MLIRContext *ctx = nc.ctx();
  SmallVector<AffineExpr> inExprs, outExprs;
  for (int64_t i = 0; i < rank; ++i) {
    inExprs.push_back(getAffineDimExpr(i == *axis ? rank : i, ctx));
    outExprs.push_back(getAffineDimExpr(i, ctx));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(rank + 1, 0, inExprs, ctx),
                                 AffineMap::get(rank + 1, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  Type elt = toMLIRType(ctx, d);
  Value acc = nc.filled(in, nc.scalar(elt, product ? 1 : 0));
  arith::CmpIPredicate pred =
      reverse ? (exclusive ? arith::CmpIPredicate::sgt
                           : arith::CmpIPredicate::sge)
              : (exclusive ? arith::CmpIPredicate::slt
                           : arith::CmpIPredicate::sle);
  bool fp = isFloat(d);
  auto generic = linalg::GenericOp::create(
      nc.b, nc.loc, acc.getType(), ValueRange{nc.input(0)}, ValueRange{acc},
      maps, iters, [&](OpBuilder &b, Location l, ValueRange args) {
        Value i = linalg::IndexOp::create(b, l, *axis);
        Value j = linalg::IndexOp::create(b, l, rank);
        Value take = arith::CmpIOp::create(b, l, pred, j, i);
        Value next =
            product
                ? (fp ? (Value)arith::MulFOp::create(b, l, args[1], args[0])
                      : (Value)arith::MulIOp::create(b, l, args[1], args[0]))
                : (fp ? (Value)arith::AddFOp::create(b, l, args[1], args[0])
                      : (Value)arith::AddIOp::create(b, l, args[1], args[0]));
        linalg::YieldOp::create(
            b, l, Value(arith::SelectOp::create(b, l, take, next, args[1])));
      });
  nc.setOutput(0, generic.getResult(0), d);
  return success();
}

/// CenterCropPad: each listed axis cropped or zero-padded to its target
/// size around the center (the extra element of an odd difference at the
/// end).
LogicalResult importCenterCropPad(NodeContext &nc) {
  if (failed(requireInputs(nc, 2)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  int64_t rank = in.size();
  FailureOr<SmallVector<int64_t>> target =
      nc.constantInts(1, "shape (input 1)");
  if (failed(target))
    return failure();
  SmallVector<int64_t> axes = nc.attrInts("axes");
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  if (axes.size() != target->size()) {
    nc.error() << "shape has " << target->size() << " values for "
               << axes.size() << " axes";
    return failure();
  }
  SmallVector<int64_t> cropAt(rank, 0), cropped(in), lo(rank, 0), hi(rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    FailureOr<int64_t> axis = nc.normalizeAxis(axes[i], rank);
    if (failed(axis))
      return failure();
    int64_t want = (*target)[i], dim = in[*axis];
    if (want < 0) {
      nc.error() << "shape values must be >= 0, found " << want;
      return failure();
    }
    if (want < dim) {
      cropAt[*axis] = (dim - want) / 2;
      cropped[*axis] = want;
    } else {
      lo[*axis] = (want - dim) / 2;
      hi[*axis] = want - dim - lo[*axis];
    }
  }
  Value x = nc.input(0);
  Type elt = nc.inputType(0).getElementType();
  if (cropped != in)
    x = tensor::ExtractSliceOp::create(
        nc.b, nc.loc, RankedTensorType::get(cropped, elt), x,
        indexAttrs(nc.b, cropAt), indexAttrs(nc.b, cropped),
        indexAttrs(nc.b, SmallVector<int64_t>(rank, 1)));
  SmallVector<int64_t> out(cropped);
  for (int64_t i = 0; i < rank; ++i)
    out[i] += lo[i] + hi[i];
  if (out != cropped)
    x = tensor::PadOp::create(nc.b, nc.loc, RankedTensorType::get(out, elt), x,
                              indexAttrs(nc.b, lo), indexAttrs(nc.b, hi),
                              nc.scalar(elt, 0))
            .getResult();
  nc.setOutput(0, x, nc.inputDType(0));
  return success();
}

LogicalResult importNonZero(NodeContext &nc) {
  nc.error() << "NonZero has a data-dependent output shape, which is not "
                "supported (qc needs static shapes)";
  return failure();
}

} // namespace

void qc::detail::registerPadTileOps(OpRegistry &r) {
  r.add("Expand", importExpand);
  r.add("Tile", importTile);
  r.add("Pad", importPad);
  r.add("Trilu", importTrilu);
  r.add("CumSum",
        [](NodeContext &nc) { return importCumulative(nc, false); });
  r.add("CumProd",
        [](NodeContext &nc) { return importCumulative(nc, true); });
  r.add("NonZero", importNonZero);
  r.add("CenterCropPad", importCenterCropPad);
}
