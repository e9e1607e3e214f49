//===- OpsConvPool.cpp - ONNX convolution and pooling ---------------------===//
//
// Conv, MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool on
// [N, C, D1, ..., Dn] tensors. Explicit or automatic padding (and the extra
// tail a ceil_mode pool needs) becomes one tensor.pad: 0 for Conv and
// AveragePool, the lowest value of the type for MaxPool. Ungrouped 1-D to
// 3-D convolutions become linalg.conv_*d_nc*_fc* named ops; grouped ones and
// the pools are linalg.generics whose input map reads
// x[o * stride + k * dilation]. AveragePool divides by a per-window count
// computed at import time. Half floats accumulate in f32.
//
//===----------------------------------------------------------------------===//

#include "HostFolding.h"
#include "Importer.h"
#include "ShapeUtils.h"
#include "qc/Transforms/ConvAsLinear.h"

#include <limits>

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

namespace {

/// The type sums run in: f32 for half floats, else `d` itself.
DType accType(DType d) {
  return d == TP::FLOAT16 || d == TP::BFLOAT16 ? TP::FLOAT : d;
}

/// The sliding-window geometry of one Conv / pool node over its n spatial
/// dims.
struct Window {
  SmallVector<int64_t> kernel, strides, dilations;
  /// The padding the op defines (explicit pads or auto_pad); counts of
  /// AveragePool with count_include_pad include it.
  SmallVector<int64_t> padLo, padHi;
  /// Spatial output sizes.
  SmallVector<int64_t> out;

  int64_t rank() const { return kernel.size(); }
  /// Extent of the dilated kernel along dim i.
  int64_t span(int64_t i) const { return (kernel[i] - 1) * dilations[i] + 1; }
};

/// Reads an optional per-spatial-dim attribute (default `dflt`), which must
/// hold n values >= `min`.
LogicalResult readDims(NodeContext &nc, StringRef name, int64_t n, int64_t dflt,
                       int64_t min, SmallVector<int64_t> &out) {
  out = nc.attrInts(name);
  if (!nc.hasAttr(name) || out.empty()) {
    out.assign(n, dflt);
    return success();
  }
  if (static_cast<int64_t>(out.size()) != n) {
    nc.error() << "attribute '" << name << "' has " << out.size()
               << " values, expected " << n;
    return failure();
  }
  for (int64_t v : out) {
    if (v < min) {
      nc.error() << "attribute '" << name << "' value " << v
                 << " is not supported (must be >= " << min << ")";
      return failure();
    }
  }
  return success();
}

/// Reads strides, dilations, pads / auto_pad and, for pools, ceil_mode for a
/// window of `kernel` over the spatial sizes `in`, and derives the output
/// sizes.
FailureOr<Window> readWindow(NodeContext &nc, ArrayRef<int64_t> in,
                             ArrayRef<int64_t> kernel, bool isPool) {
  Window w;
  int64_t n = in.size();
  w.kernel.assign(kernel.begin(), kernel.end());
  for (int64_t k : kernel) {
    if (k < 1) {
      nc.error() << "kernel size " << k << " is not supported";
      return failure();
    }
  }
  if (failed(readDims(nc, "strides", n, 1, 1, w.strides)) ||
      failed(readDims(nc, "dilations", n, 1, 1, w.dilations)))
    return failure();
  bool ceilMode = isPool && nc.attrInt("ceil_mode", 0) != 0;
  std::string autoPad = nc.attrString("auto_pad", "NOTSET");
  if (autoPad.empty())
    autoPad = "NOTSET";
  w.padLo.assign(n, 0);
  w.padHi.assign(n, 0);
  w.out.assign(n, 0);

  if (autoPad == "NOTSET") {
    SmallVector<int64_t> pads = nc.attrInts("pads");
    if (!pads.empty() && static_cast<int64_t>(pads.size()) != 2 * n) {
      nc.error() << "attribute 'pads' has " << pads.size()
                 << " values, expected " << 2 * n;
      return failure();
    }
    for (int64_t i = 0; i < n && !pads.empty(); ++i) {
      if (pads[i] < 0 || pads[n + i] < 0) {
        nc.error() << "negative pads are not supported";
        return failure();
      }
      w.padLo[i] = pads[i];
      w.padHi[i] = pads[n + i];
    }
    for (int64_t i = 0; i < n; ++i) {
      int64_t room = in[i] + w.padLo[i] + w.padHi[i] - w.span(i);
      if (room < 0) {
        nc.error() << "the kernel (extent " << w.span(i)
                   << ") is larger than the padded input (" << in[i]
                   << " + pads) along spatial dim " << i;
        return failure();
      }
      int64_t s = w.strides[i];
      w.out[i] = (ceilMode ? (room + s - 1) / s : room / s) + 1;
      // A ceil_mode window must start inside the input or the head padding.
      if (ceilMode && (w.out[i] - 1) * s >= in[i] + w.padLo[i])
        --w.out[i];
    }
  } else if (autoPad == "VALID") {
    for (int64_t i = 0; i < n; ++i) {
      int64_t room = in[i] - w.span(i);
      if (room < 0) {
        nc.error() << "the kernel (extent " << w.span(i)
                   << ") is larger than the input (" << in[i]
                   << ") along spatial dim " << i << " with auto_pad VALID";
        return failure();
      }
      w.out[i] = room / w.strides[i] + 1;
    }
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int64_t i = 0; i < n; ++i) {
      int64_t s = w.strides[i];
      w.out[i] = (in[i] + s - 1) / s;
      int64_t total =
          std::max<int64_t>(0, (w.out[i] - 1) * s + w.span(i) - in[i]);
      w.padLo[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      w.padHi[i] = total - w.padLo[i];
    }
  } else {
    nc.error() << "auto_pad '" << autoPad << "' is not supported";
    return failure();
  }
  for (int64_t i = 0; i < n; ++i) {
    if (w.out[i] < 1) {
      nc.error() << "empty output along spatial dim " << i
                 << " is not supported";
      return failure();
    }
  }
  return w;
}

/// Pads the spatial dims of `x` ([N, C, spatial...]) with `value`: padLo at
/// the head and, at the tail, exactly what the last window reads.
Value padInput(NodeContext &nc, Value x, const Window &w, Value value) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> lo(2, 0), hi(2, 0), shape(type.getShape());
  bool any = false;
  for (int64_t i = 0; i < w.rank(); ++i) {
    int64_t in = type.getDimSize(2 + i);
    int64_t need = (w.out[i] - 1) * w.strides[i] + w.span(i);
    int64_t tail = std::max<int64_t>(0, need - in - w.padLo[i]);
    lo.push_back(w.padLo[i]);
    hi.push_back(tail);
    shape[2 + i] = in + w.padLo[i] + tail;
    any |= w.padLo[i] != 0 || tail != 0;
  }
  if (!any)
    return x;
  auto ofrs = [&](ArrayRef<int64_t> v) {
    SmallVector<OpFoldResult> r;
    for (int64_t e : v)
      r.push_back(nc.b.getIndexAttr(e));
    return r;
  };
  auto padded = RankedTensorType::get(shape, type.getElementType());
  return tensor::PadOp::create(nc.b, nc.loc, padded, x, ofrs(lo), ofrs(hi),
                               value)
      .getResult();
}

/// Affine expressions o_i * stride_i + k_i * dilation_i for the spatial dims
/// of an input read, given the loop positions of o_0 and k_0.
SmallVector<AffineExpr> windowExprs(NodeContext &nc, const Window &w,
                                    unsigned outPos, unsigned kernelPos) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < w.rank(); ++i)
    exprs.push_back(nc.b.getAffineDimExpr(outPos + i) * w.strides[i] +
                    nc.b.getAffineDimExpr(kernelPos + i) * w.dilations[i]);
  return exprs;
}

/// Extends a float scalar to the accumulator type `acc` if it differs.
Value widen(OpBuilder &b, Location l, Value v, Type acc) {
  if (v.getType() == acc)
    return v;
  return arith::ExtFOp::create(b, l, acc, v);
}

//===----------------------------------------------------------------------===//
// Conv
//===----------------------------------------------------------------------===//

/// An ungrouped convolution as a linalg.conv_{1,2,3}d named op.
Value convNamed(NodeContext &nc, Value x, Value wt, Value init,
                const Window &w) {
  OpBuilder &b = nc.b;
  Type resultType = init.getType();
  SmallVector<Value> ins = {x, wt};
  Attribute strides = b.getI64TensorAttr(w.strides);
  Attribute dilations = b.getI64TensorAttr(w.dilations);
  switch (w.rank()) {
  case 1:
    return linalg::Conv1DNcwFcwOp::create(b, nc.loc, resultType, ins, init,
                                          strides, dilations)
        .getResult(0);
  case 2:
    return linalg::Conv2DNchwFchwOp::create(b, nc.loc, resultType, ins, init,
                                            strides, dilations)
        .getResult(0);
  default:
    return linalg::Conv3DNcdhwFcdhwOp::create(b, nc.loc, resultType, ins, init,
                                              strides, dilations)
        .getResult(0);
  }
}

/// Fails with an error unless `bias` is null or [m].
LogicalResult checkBias(NodeContext &nc, Value bias, int64_t m) {
  auto bt = bias ? cast<RankedTensorType>(bias.getType()) : RankedTensorType();
  if (bt && (bt.getRank() != 1 || bt.getDimSize(0) != m)) {
    nc.error() << "B must have shape [" << m << "]";
    return failure();
  }
  return success();
}

/// The accumulator of a convolution of `shape` ([N, channels..., out...],
/// `spatial` dims of out): the bias (null: zeros) broadcast over it, the
/// bias's [M] read as the channel dims.
Value biasInit(NodeContext &nc, Value bias, ArrayRef<int64_t> shape,
               int64_t spatial, Type accElt) {
  if (!bias)
    return nc.filled(shape, nc.scalar(accElt, 0));
  SmallVector<int64_t> bShape(shape.drop_front().drop_back(spatial));
  bShape.append(spatial, 1);
  return nc.elementwiseTo(nc.reshape(bias, bShape), shape, accElt,
                          [&](OpBuilder &b, Location l, ValueRange a) {
                            return widen(b, l, a[0], accElt);
                          });
}

/// A grouped convolution (or one of rank > 3) as a linalg.generic over
/// x [N, G, C/G, padded...], w [G, M/G, C/G, k...] and the result
/// [N, G, M/G, out...] accumulated over the bias (null: zeros) broadcast in
/// that layout; loops (n, g, f, o..., c, k...). The result has `outShape`
/// [N, M, out...].
Value convGrouped(NodeContext &nc, Value x, Value wt, Value bias, Type accElt,
                  ArrayRef<int64_t> outShape, const Window &w, int64_t group) {
  OpBuilder &b = nc.b;
  MLIRContext *ctx = nc.ctx();
  auto xt = cast<RankedTensorType>(x.getType());
  auto wtt = cast<RankedTensorType>(wt.getType());
  int64_t n = w.rank();
  int64_t cg = wtt.getDimSize(1), fg = wtt.getDimSize(0) / group;

  SmallVector<int64_t> xShape = {xt.getDimSize(0), group, cg};
  SmallVector<int64_t> wShape = {group, fg, cg};
  SmallVector<int64_t> oShape = {outShape[0], group, fg};
  for (int64_t i = 0; i < n; ++i) {
    xShape.push_back(xt.getDimSize(2 + i));
    wShape.push_back(wtt.getDimSize(2 + i));
    oShape.push_back(outShape[2 + i]);
  }
  Value x5 = nc.reshape(x, xShape);
  Value w5 = nc.reshape(wt, wShape);
  Value o5 = biasInit(nc, bias, oShape, n, accElt);

  unsigned numLoops = 4 + 2 * n, outPos = 3, cPos = 3 + n, kPos = 4 + n;
  auto d = [&](unsigned i) { return b.getAffineDimExpr(i); };
  SmallVector<AffineExpr> xExprs = {d(0), d(1), d(cPos)};
  llvm::append_range(xExprs, windowExprs(nc, w, outPos, kPos));
  SmallVector<AffineExpr> wExprs = {d(1), d(2), d(cPos)};
  SmallVector<AffineExpr> oExprs = {d(0), d(1), d(2)};
  for (int64_t i = 0; i < n; ++i) {
    wExprs.push_back(d(kPos + i));
    oExprs.push_back(d(outPos + i));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(numLoops, 0, xExprs, ctx),
                                 AffineMap::get(numLoops, 0, wExprs, ctx),
                                 AffineMap::get(numLoops, 0, oExprs, ctx)};
  SmallVector<utils::IteratorType> iters(3 + n, utils::IteratorType::parallel);
  iters.append(1 + n, utils::IteratorType::reduction);
  Value r = linalg::GenericOp::create(
                b, nc.loc, o5.getType(), ValueRange{x5, w5}, ValueRange{o5},
                maps, iters,
                [&](OpBuilder &nb, Location l, ValueRange a) {
                  Type acc = a[2].getType();
                  Value x = widen(nb, l, a[0], acc), y = widen(nb, l, a[1], acc);
                  // ConvInteger / QLinearConv accumulate in i32.
                  Value sum =
                      isa<FloatType>(acc)
                          ? arith::AddFOp::create(
                                nb, l, a[2], arith::MulFOp::create(nb, l, x, y))
                                .getResult()
                          : arith::AddIOp::create(
                                nb, l, a[2], arith::MulIOp::create(nb, l, x, y))
                                .getResult();
                  linalg::YieldOp::create(nb, l, sum);
                })
                .getResult(0);
  return nc.reshape(r, outShape);
}

/// The convolution of x by wt (the node's attributes: pads, strides,
/// dilations, group) accumulated in `accElt` over the bias (null: zeros),
/// [N, M, out...]; x, wt and bias are already of (or convertible to by
/// `widen`) that type. A QDQ model's 2-D convolution on a quantized filter
/// becomes one qc.qlinear over the im2col view of its unquantized input.
FailureOr<Value> convolution(NodeContext &nc, Value x, Value wt, Value bias,
                             Type accElt) {
  auto xt = cast<RankedTensorType>(x.getType());
  auto wtt = cast<RankedTensorType>(wt.getType());
  int64_t rank = xt.getRank(), n = rank - 2;
  if (rank < 3) {
    nc.error() << "expects X of rank >= 3 ([N, C, D1, ...]), found rank "
               << rank;
    return failure();
  }
  if (wtt.getRank() != rank) {
    nc.error() << "W has rank " << wtt.getRank() << ", expected " << rank;
    return failure();
  }
  int64_t group = nc.attrInt("group", 1);
  int64_t c = xt.getDimSize(1), m = wtt.getDimSize(0);
  if (group < 1 || c % group != 0 || m % group != 0) {
    nc.error() << "group " << group << " does not divide the " << c
               << " input and " << m << " output channels";
    return failure();
  }
  if (wtt.getDimSize(1) * group != c) {
    nc.error() << "W has " << wtt.getDimSize(1) << " channels per group, "
               << "expected " << c / group;
    return failure();
  }
  SmallVector<int64_t> kernel(wtt.getShape().drop_front(2));
  SmallVector<int64_t> kAttr = nc.attrInts("kernel_shape");
  if (!kAttr.empty() && ArrayRef<int64_t>(kAttr) != ArrayRef<int64_t>(kernel)) {
    nc.error() << "attribute 'kernel_shape' disagrees with the shape of W";
    return failure();
  }
  FailureOr<Window> w =
      readWindow(nc, xt.getShape().drop_front(2), kernel, /*isPool=*/false);
  if (failed(w))
    return failure();

  Type elt = xt.getElementType();
  SmallVector<int64_t> outShape = {xt.getDimSize(0), m};
  llvm::append_range(outShape, w->out);

  if (failed(checkBias(nc, bias, m)))
    return failure();

  // A QDQ model's 2-D convolution on a quantized filter: one qc.qlinear
  // over the im2col view of its (unquantized) input.
  if (group == 1 && n == 2 && elt.isF32() && xt.hasStaticShape() &&
      isQuantizedWeight(wt, "filter")) {
    // Zero padding commutes with the activations' quantization (0 stays 0).
    auto [raw, act] = staticallyQuantized(x);
    Value cols =
        qc::im2colView(nc.b, nc.loc, padInput(nc, raw, *w, nc.scalar(elt, 0)),
                       w->out, kernel, w->strides, w->dilations);
    Value y = quantizedLinear(nc, cols, act, wt, "filter");
    return qc::nhwcToNchwPlus(nc.b, nc.loc, y,
                              biasInit(nc, bias, outShape, n, accElt));
  }
  Value xp = padInput(nc, x, *w, nc.scalar(elt, 0));
  if (group == 1 && n <= 3)
    return convNamed(nc, xp, wt, biasInit(nc, bias, outShape, n, accElt), *w);
  return convGrouped(nc, xp, wt, bias, accElt, outShape, *w, group);
}

LogicalResult importConv(NodeContext &nc) {
  Value x = nc.input(0), wt = nc.input(1);
  if (!x || !wt) {
    nc.error() << "expects inputs X and W";
    return failure();
  }
  DType d = nc.inputDType(0);
  if (!isFloat(d)) {
    nc.error() << "element type " << dtypeName(d) << " is not supported";
    return failure();
  }
  if (nc.inputDType(1) != d || (nc.hasInput(2) && nc.inputDType(2) != d)) {
    nc.error() << "X, W and B must have the same element type";
    return failure();
  }
  DType acc = accType(d);
  FailureOr<Value> out =
      convolution(nc, x, wt, nc.hasInput(2) ? nc.input(2) : Value(),
                  toMLIRType(nc.ctx(), acc));
  if (failed(out))
    return failure();
  nc.setOutput(0, nc.castTo(*out, acc, d), d);
  return success();
}

//===----------------------------------------------------------------------===//
// ConvInteger, QLinearConv
//===----------------------------------------------------------------------===//

/// Input i (int8 / uint8) minus its zero point (input z; absent or empty:
/// 0), as i32: one zero point, or with `perChannel` one per index of dim 0
/// (a filter's output channels).
FailureOr<Value> centeredInt(NodeContext &nc, unsigned i, unsigned z,
                             bool perChannel) {
  DType d = nc.inputDType(i);
  if (d != TP::INT8 && d != TP::UINT8) {
    nc.error() << "input " << i << " is " << dtypeName(d)
               << "; expected int8 or uint8";
    return failure();
  }
  auto type = nc.inputType(i);
  bool uns = d == TP::UINT8;
  Type i32 = nc.b.getI32Type();
  auto toI32 = [&](OpBuilder &b, Location l, Value v) -> Value {
    return uns ? arith::ExtUIOp::create(b, l, i32, v).getResult()
               : arith::ExtSIOp::create(b, l, i32, v).getResult();
  };
  SmallVector<Value> ins = {nc.input(i)};
  if (nc.hasInput(z)) {
    auto zt = nc.inputType(z);
    int64_t count = zt.getNumElements();
    bool one = count == 1 && zt.getRank() <= 1;
    bool channels = perChannel && zt.getRank() == 1 &&
                    count == type.getDimSize(0);
    if (nc.inputDType(z) != d || !(one || channels)) {
      nc.error() << "input " << z << " must be one " << dtypeName(d)
                 << " zero point" << (perChannel ? " or one per output channel" : "");
      return failure();
    }
    SmallVector<int64_t> zShape;
    if (!one) {
      zShape.assign(type.getRank(), 1);
      zShape[0] = count;
    }
    ins.push_back(nc.reshape(nc.input(z), zShape));
  }
  return nc.elementwiseTo(ins, type.getShape(), i32,
                          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                            Value v = toI32(b, l, a[0]);
                            if (a.size() < 2)
                              return v;
                            return arith::SubIOp::create(b, l, v,
                                                         toI32(b, l, a[1]));
                          });
}

/// (input x - input xz) convolved with (input w - input wz) in int32 over
/// `bias` (null: zeros); w's zero point per tensor or per output channel.
FailureOr<Value> integerConvolution(NodeContext &nc, unsigned x, unsigned xz,
                                    unsigned w, unsigned wz, Value bias) {
  FailureOr<Value> cx = centeredInt(nc, x, xz, /*perChannel=*/false);
  if (failed(cx))
    return failure();
  FailureOr<Value> cw = centeredInt(nc, w, wz, /*perChannel=*/true);
  if (failed(cw))
    return failure();
  return convolution(nc, *cx, *cw, bias, nc.b.getI32Type());
}

/// ConvInteger: (x - x_zero_point) * (w - w_zero_point) convolved in int32
/// (w's zero point per tensor or per output channel).
LogicalResult importConvInteger(NodeContext &nc) {
  if (!nc.hasInput(0) || !nc.hasInput(1)) {
    nc.error() << "expects inputs x and w";
    return failure();
  }
  FailureOr<Value> y = integerConvolution(nc, 0, 2, 1, 3, Value());
  if (failed(y))
    return failure();
  nc.setOutput(0, *y, TP::INT32);
  return success();
}

/// QLinearConv: the int32 convolution of the centered operands plus B
/// (int32), times x_scale * w_scale / y_scale (f32; w_scale per tensor or
/// per output channel) in f64, rounded half to even, plus y_zero_point,
/// saturated: the ONNX reference's arithmetic.
LogicalResult importQLinearConv(NodeContext &nc) {
  if (nc.numInputs() < 8 || !nc.hasInput(0) || !nc.hasInput(3) ||
      !nc.hasInput(1) || !nc.hasInput(4) || !nc.hasInput(6)) {
    nc.error() << "expects inputs x, x_scale, x_zero_point, w, w_scale, "
                  "w_zero_point, y_scale, y_zero_point and optional B";
    return failure();
  }
  DType out = nc.hasInput(7) ? nc.inputDType(7) : nc.inputDType(0);
  int64_t m = nc.inputType(3).getDimSize(0);
  auto scaleOk = [&](unsigned i, bool perChannel) {
    auto t = nc.inputType(i);
    return nc.inputDType(i) == TP::FLOAT &&
           ((t.getRank() <= 1 && t.getNumElements() == 1) ||
            (perChannel && t.getRank() == 1 && t.getDimSize(0) == m));
  };
  if (!scaleOk(1, false) || !scaleOk(4, true) || !scaleOk(6, false) ||
      (out != TP::INT8 && out != TP::UINT8) ||
      (nc.hasInput(7) && nc.inputType(7).getNumElements() != 1)) {
    nc.error() << "x_scale and y_scale must be one f32 each, w_scale one or "
                  "one per output channel, y_zero_point one int8 or uint8";
    return failure();
  }
  if (nc.hasInput(8) && nc.inputDType(8) != TP::INT32) {
    nc.error() << "B must be int32";
    return failure();
  }
  FailureOr<Value> acc = integerConvolution(
      nc, 0, 2, 3, 5, nc.hasInput(8) ? nc.input(8) : Value());
  if (failed(acc))
    return failure();
  auto shape = cast<RankedTensorType>(acc->getType()).getShape();
  // The multiplier per output channel, [M, 1, ...] (or one).
  SmallVector<int64_t> perChannel(shape.size() - 1, 1);
  perChannel[0] = m;
  Value ws = nc.inputType(4).getNumElements() == 1 && m != 1
                 ? nc.reshape(nc.input(4), {})
                 : nc.reshape(nc.input(4), perChannel);
  SmallVector<Value> ins = {*acc, nc.reshape(nc.input(1), {}), ws,
                            nc.reshape(nc.input(6), {})};
  if (nc.hasInput(7))
    ins.push_back(nc.reshape(nc.input(7), {}));
  bool uns = out == TP::UINT8;
  double lo = uns ? 0 : -128, hi = uns ? 255 : 127;
  Value y = nc.elementwiseTo(
      ins, shape, nc.b.getIntegerType(8),
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Type f64 = b.getF64Type();
        auto c = [&](double v) {
          return arith::ConstantOp::create(b, l, b.getF64FloatAttr(v));
        };
        Value mult = arith::DivFOp::create(
            b, l, arith::MulFOp::create(b, l, a[1], a[2]), a[3]);
        Value r = math::RoundEvenOp::create(
            b, l,
            arith::MulFOp::create(b, l,
                                  arith::SIToFPOp::create(b, l, f64, a[0]),
                                  arith::ExtFOp::create(b, l, f64, mult)));
        if (a.size() > 4) {
          Type i32 = b.getI32Type();
          Value z = uns ? arith::ExtUIOp::create(b, l, i32, a[4]).getResult()
                        : arith::ExtSIOp::create(b, l, i32, a[4]).getResult();
          r = arith::AddFOp::create(b, l, r,
                                    arith::SIToFPOp::create(b, l, f64, z));
        }
        r = arith::MinimumFOp::create(
            b, l, arith::MaximumFOp::create(b, l, r, c(lo)), c(hi));
        return arith::TruncIOp::create(
            b, l, b.getIntegerType(8),
            arith::FPToSIOp::create(b, l, b.getI32Type(), r));
      });
  nc.setOutput(0, y, out);
  return success();
}

//===----------------------------------------------------------------------===//
// ConvTranspose
//===----------------------------------------------------------------------===//

/// ConvTranspose's pads and spatial output sizes: explicit pads (the output
/// from them, or output_shape), or auto_pad SAME_* (pads from output_shape,
/// default in * stride), as the ONNX reference derives them.
LogicalResult transposedGeometry(NodeContext &nc, ArrayRef<int64_t> in,
                                 const Window &w, ArrayRef<int64_t> extra,
                                 SmallVector<int64_t> &padLo,
                                 SmallVector<int64_t> &padHi,
                                 SmallVector<int64_t> &out) {
  int64_t n = in.size();
  std::string autoPad = nc.attrString("auto_pad", "NOTSET");
  SmallVector<int64_t> shapeAttr = nc.attrInts("output_shape");
  if (!shapeAttr.empty() && int64_t(shapeAttr.size()) < n) {
    nc.error() << "attribute 'output_shape' has " << shapeAttr.size()
               << " values, expected " << n;
    return failure();
  }
  ArrayRef<int64_t> given = ArrayRef<int64_t>(shapeAttr).take_back(
      shapeAttr.empty() ? 0 : n);
  SmallVector<int64_t> pads = nc.attrInts("pads");
  padLo.assign(n, 0);
  padHi.assign(n, 0);
  out.assign(n, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t natural = w.strides[i] * (in[i] - 1) + extra[i] + w.span(i);
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      out[i] = given.empty() ? in[i] * w.strides[i] : given[i];
      int64_t total = natural - out[i];
      int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      padLo[i] = autoPad == "SAME_UPPER" ? half : total - half;
      padHi[i] = total - padLo[i];
      continue;
    }
    if (autoPad != "NOTSET" && autoPad != "VALID" && !autoPad.empty()) {
      nc.error() << "auto_pad '" << autoPad << "' is not supported";
      return failure();
    }
    if (!pads.empty()) {
      if (int64_t(pads.size()) != 2 * n || pads[i] < 0 || pads[n + i] < 0) {
        nc.error() << "attribute 'pads' needs " << 2 * n
                   << " values >= 0";
        return failure();
      }
      padLo[i] = pads[i];
      padHi[i] = pads[n + i];
    }
    out[i] = given.empty() ? natural - padLo[i] - padHi[i] : given[i];
    if (out[i] < 1) {
      nc.error() << "empty output along spatial dim " << i
                 << " is not supported";
      return failure();
    }
  }
  return success();
}

/// x [N, C, in...] spread out by the strides (stride - 1 zeros between
/// elements) and padded (or cropped) so that a stride-1 convolution with
/// the window's dilations gives `out` positions, the first of them at
/// -padLo.
Value spreadAndPad(NodeContext &nc, Value x, const Window &w,
                   ArrayRef<int64_t> padLo, ArrayRef<int64_t> out) {
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t n = w.rank();
  SmallVector<int64_t> upShape(xt.getShape()), zeros(2 + n, 0),
      ones(2 + n, 1), strides(2, 1);
  bool spread = false;
  for (int64_t i = 0; i < n; ++i) {
    upShape[2 + i] = (xt.getDimSize(2 + i) - 1) * w.strides[i] + 1;
    strides.push_back(w.strides[i]);
    spread |= w.strides[i] != 1;
  }
  Type elt = xt.getElementType();
  Value zero = nc.scalar(elt, 0);
  if (spread)
    x = tensor::InsertSliceOp::create(
        nc.b, nc.loc, x, nc.filled(upShape, zero), indexAttrs(nc.b, zeros),
        indexAttrs(nc.b, xt.getShape()), indexAttrs(nc.b, strides));
  // Input position j of the spread x feeds output o = j + padLo... through
  // kernel tap k at o + lo - k d: lo = span - 1 - padLo leading zeros.
  SmallVector<int64_t> lo(2, 0), hi(2, 0), crop(2 + n, 0),
      size(upShape.begin(), upShape.begin() + 2);
  bool pad = false, cut = false;
  for (int64_t i = 0; i < n; ++i) {
    int64_t l = w.span(i) - 1 - padLo[i];
    int64_t h = out[i] - 1 + w.span(i) - upShape[2 + i] - l;
    lo.push_back(std::max<int64_t>(l, 0));
    hi.push_back(std::max<int64_t>(h, 0));
    crop[2 + i] = std::max<int64_t>(-l, 0);
    size.push_back(upShape[2 + i] + l + h);
    pad |= l > 0 || h > 0;
    cut |= l < 0 || h < 0;
  }
  if (pad) {
    SmallVector<int64_t> padded(upShape);
    for (int64_t i = 0; i < n; ++i)
      padded[2 + i] += lo[2 + i] + hi[2 + i];
    x = tensor::PadOp::create(
            nc.b, nc.loc, RankedTensorType::get(padded, elt), x,
            indexAttrs(nc.b, lo), indexAttrs(nc.b, hi), zero)
            .getResult();
  }
  if (cut)
    x = tensor::ExtractSliceOp::create(
        nc.b, nc.loc, RankedTensorType::get(size, elt), x,
        indexAttrs(nc.b, crop), indexAttrs(nc.b, size),
        indexAttrs(nc.b, ones));
  return x;
}

/// ConvTranspose's W [C, M/G, k...] as a convolution's [M, C/G, k...]:
/// per group, input and output channels swapped, the kernel flipped.
Value flippedWeights(NodeContext &nc, Value wt, int64_t group) {
  auto wtt = cast<RankedTensorType>(wt.getType());
  SmallVector<int64_t> src(wtt.getShape());
  int64_t cg = src[0] / group, mg = src[1];
  SmallVector<int64_t> shape = {mg * group, cg};
  shape.append(src.begin() + 2, src.end());
  SmallVector<int64_t> strides = rowMajorStrides(src);
  auto source = [&](ArrayRef<int64_t> idx) {
    int64_t g = idx[0] / mg, flat = (g * cg + idx[1]) * strides[0] +
                                    (idx[0] % mg) * strides[1];
    for (size_t i = 2; i < idx.size(); ++i)
      flat += (src[i] - 1 - idx[i]) * strides[i];
    return flat;
  };
  if (const HostTensor *c = nc.inputConstant(1))
    return nc.constant(hostRemap(*c, shape, source), "convtranspose_w");
  Value flat = nc.reshape(wt, {wtt.getNumElements()});
  return emitGeneric(
      nc, shape, wtt.getElementType(), {}, {},
      [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> ivs) {
        // The same index arithmetic on loop indices.
        Value g = arith::DivUIOp::create(b, l, ivs[0], cidx(b, l, mg));
        Value at = arith::AddIOp::create(
            b, l,
            arith::MulIOp::create(
                b, l,
                arith::AddIOp::create(
                    b, l, arith::MulIOp::create(b, l, g, cidx(b, l, cg)),
                    ivs[1]),
                cidx(b, l, strides[0])),
            arith::MulIOp::create(
                b, l, arith::RemUIOp::create(b, l, ivs[0], cidx(b, l, mg)),
                cidx(b, l, strides[1])));
        for (size_t i = 2; i < ivs.size(); ++i)
          at = arith::AddIOp::create(
              b, l, at,
              arith::MulIOp::create(
                  b, l,
                  arith::SubIOp::create(b, l, cidx(b, l, src[i] - 1), ivs[i]),
                  cidx(b, l, strides[i])));
        return tensor::ExtractOp::create(b, l, flat, at);
      });
}

/// ConvTranspose: the input spread by the strides and padded, then a
/// stride-1 convolution with the flipped, channel-swapped kernel.
LogicalResult importConvTranspose(NodeContext &nc) {
  Value x = nc.input(0), wt = nc.input(1);
  if (!x || !wt) {
    nc.error() << "expects inputs X and W";
    return failure();
  }
  DType d = nc.inputDType(0);
  if (!isFloat(d) || nc.inputDType(1) != d ||
      (nc.hasInput(2) && nc.inputDType(2) != d)) {
    nc.error() << "X, W and B must have one float element type";
    return failure();
  }
  auto xt = cast<RankedTensorType>(x.getType());
  auto wtt = cast<RankedTensorType>(wt.getType());
  int64_t rank = xt.getRank(), n = rank - 2;
  int64_t group = nc.attrInt("group", 1), c = xt.getDimSize(1);
  if (rank < 3 || wtt.getRank() != rank || group < 1 || c % group != 0 ||
      wtt.getDimSize(0) != c) {
    nc.error() << "expects X [N, C, D1, ...] and W [C, M / group, k1, ...] "
                  "with group dividing C";
    return failure();
  }
  int64_t m = wtt.getDimSize(1) * group;
  Window w;
  w.kernel.assign(wtt.getShape().begin() + 2, wtt.getShape().end());
  SmallVector<int64_t> extra, padLo, padHi;
  if (failed(readDims(nc, "strides", n, 1, 1, w.strides)) ||
      failed(readDims(nc, "dilations", n, 1, 1, w.dilations)) ||
      failed(readDims(nc, "output_padding", n, 0, 0, extra)) ||
      failed(transposedGeometry(nc, xt.getShape().drop_front(2), w, extra,
                                padLo, padHi, w.out)))
    return failure();

  DType acc = accType(d);
  Type accElt = toMLIRType(nc.ctx(), acc);
  SmallVector<int64_t> outShape = {xt.getDimSize(0), m};
  llvm::append_range(outShape, w.out);
  Value bias = nc.hasInput(2) ? nc.input(2) : Value();
  if (failed(checkBias(nc, bias, m)))
    return failure();
  Window conv = w;
  conv.strides.assign(n, 1);
  Value xs = spreadAndPad(nc, x, w, padLo, w.out);
  Value wf = flippedWeights(nc, wt, group);
  Value out =
      group == 1 && n <= 3
          ? convNamed(nc, xs, wf, biasInit(nc, bias, outShape, n, accElt), conv)
          : convGrouped(nc, xs, wf, bias, accElt, outShape, conv, group);
  nc.setOutput(0, nc.castTo(out, acc, d), d);
  return success();
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// One linalg.generic pooling the padded `x` [N, C, padded...] into
/// [N, C, out...] of the type of `init`, starting from it; `combine`
/// gets (x element, accumulator). Loops (n, c, o..., k...); the kernel loops
/// take their bounds from an unused window tensor, as in linalg's named
/// pooling ops.
Value poolGeneric(NodeContext &nc, Value x, const Window &w, Value init,
                  const NodeContext::ScalarBody &combine) {
  OpBuilder &b = nc.b;
  MLIRContext *ctx = nc.ctx();
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t n = w.rank();
  unsigned numLoops = 2 + 2 * n, kPos = 2 + n;
  SmallVector<int64_t> outShape = {xt.getDimSize(0), xt.getDimSize(1)};
  llvm::append_range(outShape, w.out);
  Value acc = nc.filled(outShape, init);
  Value window = nc.empty(w.kernel, xt.getElementType());

  SmallVector<AffineExpr> xExprs = {b.getAffineDimExpr(0),
                                    b.getAffineDimExpr(1)};
  llvm::append_range(xExprs, windowExprs(nc, w, 2, kPos));
  SmallVector<AffineExpr> kExprs,
      oExprs = {b.getAffineDimExpr(0), b.getAffineDimExpr(1)};
  for (int64_t i = 0; i < n; ++i) {
    kExprs.push_back(b.getAffineDimExpr(kPos + i));
    oExprs.push_back(b.getAffineDimExpr(2 + i));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(numLoops, 0, xExprs, ctx),
                                 AffineMap::get(numLoops, 0, kExprs, ctx),
                                 AffineMap::get(numLoops, 0, oExprs, ctx)};
  SmallVector<utils::IteratorType> iters(2 + n, utils::IteratorType::parallel);
  iters.append(n, utils::IteratorType::reduction);
  return linalg::GenericOp::create(
             b, nc.loc, acc.getType(), ValueRange{x, window}, ValueRange{acc},
             maps, iters,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l,
                                       combine(nb, l, ValueRange{a[0], a[2]}));
             })
      .getResult(0);
}

/// The lowest value of a float (-inf) or integer type (signedness from `d`).
Value lowestValue(NodeContext &nc, Type elt, DType d) {
  if (auto ft = dyn_cast<FloatType>(elt))
    return arith::ConstantOp::create(
        nc.b, nc.loc,
        nc.b.getFloatAttr(ft, APFloat::getInf(ft.getFloatSemantics(),
                                              /*Negative=*/true)));
  unsigned bits = elt.getIntOrFloatBitWidth();
  APInt v =
      isUnsigned(d) ? APInt::getMinValue(bits) : APInt::getSignedMinValue(bits);
  return arith::ConstantOp::create(nc.b, nc.loc, nc.b.getIntegerAttr(elt, v));
}

/// Reads X and the window of a MaxPool / AveragePool node.
FailureOr<Window> readPool(NodeContext &nc, Value x) {
  auto xt = cast<RankedTensorType>(x.getType());
  if (xt.getRank() < 3) {
    nc.error() << "expects X of rank >= 3 ([N, C, D1, ...]), found rank "
               << xt.getRank();
    return failure();
  }
  SmallVector<int64_t> kernel = nc.attrInts("kernel_shape");
  if (static_cast<int64_t>(kernel.size()) != xt.getRank() - 2) {
    nc.error() << "attribute 'kernel_shape' must have " << xt.getRank() - 2
               << " values";
    return failure();
  }
  return readWindow(nc, xt.getShape().drop_front(2), kernel, /*isPool=*/true);
}

/// LpPool: (sum over the window of |x|^p)^(1/p); padding contributes 0.
LogicalResult importLpPool(NodeContext &nc) {
  Value x = floatInput(nc, 0);
  if (!x)
    return failure();
  DType d = nc.inputDType(0);
  int64_t p = nc.attrInt("p", 2);
  if (p < 1) {
    nc.error() << "p must be >= 1, not " << p;
    return failure();
  }
  FailureOr<Window> w = readPool(nc, x);
  if (failed(w))
    return failure();
  DType acc = accType(d);
  Type accElt = toMLIRType(nc.ctx(), acc);
  Value xp = padInput(nc, x, *w,
                      nc.scalar(cast<RankedTensorType>(x.getType())
                                    .getElementType(),
                                0));
  Value sum = poolGeneric(
      nc, xp, *w, nc.scalar(accElt, 0),
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value v = math::AbsFOp::create(b, l, widen(b, l, a[0], accElt));
        Value term = v;
        for (int64_t i = 1; i < p; ++i)
          term = arith::MulFOp::create(b, l, term, v);
        return arith::AddFOp::create(b, l, a[1], term);
      });
  FailureOr<Value> root = nc.elementwise(
      {sum}, accElt, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        if (p == 1)
          return a[0];
        if (p == 2)
          return math::SqrtOp::create(b, l, a[0]);
        Value inv = arith::ConstantOp::create(
            b, l, FloatAttr::get(accElt, 1.0 / double(p)));
        return math::PowFOp::create(b, l, a[0], inv);
      });
  if (failed(root))
    return failure();
  nc.setOutput(0, nc.castTo(*root, acc, d), d);
  return success();
}

LogicalResult importMaxPool(NodeContext &nc) {
  Value x = nc.input(0);
  if (!x) {
    nc.error() << "expects an input tensor";
    return failure();
  }
  if (nc.hasOutput(1)) {
    nc.error() << "the Indices output is not supported";
    return failure();
  }
  DType d = nc.inputDType(0);
  if (!isFloat(d) && !isInteger(d)) {
    nc.error() << "element type " << dtypeName(d) << " is not supported";
    return failure();
  }
  FailureOr<Window> w = readPool(nc, x);
  if (failed(w))
    return failure();
  Type elt = cast<RankedTensorType>(x.getType()).getElementType();
  Value lowest = lowestValue(nc, elt, d);
  Value xp = padInput(nc, x, *w, lowest);
  bool uns = isUnsigned(d);
  Value out =
      poolGeneric(nc, xp, *w, lowest,
                  [uns](OpBuilder &b, Location l, ValueRange a) -> Value {
                    if (isa<FloatType>(a[0].getType()))
                      return arith::MaximumFOp::create(b, l, a[1], a[0]);
                    if (uns)
                      return arith::MaxUIOp::create(b, l, a[1], a[0]);
                    return arith::MaxSIOp::create(b, l, a[1], a[0]);
                  });
  nc.setOutput(0, out, d);
  return success();
}

/// Number of taps o * stride - padLo + k * dilation (k < kernel) of spatial
/// dim i that fall in [lo, hi).
int64_t countTaps(const Window &w, int64_t i, int64_t o, int64_t lo,
                  int64_t hi) {
  int64_t count = 0;
  for (int64_t k = 0; k < w.kernel[i]; ++k) {
    int64_t p = o * w.strides[i] - w.padLo[i] + k * w.dilations[i];
    count += p >= lo && p < hi;
  }
  return count;
}

LogicalResult importAveragePool(NodeContext &nc) {
  Value x = nc.input(0);
  if (!x) {
    nc.error() << "expects an input tensor";
    return failure();
  }
  DType d = nc.inputDType(0);
  if (!isFloat(d)) {
    nc.error() << "element type " << dtypeName(d) << " is not supported";
    return failure();
  }
  FailureOr<Window> w = readPool(nc, x);
  if (failed(w))
    return failure();
  auto xt = cast<RankedTensorType>(x.getType());
  bool includePad = nc.attrInt("count_include_pad", 0) != 0;
  DType acc = accType(d);
  Type accElt = toMLIRType(nc.ctx(), acc);
  Value xp = padInput(nc, x, *w, nc.scalar(xt.getElementType(), 0));
  Value sum =
      poolGeneric(nc, xp, *w, nc.scalar(accElt, 0),
                  [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                    return arith::AddFOp::create(
                        b, l, a[1], nc.convertScalar(b, l, a[0], d, acc));
                  });

  // The divisor of each output position: the product over the spatial dims
  // of the taps inside the input (or the input and its padding).
  int64_t n = w->rank();
  SmallVector<SmallVector<int64_t>> perDim(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t in = xt.getDimSize(2 + i);
    int64_t lo = includePad ? -w->padLo[i] : 0;
    int64_t hi = includePad ? in + w->padHi[i] : in;
    for (int64_t o = 0; o < w->out[i]; ++o)
      perDim[i].push_back(countTaps(*w, i, o, lo, hi));
  }
  int64_t total = 1;
  for (int64_t o : w->out)
    total *= o;
  SmallVector<double> counts(total, 1.0);
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t rest = flat;
    for (int64_t i = n - 1; i >= 0; --i) {
      counts[flat] *= perDim[i][rest % w->out[i]];
      rest /= w->out[i];
    }
  }
  // A uniform count is a scalar constant, else a [out...] tensor.
  bool uniform = llvm::all_equal(counts);
  SmallVector<Value> operands = {sum};
  if (!uniform)
    operands.push_back(nc.constant(HostTensor::fromDoubles(counts, w->out, acc),
                                   "pool_count"));
  auto outShape = cast<RankedTensorType>(sum.getType()).getShape();
  Value out = nc.elementwiseTo(
      operands, outShape, xt.getElementType(),
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value c = uniform ? (Value)arith::ConstantOp::create(
                                b, l, b.getFloatAttr(accElt, counts[0]))
                          : a[1];
        Value q = arith::DivFOp::create(b, l, a[0], c);
        return nc.convertScalar(b, l, q, acc, d);
      });
  nc.setOutput(0, out, d);
  return success();
}

/// GlobalAveragePool / GlobalMaxPool: a keep-dims reduction over every
/// spatial dim.
LogicalResult importGlobalPool(NodeContext &nc, bool isMax) {
  Value x = nc.input(0);
  if (!x) {
    nc.error() << "expects an input tensor";
    return failure();
  }
  DType d = nc.inputDType(0);
  if (!isFloat(d) && !(isMax && isInteger(d))) {
    nc.error() << "element type " << dtypeName(d) << " is not supported";
    return failure();
  }
  auto xt = cast<RankedTensorType>(x.getType());
  if (xt.getRank() < 2) {
    nc.error() << "expects X of rank >= 2 ([N, C, D1, ...]), found rank "
               << xt.getRank();
    return failure();
  }
  SmallVector<int64_t> axes;
  int64_t count = 1;
  for (int64_t i = 2; i < xt.getRank(); ++i) {
    axes.push_back(i);
    count *= xt.getDimSize(i);
  }
  Type elt = xt.getElementType();
  if (isMax) {
    bool uns = isUnsigned(d);
    Value out =
        nc.reduce(x, axes, /*keepDims=*/true, lowestValue(nc, elt, d),
                  [uns](OpBuilder &b, Location l, ValueRange a) -> Value {
                    if (isa<FloatType>(a[0].getType()))
                      return arith::MaximumFOp::create(b, l, a[1], a[0]);
                    if (uns)
                      return arith::MaxUIOp::create(b, l, a[1], a[0]);
                    return arith::MaxSIOp::create(b, l, a[1], a[0]);
                  });
    nc.setOutput(0, out, d);
    return success();
  }
  DType acc = accType(d);
  Type accElt = toMLIRType(nc.ctx(), acc);
  Value sum = nc.reduce(x, axes, /*keepDims=*/true, nc.scalar(accElt, 0),
                        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                          return arith::AddFOp::create(
                              b, l, a[1], nc.convertScalar(b, l, a[0], d, acc));
                        });
  auto shape = cast<RankedTensorType>(sum.getType()).getShape();
  Value out = nc.elementwiseTo(
      sum, shape, elt, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value c = arith::ConstantOp::create(
            b, l, b.getFloatAttr(accElt, static_cast<double>(count)));
        return nc.convertScalar(b, l, arith::DivFOp::create(b, l, a[0], c), acc,
                                d);
      });
  nc.setOutput(0, out, d);
  return success();
}

} // namespace

/// CausalConvWithState (opset 27): a depthwise causal 1-D convolution over
/// past_state (zeros without it) followed by the input, with an optional
/// bias and SiLU; present_state is the last k - 1 positions of that
/// concatenation. f16 is computed in f32.
LogicalResult importCausalConvWithState(NodeContext &nc) {
  SmallVector<int64_t> xs = inputShape(nc, 0), ws = inputShape(nc, 1);
  DType d = nc.inputDType(0);
  std::string act = nc.attrString("activation", "none");
  if (xs.size() != 3 || ws.size() != 3 || ws[0] != xs[1] || ws[1] != 1 ||
      ws[2] < 1 || !isFloat(d) || d == TP::BFLOAT16) {
    nc.error() << "expects float input [B, C, L] and weight [C, 1, k]";
    return failure();
  }
  if (act != "none" && act != "silu" && act != "swish") {
    nc.error() << "activation '" << act << "' is not none, silu or swish";
    return failure();
  }
  int64_t b = xs[0], c = xs[1], l = xs[2], k = ws[2];
  SmallVector<int64_t> stateShape = {b, c, k - 1};
  if ((nc.hasInput(2) && inputShape(nc, 2) != SmallVector<int64_t>{c}) ||
      (nc.hasInput(3) && inputShape(nc, 3) != stateShape)) {
    nc.error() << "bias must be [" << c << "] and past_state [" << b << ", "
               << c << ", " << k - 1 << "]";
    return failure();
  }
  Type f32 = nc.b.getF32Type();
  auto wide = [&](unsigned i) { return nc.castTo(nc.input(i), d, TP::FLOAT); };
  // [past_state, input] along the length.
  SmallVector<int64_t> paddedShape = {b, c, l + k - 1};
  Value padded = nc.filled(paddedShape, nc.scalar(f32, 0));
  auto place = [&](Value v, int64_t at, int64_t len) {
    return tensor::InsertSliceOp::create(
        nc.b, nc.loc, v, padded, ValueRange{}, ValueRange{}, ValueRange{},
        nc.b.getDenseI64ArrayAttr({0, 0, at}),
        nc.b.getDenseI64ArrayAttr({b, c, len}),
        nc.b.getDenseI64ArrayAttr({1, 1, 1}));
  };
  if (nc.hasInput(3) && k > 1)
    padded = place(wide(3), 0, k - 1);
  padded = place(wide(0), k - 1, l);
  // out[b, c, t] = bias[c] + sum_j w[c, j] * padded[b, c, t + j].
  MLIRContext *ctx = nc.ctx();
  auto dim = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  Value init = nc.filled({b, c, l}, nc.scalar(f32, 0));
  if (nc.hasInput(2))
    init = nc.elementwiseTo(nc.reshape(wide(2), {c, 1}), {b, c, l}, f32,
                            [](OpBuilder &, Location, ValueRange a) {
                              return a[0];
                            });
  SmallVector<AffineMap> maps = {
      AffineMap::get(4, 0, {dim(0), dim(1), dim(2) + dim(3)}, ctx),
      AffineMap::get(4, 0, {dim(1), dim(3)}, ctx),
      AffineMap::get(4, 0, {dim(0), dim(1), dim(2)}, ctx)};
  SmallVector<utils::IteratorType> iters(3, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  Value y = linalg::GenericOp::create(
                nc.b, nc.loc, TypeRange{init.getType()},
                ValueRange{padded, nc.reshape(wide(1), {c, k})},
                ValueRange{init}, maps, iters,
                [](OpBuilder &ob, Location l, ValueRange a) {
                  Value m = arith::MulFOp::create(ob, l, a[0], a[1]);
                  linalg::YieldOp::create(ob, l, ValueRange{arith::AddFOp::create(
                                                     ob, l, a[2], m)});
                })
                .getResult(0);
  if (act != "none")
    y = nc.elementwiseTo(y, {b, c, l}, f32,
                         [](OpBuilder &ob, Location l, ValueRange a) -> Value {
                           Value one = arith::ConstantOp::create(
                               ob, l, ob.getF32FloatAttr(1));
                           Value e = math::ExpOp::create(
                               ob, l, arith::NegFOp::create(ob, l, a[0]));
                           return arith::DivFOp::create(
                               ob, l, a[0], arith::AddFOp::create(ob, l, one, e));
                         });
  nc.setOutput(0, nc.castTo(y, TP::FLOAT, d), d);
  if (nc.hasOutput(1)) {
    Value state = tensor::ExtractSliceOp::create(
        nc.b, nc.loc, RankedTensorType::get(stateShape, f32), padded,
        ValueRange{}, ValueRange{}, ValueRange{},
        // An empty state (k = 1) starts at 0: the verifier refuses an
        // offset at the end of the dimension.
        nc.b.getDenseI64ArrayAttr({0, 0, k > 1 ? l : 0}),
        nc.b.getDenseI64ArrayAttr(stateShape),
        nc.b.getDenseI64ArrayAttr({1, 1, 1}));
    nc.setOutput(1, nc.castTo(state, TP::FLOAT, d), d);
  }
  return success();
}

void qc::detail::registerConvPoolOps(OpRegistry &r) {
  r.add("CausalConvWithState", importCausalConvWithState);
  r.add("Conv", importConv);
  r.add("ConvInteger", importConvInteger);
  r.add("QLinearConv", importQLinearConv);
  r.add("ConvTranspose", importConvTranspose);
  r.add("MaxPool", importMaxPool);
  r.add("LpPool", importLpPool);
  r.add("AveragePool", importAveragePool);
  r.add("GlobalAveragePool",
        [](NodeContext &nc) { return importGlobalPool(nc, false); });
  r.add("GlobalMaxPool",
        [](NodeContext &nc) { return importGlobalPool(nc, true); });
}
