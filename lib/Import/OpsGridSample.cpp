//===- OpsGridSample.cpp - ONNX GridSample --------------------------------===//
//
// GridSample as the ONNX reference computes it, one linalg.generic over the
// output [N, C, out...]: each position reads its grid entry (normalized
// coordinates, x first), denormalizes them (align_corners or not), rounds
// them to nearest-even for nearest mode, brings coordinates outside the
// image back as padding_mode says (border: clamp, reflection: reflect off
// the borders; cubic's border clamps each tap instead, as onnxruntime and
// PyTorch do), and sums the taps of its interpolation (1 for nearest, 2
// per dim for linear, 4 per dim for cubic with Keys' a = -0.75), each tap
// read as padding_mode says (zeros: 0 outside the image).
//
//===----------------------------------------------------------------------===//

#include "Importer.h"
#include "ShapeUtils.h"

using namespace mlir;
using namespace qc::detail;

namespace {

/// Emits the arithmetic of one output position.
class Sampler {
public:
  Sampler(OpBuilder &b, Location l, Type t, StringRef mode, StringRef padding,
          bool alignCorners)
      : b(b), l(l), t(t), mode(mode), padding(padding),
        alignCorners(alignCorners) {}

  Value f(double v) {
    return arith::ConstantOp::create(b, l, FloatAttr::get(t, v));
  }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, l, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, l, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, l, x, y); }
  Value lt(Value x, Value y) {
    return arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, y);
  }
  Value sel(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, l, c, x, y);
  }

  /// The pixel coordinate of normalized `n` along an axis of `len`.
  Value denormalize(Value n, int64_t len) {
    Value one = f(1.0);
    if (alignCorners)
      return mul(add(n, one), f(double(len - 1) / 2));
    return arith::DivFOp::create(
        b, l, sub(mul(add(n, one), f(double(len))), one), f(2.0));
  }

  /// x reflected off the borders [lo, hi] until inside them.
  Value reflect(Value x, double lo, double hi) {
    double range = hi - lo;
    if (range <= 0)
      return f(lo);
    auto side = [&](Value dx, double near, double far) {
      Value n = arith::FPToSIOp::create(
          b, l, b.getI64Type(), arith::DivFOp::create(b, l, dx, f(range)));
      Value r = sub(dx, mul(arith::SIToFPOp::create(b, l, t, n), f(range)));
      Value odd = arith::TruncIOp::create(b, l, b.getI1Type(), n);
      Value towardFar = near < far ? add(f(near), r) : sub(f(near), r);
      Value towardNear = near < far ? sub(f(far), r) : add(f(far), r);
      return sel(odd, towardNear, towardFar);
    };
    Value below = side(sub(f(lo), x), lo, hi);
    Value above = side(sub(x, f(hi)), hi, lo);
    return sel(lt(x, f(lo)), below, sel(lt(f(hi), x), above, x));
  }

  /// The coordinate after the padding fix-up of coordinates outside the
  /// image's borders.
  Value fixCoordinate(Value x, int64_t len) {
    double lo = alignCorners ? 0.0 : -0.5;
    double hi = alignCorners ? double(len - 1) : double(len) - 0.5;
    Value outside = arith::OrIOp::create(b, l, lt(x, f(lo)), lt(f(hi), x));
    Value fixed = x;
    // Cubic taps clamp each tap instead (onnxruntime and PyTorch; the ONNX
    // reference clamps the coordinate too, which no node test covers).
    if (padding == "border" && mode != "cubic")
      fixed = arith::MinNumFOp::create(
          b, l, arith::MaxNumFOp::create(b, l, x, f(0.0)), f(double(len - 1)));
    else if (padding == "reflection")
      fixed = reflect(x, lo, hi);
    return sel(outside, fixed, x);
  }

  /// Tap `i` (an integer-valued float) of an axis of `len`: its index into
  /// the image and whether it reads the image (zeros padding reads 0
  /// outside).
  std::pair<Value, Value> tap(Value i, int64_t len) {
    Value inside = arith::AndIOp::create(
        b, l, arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, i, f(0)),
        lt(i, f(double(len))));
    Value fixed = i;
    if (padding == "border" || padding == "zeros")
      fixed = arith::MinNumFOp::create(
          b, l, arith::MaxNumFOp::create(b, l, i, f(0.0)), f(double(len - 1)));
    else
      fixed = reflect(i, alignCorners ? 0.0 : -0.5,
                      alignCorners ? double(len - 1) : double(len) - 0.5);
    Value index = arith::IndexCastOp::create(
        b, l, b.getIndexType(),
        arith::FPToSIOp::create(b, l, b.getI64Type(), fixed));
    Value reads = padding == "zeros"
                      ? inside
                      : arith::ConstantOp::create(b, l, b.getBoolAttr(true));
    return {index, reads};
  }

  /// The taps of coordinate x along one axis: (index, reads, weight).
  struct Tap {
    Value index, reads, weight;
  };
  SmallVector<Tap> taps(Value x, int64_t len) {
    SmallVector<Tap> out;
    if (mode == "nearest") {
      auto [index, reads] = tap(x, len);
      out.push_back({index, reads, f(1.0)});
      return out;
    }
    Value base = math::FloorOp::create(b, l, x);
    Value r = sub(x, base);
    SmallVector<Value> weights;
    int64_t first = 0;
    if (mode == "linear") {
      weights = {sub(f(1.0), r), r};
    } else {
      // Keys' cubic convolution, a = -0.75, at distances r + 1, r, 1 - r,
      // 2 - r.
      double a = -0.75;
      auto near = [&](Value d) { // |d| <= 1
        return add(mul(mul(sub(mul(f(a + 2), d), f(a + 3)), d), d), f(1.0));
      };
      auto far = [&](Value d) { // 1 < |d| < 2
        return sub(mul(add(mul(sub(mul(f(a), d), f(5 * a)), d), f(8 * a)), d),
                   f(4 * a));
      };
      weights = {far(add(r, f(1.0))), near(r), near(sub(f(1.0), r)),
                 far(sub(f(2.0), r))};
      first = -1;
    }
    for (size_t k = 0; k < weights.size(); ++k) {
      auto [index, reads] = tap(add(base, f(double(first + int64_t(k)))), len);
      out.push_back({index, reads, weights[k]});
    }
    return out;
  }

private:
  OpBuilder &b;
  Location l;
  Type t;
  StringRef mode, padding;
  bool alignCorners;
};

LogicalResult importGridSample(NodeContext &nc) {
  Value x = nc.input(0), grid = nc.input(1);
  DType d = nc.inputDType(0);
  if (!x || !grid || !isFloat(d) || !isFloat(nc.inputDType(1))) {
    nc.error() << "expects float inputs X and grid";
    return failure();
  }
  std::string mode =
      nc.attrString("mode", nc.opset() < 20 ? "bilinear" : "linear");
  mode = mode == "bilinear" ? "linear" : mode == "bicubic" ? "cubic" : mode;
  std::string padding = nc.attrString("padding_mode", "zeros");
  bool align = nc.attrInt("align_corners", 0) != 0;
  if (mode != "nearest" && mode != "linear" && mode != "cubic") {
    nc.error() << "unknown mode '" << mode << "'";
    return failure();
  }
  if (padding != "zeros" && padding != "border" && padding != "reflection") {
    nc.error() << "unknown padding_mode '" << padding << "'";
    return failure();
  }
  auto xt = cast<RankedTensorType>(x.getType());
  auto gt = cast<RankedTensorType>(grid.getType());
  int64_t rank = xt.getRank(), dims = rank - 2;
  if (rank < 3 || gt.getRank() != rank ||
      gt.getDimSize(0) != xt.getDimSize(0) || gt.getDimSize(rank - 1) != dims) {
    nc.error() << "expects X [N, C, D1..Dk] and grid [N, O1..Ok, k], found "
               << listStr(xt.getShape()) << " and " << listStr(gt.getShape());
    return failure();
  }
  SmallVector<int64_t> outShape = {xt.getDimSize(0), xt.getDimSize(1)};
  for (int64_t i = 1; i + 1 < rank; ++i)
    outShape.push_back(gt.getDimSize(i));
  for (int64_t i = 0; i < dims; ++i)
    if (xt.getDimSize(2 + i) == 0) {
      nc.error() << "cannot sample an empty image";
      return failure();
    }
  Type elt = xt.getElementType();
  Value out = emitGeneric(
      nc, outShape, elt, {}, {},
      [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> ivs) {
        Sampler s(b, l, elt, mode, padding, align);
        // Axis i (of D1..Dk) takes grid component k - 1 - i.
        SmallVector<SmallVector<Sampler::Tap>> perAxis;
        for (int64_t i = 0; i < dims; ++i) {
          SmallVector<Value> at = {ivs[0]};
          at.append(ivs.begin() + 2, ivs.end());
          at.push_back(cidx(b, l, dims - 1 - i));
          Value g = tensor::ExtractOp::create(b, l, grid, at);
          if (g.getType() != elt)
            g = g.getType().getIntOrFloatBitWidth() <
                        elt.getIntOrFloatBitWidth()
                    ? (Value)arith::ExtFOp::create(b, l, elt, g)
                    : (Value)arith::TruncFOp::create(b, l, elt, g);
          int64_t len = xt.getDimSize(2 + i);
          Value c = s.denormalize(g, len);
          if (mode == "nearest")
            c = math::RoundEvenOp::create(b, l, c);
          perAxis.push_back(s.taps(s.fixCoordinate(c, len), len));
        }
        // Sum over every combination of the axes' taps.
        Value acc = s.f(0.0);
        SmallVector<size_t> pick(dims, 0);
        while (true) {
          SmallVector<Value> at = {ivs[0], ivs[1]};
          Value weight = s.f(1.0);
          Value reads = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
          for (int64_t i = 0; i < dims; ++i) {
            const Sampler::Tap &tp = perAxis[i][pick[i]];
            at.push_back(tp.index);
            weight = s.mul(weight, tp.weight);
            reads = arith::AndIOp::create(b, l, reads, tp.reads);
          }
          Value v = tensor::ExtractOp::create(b, l, x, at);
          acc = s.add(acc, s.mul(weight, s.sel(reads, v, s.f(0.0))));
          int64_t i = dims - 1;
          while (i >= 0 && ++pick[i] == perAxis[i].size())
            pick[i--] = 0;
          if (i < 0)
            break;
        }
        return acc;
      });
  nc.setOutput(0, out, d);
  return success();
}

/// AffineGrid: the sampling grid [N, (D,) H, W, K] of an affine map,
/// grid[n, s, i] = theta[n, i, K] + sum_c theta[n, i, c] * coord_c(s), the
/// coordinates in [-1, 1] of output position s (x along the last spatial
/// dim first): pixel centers (2 p + 1) / L - 1, or with align_corners the
/// corners -1 + 2 p / (L - 1); a dim of size 1 is then at -1, as ONNX's
/// reference computes it (onnxruntime puts it at +1).
LogicalResult importAffineGrid(NodeContext &nc) {
  Value theta = floatInput(nc, 0);
  if (!theta)
    return failure();
  const HostTensor *size = nc.inputConstant(1);
  if (!size || size->shape.size() != 1 ||
      (size->numElements() != 4 && size->numElements() != 5)) {
    nc.error() << "the size (input 1) must be known at compile time: "
                  "[N, C, H, W] or [N, C, D, H, W]";
    return failure();
  }
  SmallVector<int64_t> dims = size->toInts();
  int64_t k = dims.size() - 2, n = dims[0];
  SmallVector<int64_t> spatial(dims.begin() + 2, dims.end());
  ArrayRef<int64_t> thetaShape =
      cast<RankedTensorType>(theta.getType()).getShape();
  if (thetaShape != ArrayRef<int64_t>{n, k, k + 1}) {
    nc.error() << "theta must have shape [" << n << ", " << k << ", " << k + 1
               << "] for the size given";
    return failure();
  }
  SmallVector<int64_t> shape = {n};
  llvm::append_range(shape, spatial);
  shape.push_back(k);
  if (failed(checkShape(nc, shape, "the grid's shape")))
    return failure();
  if (llvm::any_of(spatial, [](int64_t s) { return s <= 0; })) {
    nc.error() << "the spatial sizes must be positive";
    return failure();
  }
  bool align = nc.attrInt("align_corners", 0) != 0;
  Type elt = cast<RankedTensorType>(theta.getType()).getElementType();
  Value grid = emitGeneric(
      nc, shape, elt, {}, {},
      [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> idx) -> Value {
        auto cst = [&](double v) -> Value {
          return arith::ConstantOp::create(b, l, b.getFloatAttr(elt, v));
        };
        auto thetaAt = [&](int64_t c) -> Value {
          Value col = arith::ConstantIndexOp::create(b, l, c);
          return tensor::ExtractOp::create(b, l, theta,
                                           ValueRange{idx[0], idx[k + 1], col});
        };
        Value acc = thetaAt(k);
        for (int64_t c = 0; c < k; ++c) {
          int64_t dim = k - 1 - c, len = spatial[dim];
          double step = align ? (len == 1 ? 0.0 : 2.0 / (len - 1)) : 2.0 / len;
          double first = align ? -1.0 : 1.0 / len - 1.0;
          Value p =
              arith::IndexCastOp::create(b, l, b.getI64Type(), idx[1 + dim]);
          Value coord = arith::AddFOp::create(
              b, l,
              arith::MulFOp::create(b, l, arith::SIToFPOp::create(b, l, elt, p),
                                    cst(step)),
              cst(first));
          acc = arith::AddFOp::create(
              b, l, acc, arith::MulFOp::create(b, l, thetaAt(c), coord));
        }
        return acc;
      });
  nc.setOutput(0, grid, nc.inputDType(0));
  return success();
}

} // namespace

void qc::detail::registerGridSampleOps(OpRegistry &registry) {
  registry.add("GridSample", importGridSample);
  registry.add("AffineGrid", importAffineGrid);
}
