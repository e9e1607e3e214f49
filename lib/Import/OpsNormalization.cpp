//===- OpsNormalization.cpp - ONNX softmax, norms, attention, RoPE --------===//
//
// Softmax / LogSoftmax, LayerNormalization, RMSNormalization,
// BatchNormalization (inference), InstanceNormalization, LpNormalization,
// MeanVarianceNormalization, Attention and RotaryEmbedding, built from
// keep-dims reductions and broadcasting elementwise linalg.generics. Half
// precision inputs are computed in f32 (the stash type) and cast back.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"
#include "ShapeUtils.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

namespace {

using Body = NodeContext::ScalarBody;

Value fconst(OpBuilder &b, Location l, Type t, double v) {
  return arith::ConstantOp::create(b, l, b.getFloatAttr(t, v));
}

double inf() { return std::numeric_limits<double>::infinity(); }

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

Type eltOf(Value v) { return cast<RankedTensorType>(v.getType()).getElementType(); }

/// The type computations run in: f32 for half floats, else `d` itself.
DType computeType(DType d) {
  return d == TP::FLOAT16 || d == TP::BFLOAT16 ? TP::FLOAT : d;
}

/// Sum or max of a float tensor over `axes`, keeping them as size-1 dims.
Value reduceKeep(NodeContext &nc, Value x, ArrayRef<int64_t> axes, bool max) {
  Type elt = eltOf(x);
  Value init = nc.scalar(elt, max ? -inf() : 0.0);
  return nc.reduce(x, axes, /*keepDims=*/true, init,
                   [max](OpBuilder &b, Location l, ValueRange a) -> Value {
                     if (max)
                       return arith::MaximumFOp::create(b, l, a[1], a[0]);
                     return arith::AddFOp::create(b, l, a[1], a[0]);
                   });
}

/// Mean over `axes`, keeping them.
Value meanKeep(NodeContext &nc, Value x, ArrayRef<int64_t> axes) {
  int64_t n = 1;
  for (int64_t a : axes)
    n *= shapeOf(x)[a];
  Value s = reduceKeep(nc, x, axes, false);
  Type elt = eltOf(x);
  return nc.elementwiseTo(s, shapeOf(s), elt,
                          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                            return arith::DivFOp::create(
                                b, l, a[0], fconst(b, l, elt, double(n)));
                          });
}

/// Numerically stable (log-)softmax of a float tensor over `axes`. With
/// `guardMasked`, rows that are entirely -inf give 0 instead of NaN.
Value softmax(NodeContext &nc, Value x, ArrayRef<int64_t> axes, bool log,
              bool guardMasked = false) {
  Type elt = eltOf(x);
  ArrayRef<int64_t> shape = shapeOf(x);
  Value m = reduceKeep(nc, x, axes, true);
  if (guardMasked)
    m = nc.elementwiseTo(m, shapeOf(m), elt,
                         [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                           Value isNegInf = arith::CmpFOp::create(
                               b, l, arith::CmpFPredicate::OEQ, a[0],
                               fconst(b, l, elt, -inf()));
                           return arith::SelectOp::create(
                               b, l, isNegInf, fconst(b, l, elt, 0.0), a[0]);
                         });
  Value e = nc.elementwiseTo(
      ValueRange{x, m}, shape, elt,
      [](OpBuilder &b, Location l, ValueRange a) -> Value {
        return math::ExpOp::create(b, l, arith::SubFOp::create(b, l, a[0], a[1]));
      });
  Value s = reduceKeep(nc, e, axes, false);
  if (guardMasked)
    s = nc.elementwiseTo(s, shapeOf(s), elt,
                         [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                           Value zero = arith::CmpFOp::create(
                               b, l, arith::CmpFPredicate::OEQ, a[0],
                               fconst(b, l, elt, 0.0));
                           return arith::SelectOp::create(
                               b, l, zero, fconst(b, l, elt, 1.0), a[0]);
                         });
  if (!log)
    return nc.elementwiseTo(ValueRange{e, s}, shape, elt,
                            [](OpBuilder &b, Location l, ValueRange a) -> Value {
                              return arith::DivFOp::create(b, l, a[0], a[1]);
                            });
  return nc.elementwiseTo(
      ValueRange{x, m, s}, shape, elt,
      [](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value d = arith::SubFOp::create(b, l, a[0], a[1]);
        return arith::SubFOp::create(b, l, d, math::LogOp::create(b, l, a[2]));
      });
}

/// Checks that input `i` is present and a float tensor.
LogicalResult requireFloat(NodeContext &nc, unsigned i, StringRef what) {
  if (!nc.hasInput(i) || !nc.input(i)) {
    nc.error() << "expects input " << i << " (" << what << ")";
    return failure();
  }
  if (!isFloat(nc.inputDType(i))) {
    nc.error() << what << " has element type " << dtypeName(nc.inputDType(i))
               << " but a float type is expected";
    return failure();
  }
  return success();
}

/// `t` viewed with `rank` dims, its own dims placed from `at` on and the
/// others of size 1 (the shape for broadcasting per-channel parameters).
Value alignTo(NodeContext &nc, Value t, int64_t at, int64_t rank) {
  ArrayRef<int64_t> s = shapeOf(t);
  SmallVector<int64_t> shape(rank, 1);
  for (size_t i = 0; i < s.size(); ++i)
    shape[at + i] = s[i];
  // Leading 1s are implicit in numpy broadcasting: drop them.
  return nc.reshape(t, ArrayRef<int64_t>(shape).drop_front(at));
}

/// Whether `t` broadcasts (numpy, unidirectionally) to `shape`.
bool broadcastsTo(ArrayRef<int64_t> t, ArrayRef<int64_t> shape) {
  if (t.size() > shape.size())
    return false;
  for (size_t i = 0; i < t.size(); ++i) {
    int64_t d = t[t.size() - 1 - i], o = shape[shape.size() - 1 - i];
    if (d != o && d != 1)
      return false;
  }
  return true;
}

LogicalResult checkBroadcast(NodeContext &nc, Value t, ArrayRef<int64_t> shape,
                             StringRef what) {
  if (broadcastsTo(shapeOf(t), shape))
    return success();
  auto diag = nc.error() << what << " of shape [";
  llvm::interleave(shapeOf(t), [&](int64_t x) { diag << x; },
                   [&] { diag << ","; });
  diag << "] does not broadcast to [";
  llvm::interleave(shape, [&](int64_t x) { diag << x; }, [&] { diag << ","; });
  diag << "]";
  return failure();
}

//===----------------------------------------------------------------------===//
// Softmax / LogSoftmax
//===----------------------------------------------------------------------===//

LogicalResult importSoftmax(NodeContext &nc, bool log) {
  if (failed(requireFloat(nc, 0, "input")))
    return failure();
  DType d = nc.inputDType(0), c = computeType(d);
  Value x = nc.input(0);
  SmallVector<int64_t> shape(shapeOf(x));
  int64_t rank = shape.size();
  bool legacy = nc.opset() < 13;
  FailureOr<int64_t> axis =
      nc.normalizeAxis(nc.attrInt("axis", legacy ? 1 : -1), rank);
  if (failed(axis))
    return failure();
  x = nc.castTo(x, d, c);
  Value y;
  if (legacy && rank > 0) {
    // Coerced to 2-D [prod(dims < axis), prod(dims >= axis)].
    int64_t rows = 1, cols = 1;
    for (int64_t i = 0; i < rank; ++i)
      (i < *axis ? rows : cols) *= shape[i];
    y = softmax(nc, nc.reshape(x, {rows, cols}), {1}, log);
    y = nc.reshape(y, shape);
  } else if (rank == 0) {
    y = nc.reshape(softmax(nc, nc.reshape(x, {1}), {0}, log), {});
  } else {
    y = softmax(nc, x, {*axis}, log);
  }
  nc.setOutput(0, nc.castTo(y, c, d), d);
  return success();
}

//===----------------------------------------------------------------------===//
// LayerNormalization / RMSNormalization
//===----------------------------------------------------------------------===//

/// The mean of a float tensor over some axes (kept as size-1 dims), the
/// tensor minus it, and the mean of that squared; without centering, the
/// tensor itself and the mean of its square (RMSNorm: mean null).
struct Moments {
  Value mean, centered, var;
};

/// The Moments of `x` over `axes`, centered or not.
Moments moments(NodeContext &nc, Value x, ArrayRef<int64_t> axes, bool center) {
  SmallVector<int64_t> shape(shapeOf(x));
  Type elt = eltOf(x);
  Moments m{Value(), x, Value()};
  if (center) {
    m.mean = meanKeep(nc, x, axes);
    m.centered =
        nc.elementwiseTo(ValueRange{x, m.mean}, shape, elt,
                         [](OpBuilder &b, Location l, ValueRange a) -> Value {
                           return arith::SubFOp::create(b, l, a[0], a[1]);
                         });
  }
  Value sq =
      nc.elementwiseTo(m.centered, shape, elt,
                       [](OpBuilder &b, Location l, ValueRange a) -> Value {
                         return arith::MulFOp::create(b, l, a[0], a[0]);
                       });
  m.var = meanKeep(nc, sq, axes);
  return m;
}

/// The stash type of a norm: `stash_type` (float by default), at least as
/// wide as the input.
FailureOr<DType> stashType(NodeContext &nc, DType d) {
  DType s = static_cast<DType>(nc.attrInt("stash_type", TP::FLOAT));
  if (!isFloat(s)) {
    nc.error() << "unsupported stash_type " << s
               << ": expected a float element type";
    return failure();
  }
  if (dtypeSize(s) < dtypeSize(d))
    return d;
  return computeType(s);
}

LogicalResult importLayerNorm(NodeContext &nc, bool rms) {
  if (failed(requireFloat(nc, 0, "X")) || failed(requireFloat(nc, 1, "Scale")))
    return failure();
  DType d = nc.inputDType(0);
  FailureOr<DType> st = stashType(nc, d);
  if (failed(st))
    return failure();
  DType u = *st;
  Type ue = toMLIRType(nc.ctx(), u), de = toMLIRType(nc.ctx(), d);
  Value x = nc.input(0);
  SmallVector<int64_t> shape(shapeOf(x));
  int64_t rank = shape.size();
  if (rank == 0) {
    nc.error() << "expects X of rank >= 1, found a scalar";
    return failure();
  }
  FailureOr<int64_t> axis = nc.normalizeAxis(nc.attrInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  double eps = nc.attrFloat("epsilon", 1e-5f);
  SmallVector<int64_t> axes;
  for (int64_t i = *axis; i < rank; ++i)
    axes.push_back(i);
  ArrayRef<int64_t> normShape = ArrayRef<int64_t>(shape).drop_front(*axis);
  Value scale = nc.input(1);
  if (failed(checkBroadcast(nc, scale, normShape, "Scale")))
    return failure();
  Value bias;
  if (!rms && nc.hasInput(2)) {
    if (failed(requireFloat(nc, 2, "B")))
      return failure();
    bias = nc.input(2);
    if (failed(checkBroadcast(nc, bias, normShape, "B")))
      return failure();
  }

  auto [mean, centered, var] =
      moments(nc, nc.castTo(x, d, u), axes, /*center=*/!rms);
  Value invStd = nc.elementwiseTo(
      var, shapeOf(var), ue,
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value v = arith::AddFOp::create(b, l, a[0], fconst(b, l, ue, eps));
        return arith::DivFOp::create(b, l, fconst(b, l, ue, 1.0),
                                     math::SqrtOp::create(b, l, v));
      });
  SmallVector<Value> ins = {centered, invStd, scale};
  if (bias)
    ins.push_back(bias);
  DType sd = nc.inputDType(1);
  DType bd = bias ? nc.inputDType(2) : d;
  Value y = nc.elementwiseTo(
      ins, shape, de, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value n = arith::MulFOp::create(b, l, a[0], a[1]);
        n = nc.convertScalar(b, l, n, u, d);
        n = arith::MulFOp::create(b, l, n, nc.convertScalar(b, l, a[2], sd, d));
        if (bias)
          n = arith::AddFOp::create(b, l, n,
                                    nc.convertScalar(b, l, a[3], bd, d));
        return n;
      });
  nc.setOutput(0, y, d);
  if (!rms) {
    nc.setOutput(1, mean, u);
    nc.setOutput(2, invStd, u);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// BatchNormalization / InstanceNormalization
//===----------------------------------------------------------------------===//

LogicalResult importBatchNorm(NodeContext &nc) {
  if (nc.attrInt("training_mode", 0) != 0) {
    nc.error() << "training_mode=1 is unsupported (only inference is)";
    return failure();
  }
  if (nc.opset() < 7 && nc.attrInt("is_test", 0) == 0) {
    nc.error() << "is_test=0 (training) is unsupported";
    return failure();
  }
  if (nc.opset() < 9 && nc.attrInt("spatial", 1) == 0) {
    nc.error() << "spatial=0 is unsupported";
    return failure();
  }
  for (unsigned i = 0; i < 5; ++i)
    if (failed(requireFloat(nc, i, i == 0 ? "X" : "a parameter")))
      return failure();
  for (unsigned i = 1; i < nc.numOutputs(); ++i)
    if (nc.hasOutput(i)) {
      nc.error() << "the training outputs (running mean / variance) are "
                    "unsupported";
      return failure();
    }
  DType d = nc.inputDType(0);
  Value x = nc.input(0);
  SmallVector<int64_t> shape(shapeOf(x));
  int64_t rank = shape.size();
  if (rank < 2) {
    nc.error() << "expects X of rank >= 2, found rank " << rank;
    return failure();
  }
  int64_t c = shape[1];
  SmallVector<Value> params;
  SmallVector<DType> pd;
  for (unsigned i = 1; i < 5; ++i) {
    Value p = nc.input(i);
    if (shapeOf(p) != ArrayRef<int64_t>{c}) {
      nc.error() << "parameter " << i << " must have shape [" << c << "]";
      return failure();
    }
    params.push_back(alignTo(nc, p, 1, rank));
    pd.push_back(nc.inputDType(i));
  }
  double eps = nc.attrFloat("epsilon", 1e-5f);
  DType cd = computeType(d);
  Type ce = toMLIRType(nc.ctx(), cd);
  SmallVector<Value> ins = {x};
  ins.append(params);
  Value y = nc.elementwiseTo(
      ins, shape, toMLIRType(nc.ctx(), d),
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value xv = nc.convertScalar(b, l, a[0], d, cd);
        Value s = nc.convertScalar(b, l, a[1], pd[0], cd);
        Value bb = nc.convertScalar(b, l, a[2], pd[1], cd);
        Value m = nc.convertScalar(b, l, a[3], pd[2], cd);
        Value v = nc.convertScalar(b, l, a[4], pd[3], cd);
        Value den = math::SqrtOp::create(
            b, l, arith::AddFOp::create(b, l, v, fconst(b, l, ce, eps)));
        Value n = arith::DivFOp::create(
            b, l, arith::SubFOp::create(b, l, xv, m), den);
        Value r = arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, n, s),
                                        bb);
        return nc.convertScalar(b, l, r, cd, d);
      });
  nc.setOutput(0, y, d);
  return success();
}

/// (x - mean) / sqrt(var + eps) over `axes` of the float tensor `x` (its
/// own element type): the core of instance and group normalization.
Value standardize(NodeContext &nc, Value x, ArrayRef<int64_t> axes,
                  double eps) {
  SmallVector<int64_t> shape(shapeOf(x));
  Type ce = eltOf(x);
  auto [mean, centered, var] = moments(nc, x, axes, /*center=*/true);
  return nc.elementwiseTo(
      ValueRange{centered, var}, shape, ce,
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value den = math::SqrtOp::create(
            b, l, arith::AddFOp::create(b, l, a[1], fconst(b, l, ce, eps)));
        return arith::DivFOp::create(b, l, a[0], den);
      });
}

/// y = n * scale + bias (n of dtype cd; scale and bias aligned to its dim
/// 1, of dtypes pd), as dtype d: computed in cd and converted, or with
/// `inOutputType` n converted to d first and the affine part computed in d
/// (GroupNormalization's definition).
Value scaleShift(NodeContext &nc, Value n, DType cd, Value scale, Value bias,
                 ArrayRef<DType> pd, DType d, bool inOutputType = false) {
  int64_t rank = shapeOf(n).size();
  DType at = inOutputType ? d : cd;
  return nc.elementwiseTo(
      ValueRange{n, alignTo(nc, scale, 1, rank), alignTo(nc, bias, 1, rank)},
      shapeOf(n), toMLIRType(nc.ctx(), d),
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value y =
            arith::MulFOp::create(b, l, nc.convertScalar(b, l, a[0], cd, at),
                                  nc.convertScalar(b, l, a[1], pd[0], at));
        y = arith::AddFOp::create(b, l, y,
                                  nc.convertScalar(b, l, a[2], pd[1], at));
        return nc.convertScalar(b, l, y, at, d);
      });
}

LogicalResult importInstanceNorm(NodeContext &nc) {
  for (unsigned i = 0; i < 3; ++i)
    if (failed(requireFloat(nc, i, i == 0 ? "input" : "a parameter")))
      return failure();
  DType d = nc.inputDType(0), cd = computeType(d);
  Value x = nc.input(0);
  SmallVector<int64_t> shape(shapeOf(x));
  int64_t rank = shape.size();
  if (rank < 3) {
    nc.error() << "expects an input of rank >= 3, found rank " << rank;
    return failure();
  }
  for (unsigned i = 1; i < 3; ++i)
    if (shapeOf(nc.input(i)) != ArrayRef<int64_t>{shape[1]}) {
      nc.error() << (i == 1 ? "scale" : "B") << " must have shape ["
                 << shape[1] << "]";
      return failure();
    }
  SmallVector<int64_t> axes;
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  Value n = standardize(nc, nc.castTo(x, d, cd), axes,
                        nc.attrFloat("epsilon", 1e-5f));
  nc.setOutput(0,
               scaleShift(nc, n, cd, nc.input(1), nc.input(2),
                          {nc.inputDType(1), nc.inputDType(2)}, d),
               d);
  return success();
}

/// GroupNormalization: the channels in `num_groups` groups, each (with the
/// spatial dims) standardized over itself; scale and bias per channel
/// (opset 21) or, in opset 18's form, per group.
LogicalResult importGroupNorm(NodeContext &nc) {
  for (unsigned i = 0; i < 3; ++i)
    if (failed(requireFloat(nc, i, i == 0 ? "input" : "a parameter")))
      return failure();
  DType d = nc.inputDType(0);
  FailureOr<DType> st = stashType(nc, d);
  if (failed(st))
    return failure();
  Value x = nc.input(0);
  SmallVector<int64_t> shape(shapeOf(x));
  if (shape.size() < 2 || llvm::any_of(shape, ShapedType::isDynamic)) {
    nc.error() << "expects an input [N, C, ...] of static shape";
    return failure();
  }
  int64_t c = shape[1], g = nc.attrInt("num_groups", 0);
  if (g <= 0 || c % g != 0) {
    nc.error() << "num_groups (" << g
               << ") must be a positive divisor of the channels (" << c << ")";
    return failure();
  }
  int64_t rest = 1;
  for (int64_t s : ArrayRef(shape).drop_front(2))
    rest *= s;
  bool perGroup = nc.opset() < 21;
  int64_t params = perGroup ? g : c;
  for (unsigned i = 1; i < 3; ++i)
    if (shapeOf(nc.input(i)) != ArrayRef<int64_t>{params}) {
      nc.error() << (i == 1 ? "scale" : "bias") << " must have shape ["
                 << params << "]"
                 << (perGroup ? " (opset < 21: per group)" : "");
      return failure();
    }
  Value groups = nc.reshape(nc.castTo(x, d, *st), {shape[0], g, c / g * rest});
  Value n = standardize(nc, groups, {2}, nc.attrFloat("epsilon", 1e-5f));
  // Scale and bias apply per group to the grouped view, per channel to the
  // input's shape.
  if (!perGroup)
    n = nc.reshape(n, shape);
  Value y = scaleShift(nc, n, *st, nc.input(1), nc.input(2),
                       {nc.inputDType(1), nc.inputDType(2)}, d,
                       /*inOutputType=*/true);
  nc.setOutput(0, nc.reshape(y, shape), d);
  return success();
}

//===----------------------------------------------------------------------===//
// LpNormalization / MeanVarianceNormalization
//===----------------------------------------------------------------------===//

LogicalResult importLpNorm(NodeContext &nc) {
  if (failed(requireFloat(nc, 0, "input")))
    return failure();
  DType d = nc.inputDType(0), cd = computeType(d);
  Type ce = toMLIRType(nc.ctx(), cd);
  Value x = nc.castTo(nc.input(0), d, cd);
  SmallVector<int64_t> shape(shapeOf(x));
  int64_t rank = shape.size();
  if (rank == 0) {
    nc.error() << "expects an input of rank >= 1, found a scalar";
    return failure();
  }
  FailureOr<int64_t> axis = nc.normalizeAxis(nc.attrInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  int64_t p = nc.attrInt("p", 2);
  if (p != 1 && p != 2) {
    nc.error() << "unsupported p " << p << ": expected 1 or 2";
    return failure();
  }
  Value t = nc.elementwiseTo(
      x, shape, ce, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        if (p == 1)
          return math::AbsFOp::create(b, l, a[0]);
        return arith::MulFOp::create(b, l, a[0], a[0]);
      });
  Value norm = reduceKeep(nc, t, {*axis}, false);
  Value y = nc.elementwiseTo(
      ValueRange{x, norm}, shape, toMLIRType(nc.ctx(), d),
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value n = p == 2 ? (Value)math::SqrtOp::create(b, l, a[1]) : a[1];
        Value zero = fconst(b, l, ce, 0.0);
        Value isZero =
            arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, n, zero);
        Value q = arith::DivFOp::create(b, l, a[0], n);
        Value r = arith::SelectOp::create(b, l, isZero, zero, q);
        return nc.convertScalar(b, l, r, cd, d);
      });
  nc.setOutput(0, y, d);
  return success();
}

LogicalResult importMVN(NodeContext &nc) {
  if (failed(requireFloat(nc, 0, "input")))
    return failure();
  DType d = nc.inputDType(0), cd = computeType(d);
  Type ce = toMLIRType(nc.ctx(), cd);
  Value x = nc.castTo(nc.input(0), d, cd);
  SmallVector<int64_t> shape(shapeOf(x));
  int64_t rank = shape.size();
  SmallVector<int64_t> raw =
      nc.hasAttr("axes") ? nc.attrInts("axes") : SmallVector<int64_t>{0, 2, 3};
  SmallVector<int64_t> axes;
  for (int64_t a : raw) {
    FailureOr<int64_t> n = nc.normalizeAxis(a, rank);
    if (failed(n))
      return failure();
    if (!llvm::is_contained(axes, *n))
      axes.push_back(*n);
  }
  llvm::sort(axes);
  Value mean = meanKeep(nc, x, axes);
  Value sq = nc.elementwiseTo(
      x, shape, ce, [](OpBuilder &b, Location l, ValueRange a) -> Value {
        return arith::MulFOp::create(b, l, a[0], a[0]);
      });
  Value meanSq = meanKeep(nc, sq, axes);
  Value y = nc.elementwiseTo(
      ValueRange{x, mean, meanSq}, shape, toMLIRType(nc.ctx(), d),
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value var = arith::SubFOp::create(
            b, l, a[2], arith::MulFOp::create(b, l, a[1], a[1]));
        Value std = arith::AddFOp::create(b, l, math::SqrtOp::create(b, l, var),
                                          fconst(b, l, ce, 1e-9));
        Value r = arith::DivFOp::create(
            b, l, arith::SubFOp::create(b, l, a[0], a[1]), std);
        return nc.convertScalar(b, l, r, cd, d);
      });
  nc.setOutput(0, y, d);
  return success();
}

//===----------------------------------------------------------------------===//
// Attention (opset 23)
//===----------------------------------------------------------------------===//

/// `a` and `b` concatenated along `axis` (static shapes).
Value concat(NodeContext &nc, Value a, Value b, int64_t axis) {
  SmallVector<int64_t> as(shapeOf(a)), bs(shapeOf(b)), shape(as);
  shape[axis] += bs[axis];
  Value out = nc.empty(shape, eltOf(a));
  SmallVector<int64_t> off(shape.size(), 0), strides(shape.size(), 1);
  out = tensor::InsertSliceOp::create(nc.b, nc.loc, a, out, ValueRange{},
                                      ValueRange{}, ValueRange{}, off, as,
                                      strides);
  off[axis] = as[axis];
  return tensor::InsertSliceOp::create(nc.b, nc.loc, b, out, ValueRange{},
                                       ValueRange{}, ValueRange{}, off, bs,
                                       strides);
}

LogicalResult importAttention(NodeContext &nc) {
  for (unsigned i = 0; i < 3; ++i)
    if (failed(requireFloat(nc, i, i == 0 ? "Q" : (i == 1 ? "K" : "V"))))
      return failure();
  DType d = nc.inputDType(0);
  for (unsigned i = 1; i < 3; ++i)
    if (nc.inputDType(i) != d) {
      nc.error() << "Q, K and V must have the same element type";
      return failure();
    }
  DType cd = computeType(d);
  if (nc.hasAttr("softmax_precision")) {
    DType sp = static_cast<DType>(nc.attrInt("softmax_precision", TP::FLOAT));
    if (!isFloat(sp)) {
      nc.error() << "unsupported softmax_precision " << sp;
      return failure();
    }
    if (sp == TP::DOUBLE)
      cd = TP::DOUBLE;
  }
  Type ce = toMLIRType(nc.ctx(), cd);
  Value q = nc.input(0), k = nc.input(1), v = nc.input(2);
  int64_t rank = shapeOf(q).size();
  if (rank != 3 && rank != 4) {
    nc.error() << "expects Q of rank 3 or 4, found rank " << rank;
    return failure();
  }
  if ((int64_t)shapeOf(k).size() != rank ||
      (int64_t)shapeOf(v).size() != rank) {
    nc.error() << "Q, K and V must have the same rank";
    return failure();
  }
  int64_t qHeads = nc.attrInt("q_num_heads", 0);
  int64_t kvHeads = nc.attrInt("kv_num_heads", 0);
  if (rank == 3) {
    if (qHeads <= 0 || kvHeads <= 0) {
      nc.error() << "3-D inputs need positive q_num_heads and kv_num_heads";
      return failure();
    }
    auto split = [&](Value t, int64_t heads, StringRef what) -> Value {
      ArrayRef<int64_t> s = shapeOf(t);
      if (s[2] % heads != 0) {
        nc.error() << what << " hidden size " << s[2]
                   << " is not a multiple of the head count " << heads;
        return {};
      }
      Value r = nc.reshape(t, {s[0], s[1], heads, s[2] / heads});
      return nc.transpose(r, {0, 2, 1, 3});
    };
    q = split(q, qHeads, "Q");
    if (!q)
      return failure();
    k = split(k, kvHeads, "K");
    if (!k)
      return failure();
    v = split(v, kvHeads, "V");
    if (!v)
      return failure();
  }
  ArrayRef<int64_t> qs = shapeOf(q), ks = shapeOf(k), vs = shapeOf(v);
  int64_t batch = qs[0], hq = qs[1], sq = qs[2], dq = qs[3];
  int64_t hkv = ks[1], dv = vs[3];
  if (ks[0] != batch || vs[0] != batch || vs[1] != hkv || ks[3] != dq ||
      vs[2] != ks[2]) {
    nc.error() << "Q [" << batch << "," << hq << "," << sq << "," << dq
               << "], K [" << ks[0] << "," << ks[1] << "," << ks[2] << ","
               << ks[3] << "] and V [" << vs[0] << "," << vs[1] << ","
               << vs[2] << "," << vs[3] << "] do not agree";
    return failure();
  }
  if (hkv == 0 || hq % hkv != 0) {
    nc.error() << "the query head count " << hq
               << " is not a multiple of the key/value head count " << hkv;
    return failure();
  }
  int64_t reps = hq / hkv;

  // KV cache.
  int64_t past = 0;
  if (nc.hasInput(4) || nc.hasInput(5)) {
    if (!nc.hasInput(4) || !nc.hasInput(5)) {
      nc.error() << "past_key and past_value must be given together";
      return failure();
    }
    if (nc.hasInput(6)) {
      nc.error() << "nonpad_kv_seqlen cannot be combined with past_key";
      return failure();
    }
    Value pk = nc.input(4), pv = nc.input(5);
    if (nc.inputDType(4) != d || nc.inputDType(5) != d) {
      nc.error() << "past_key and past_value must have Q's element type";
      return failure();
    }
    ArrayRef<int64_t> pks = shapeOf(pk), pvs = shapeOf(pv);
    if (pks.size() != 4 || pvs.size() != 4 || pks[0] != batch ||
        pks[1] != hkv || pks[3] != dq || pvs[0] != batch || pvs[1] != hkv ||
        pvs[3] != dv || pvs[2] != pks[2]) {
      nc.error() << "past_key / past_value must be [" << batch << "," << hkv
                 << ",P," << dq << "] / [" << batch << "," << hkv << ",P,"
                 << dv << "]";
      return failure();
    }
    past = pks[2];
    k = concat(nc, pk, k, 2);
    v = concat(nc, pv, v, 2);
  }
  nc.setOutput(1, k, d);
  nc.setOutput(2, v, d);
  int64_t skv = shapeOf(k)[2];

  Value seqLens;
  if (nc.hasInput(6)) {
    DType sd = nc.inputDType(6);
    if (!isInteger(sd) || shapeOf(nc.input(6)) != ArrayRef<int64_t>{batch}) {
      nc.error() << "nonpad_kv_seqlen must be an integer tensor of shape ["
                 << batch << "]";
      return failure();
    }
    seqLens = nc.reshape(nc.castTo(nc.input(6), sd, TP::INT64),
                         {batch, 1, 1, 1});
  }

  // Scaled scores [B, Hq, Sq, Skv]; the scale is split over Q and K as the
  // reference does.
  double scale = nc.hasAttr("scale") ? nc.attrFloat("scale", 1.0f)
                                     : 1.0 / std::sqrt(double(dq));
  double rootScale = std::sqrt(scale);
  auto prescale = [&](Value t) {
    return nc.elementwiseTo(
        t, shapeOf(t), ce, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value x = nc.convertScalar(b, l, a[0], d, cd);
          return arith::MulFOp::create(b, l, x, fconst(b, l, ce, rootScale));
        });
  };
  Value q5 = nc.reshape(prescale(q), {batch, hkv, reps, sq, dq});
  Value kc = prescale(k);
  // dims: b, hk, r, i, j, e
  Value scores =
      contract(nc, q5, {0, 1, 2, 3, 5}, kc, {0, 1, 4, 5}, {0, 1, 2, 3, 4},
               {batch, hkv, reps, sq, skv, dq});
  SmallVector<int64_t> sShape = {batch, hq, sq, skv};
  scores = nc.reshape(scores, sShape);

  double softcap = nc.attrFloat("softcap", 0.0f);
  if (softcap > 0)
    scores = nc.elementwiseTo(
        scores, sShape, ce, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value c = fconst(b, l, ce, softcap);
          Value t = math::TanhOp::create(b, l, arith::DivFOp::create(b, l, a[0], c));
          return arith::MulFOp::create(b, l, t, c);
        });
  int64_t mode = nc.attrInt("qk_matmul_output_mode", 0);
  if (mode < 0 || mode > 3) {
    nc.error() << "unsupported qk_matmul_output_mode " << mode
               << ": expected 0 to 3";
    return failure();
  }
  if (nc.hasOutput(3) && (mode == 0 || mode == 1))
    nc.setOutput(3, nc.castTo(scores, cd, d), d);

  // The additive bias: attn_mask (padded with -inf / false up to Skv),
  // causal and padding masks.
  Value mask;
  bool boolMask = false;
  if (nc.hasInput(3)) {
    DType md = nc.inputDType(3);
    boolMask = isBool(md);
    if (!boolMask && !isFloat(md)) {
      nc.error() << "attn_mask has element type " << dtypeName(md)
                 << " but bool or float is expected";
      return failure();
    }
    mask = nc.input(3);
    if (!boolMask)
      mask = nc.castTo(mask, md, cd);
    SmallVector<int64_t> ms(shapeOf(mask));
    if (ms.empty() || ms.back() > skv) {
      nc.error() << "attn_mask's last dimension must be at most the total "
                    "key sequence length "
                 << skv;
      return failure();
    }
    if (ms.back() < skv) {
      SmallVector<int64_t> full(ms);
      full.back() = skv;
      Value pad = nc.filled(full, boolMask ? nc.scalar(nc.b.getI1Type(), 0)
                                           : nc.scalar(ce, -inf()));
      SmallVector<int64_t> off(ms.size(), 0), strides(ms.size(), 1);
      mask = tensor::InsertSliceOp::create(nc.b, nc.loc, mask, pad,
                                           ValueRange{}, ValueRange{},
                                           ValueRange{}, off, ms, strides);
    }
    if (failed(checkBroadcast(nc, mask, sShape, "attn_mask")))
      return failure();
  }
  bool causal = nc.attrInt("is_causal", 0) != 0;
  bool anyBias = mask || causal || seqLens;
  Value bias;
  if (anyBias) {
    SmallVector<Value> ins;
    if (mask)
      ins.push_back(mask);
    if (seqLens)
      ins.push_back(seqLens);
    auto biasBody = [&](OpBuilder &b, Location l, ValueRange a) -> Value {
      Value zero = fconst(b, l, ce, 0.0), ninf = fconst(b, l, ce, -inf());
      Value r = zero;
      unsigned next = 0;
      if (mask) {
        Value m = a[next++];
        r = boolMask ? (Value)arith::SelectOp::create(b, l, m, zero, ninf) : m;
      }
      Value i = linalg::IndexOp::create(b, l, 2);
      Value j = linalg::IndexOp::create(b, l, 3);
      Value jI64 = arith::IndexCastOp::create(b, l, b.getI64Type(), j);
      if (causal) {
        Value lim = arith::AddIOp::create(
            b, l, i, arith::ConstantIndexOp::create(b, l, past));
        Value ok =
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::ule, j, lim);
        r = arith::SelectOp::create(b, l, ok, r, ninf);
      }
      if (seqLens) {
        Value ok = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, jI64,
                                         a[next++]);
        r = arith::SelectOp::create(b, l, ok, r, ninf);
      }
      return r;
    };
    // A generic over the full score shape (the index ops need it).
    bias = nc.elementwiseTo(ins, sShape, ce, biasBody);
    scores = nc.elementwiseTo(
        ValueRange{scores, bias}, sShape, ce,
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return arith::AddFOp::create(b, l, a[0], a[1]);
        });
  }
  if (nc.hasOutput(3) && mode == 2)
    nc.setOutput(3, nc.castTo(scores, cd, d), d);

  Value probs = softmax(nc, scores, {3}, /*log=*/false, /*guardMasked=*/true);
  if (bias) {
    // Rows whose bias is entirely -inf attend to nothing: 0, not NaN.
    Value bmax = reduceKeep(nc, bias, {3}, true);
    probs = nc.elementwiseTo(
        ValueRange{probs, bmax}, sShape, ce,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value masked = arith::CmpFOp::create(
              b, l, arith::CmpFPredicate::OEQ, a[1], fconst(b, l, ce, -inf()));
          return arith::SelectOp::create(b, l, masked, fconst(b, l, ce, 0.0),
                                         a[0]);
        });
  }
  if (nc.hasOutput(3) && mode == 3)
    nc.setOutput(3, nc.castTo(probs, cd, d), d);

  // Y = P V, per (b, kv head, rep): dims b, hk, r, i, e, j.
  Value p5 = nc.reshape(probs, {batch, hkv, reps, sq, skv});
  Value vc = nc.castTo(v, d, cd);
  Value y = contract(nc, p5, {0, 1, 2, 3, 5}, vc, {0, 1, 5, 4},
                     {0, 1, 2, 3, 4}, {batch, hkv, reps, sq, dv, skv});
  y = nc.reshape(y, {batch, hq, sq, dv});
  y = nc.castTo(y, cd, d);
  if (rank == 3)
    y = nc.reshape(nc.transpose(y, {0, 2, 1, 3}), {batch, sq, hq * dv});
  nc.setOutput(0, y, d);
  return success();
}

//===----------------------------------------------------------------------===//
// RotaryEmbedding (opset 23)
//===----------------------------------------------------------------------===//

LogicalResult importRotaryEmbedding(NodeContext &nc) {
  for (unsigned i = 0; i < 3; ++i)
    if (failed(requireFloat(nc, i,
                            i == 0 ? "input" : (i == 1 ? "cos_cache"
                                                       : "sin_cache"))))
      return failure();
  DType d = nc.inputDType(0);
  if (nc.inputDType(1) != d || nc.inputDType(2) != d) {
    nc.error() << "cos_cache and sin_cache must have the input's element type";
    return failure();
  }
  Value x = nc.input(0), cosC = nc.input(1), sinC = nc.input(2);
  SmallVector<int64_t> origShape(shapeOf(x));
  int64_t rank = origShape.size();
  int64_t seqDim, headSize;
  if (rank == 4) {
    // [batch, heads, seq, head_size]
    seqDim = 2;
    headSize = origShape[3];
  } else if (rank == 3) {
    int64_t heads = nc.attrInt("num_heads", 0);
    if (heads <= 0 || origShape[2] % heads != 0) {
      nc.error() << "3-D input needs num_heads dividing the hidden size "
                 << origShape[2] << ", found num_heads " << heads;
      return failure();
    }
    headSize = origShape[2] / heads;
    x = nc.reshape(x, {origShape[0], origShape[1], heads, headSize});
    seqDim = 1;
  } else {
    nc.error() << "expects an input of rank 3 or 4, found rank " << rank;
    return failure();
  }
  SmallVector<int64_t> shape(shapeOf(x));
  int64_t batch = shape[0], seq = shape[seqDim];
  int64_t rot = nc.attrInt("rotary_embedding_dim", 0);
  if (rot == 0)
    rot = headSize;
  if (rot < 0 || rot > headSize || rot % 2 != 0) {
    nc.error() << "rotary_embedding_dim " << rot
               << " must be even and at most the head size " << headSize;
    return failure();
  }
  int64_t half = rot / 2;
  bool interleaved = nc.attrInt("interleaved", 0) != 0;
  bool hasPos = nc.hasInput(3);
  ArrayRef<int64_t> cs = shapeOf(cosC);
  if (shapeOf(sinC) != cs) {
    nc.error() << "cos_cache and sin_cache shapes differ";
    return failure();
  }
  Value pos;
  if (hasPos) {
    DType pd = nc.inputDType(3);
    pos = nc.input(3);
    if (!isInteger(pd) || shapeOf(pos) != ArrayRef<int64_t>{batch, seq}) {
      nc.error() << "position_ids must be an integer tensor of shape ["
                 << batch << "," << seq << "]";
      return failure();
    }
    if (cs.size() != 2 || cs[1] != half || cs[0] == 0) {
      nc.error() << "with position_ids, the caches must be [max_pos, " << half
                 << "]";
      return failure();
    }
    pos = nc.castTo(pos, pd, TP::INT64);
  } else if (cs != ArrayRef<int64_t>{batch, seq, half}) {
    nc.error() << "without position_ids, the caches must be [" << batch << ","
               << seq << "," << half << "]";
    return failure();
  }

  RotaryPositions positions;
  positions.ids = pos;
  Value y = buildRotary(nc, x, seqDim, cosC, sinC, positions, rot, interleaved);
  if (rank == 3)
    y = nc.reshape(y, origShape);
  nc.setOutput(0, y, d);
  return success();
}

} // namespace

Value qc::detail::buildRotary(NodeContext &nc, Value x, int64_t seqDim,
                              Value cosC, Value sinC,
                              RotaryPositions positions, int64_t rot,
                              bool interleaved) {
  OpBuilder &b = nc.b;
  MLIRContext *ctx = nc.ctx();
  SmallVector<int64_t> shape(shapeOf(x));
  int64_t half = rot / 2;
  int64_t positionsInCache = shapeOf(cosC)[0];
  Value pos = positions.ids;
  SmallVector<Value> ins = {x};
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(4)};
  if (pos) {
    ins.push_back(pos);
    maps.push_back(AffineMap::get(
        4, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(seqDim, ctx)}, ctx));
  }
  maps.push_back(b.getMultiDimIdentityMap(4));
  Type elt = eltOf(x);
  Value init = nc.empty(shape, elt);
  SmallVector<utils::IteratorType> iters(4, utils::IteratorType::parallel);
  Value y =
      linalg::GenericOp::create(
          b, nc.loc, init.getType(), ins, ValueRange{init}, maps, iters,
          [&](OpBuilder &ob, Location l, ValueRange a) {
            auto idx = [&](int64_t v) -> Value {
              return arith::ConstantIndexOp::create(ob, l, v);
            };
            Value bi = linalg::IndexOp::create(ob, l, 0);
            Value i1 = linalg::IndexOp::create(ob, l, 1);
            Value i2 = linalg::IndexOp::create(ob, l, 2);
            Value di = linalg::IndexOp::create(ob, l, 3);
            Value si = seqDim == 1 ? i1 : i2;
            Value inRot = arith::CmpIOp::create(ob, l, arith::CmpIPredicate::ult,
                                                di, idx(rot));
            // Index into the caches, the partner element and whether this
            // is the first (real) half of its pair.
            Value ci, partner, first;
            if (interleaved) {
              ci = arith::DivUIOp::create(ob, l, di, idx(2));
              Value odd = arith::RemUIOp::create(ob, l, di, idx(2));
              first = arith::CmpIOp::create(ob, l, arith::CmpIPredicate::eq,
                                            odd, idx(0));
              partner = arith::SelectOp::create(
                  ob, l, first, arith::AddIOp::create(ob, l, di, idx(1)),
                  arith::SubIOp::create(ob, l, di, idx(1)));
            } else {
              first = arith::CmpIOp::create(ob, l, arith::CmpIPredicate::ult,
                                            di, idx(half));
              ci = arith::SelectOp::create(
                  ob, l, first, di, arith::SubIOp::create(ob, l, di, idx(half)));
              partner = arith::SelectOp::create(
                  ob, l, first, arith::AddIOp::create(ob, l, di, idx(half)),
                  arith::SubIOp::create(ob, l, di, idx(half)));
            }
            // Keep every read in bounds outside the rotated part.
            ci = arith::SelectOp::create(ob, l, inRot, ci, idx(0));
            partner = arith::SelectOp::create(ob, l, inRot, partner, di);
            SmallVector<Value> cacheIdx;
            if (pos || positions.offset) {
              Value p = pos ? arith::IndexCastOp::create(
                                  ob, l, ob.getIndexType(), a[1])
                                  .getResult()
                            : arith::AddIOp::create(ob, l, positions.offset,
                                                    si)
                                  .getResult();
              // Clamp out-of-range positions instead of reading out of
              // bounds.
              Value zero = idx(0);
              Value maxPos = idx(positionsInCache - 1);
              Value neg = arith::CmpIOp::create(ob, l, arith::CmpIPredicate::slt,
                                                p, zero);
              p = arith::SelectOp::create(ob, l, neg, zero, p);
              p = arith::MinUIOp::create(ob, l, p, maxPos);
              cacheIdx = {p, ci};
            } else {
              cacheIdx = {bi, si, ci};
            }
            Value c = tensor::ExtractOp::create(ob, l, cosC, cacheIdx);
            Value s = tensor::ExtractOp::create(ob, l, sinC, cacheIdx);
            Value xv = a[0];
            Value xp = tensor::ExtractOp::create(
                ob, l, x, ValueRange{bi, i1, i2, partner});
            // first: x1 = xv, x2 = xp: real = c x1 - s x2.
            // second: x1 = xp, x2 = xv: imag = s x1 + c x2.
            Value cx = arith::MulFOp::create(ob, l, c, xv);
            Value sp = arith::MulFOp::create(ob, l, s, xp);
            Value real = arith::SubFOp::create(ob, l, cx, sp);
            Value imag = arith::AddFOp::create(ob, l, sp, cx);
            Value r = arith::SelectOp::create(ob, l, first, real, imag);
            r = arith::SelectOp::create(ob, l, inRot, r, xv);
            linalg::YieldOp::create(ob, l, r);
          })
          .getResult(0);
  return y;
}

/// LRN: x / (bias + alpha / size * sum of x^2 over the `size` channels
/// around c)^beta, the window clipped at the channel ends.
LogicalResult importLRN(NodeContext &nc) {
  Value x = floatInput(nc, 0);
  if (!x)
    return failure();
  DType d = nc.inputDType(0);
  auto type = cast<RankedTensorType>(x.getType());
  int64_t size = nc.attrInt("size", 0);
  if (type.getRank() < 3 || size < 1) {
    nc.error() << "expects X [N, C, D1, ...] and a size >= 1";
    return failure();
  }
  double alpha = nc.attrFloat("alpha", 1e-4f), beta = nc.attrFloat("beta", 0.75f),
         bias = nc.attrFloat("bias", 1.0f);
  int64_t channels = type.getDimSize(1), before = (size - 1) / 2;
  Type elt = type.getElementType();
  Value out = emitGeneric(
      nc, type.getShape(), elt, {}, {},
      [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> ivs) {
        auto f = [&](double v) -> Value {
          return arith::ConstantOp::create(b, l, FloatAttr::get(elt, v));
        };
        SmallVector<Value> at(ivs);
        Value sum = f(0.0);
        for (int64_t j = 0; j < size; ++j) {
          // Channel c - before + j, read only inside [0, C).
          Value c = arith::AddIOp::create(b, l, ivs[1], cidx(b, l, j));
          Value inside = arith::AndIOp::create(
              b, l,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::uge, c,
                                    cidx(b, l, before)),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, c,
                                    cidx(b, l, channels + before)));
          at[1] = arith::SubIOp::create(
              b, l,
              arith::MinUIOp::create(
                  b, l,
                  arith::MaxUIOp::create(b, l, c, cidx(b, l, before)),
                  cidx(b, l, channels + before - 1)),
              cidx(b, l, before));
          Value v = tensor::ExtractOp::create(b, l, x, at);
          Value sq = arith::MulFOp::create(b, l, v, v);
          sum = arith::AddFOp::create(
              b, l, sum, arith::SelectOp::create(b, l, inside, sq, f(0.0)));
        }
        Value base = arith::AddFOp::create(
            b, l, f(bias), arith::MulFOp::create(b, l, f(alpha / size), sum));
        Value self = tensor::ExtractOp::create(b, l, x, ivs);
        return arith::DivFOp::create(
            b, l, self, math::PowFOp::create(b, l, base, f(beta)));
      });
  nc.setOutput(0, out, d);
  return success();
}

void qc::detail::registerNormalizationOps(OpRegistry &r) {
  r.add("Softmax", [](NodeContext &nc) { return importSoftmax(nc, false); });
  r.add("LogSoftmax", [](NodeContext &nc) { return importSoftmax(nc, true); });
  r.add("LayerNormalization",
        [](NodeContext &nc) { return importLayerNorm(nc, false); });
  r.add("RMSNormalization",
        [](NodeContext &nc) { return importLayerNorm(nc, true); });
  r.add("BatchNormalization", importBatchNorm);
  r.add("InstanceNormalization", importInstanceNorm);
  r.add("GroupNormalization", importGroupNorm);
  r.add("LpNormalization", importLpNorm);
  r.add("LRN", importLRN);
  r.add("MeanVarianceNormalization", importMVN);
  r.add("Attention", importAttention);
  r.add("RotaryEmbedding", importRotaryEmbedding);
}
