//===- OpsShape.cpp - ONNX shape and data-movement ops --------------------===//
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

#include "HostFolding.h"
#include "Importer.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

namespace {

//===----------------------------------------------------------------------===//
// Utilities
//===----------------------------------------------------------------------===//

/// Fails with a diagnostic unless inputs 0..n-1 are present.
LogicalResult requireInputs(NodeContext &nc, unsigned n) {
  for (unsigned i = 0; i < n; ++i)
    if (!nc.hasInput(i)) {
      nc.error() << "expects at least " << n << " inputs, input " << i
                 << " is missing";
      return failure();
    }
  return success();
}

SmallVector<int64_t> inputShape(NodeContext &nc, unsigned i) {
  return SmallVector<int64_t>(nc.inputType(i).getShape());
}

std::string listStr(ArrayRef<int64_t> xs) {
  std::string s = "[";
  for (size_t i = 0; i < xs.size(); ++i)
    s += (i ? "," : "") + std::to_string(xs[i]);
  return s + "]";
}

SmallVector<OpFoldResult> indexAttrs(OpBuilder &b, ArrayRef<int64_t> xs) {
  SmallVector<OpFoldResult> out;
  for (int64_t x : xs)
    out.push_back(b.getIndexAttr(x));
  return out;
}

/// Whether a result of `n` elements computed from constants that hold
/// `inputElems` elements in all is folded on the host: always when it is
/// small, and when it does not grow the data.
bool worthFolding(int64_t n, int64_t inputElems) {
  return n <= std::max(kMaxFoldElements, inputElems);
}

/// Fails with a diagnostic if a shape has a negative dim or an absurd size.
LogicalResult checkShape(NodeContext &nc, ArrayRef<int64_t> shape,
                         StringRef what) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      nc.error() << what << " " << listStr(shape)
                 << " has a negative dimension";
      return failure();
    }
    if (d != 0 && n > (int64_t(1) << 40) / d) {
      nc.error() << what << " " << listStr(shape)
                 << " is absurdly large (more than 2^40 elements)";
      return failure();
    }
    n *= d;
  }
  return success();
}

/// Normalizes a list of axes against `rank`; fails on out-of-range and
/// repeated axes. The result keeps the given order.
FailureOr<SmallVector<int64_t>> normalizeAxes(NodeContext &nc,
                                              ArrayRef<int64_t> axes,
                                              int64_t rank) {
  SmallVector<int64_t> out;
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) {
      nc.error() << "axis " << a << " is out of range for rank " << rank;
      return failure();
    }
    int64_t n = a < 0 ? a + rank : a;
    if (llvm::is_contained(out, n)) {
      nc.error() << "axis " << a << " is given more than once in "
                 << listStr(axes);
      return failure();
    }
    out.push_back(n);
  }
  return out;
}

/// An axis attribute normalized against `rank` (which must be >= 1).
FailureOr<int64_t> axisAttr(NodeContext &nc, int64_t dflt, int64_t rank) {
  if (rank == 0) {
    nc.error() << "expects an input of rank >= 1, found a scalar";
    return failure();
  }
  return nc.normalizeAxis(nc.attrInt("axis", dflt), rank);
}

/// A list of integers that moved from attribute `name` to input `index` at
/// opset `inputSince`; nullopt if absent.
FailureOr<std::optional<SmallVector<int64_t>>>
intsArg(NodeContext &nc, unsigned index, StringRef name, int64_t inputSince) {
  if (nc.opset() >= inputSince && nc.hasInput(index)) {
    FailureOr<SmallVector<int64_t>> v =
        nc.constantInts(index, "'" + name.str() + "' (input " +
                                   std::to_string(index) + ")");
    if (failed(v))
      return failure();
    return std::optional<SmallVector<int64_t>>(*v);
  }
  if (nc.hasAttr(name))
    return std::optional<SmallVector<int64_t>>(nc.attrInts(name));
  return std::optional<SmallVector<int64_t>>();
}

/// A scalar of MLIR type `elt` holding element `i` of a host tensor.
Value hostScalar(NodeContext &nc, const HostTensor &t, int64_t i, Type elt) {
  if (isa<FloatType>(elt))
    return nc.scalar(elt, t.getDouble(i));
  if (elt.isInteger(1))
    return nc.scalar(elt, t.getInt(i) != 0);
  return arith::ConstantOp::create(nc.b, nc.loc,
                                   nc.b.getIntegerAttr(elt, t.getInt(i)));
}

/// Element `i` (row-major) of a tensor value, read at the builder's point.
Value extractAt(NodeContext &nc, Value t, int64_t i) {
  auto type = cast<RankedTensorType>(t.getType());
  SmallVector<int64_t> strides = rowMajorStrides(type.getShape());
  SmallVector<Value> idx;
  for (int64_t s : strides) {
    idx.push_back(arith::ConstantIndexOp::create(nc.b, nc.loc, i / s));
    i %= s;
  }
  return tensor::ExtractOp::create(nc.b, nc.loc, t, idx);
}

/// An integer (or float, truncated) scalar as an index value.
Value toIndex(OpBuilder &b, Location l, Value v, DType d) {
  Type idx = b.getIndexType();
  if (isa<FloatType>(v.getType()))
    v = arith::FPToSIOp::create(b, l, b.getI64Type(), v);
  else if (isUnsigned(d) || isBool(d))
    return arith::IndexCastUIOp::create(b, l, idx, v);
  return arith::IndexCastOp::create(b, l, idx, v);
}

Value cidx(OpBuilder &b, Location l, int64_t v) {
  return arith::ConstantIndexOp::create(b, l, v);
}

/// i < 0 ? i + n : i, clamped to [0, n-1]. ONNX leaves out-of-range indices
/// undefined; the clamp keeps every read in bounds.
Value wrapIndex(OpBuilder &b, Location l, Value i, int64_t n) {
  Value zero = cidx(b, l, 0);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
  Value w = arith::SelectOp::create(
      b, l, neg, arith::AddIOp::create(b, l, i, cidx(b, l, n)), i);
  w = arith::MaxSIOp::create(b, l, w, zero);
  return arith::MinSIOp::create(b, l, w, cidx(b, l, std::max<int64_t>(n - 1, 0)));
}

/// A body that sees the generic's inputs and the loop indices.
using IndexedBody = function_ref<Value(OpBuilder &, Location, ValueRange,
                                       ArrayRef<Value>)>;

/// One parallel linalg.generic over `shape` with the given inputs and input
/// maps; the body also gets linalg.index of every dim.
Value emitGeneric(NodeContext &nc, ArrayRef<int64_t> shape, Type elt,
                  ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                  IndexedBody body) {
  int64_t rank = shape.size();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(nc.b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  Value init = nc.empty(shape, elt);
  auto generic = linalg::GenericOp::create(
      nc.b, nc.loc, init.getType(), inputs, ValueRange{init}, maps, iters,
      [&](OpBuilder &b, Location l, ValueRange args) {
        SmallVector<Value> ivs;
        for (int64_t d = 0; d < rank; ++d)
          ivs.push_back(linalg::IndexOp::create(b, l, d));
        Value r = body(b, l, args.drop_back(), ivs);
        linalg::YieldOp::create(b, l, r);
      });
  return generic.getResult(0);
}

/// Binds output 0 to input 0 with another shape of the same element count;
/// a known input stays a known constant whatever its size.
LogicalResult bindReshaped(NodeContext &nc, ArrayRef<int64_t> shape) {
  if (const HostTensor *c = nc.inputConstant(0)) {
    nc.setOutputConstant(0, hostReshape(*c, shape));
    return success();
  }
  nc.setOutput(0, nc.reshape(nc.input(0), shape), nc.inputDType(0));
  return success();
}

/// Binds output `i` to a slice of input 0 (positive strides), folded when
/// the input is known.
void bindSlice(NodeContext &nc, unsigned i, ArrayRef<int64_t> offsets,
               ArrayRef<int64_t> sizes, ArrayRef<int64_t> strides) {
  if (const HostTensor *c = nc.inputConstant(0)) {
    SmallVector<int64_t> in = rowMajorStrides(c->shape);
    nc.setOutputConstant(
        i, hostRemap(*c, sizes, [&](ArrayRef<int64_t> idx) {
          int64_t flat = 0;
          for (size_t d = 0; d < idx.size(); ++d)
            flat += (offsets[d] + idx[d] * strides[d]) * in[d];
          return flat;
        }));
    return;
  }
  Value v = tensor::ExtractSliceOp::create(
      nc.b, nc.loc, nc.input(0), indexAttrs(nc.b, offsets),
      indexAttrs(nc.b, sizes), indexAttrs(nc.b, strides));
  nc.setOutput(i, v, nc.inputDType(0));
}

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

//===----------------------------------------------------------------------===//
// Concat, Split, Slice
//===----------------------------------------------------------------------===//

LogicalResult importConcat(NodeContext &nc) {
  unsigned n = nc.numInputs();
  if (n == 0) {
    nc.error() << "expects at least one input";
    return failure();
  }
  if (failed(requireInputs(nc, n)))
    return failure();
  if (!nc.hasAttr("axis")) {
    nc.error() << "expects attribute 'axis'";
    return failure();
  }
  SmallVector<int64_t> shape0 = inputShape(nc, 0);
  FailureOr<int64_t> axis = axisAttr(nc, 0, shape0.size());
  if (failed(axis))
    return failure();
  DType d = nc.inputDType(0);
  SmallVector<int64_t> outShape = shape0;
  outShape[*axis] = 0;
  bool allConst = true;
  int64_t inputElems = 0;
  for (unsigned i = 0; i < n; ++i) {
    SmallVector<int64_t> s = inputShape(nc, i);
    bool ok = s.size() == shape0.size();
    for (size_t k = 0; ok && k < s.size(); ++k)
      ok = static_cast<int64_t>(k) == *axis || s[k] == shape0[k];
    if (!ok) {
      nc.error() << "input " << i << " has shape " << listStr(s)
                 << ", which does not match input 0's " << listStr(shape0)
                 << " outside axis " << *axis;
      return failure();
    }
    if (nc.inputDType(i) != d) {
      nc.error() << "input " << i << " has element type "
                 << dtypeName(nc.inputDType(i)) << " but input 0 has "
                 << dtypeName(d);
      return failure();
    }
    outShape[*axis] += s[*axis];
    allConst &= nc.inputConstant(i) != nullptr;
    inputElems += shapeProduct(s);
  }
  if (allConst && worthFolding(shapeProduct(outShape), inputElems)) {
    HostTensor out;
    out.dtype = d;
    out.shape = outShape;
    int64_t es = dtypeSize(d);
    int64_t outer = shapeProduct(ArrayRef<int64_t>(shape0).take_front(*axis));
    int64_t inner = shapeProduct(ArrayRef<int64_t>(shape0).drop_front(*axis + 1));
    for (int64_t o = 0; o < outer; ++o)
      for (unsigned i = 0; i < n; ++i) {
        const HostTensor *t = nc.inputConstant(i);
        int64_t chunk = t->shape[*axis] * inner * es;
        const char *p = t->data.data() + o * chunk;
        out.data.insert(out.data.end(), p, p + chunk);
      }
    nc.setOutputConstant(0, std::move(out));
    return success();
  }
  Value acc = nc.empty(outShape, toMLIRType(nc.ctx(), d));
  SmallVector<int64_t> offsets(outShape.size(), 0), strides(outShape.size(), 1);
  for (unsigned i = 0; i < n; ++i) {
    SmallVector<int64_t> s = inputShape(nc, i);
    if (s[*axis] == 0)
      continue;
    acc = tensor::InsertSliceOp::create(
        nc.b, nc.loc, nc.input(i), acc, indexAttrs(nc.b, offsets),
        indexAttrs(nc.b, s), indexAttrs(nc.b, strides));
    offsets[*axis] += s[*axis];
  }
  nc.setOutput(0, acc, d);
  return success();
}

LogicalResult importSplit(NodeContext &nc) {
  if (failed(requireInputs(nc, 1)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  FailureOr<int64_t> axis = axisAttr(nc, 0, in.size());
  if (failed(axis))
    return failure();
  int64_t dim = in[*axis], numOut = nc.numOutputs();
  auto splitArg = intsArg(nc, 1, "split", 13);
  if (failed(splitArg))
    return failure();
  SmallVector<int64_t> sizes;
  if (*splitArg) {
    sizes = **splitArg;
  } else if (nc.hasAttr("num_outputs")) {
    int64_t parts = nc.attrInt("num_outputs", 0);
    if (parts != numOut || parts <= 0) {
      nc.error() << "num_outputs is " << parts << " but the node has "
                 << numOut << " outputs";
      return failure();
    }
    // Chunks of ceil(dim / parts); the last one takes the rest.
    int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i)
      sizes.push_back(std::clamp<int64_t>(dim - i * chunk, 0, chunk));
  } else {
    if (numOut == 0 || dim % numOut != 0) {
      nc.error() << "cannot split axis " << *axis << " of size " << dim
                 << " into " << numOut << " equal parts";
      return failure();
    }
    sizes.assign(numOut, dim / numOut);
  }
  int64_t sum = 0;
  for (int64_t s : sizes) {
    if (s < 0) {
      nc.error() << "split sizes " << listStr(sizes) << " have a negative "
                 << "size";
      return failure();
    }
    sum += s;
  }
  if (static_cast<int64_t>(sizes.size()) != numOut || sum != dim) {
    nc.error() << "split sizes " << listStr(sizes) << " must have one entry "
               << "per output (" << numOut << ") and sum to the size of axis "
               << *axis << " (" << dim << ")";
    return failure();
  }
  SmallVector<int64_t> offsets(in.size(), 0), strides(in.size(), 1);
  for (int64_t i = 0; i < numOut; ++i) {
    SmallVector<int64_t> shape = in;
    shape[*axis] = sizes[i];
    if (nc.hasOutput(i))
      bindSlice(nc, i, offsets, shape, strides);
    offsets[*axis] += sizes[i];
  }
  return success();
}

/// Reverses the given axes of a tensor with a linalg.generic.
Value reverseAxes(NodeContext &nc, Value v, ArrayRef<int64_t> axes) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t rank = type.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d) {
    AffineExpr e = nc.b.getAffineDimExpr(d);
    if (llvm::is_contained(axes, d))
      e = nc.b.getAffineConstantExpr(type.getDimSize(d) - 1) - e;
    exprs.push_back(e);
  }
  AffineMap map = AffineMap::get(rank, 0, exprs, nc.ctx());
  return emitGeneric(nc, type.getShape(), type.getElementType(), v, map,
                     [](OpBuilder &, Location, ValueRange args,
                        ArrayRef<Value>) { return args[0]; });
}

LogicalResult importSlice(NodeContext &nc) {
  if (failed(requireInputs(nc, nc.opset() < 10 ? 1 : 3)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  int64_t rank = in.size();
  SmallVector<int64_t> starts, ends, axes, steps;
  if (nc.opset() < 10) {
    starts = nc.attrInts("starts");
    ends = nc.attrInts("ends");
    axes = nc.attrInts("axes");
  } else {
    auto s = nc.constantInts(1, "'starts' (input 1)");
    if (failed(s))
      return failure();
    auto e = nc.constantInts(2, "'ends' (input 2)");
    if (failed(e))
      return failure();
    starts = *s;
    ends = *e;
    if (nc.hasInput(3)) {
      auto a = nc.constantInts(3, "'axes' (input 3)");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (nc.hasInput(4)) {
      auto st = nc.constantInts(4, "'steps' (input 4)");
      if (failed(st))
        return failure();
      steps = *st;
    }
  }
  if (axes.empty() && !(nc.hasInput(3) || nc.hasAttr("axes")))
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty() && !nc.hasInput(4))
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    nc.error() << "starts, ends, axes and steps must have the same length, "
                  "found "
               << starts.size() << ", " << ends.size() << ", " << axes.size()
               << " and " << steps.size();
    return failure();
  }
  FailureOr<SmallVector<int64_t>> naxes = normalizeAxes(nc, axes, rank);
  if (failed(naxes))
    return failure();
  SmallVector<int64_t> begin(rank, 0), count(in), step(rank, 1);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = (*naxes)[i], dim = in[a];
    int64_t st = steps[i], s = starts[i], e = ends[i];
    if (st == 0) {
      nc.error() << "step for axis " << a << " is 0";
      return failure();
    }
    if (s < 0)
      s += dim;
    if (e < 0)
      e += dim;
    int64_t c;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      c = e > s ? (e - s - 1) / st + 1 : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      // -st cannot overflow: st == INT64_MIN selects at most one element.
      int64_t neg = st == std::numeric_limits<int64_t>::min()
                        ? std::numeric_limits<int64_t>::max()
                        : -st;
      c = s > e ? (s - e - 1) / neg + 1 : 0;
    }
    begin[a] = c > 0 ? s : 0;
    count[a] = c;
    step[a] = c > 1 ? st : 1;
  }
  if (const HostTensor *cst = nc.inputConstant(0)) {
    SmallVector<int64_t> strides = rowMajorStrides(in);
    nc.setOutputConstant(
        0, hostRemap(*cst, count, [&](ArrayRef<int64_t> idx) {
          int64_t flat = 0;
          for (int64_t d = 0; d < rank; ++d)
            flat += (begin[d] + idx[d] * step[d]) * strides[d];
          return flat;
        }));
    return success();
  }
  // Negative steps: slice the same elements in increasing order, then
  // reverse those axes.
  SmallVector<int64_t> reversed, offsets(begin), strides(step);
  for (int64_t d = 0; d < rank; ++d)
    if (step[d] < 0) {
      offsets[d] = begin[d] + (count[d] - 1) * step[d];
      strides[d] = -step[d];
      reversed.push_back(d);
    }
  bool whole = true;
  for (int64_t d = 0; d < rank; ++d)
    whole &= offsets[d] == 0 && count[d] == in[d] && strides[d] == 1;
  Value v = nc.input(0);
  if (!whole)
    v = tensor::ExtractSliceOp::create(
        nc.b, nc.loc, v, indexAttrs(nc.b, offsets), indexAttrs(nc.b, count),
        indexAttrs(nc.b, strides));
  if (!reversed.empty())
    v = reverseAxes(nc, v, reversed);
  nc.setOutput(0, v, nc.inputDType(0));
  return success();
}

//===----------------------------------------------------------------------===//
// Gathers and scatters
//===----------------------------------------------------------------------===//

LogicalResult checkIndexType(NodeContext &nc, unsigned i) {
  DType d = nc.inputDType(i);
  if (!isInteger(d)) {
    nc.error() << "indices (input " << i << ") must be integers, found "
               << dtypeName(d);
    return failure();
  }
  return success();
}

LogicalResult importGather(NodeContext &nc) {
  if (failed(requireInputs(nc, 2)) || failed(checkIndexType(nc, 1)))
    return failure();
  SmallVector<int64_t> data = inputShape(nc, 0), ind = inputShape(nc, 1);
  FailureOr<int64_t> axisOr = axisAttr(nc, 0, data.size());
  if (failed(axisOr))
    return failure();
  int64_t axis = *axisOr, q = ind.size(), dim = data[axis];
  DType d = nc.inputDType(0);
  SmallVector<int64_t> outShape(ArrayRef<int64_t>(data).take_front(axis));
  outShape.append(ind);
  outShape.append(data.begin() + axis + 1, data.end());
  if (shapeProduct(ind) > 0 && dim == 0) {
    nc.error() << "gathers from axis " << axis << " of size 0";
    return failure();
  }

  // Known indices: normalized and checked now.
  const HostTensor *ci = nc.inputConstant(1);
  std::optional<HostTensor> normalized;
  if (ci) {
    SmallVector<int64_t> v = ci->toInts();
    for (int64_t &x : v) {
      if (isUnsigned(ci->dtype) && x < 0) // u64 above INT64_MAX
        x = dim;
      if (x < -dim || x >= dim) {
        nc.error() << "index " << x << " is out of range for axis " << axis
                   << " of size " << dim;
        return failure();
      }
      if (x < 0)
        x += dim;
    }
    normalized = HostTensor::fromInts(v, ind);
  }
  const HostTensor *cd = nc.inputConstant(0);
  if (cd && ci &&
      worthFolding(shapeProduct(outShape), cd->numElements() + ci->numElements())) {
    SmallVector<int64_t> strides = rowMajorStrides(data);
    SmallVector<int64_t> indStrides = rowMajorStrides(ind);
    nc.setOutputConstant(0, hostRemap(*cd, outShape, [&](ArrayRef<int64_t> idx) {
      int64_t flat = 0, k = 0;
      for (int64_t i = 0; i < q; ++i)
        k += idx[axis + i] * indStrides[i];
      for (int64_t i = 0; i < axis; ++i)
        flat += idx[i] * strides[i];
      flat += normalized->getInt(k) * strides[axis];
      for (int64_t i = axis + 1; i < static_cast<int64_t>(data.size()); ++i)
        flat += idx[i - 1 + q] * strides[i];
      return flat;
    }));
    return success();
  }
  // One known index: a slice.
  if (ci && shapeProduct(ind) == 1) {
    SmallVector<int64_t> offsets(data.size(), 0), sizes(data),
        strides(data.size(), 1);
    offsets[axis] = normalized->getInt(0);
    sizes[axis] = 1;
    Value v = tensor::ExtractSliceOp::create(
        nc.b, nc.loc, nc.input(0), indexAttrs(nc.b, offsets),
        indexAttrs(nc.b, sizes), indexAttrs(nc.b, strides));
    nc.setOutput(0, nc.reshape(v, outShape), d);
    return success();
  }
  // General case: read data with tensor.extract at the gathered index.
  Value indices = ci ? nc.constant(*normalized) : nc.input(1);
  DType indDType = ci ? TP::INT64 : nc.inputDType(1);
  Value dataV = nc.input(0);
  int64_t outRank = outShape.size();
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < q; ++i)
    exprs.push_back(nc.b.getAffineDimExpr(axis + i));
  AffineMap map = AffineMap::get(outRank, 0, exprs, nc.ctx());
  Value out = emitGeneric(
      nc, outShape, toMLIRType(nc.ctx(), d), indices, map,
      [&](OpBuilder &b, Location l, ValueRange args, ArrayRef<Value> ivs) {
        Value i = toIndex(b, l, args[0], indDType);
        if (!ci)
          i = wrapIndex(b, l, i, dim);
        SmallVector<Value> coords(ivs.take_front(axis));
        coords.push_back(i);
        coords.append(ivs.begin() + axis + q, ivs.end());
        return tensor::ExtractOp::create(b, l, dataV, coords);
      });
  nc.setOutput(0, out, d);
  return success();
}

LogicalResult importGatherElements(NodeContext &nc) {
  if (failed(requireInputs(nc, 2)) || failed(checkIndexType(nc, 1)))
    return failure();
  SmallVector<int64_t> data = inputShape(nc, 0), ind = inputShape(nc, 1);
  FailureOr<int64_t> axisOr = axisAttr(nc, 0, data.size());
  if (failed(axisOr))
    return failure();
  int64_t axis = *axisOr, rank = data.size(), dim = data[axis];
  bool ok = ind.size() == data.size();
  for (int64_t i = 0; ok && i < rank; ++i)
    ok = i == axis || ind[i] <= data[i];
  if (!ok) {
    nc.error() << "indices of shape " << listStr(ind)
               << " do not fit data of shape " << listStr(data);
    return failure();
  }
  if (shapeProduct(ind) > 0 && dim == 0) {
    nc.error() << "gathers from axis " << axis << " of size 0";
    return failure();
  }
  DType d = nc.inputDType(0), indDType = nc.inputDType(1);
  const HostTensor *cd = nc.inputConstant(0), *ci = nc.inputConstant(1);
  if (cd && ci &&
      worthFolding(shapeProduct(ind), cd->numElements() + ci->numElements())) {
    SmallVector<int64_t> strides = rowMajorStrides(data);
    int64_t k = 0;
    bool bad = false;
    HostTensor out = hostRemap(*cd, ind, [&](ArrayRef<int64_t> idx) {
      int64_t x = ci->getInt(k++);
      if (x < -dim || x >= dim) {
        bad = true;
        x = 0;
      }
      if (x < 0)
        x += dim;
      int64_t flat = 0;
      for (int64_t i = 0; i < rank; ++i)
        flat += (i == axis ? x : idx[i]) * strides[i];
      return flat;
    });
    if (bad) {
      nc.error() << "an index is out of range for axis " << axis
                 << " of size " << dim;
      return failure();
    }
    nc.setOutputConstant(0, std::move(out));
    return success();
  }
  Value dataV = nc.input(0);
  Value out = emitGeneric(
      nc, ind, toMLIRType(nc.ctx(), d), nc.input(1),
      nc.b.getMultiDimIdentityMap(rank),
      [&](OpBuilder &b, Location l, ValueRange args, ArrayRef<Value> ivs) {
        Value i = wrapIndex(b, l, toIndex(b, l, args[0], indDType), dim);
        SmallVector<Value> coords(ivs);
        coords[axis] = i;
        return tensor::ExtractOp::create(b, l, dataV, coords);
      });
  nc.setOutput(0, out, d);
  return success();
}

LogicalResult importScatterND(NodeContext &nc) {
  if (failed(requireInputs(nc, 3)) || failed(checkIndexType(nc, 1)))
    return failure();
  SmallVector<int64_t> data = inputShape(nc, 0), ind = inputShape(nc, 1),
                       upd = inputShape(nc, 2);
  DType d = nc.inputDType(0), indDType = nc.inputDType(1);
  int64_t rank = data.size();
  if (ind.empty() || ind.back() > rank) {
    nc.error() << "indices of shape " << listStr(ind)
               << " do not index data of rank " << rank;
    return failure();
  }
  int64_t k = ind.back();
  SmallVector<int64_t> expected(ArrayRef<int64_t>(ind).drop_back());
  expected.append(data.begin() + k, data.end());
  if (upd != expected) {
    nc.error() << "updates have shape " << listStr(upd) << " but data "
               << listStr(data) << " and indices " << listStr(ind)
               << " need " << listStr(expected);
    return failure();
  }
  if (nc.inputDType(2) != d) {
    nc.error() << "updates have element type " << dtypeName(nc.inputDType(2))
               << " but data has " << dtypeName(d);
    return failure();
  }
  std::string red = nc.attrString("reduction", "none");
  if (red != "none" && red != "add" && red != "mul" && red != "max" &&
      red != "min") {
    nc.error() << "reduction '" << red << "' is not supported";
    return failure();
  }
  if (isBool(d) && red != "none") {
    nc.error() << "reduction '" << red << "' on bool data is not supported";
    return failure();
  }
  int64_t numUpd = shapeProduct(expected) == 0
                       ? 0
                       : shapeProduct(ArrayRef<int64_t>(ind).drop_back());
  if (numUpd == 0) {
    nc.setOutput(0, nc.input(0), d);
    return success();
  }
  // Domain (data dims..., u): each output element visits every update u
  // and combines those whose index tuple is its own, in order.
  Value indices = nc.reshape(nc.input(1), {numUpd, k});
  SmallVector<int64_t> updShape = {numUpd};
  updShape.append(data.begin() + k, data.end());
  Value updates = nc.reshape(nc.input(2), updShape);
  MLIRContext *ctx = nc.ctx();
  SmallVector<AffineExpr> updExprs = {getAffineDimExpr(rank, ctx)};
  SmallVector<AffineExpr> dataExprs;
  for (int64_t i = 0; i < rank; ++i) {
    dataExprs.push_back(getAffineDimExpr(i, ctx));
    if (i >= k)
      updExprs.push_back(getAffineDimExpr(i, ctx));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(rank + 1, 0, dataExprs, ctx),
                                 AffineMap::get(rank + 1, 0, updExprs, ctx),
                                 AffineMap::get(rank + 1, 0, dataExprs, ctx)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  // The init is never read at u == 0 (the data is), so that the scatter
  // does not write into its data operand.
  Value init = nc.empty(data, toMLIRType(ctx, d));
  bool fp = isFloat(d), uns = isUnsigned(d);
  auto generic = linalg::GenericOp::create(
      nc.b, nc.loc, init.getType(), ValueRange{nc.input(0), updates},
      ValueRange{init}, maps, iters,
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value u = linalg::IndexOp::create(b, l, rank);
        Value first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, u,
                                            cidx(b, l, 0));
        Value acc = arith::SelectOp::create(b, l, first, args[0], args[2]);
        Value match = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
        for (int64_t j = 0; j < k; ++j) {
          Value ij = tensor::ExtractOp::create(b, l, indices,
                                               ValueRange{u, cidx(b, l, j)});
          ij = wrapIndex(b, l, toIndex(b, l, ij, indDType), data[j]);
          Value eq = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, ij,
                                           linalg::IndexOp::create(b, l, j));
          match = arith::AndIOp::create(b, l, match, eq);
        }
        Value x = args[1], r = x;
        if (red == "add")
          r = fp ? (Value)arith::AddFOp::create(b, l, acc, x)
                 : (Value)arith::AddIOp::create(b, l, acc, x);
        else if (red == "mul")
          r = fp ? (Value)arith::MulFOp::create(b, l, acc, x)
                 : (Value)arith::MulIOp::create(b, l, acc, x);
        else if (red == "max")
          r = fp    ? (Value)arith::MaximumFOp::create(b, l, acc, x)
              : uns ? (Value)arith::MaxUIOp::create(b, l, acc, x)
                    : (Value)arith::MaxSIOp::create(b, l, acc, x);
        else if (red == "min")
          r = fp    ? (Value)arith::MinimumFOp::create(b, l, acc, x)
              : uns ? (Value)arith::MinUIOp::create(b, l, acc, x)
                    : (Value)arith::MinSIOp::create(b, l, acc, x);
        linalg::YieldOp::create(b, l,
                                Value(arith::SelectOp::create(b, l, match, r,
                                                              acc)));
      });
  nc.setOutput(0, generic.getResult(0), d);
  return success();
}

LogicalResult importOneHot(NodeContext &nc) {
  if (failed(requireInputs(nc, 3)))
    return failure();
  SmallVector<int64_t> ind = inputShape(nc, 0);
  DType indDType = nc.inputDType(0), d = nc.inputDType(2);
  if (!isInteger(indDType) && !isFloat(indDType)) {
    nc.error() << "indices must be numbers, found " << dtypeName(indDType);
    return failure();
  }
  const HostTensor *cdepth = nc.inputConstant(1);
  if (!cdepth || cdepth->numElements() != 1) {
    nc.error() << "depth (input 1) must be a scalar known at compile time";
    return failure();
  }
  int64_t depth = isFloat(cdepth->dtype)
                      ? static_cast<int64_t>(cdepth->getDouble(0))
                      : cdepth->getInt(0);
  if (depth <= 0 || depth > (int64_t(1) << 32)) {
    nc.error() << "depth must be positive, found " << depth;
    return failure();
  }
  if (shapeProduct(inputShape(nc, 2)) != 2) {
    nc.error() << "values (input 2) must hold [off, on], found "
               << shapeProduct(inputShape(nc, 2)) << " elements";
    return failure();
  }
  int64_t outRank = ind.size() + 1, axis = nc.attrInt("axis", -1);
  if (axis < -outRank || axis >= outRank) {
    nc.error() << "axis " << axis << " is out of range for output rank "
               << outRank;
    return failure();
  }
  if (axis < 0)
    axis += outRank;
  SmallVector<int64_t> outShape = ind;
  outShape.insert(outShape.begin() + axis, depth);
  Type elt = toMLIRType(nc.ctx(), d);
  Value off, on;
  if (const HostTensor *cv = nc.inputConstant(2)) {
    off = hostScalar(nc, *cv, 0, elt);
    on = hostScalar(nc, *cv, 1, elt);
  } else {
    off = extractAt(nc, nc.input(2), 0);
    on = extractAt(nc, nc.input(2), 1);
  }
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < outRank; ++i)
    if (i != axis)
      exprs.push_back(nc.b.getAffineDimExpr(i));
  AffineMap map = AffineMap::get(outRank, 0, exprs, nc.ctx());
  Value out = emitGeneric(
      nc, outShape, elt, nc.input(0), map,
      [&](OpBuilder &b, Location l, ValueRange args, ArrayRef<Value> ivs) {
        Value i = toIndex(b, l, args[0], indDType);
        Value zero = cidx(b, l, 0);
        Value neg =
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
        i = arith::SelectOp::create(
            b, l, neg, arith::AddIOp::create(b, l, i, cidx(b, l, depth)), i);
        Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, i,
                                          ivs[axis]);
        return arith::SelectOp::create(b, l, hit, on, off);
      });
  nc.setOutput(0, out, d);
  return success();
}

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

LogicalResult importCumSum(NodeContext &nc) {
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
  // Domain (dims..., j): out[.., i, ..] sums x[.., j, ..] for the j that
  // precede i (follow it when reversed), i itself unless exclusive.
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
  Value acc = nc.filled(in, nc.scalar(elt, 0));
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
        Value sum = fp ? (Value)arith::AddFOp::create(b, l, args[1], args[0])
                       : (Value)arith::AddIOp::create(b, l, args[1], args[0]);
        linalg::YieldOp::create(
            b, l, Value(arith::SelectOp::create(b, l, take, sum, args[1])));
      });
  nc.setOutput(0, generic.getResult(0), d);
  return success();
}

LogicalResult importNonZero(NodeContext &nc) {
  nc.error() << "NonZero has a data-dependent output shape, which is not "
                "supported (qc needs static shapes)";
  return failure();
}

} // namespace

void qc::detail::registerShapeOps(OpRegistry &r) {
  r.add("Constant", importConstant);
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
  r.add("Concat", importConcat);
  r.add("Split", importSplit);
  r.add("Slice", importSlice);
  r.add("Gather", importGather);
  r.add("GatherElements", importGatherElements);
  r.add("ScatterND", importScatterND);
  r.add("OneHot", importOneHot);
  r.add("Expand", importExpand);
  r.add("Tile", importTile);
  r.add("Pad", importPad);
  r.add("Trilu", importTrilu);
  r.add("CumSum", importCumSum);
  r.add("NonZero", importNonZero);
}
