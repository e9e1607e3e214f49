//===- ShapeUtils.cpp - helpers of the shape and data-movement ops --------===//

#include "ShapeUtils.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;
using TP = onnx::TensorProto;

namespace qc {
namespace detail {

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

Value floatInput(NodeContext &nc, unsigned i) {
  Value x = nc.input(i);
  if (x && isFloat(nc.inputDType(i)))
    return x;
  nc.error() << "expects a float input tensor";
  return nullptr;
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

/// The window of one step at index `t` of the first dimension of a tensor
/// of `shape` (its first dimension 1 in `sizes`).
static std::pair<SmallVector<OpFoldResult>, SmallVector<int64_t>>
stepWindow(NodeContext &nc, ArrayRef<int64_t> shape, Value t) {
  SmallVector<OpFoldResult> offsets(shape.size(), nc.b.getIndexAttr(0));
  offsets[0] = t;
  SmallVector<int64_t> sizes(shape);
  sizes[0] = 1;
  return {offsets, sizes};
}

Value extractStep(NodeContext &nc, Value v, Value t) {
  auto type = cast<RankedTensorType>(v.getType());
  auto [offsets, sizes] = stepWindow(nc, type.getShape(), t);
  SmallVector<int64_t> ones(sizes.size(), 1);
  Value slice = tensor::ExtractSliceOp::create(
      nc.b, nc.loc, RankedTensorType::get(sizes, type.getElementType()), v,
      offsets, indexAttrs(nc.b, sizes), indexAttrs(nc.b, ones));
  return nc.reshape(slice, ArrayRef<int64_t>(sizes).drop_front());
}

Value insertStep(NodeContext &nc, Value step, Value dest, Value t) {
  auto type = cast<RankedTensorType>(dest.getType());
  auto [offsets, sizes] = stepWindow(nc, type.getShape(), t);
  SmallVector<int64_t> ones(sizes.size(), 1);
  return tensor::InsertSliceOp::create(nc.b, nc.loc, nc.reshape(step, sizes),
                                       dest, offsets, indexAttrs(nc.b, sizes),
                                       indexAttrs(nc.b, ones));
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

SmallVector<int64_t> emptySafeOffsets(ArrayRef<int64_t> offsets,
                                      ArrayRef<int64_t> sizes) {
  SmallVector<int64_t> safe(offsets);
  for (size_t d = 0; d < safe.size(); ++d)
    if (sizes[d] == 0)
      safe[d] = 0;
  return safe;
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
      nc.b, nc.loc, nc.input(0),
      indexAttrs(nc.b, emptySafeOffsets(offsets, sizes)),
      indexAttrs(nc.b, sizes), indexAttrs(nc.b, strides));
  nc.setOutput(i, v, nc.inputDType(0));
}

} // namespace detail
} // namespace qc

/// One linalg.generic contraction: out[outDims] += a[aDims] * b[bDims] over
/// `numDims` loop dims whose sizes are `sizes`; dims not in `outDims` are
/// reductions.
Value qc::detail::contract(NodeContext &nc, Value a, ArrayRef<unsigned> aDims,
                           Value b, ArrayRef<unsigned> bDims,
                           ArrayRef<unsigned> outDims,
                           ArrayRef<int64_t> sizes) {
  MLIRContext *ctx = nc.ctx();
  unsigned n = sizes.size();
  auto map = [&](ArrayRef<unsigned> dims) {
    SmallVector<AffineExpr> e;
    for (unsigned d : dims)
      e.push_back(getAffineDimExpr(d, ctx));
    return AffineMap::get(n, 0, e, ctx);
  };
  SmallVector<int64_t> outShape;
  for (unsigned d : outDims)
    outShape.push_back(sizes[d]);
  SmallVector<utils::IteratorType> iters;
  for (unsigned d = 0; d < n; ++d)
    iters.push_back(llvm::is_contained(outDims, d)
                        ? utils::IteratorType::parallel
                        : utils::IteratorType::reduction);
  Type elt = cast<RankedTensorType>(a.getType()).getElementType();
  Value acc = nc.filled(outShape, nc.scalar(elt, 0));
  return linalg::GenericOp::create(
             nc.b, nc.loc, acc.getType(), ValueRange{a, b}, ValueRange{acc},
             ArrayRef<AffineMap>{map(aDims), map(bDims), map(outDims)}, iters,
             [](OpBuilder &ob, Location l, ValueRange args) {
               Value p = arith::MulFOp::create(ob, l, args[0], args[1]);
               linalg::YieldOp::create(
                   ob, l, ValueRange{arith::AddFOp::create(ob, l, args[2], p)});
             })
      .getResult(0);
}
