//===- OpsShape.cpp - ONNX shape and layout ops ---------------------------===//
//
// Every shape is static, so Shape and Size always fold to constants, and
// shape-like inputs (target shapes, axes, pads, repeats, slice bounds) must
// be known at import time. When the data inputs are known as well the result
// is computed on the host and bound as a constant (for layout ops of any
// size, for ops that can grow the data up to a size), so that shape
// subgraphs and layout changes of weights fold. Otherwise the ops become
// tensor.expand_shape / collapse_shape / extract_slice / insert_slice,
// linalg.transpose and linalg.generic; gathers with run-time indices read
// their data with tensor.extract inside a linalg.generic.
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
// Constants and shape queries
//===----------------------------------------------------------------------===//

LogicalResult importConstant(NodeContext &nc) {
  if (nc.node.attribute_size() != 1) {
    nc.error() << "expects exactly one value attribute, found "
               << nc.node.attribute_size() << " attributes";
    return failure();
  }
  const onnx::AttributeProto &a = nc.node.attribute(0);
  const std::string &name = a.name();
  HostTensor t;
  if (name == "value") {
    if (!a.has_t()) {
      nc.error() << "attribute 'value' is not a tensor";
      return failure();
    }
    std::string e = decodeTensor(a.t(), t);
    if (!e.empty()) {
      nc.error() << "attribute 'value': " << e;
      return failure();
    }
  } else if (name == "value_float") {
    t = HostTensor::fromDoubles({a.f()}, {}, TP::FLOAT);
  } else if (name == "value_floats") {
    SmallVector<double> v(a.floats().begin(), a.floats().end());
    t = HostTensor::fromDoubles(v, {static_cast<int64_t>(v.size())},
                                TP::FLOAT);
  } else if (name == "value_int") {
    t = HostTensor::fromInts({a.i()}, {}, TP::INT64);
  } else if (name == "value_ints") {
    SmallVector<int64_t> v(a.ints().begin(), a.ints().end());
    t = HostTensor::fromInts(v, {static_cast<int64_t>(v.size())}, TP::INT64);
  } else if (name == "sparse_value") {
    nc.error() << "sparse constants (attribute 'sparse_value') are not "
                  "supported";
    return failure();
  } else if (name == "value_string" || name == "value_strings") {
    nc.error() << "string constants (attribute '" << name
               << "') are not supported";
    return failure();
  } else {
    nc.error() << "unknown attribute '" << name << "'";
    return failure();
  }
  nc.setOutputConstant(0, std::move(t));
  return success();
}

LogicalResult importShape(NodeContext &nc) {
  if (failed(requireInputs(nc, 1)))
    return failure();
  SmallVector<int64_t> shape = inputShape(nc, 0);
  int64_t rank = shape.size();
  int64_t start = nc.attrInt("start", 0), end = nc.attrInt("end", rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  ArrayRef<int64_t> dims = ArrayRef<int64_t>(shape).slice(start, end - start);
  nc.setOutputConstant(
      0, HostTensor::fromInts(dims, {static_cast<int64_t>(dims.size())}));
  return success();
}

LogicalResult importSize(NodeContext &nc) {
  if (failed(requireInputs(nc, 1)))
    return failure();
  nc.setOutputConstant(
      0, HostTensor::fromInts({shapeProduct(inputShape(nc, 0))}, {}));
  return success();
}

LogicalResult importConstantOfShape(NodeContext &nc) {
  if (failed(requireInputs(nc, 1)))
    return failure();
  FailureOr<SmallVector<int64_t>> shape =
      nc.constantInts(0, "the shape (input 0)");
  if (failed(shape) || failed(checkShape(nc, *shape, "shape")))
    return failure();
  HostTensor value = HostTensor::fromDoubles({0.0}, {}, TP::FLOAT);
  if (const onnx::AttributeProto *a = nc.attr("value")) {
    std::string e = decodeTensor(a->t(), value);
    if (!e.empty()) {
      nc.error() << "attribute 'value': " << e;
      return failure();
    }
    if (value.numElements() != 1) {
      nc.error() << "attribute 'value' must hold one element, found "
                 << value.numElements();
      return failure();
    }
  }
  int64_t n = shapeProduct(*shape);
  if (n <= kMaxFoldElements) {
    nc.setOutputConstant(0, hostRemap(value, *shape, [](ArrayRef<int64_t>) {
                           return int64_t(0);
                         }));
    return success();
  }
  Type elt = toMLIRType(nc.ctx(), value.dtype);
  nc.setOutput(0, nc.filled(*shape, hostScalar(nc, value, 0, elt)),
               value.dtype);
  return success();
}

LogicalResult importRange(NodeContext &nc) {
  if (failed(requireInputs(nc, 3)))
    return failure();
  const HostTensor *in[3];
  const char *names[] = {"start", "limit", "delta"};
  for (unsigned i = 0; i < 3; ++i) {
    in[i] = nc.inputConstant(i);
    if (!in[i]) {
      nc.error() << "'" << names[i] << "' (input " << i
                 << ") must be known at compile time: Range with run-time "
                    "bounds has a data-dependent shape, which is not "
                    "supported";
      return failure();
    }
    if (in[i]->numElements() != 1) {
      nc.error() << "'" << names[i] << "' must be a scalar, found "
                 << in[i]->numElements() << " elements";
      return failure();
    }
  }
  DType d = nc.inputDType(0);
  constexpr int64_t maxCount = int64_t(1) << 28;
  if (isFloat(d)) {
    double start = in[0]->getDouble(0), limit = in[1]->getDouble(0),
           delta = in[2]->getDouble(0);
    if (delta == 0 || !std::isfinite(start) || !std::isfinite(limit) ||
        !std::isfinite(delta)) {
      nc.error() << "expects finite bounds and a non-zero delta, found start "
                 << start << ", limit " << limit << ", delta " << delta;
      return failure();
    }
    double count = std::max(std::ceil((limit - start) / delta), 0.0);
    if (count > maxCount) {
      nc.error() << "would produce " << count << " elements";
      return failure();
    }
    SmallVector<double> v;
    for (int64_t i = 0; i < static_cast<int64_t>(count); ++i)
      v.push_back(start + i * delta);
    nc.setOutputConstant(
        0, HostTensor::fromDoubles(v, {static_cast<int64_t>(v.size())}, d));
    return success();
  }
  if (!isInteger(d)) {
    nc.error() << "element type " << dtypeName(d) << " is not supported";
    return failure();
  }
  int64_t start = in[0]->getInt(0), limit = in[1]->getInt(0),
          delta = in[2]->getInt(0);
  if (delta == 0) {
    nc.error() << "expects a non-zero delta";
    return failure();
  }
  // Count in double first: the bounds may be far apart.
  double approx = std::ceil((static_cast<double>(limit) - start) / delta);
  if (approx > maxCount) {
    nc.error() << "would produce " << approx << " elements";
    return failure();
  }
  SmallVector<int64_t> v;
  for (int64_t x = start; delta > 0 ? x < limit : x > limit; x += delta)
    v.push_back(x);
  nc.setOutputConstant(
      0, HostTensor::fromInts(v, {static_cast<int64_t>(v.size())}, d));
  return success();
}

//===----------------------------------------------------------------------===//
// Reshapes
//===----------------------------------------------------------------------===//

LogicalResult importReshape(NodeContext &nc) {
  if (failed(requireInputs(nc, nc.opset() < 5 ? 1 : 2)))
    return failure();
  SmallVector<int64_t> requested;
  if (nc.opset() < 5) {
    requested = nc.attrInts("shape");
  } else {
    FailureOr<SmallVector<int64_t>> s =
        nc.constantInts(1, "the target shape (input 1)");
    if (failed(s))
      return failure();
    requested = *s;
  }
  SmallVector<int64_t> in = inputShape(nc, 0);
  bool allowZero = nc.attrInt("allowzero", 0) != 0;
  SmallVector<int64_t> out;
  int64_t inferAt = -1, known = 1;
  for (auto [i, d] : llvm::enumerate(requested)) {
    if (d == -1) {
      if (inferAt >= 0) {
        nc.error() << "target shape " << listStr(requested)
                   << " has more than one -1";
        return failure();
      }
      inferAt = i;
      out.push_back(1);
      continue;
    }
    if (d == 0 && !allowZero) {
      if (i >= in.size()) {
        nc.error() << "target shape " << listStr(requested) << " copies dim "
                   << i << " (a 0) but the input " << listStr(in)
                   << " has rank " << in.size();
        return failure();
      }
      d = in[i];
    }
    if (d < 0) {
      nc.error() << "target shape " << listStr(requested)
                 << " has an invalid dimension " << d;
      return failure();
    }
    out.push_back(d);
    known *= d;
  }
  if (failed(checkShape(nc, out, "target shape")))
    return failure();
  int64_t total = shapeProduct(in);
  if (inferAt >= 0) {
    if (known == 0 || total % known != 0) {
      nc.error() << "cannot infer the -1 in target shape "
                 << listStr(requested) << " for an input of shape "
                 << listStr(in);
      return failure();
    }
    out[inferAt] = total / known;
  } else if (known != total) {
    nc.error() << "target shape " << listStr(requested) << " has " << known
               << " elements but the input " << listStr(in) << " has "
               << total;
    return failure();
  }
  return bindReshaped(nc, out);
}

LogicalResult importFlatten(NodeContext &nc) {
  if (failed(requireInputs(nc, 1)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  int64_t rank = in.size(), axis = nc.attrInt("axis", 1);
  if (axis < -rank || axis > rank) {
    nc.error() << "axis " << axis << " is out of range for rank " << rank;
    return failure();
  }
  if (axis < 0)
    axis += rank;
  ArrayRef<int64_t> s(in);
  return bindReshaped(nc, {shapeProduct(s.take_front(axis)),
                           shapeProduct(s.drop_front(axis))});
}

LogicalResult importSqueeze(NodeContext &nc) {
  if (failed(requireInputs(nc, 1)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  auto axes = intsArg(nc, 1, "axes", 13);
  if (failed(axes))
    return failure();
  SmallVector<int64_t> drop;
  if (*axes) {
    FailureOr<SmallVector<int64_t>> n = normalizeAxes(nc, **axes, in.size());
    if (failed(n))
      return failure();
    for (int64_t a : *n)
      if (in[a] != 1) {
        nc.error() << "cannot squeeze axis " << a << " of size " << in[a]
                   << " (input shape " << listStr(in) << ")";
        return failure();
      }
    drop = *n;
  } else {
    for (auto [i, d] : llvm::enumerate(in))
      if (d == 1)
        drop.push_back(i);
  }
  SmallVector<int64_t> out;
  for (auto [i, d] : llvm::enumerate(in))
    if (!llvm::is_contained(drop, static_cast<int64_t>(i)))
      out.push_back(d);
  return bindReshaped(nc, out);
}

LogicalResult importUnsqueeze(NodeContext &nc) {
  if (failed(requireInputs(nc, 1)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  auto axes = intsArg(nc, 1, "axes", 13);
  if (failed(axes))
    return failure();
  if (!*axes) {
    nc.error() << "expects axes (" << (nc.opset() >= 13 ? "input 1" : "an "
                                                                       "attribute")
               << ")";
    return failure();
  }
  int64_t rank = in.size() + (*axes)->size();
  FailureOr<SmallVector<int64_t>> n = normalizeAxes(nc, **axes, rank);
  if (failed(n))
    return failure();
  SmallVector<int64_t> out;
  for (int64_t i = 0, j = 0; i < rank; ++i)
    out.push_back(llvm::is_contained(*n, i) ? 1 : in[j++]);
  return bindReshaped(nc, out);
}

LogicalResult importTranspose(NodeContext &nc) {
  if (failed(requireInputs(nc, 1)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  int64_t rank = in.size();
  SmallVector<int64_t> perm;
  if (nc.hasAttr("perm")) {
    perm = nc.attrInts("perm");
  } else {
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  }
  SmallVector<bool> seen(rank, false);
  bool valid = static_cast<int64_t>(perm.size()) == rank;
  for (int64_t p : perm) {
    valid &= p >= 0 && p < rank && !seen[std::clamp<int64_t>(p, 0, rank - 1)];
    if (valid)
      seen[p] = true;
  }
  if (!valid) {
    nc.error() << "perm " << listStr(perm)
               << " is not a permutation of the dims of a rank-" << rank
               << " input";
    return failure();
  }
  if (const HostTensor *c = nc.inputConstant(0)) {
    SmallVector<int64_t> outShape, strides = rowMajorStrides(in);
    for (int64_t p : perm)
      outShape.push_back(in[p]);
    nc.setOutputConstant(
        0, hostRemap(*c, outShape, [&](ArrayRef<int64_t> idx) {
          int64_t flat = 0;
          for (int64_t i = 0; i < rank; ++i)
            flat += idx[i] * strides[perm[i]];
          return flat;
        }));
    return success();
  }
  nc.setOutput(0, nc.transpose(nc.input(0), perm), nc.inputDType(0));
  return success();
}

LogicalResult importDepthSpace(NodeContext &nc, bool toSpace) {
  if (failed(requireInputs(nc, 1)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  int64_t bs = nc.attrInt("blocksize", 0);
  if (in.size() != 4 || bs <= 0) {
    nc.error() << "expects a rank-4 input and blocksize > 0, found shape "
               << listStr(in) << " and blocksize " << bs;
    return failure();
  }
  int64_t n = in[0], c = in[1], h = in[2], w = in[3];
  Value x = nc.input(0);
  Value out;
  if (toSpace) {
    std::string mode = nc.attrString("mode", "DCR");
    if (c % (bs * bs) != 0 || (mode != "DCR" && mode != "CRD")) {
      nc.error() << "expects channels divisible by blocksize^2 and mode DCR "
                    "or CRD, found "
                 << c << " channels, mode '" << mode << "'";
      return failure();
    }
    int64_t oc = c / (bs * bs);
    if (mode == "DCR") {
      x = nc.reshape(x, {n, bs, bs, oc, h, w});
      x = nc.transpose(x, {0, 3, 4, 1, 5, 2});
    } else {
      x = nc.reshape(x, {n, oc, bs, bs, h, w});
      x = nc.transpose(x, {0, 1, 4, 2, 5, 3});
    }
    out = nc.reshape(x, {n, oc, h * bs, w * bs});
  } else {
    if (h % bs != 0 || w % bs != 0) {
      nc.error() << "expects height and width divisible by blocksize " << bs
                 << ", found shape " << listStr(in);
      return failure();
    }
    x = nc.reshape(x, {n, c, h / bs, bs, w / bs, bs});
    x = nc.transpose(x, {0, 3, 5, 1, 2, 4});
    out = nc.reshape(x, {n, c * bs * bs, h / bs, w / bs});
  }
  nc.setOutput(0, out, nc.inputDType(0));
  return success();
}

} // namespace

namespace {
/// EyeLike: the input's 2-D shape, 1 on diagonal k (column - row == k),
/// in attribute dtype's type (default the input's).
LogicalResult importEyeLike(NodeContext &nc) {
  if (!nc.hasInput(0)) {
    nc.error() << "expects an input tensor";
    return failure();
  }
  SmallVector<int64_t> shape(nc.inputType(0).getShape());
  if (shape.size() != 2) {
    nc.error() << "expects a 2-D input, found rank " << shape.size();
    return failure();
  }
  DType d = static_cast<DType>(nc.attrInt("dtype", nc.inputDType(0)));
  if (!isFloat(d) && !isInteger(d) && !isBool(d)) {
    nc.error() << "element type " << dtypeName(d) << " is not supported";
    return failure();
  }
  int64_t k = nc.attrInt("k", 0);
  Type elt = toMLIRType(nc.ctx(), d);
  Value out = emitGeneric(
      nc, shape, elt, {}, {},
      [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> ivs) {
        Value onDiag = arith::CmpIOp::create(
            b, l, arith::CmpIPredicate::eq,
            arith::AddIOp::create(b, l, ivs[0], cidx(b, l, k)), ivs[1]);
        return arith::SelectOp::create(
            b, l, onDiag, arith::ConstantOp::create(b, l, b.getOneAttr(elt)),
            arith::ConstantOp::create(b, l, b.getZeroAttr(elt)));
      });
  nc.setOutput(0, out, d);
  return success();
}

/// HannWindow / HammingWindow / BlackmanWindow: a0 - a1 cos(2 pi n / N) +
/// a2 cos(4 pi n / N) for n < size, N = size (periodic) or size - 1;
/// computed here (the size must be known), in output_datatype.
LogicalResult importWindow(NodeContext &nc, double a0, double a1, double a2) {
  FailureOr<SmallVector<int64_t>> size = nc.constantInts(0, "size (input 0)");
  if (failed(size))
    return failure();
  if (size->size() != 1 || (*size)[0] < 0 || (*size)[0] > (int64_t(1) << 24)) {
    nc.error() << "size must be one value in [0, 2^24]";
    return failure();
  }
  DType d = static_cast<DType>(nc.attrInt("output_datatype", TP::FLOAT));
  if (!isFloat(d) && !isInteger(d)) {
    nc.error() << "output_datatype " << dtypeName(d) << " is not supported";
    return failure();
  }
  int64_t n = (*size)[0];
  double period = nc.attrInt("periodic", 1) ? double(n) : double(n - 1);
  std::vector<double> w;
  for (int64_t i = 0; i < n; ++i) {
    double x = double(i) / period;
    w.push_back(a0 - a1 * std::cos(2 * M_PI * x) + a2 * std::cos(4 * M_PI * x));
  }
  nc.setOutputConstant(0, HostTensor::fromDoubles(w, {n}, d));
  return success();
}
} // namespace

void qc::detail::registerShapeOps(OpRegistry &r) {
  r.add("Constant", importConstant);
  r.add("EyeLike", importEyeLike);
  r.add("HannWindow",
        [](NodeContext &nc) { return importWindow(nc, 0.5, 0.5, 0.0); });
  r.add("HammingWindow", [](NodeContext &nc) {
    return importWindow(nc, 25.0 / 46, 1 - 25.0 / 46, 0.0);
  });
  r.add("BlackmanWindow",
        [](NodeContext &nc) { return importWindow(nc, 0.42, 0.5, 0.08); });
  r.add("Shape", importShape);
  r.add("Size", importSize);
  r.add("ConstantOfShape", importConstantOfShape);
  r.add("Range", importRange);
  r.add("Reshape", importReshape);
  r.add("Flatten", importFlatten);
  r.add("Squeeze", importSqueeze);
  r.add("Unsqueeze", importUnsqueeze);
  r.add("Transpose", importTranspose);
  r.add("DepthToSpace",
        [](NodeContext &nc) { return importDepthSpace(nc, true); });
  r.add("SpaceToDepth",
        [](NodeContext &nc) { return importDepthSpace(nc, false); });
}
