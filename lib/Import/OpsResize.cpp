//===- OpsResize.cpp - ONNX Resize ----------------------------------------===//
//
// Resize as the ONNX reference computes it: separably, one axis at a time.
// Shapes are static, so for each resized axis the source positions and
// weights of every output position are computed here, in double, following
// the reference's coordinate transformations and coefficient functions
// (nearest / linear / cubic, antialiased filters, exclude_outside, edge
// clamping), and the axis becomes one linalg.generic:
//   out[.., o, ..] = sum_k w[o][k] * in[.., index[o][k], ..] + bias[o]
// where bias carries tf_crop_and_resize's extrapolation value (its weights
// are then 0). Nearest resizing without extrapolation is a gather of the one
// index whose weight is 1, for every element type.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"
#include "ShapeUtils.h"

#include <cmath>

using namespace mlir;
using namespace qc::detail;

namespace {

/// The node's attributes, checked.
struct ResizeAttrs {
  std::string mode, coordinates, nearest, policy;
  double cubicA = -0.75, extrapolation = 0.0;
  bool excludeOutside = false, antialias = false;
};

/// The weights of one output position: `ratio` in (0, 1] is the distance
/// from the source pixel on the left, `scale` the axis' scale factor.
std::vector<double> coefficients(const ResizeAttrs &a, double ratio,
                                 double scale) {
  if (a.mode == "nearest") {
    if (ratio == 1.0 || a.nearest == "ceil")
      return {0, 1};
    if (a.nearest == "floor")
      return {1, 0};
    bool up = a.nearest == "round_prefer_ceil" ? ratio >= 0.5 : ratio > 0.5;
    return {double(!up), double(up)};
  }
  std::vector<double> c;
  if (a.mode == "linear" && !a.antialias)
    return {1 - ratio, ratio};
  if (a.mode == "linear") {
    // The triangle filter stretched by 1 / scale when downscaling.
    double s = std::min(scale, 1.0);
    int64_t start = int64_t(std::floor(-1 / s)) + 1;
    for (int64_t i = start; i < 2 - start; ++i)
      c.push_back(std::clamp(1 - std::abs((i - ratio) * s), 0.0, 1.0));
  } else {
    double A = a.cubicA;
    auto cubic = [&](double x) {
      x = std::abs(x);
      if (x <= 1)
        return ((A + 2) * x - (A + 3)) * x * x + 1;
      if (x < 2)
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
      return 0.0;
    };
    if (!a.antialias)
      return {cubic(ratio + 1), cubic(ratio), cubic(1 - ratio),
              cubic(2 - ratio)};
    double s = std::min(scale, 1.0);
    int64_t start = int64_t(std::floor(-2 / s)) + 1;
    for (int64_t i = start; i < 2 - start; ++i)
      c.push_back(cubic(s * (i - ratio)));
  }
  double sum = 0;
  for (double x : c)
    sum += x;
  for (double &x : c)
    x /= sum;
  return c;
}

/// The source coordinate of output position y; `outside` for
/// tf_crop_and_resize's positions outside the input.
double sourceCoordinate(const ResizeAttrs &a, double y, double scale,
                        int64_t in, int64_t out, double roiStart, double roiEnd,
                        bool &outside) {
  double width = scale * double(in);
  outside = false;
  const std::string &m = a.coordinates;
  if (m == "align_corners")
    return width == 1 ? 0.0 : y * double(in - 1) / (width - 1);
  if (m == "asymmetric")
    return y / scale;
  if (m == "tf_half_pixel_for_nn")
    return (y + 0.5) / scale;
  if (m == "tf_crop_and_resize") {
    double x = width == 1
                   ? (roiEnd - roiStart) * double(in - 1) / 2
                   : y * (roiEnd - roiStart) * double(in - 1) / (width - 1);
    x += roiStart * double(in - 1);
    outside = x < 0 || x > double(in - 1);
    return x;
  }
  if (m == "pytorch_half_pixel")
    return width == 1 ? -0.5 : (y + 0.5) / scale - 0.5;
  if (m == "half_pixel_symmetric") {
    double offset = double(in) / 2 * (1 - double(out) / width);
    return offset + (y + 0.5) / scale - 0.5;
  }
  return (y + 0.5) / scale - 0.5; // half_pixel
}

/// Source indices (clamped into the input: edge padding) and weights of
/// every output position of one axis.
struct AxisTable {
  int64_t taps = 0;
  std::vector<int64_t> index;
  std::vector<double> weight, bias;
  bool extrapolates = false;
};

AxisTable axisTable(const ResizeAttrs &a, int64_t in, int64_t out, double scale,
                    double roiStart, double roiEnd) {
  AxisTable t;
  for (int64_t y = 0; y < out; ++y) {
    bool outside;
    double x = sourceCoordinate(a, double(y), scale, in, out, roiStart, roiEnd,
                                outside);
    double left = std::floor(x);
    std::vector<double> c = coefficients(a, x == left ? 1.0 : x - left, scale);
    int64_t n = int64_t(c.size());
    t.taps = n;
    // The n positions nearest to x, the smaller ones first on ties.
    int64_t pad = (n + 1) / 2;
    double xp = x + double(pad);
    double p = std::floor(xp), frac = xp - p;
    int64_t offset = n % 2 == 0
                         ? (frac == 0 ? -(n / 2) : -(n / 2) + 1)
                         : (frac <= 0.5 ? -((n - 1) / 2) : -((n - 1) / 2) + 1);
    int64_t first = int64_t(p) + offset - pad;
    if (a.excludeOutside) {
      double sum = 0;
      for (int64_t k = 0; k < n; ++k) {
        if (first + k < 0 || first + k >= in)
          c[k] = 0;
        sum += c[k];
      }
      for (double &w : c)
        w /= sum == 0 ? 1 : sum;
    }
    for (int64_t k = 0; k < n; ++k) {
      t.index.push_back(std::clamp<int64_t>(first + k, 0, in - 1));
      t.weight.push_back(outside ? 0.0 : c[k]);
    }
    t.bias.push_back(outside ? a.extrapolation : 0.0);
    t.extrapolates |= outside;
  }
  return t;
}

/// out[.., o, ..] = in[.., index[o], ..]: the tap of weight 1 of each
/// nearest-resized position.
Value gatherAxis(NodeContext &nc, Value in, int64_t axis,
                 ArrayRef<int64_t> outShape, const AxisTable &t) {
  SmallVector<int64_t> pick;
  for (size_t o = 0; o * t.taps < t.index.size(); ++o) {
    int64_t k = 0;
    while (k + 1 < t.taps && t.weight[o * t.taps + k] != 1.0)
      ++k;
    pick.push_back(t.index[o * t.taps + k]);
  }
  Value table = nc.constant(HostTensor::fromInts(pick, {int64_t(pick.size())}),
                            "resize_index");
  Type elt = cast<RankedTensorType>(in.getType()).getElementType();
  return emitGeneric(
      nc, outShape, elt, {}, {},
      [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> ivs) {
        SmallVector<Value> at(ivs);
        Value i = tensor::ExtractOp::create(b, l, table, ivs[axis]);
        at[axis] = arith::IndexCastOp::create(b, l, b.getIndexType(), i);
        return tensor::ExtractOp::create(b, l, in, at);
      });
}

/// out[.., o, ..] = sum_k w[o][k] in[.., index[o][k], ..] + bias[o], in the
/// input's float type `dtype`.
Value weighAxis(NodeContext &nc, Value in, DType dtype, int64_t axis,
                ArrayRef<int64_t> outShape, const AxisTable &t) {
  Type elt = cast<RankedTensorType>(in.getType()).getElementType();
  int64_t out = outShape[axis];
  Value index =
      nc.constant(HostTensor::fromInts(t.index, {out, t.taps}), "resize_index");
  Value weight = nc.constant(
      HostTensor::fromDoubles(t.weight, {out, t.taps}, dtype), "resize_weight");
  Value bias =
      nc.constant(HostTensor::fromDoubles(t.bias, {out}, dtype), "resize_bias");
  return emitGeneric(
      nc, outShape, elt, {}, {},
      [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> ivs) {
        Value acc = tensor::ExtractOp::create(b, l, bias, ivs[axis]);
        SmallVector<Value> at(ivs);
        for (int64_t k = 0; k < t.taps; ++k) {
          Value kk = cidx(b, l, k);
          Value i =
              tensor::ExtractOp::create(b, l, index, ValueRange{ivs[axis], kk});
          at[axis] = arith::IndexCastOp::create(b, l, b.getIndexType(), i);
          Value x = tensor::ExtractOp::create(b, l, in, at);
          Value w = tensor::ExtractOp::create(b, l, weight,
                                              ValueRange{ivs[axis], kk});
          acc = arith::AddFOp::create(b, l, acc,
                                      arith::MulFOp::create(b, l, w, x));
        }
        return acc;
      });
}

FailureOr<ResizeAttrs> readAttrs(NodeContext &nc) {
  ResizeAttrs a;
  bool opset10 = nc.opset() < 11;
  a.mode = nc.attrString("mode", "nearest");
  a.coordinates = nc.attrString("coordinate_transformation_mode",
                                opset10 ? "asymmetric" : "half_pixel");
  a.nearest =
      nc.attrString("nearest_mode", opset10 ? "floor" : "round_prefer_floor");
  a.policy = nc.attrString("keep_aspect_ratio_policy", "stretch");
  a.cubicA = nc.attrFloat("cubic_coeff_a", -0.75f);
  a.extrapolation = nc.attrFloat("extrapolation_value", 0.0f);
  a.excludeOutside = nc.attrInt("exclude_outside", 0) != 0;
  a.antialias = nc.attrInt("antialias", 0) != 0;
  auto oneOf = [](StringRef v, ArrayRef<StringRef> list) {
    return llvm::is_contained(list, v);
  };
  if (!oneOf(a.mode, {"nearest", "linear", "cubic"})) {
    nc.error() << "unknown mode '" << a.mode << "'";
    return failure();
  }
  if (!oneOf(a.coordinates,
             {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
              "align_corners", "asymmetric", "tf_crop_and_resize",
              "tf_half_pixel_for_nn"})) {
    nc.error() << "unknown coordinate_transformation_mode '" << a.coordinates
               << "'";
    return failure();
  }
  if (!oneOf(a.nearest,
             {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})) {
    nc.error() << "unknown nearest_mode '" << a.nearest << "'";
    return failure();
  }
  if (!oneOf(a.policy, {"stretch", "not_larger", "not_smaller"})) {
    nc.error() << "unknown keep_aspect_ratio_policy '" << a.policy << "'";
    return failure();
  }
  if (a.antialias && a.mode == "nearest") {
    nc.error() << "antialias applies to linear and cubic modes only";
    return failure();
  }
  return a;
}

/// A present input's values, which must be known at import time; empty
/// when it is absent or has no elements.
FailureOr<std::vector<double>> constantValues(NodeContext &nc, unsigned i,
                                              StringRef what) {
  std::vector<double> values;
  if (!nc.hasInput(i) || nc.inputType(i).getNumElements() == 0)
    return values;
  const HostTensor *t = nc.inputConstant(i);
  if (!t) {
    nc.error() << what << " (input " << i << ") must be known at compile time";
    return failure();
  }
  for (int64_t k = 0; k < t->numElements(); ++k)
    values.push_back(t->getDouble(k));
  return values;
}

/// Scales, output sizes and roi of every axis of a rank-r input of shape
/// `in`.
struct ResizePlan {
  SmallVector<double> scale, roiStart, roiEnd;
  SmallVector<int64_t> out;
};

FailureOr<ResizePlan> plan(NodeContext &nc, const ResizeAttrs &a,
                           ArrayRef<int64_t> in) {
  int64_t r = in.size();
  bool opset10 = nc.opset() < 11;
  // The roi matters to tf_crop_and_resize only.
  FailureOr<std::vector<double>> roi =
      opset10 || a.coordinates != "tf_crop_and_resize"
          ? FailureOr<std::vector<double>>(std::vector<double>())
          : constantValues(nc, 1, "roi");
  FailureOr<std::vector<double>> scales =
      constantValues(nc, opset10 ? 1 : 2, "scales");
  FailureOr<std::vector<double>> sizes =
      opset10 ? FailureOr<std::vector<double>>(std::vector<double>())
              : constantValues(nc, 3, "sizes");
  if (failed(roi) || failed(scales) || failed(sizes))
    return failure();
  SmallVector<int64_t> axes = nc.attrInts("axes");
  if (axes.empty())
    for (int64_t i = 0; i < r; ++i)
      axes.push_back(i);
  for (int64_t &x : axes) {
    FailureOr<int64_t> axis = nc.normalizeAxis(x, r);
    if (failed(axis))
      return failure();
    x = *axis;
  }
  size_t n = axes.size();
  if (scales->empty() == sizes->empty()) {
    nc.error() << "give exactly one of scales and sizes";
    return failure();
  }
  if ((!scales->empty() && scales->size() != n) ||
      (!sizes->empty() && sizes->size() != n) ||
      (a.coordinates == "tf_crop_and_resize" && roi->size() != 2 * n)) {
    nc.error() << "scales, sizes and roi need an entry (roi: two) per "
                  "resized axis ("
               << n << ")";
    return failure();
  }
  ResizePlan p;
  p.out.assign(in.begin(), in.end());
  p.scale.assign(r, 1.0);
  p.roiStart.assign(r, 0.0);
  p.roiEnd.assign(r, 1.0);
  for (size_t i = 0; i < n; ++i) {
    int64_t d = axes[i];
    if (!roi->empty() && roi->size() == 2 * n) {
      p.roiStart[d] = (*roi)[i];
      p.roiEnd[d] = (*roi)[n + i];
    }
    if (!scales->empty()) {
      p.scale[d] = (*scales)[i];
      if (!(p.scale[d] > 0)) {
        nc.error() << "scales must be positive, found " << p.scale[d];
        return failure();
      }
      p.out[d] = int64_t(p.scale[d] * double(in[d]));
    } else {
      p.out[d] = int64_t((*sizes)[i]);
      if (p.out[d] <= 0 || in[d] == 0) {
        nc.error() << "sizes must be positive and the input "
                      "non-empty";
        return failure();
      }
      p.scale[d] = double(p.out[d]) / double(in[d]);
    }
  }
  if (!sizes->empty() && a.policy != "stretch") {
    double s = a.policy == "not_larger" ? INFINITY : 0.0;
    for (int64_t d : axes)
      s = a.policy == "not_larger" ? std::min(s, p.scale[d])
                                   : std::max(s, p.scale[d]);
    for (int64_t d : axes) {
      p.scale[d] = s;
      p.out[d] = int64_t(s * double(in[d]) + 0.5);
    }
  }
  return p;
}

LogicalResult importResize(NodeContext &nc) {
  if (!nc.hasInput(0) || !nc.hasOutput(0)) {
    nc.error() << "expects input X and output Y";
    return failure();
  }
  FailureOr<ResizeAttrs> attrs = readAttrs(nc);
  if (failed(attrs))
    return failure();
  Value x = nc.input(0);
  DType dtype = nc.inputDType(0);
  SmallVector<int64_t> shape(nc.inputType(0).getShape());
  FailureOr<ResizePlan> p = plan(nc, *attrs, shape);
  if (failed(p))
    return failure();
  if (attrs->mode != "nearest" && !isFloat(dtype)) {
    nc.error() << attrs->mode << " resizing of " << dtypeName(dtype)
               << " tensors is not supported (float types only)";
    return failure();
  }
  for (int64_t d = 0; d < int64_t(shape.size()); ++d) {
    bool trivialRoi =
        std::abs(p->roiStart[d]) < 1e-9 && std::abs(p->roiEnd[d] - 1) < 1e-9;
    if (std::abs(p->scale[d] - 1) < 1e-9 && p->out[d] == shape[d] &&
        (trivialRoi || attrs->coordinates != "tf_crop_and_resize"))
      continue;
    if (shape[d] == 0 || p->out[d] == 0) {
      nc.error() << "cannot resize an axis of size 0";
      return failure();
    }
    AxisTable t = axisTable(*attrs, shape[d], p->out[d], p->scale[d],
                            p->roiStart[d], p->roiEnd[d]);
    shape[d] = p->out[d];
    bool gather = attrs->mode == "nearest" && !t.extrapolates;
    if (!gather && !isFloat(dtype)) {
      nc.error() << "extrapolating " << dtypeName(dtype)
                 << " tensors is not supported (float types only)";
      return failure();
    }
    x = gather ? gatherAxis(nc, x, d, shape, t)
               : weighAxis(nc, x, dtype, d, shape, t);
  }
  nc.setOutput(0, x, dtype);
  return success();
}

} // namespace

void qc::detail::registerResizeOps(OpRegistry &registry) {
  registry.add("Resize", importResize);
}
