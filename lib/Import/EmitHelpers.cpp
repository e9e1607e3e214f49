//===- EmitHelpers.cpp - IR building blocks shared by op importers --------===//

#include "HostFolding.h"
#include "Importer.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

FailureOr<SmallVector<int64_t>>
NodeContext::broadcastShape(ArrayRef<SmallVector<int64_t>> shapes) {
  if (std::optional<SmallVector<int64_t>> out = hostBroadcastShape(shapes))
    return *out;
  auto diag = error() << "shapes cannot be broadcast together:";
  for (const auto &t : shapes) {
    diag << " [";
    llvm::interleave(t, [&](int64_t x) { diag << x; }, [&] { diag << ","; });
    diag << "]";
  }
  return failure();
}

Value NodeContext::elementwiseTo(ValueRange operands,
                                 ArrayRef<int64_t> resultShape, Type resultElt,
                                 const ScalarBody &body) {
  int64_t rank = resultShape.size();
  SmallVector<AffineMap> maps;
  for (Value v : operands) {
    auto type = cast<RankedTensorType>(v.getType());
    int64_t r = type.getRank();
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < r; ++i) {
      int64_t j = rank - r + i;
      if (type.getDimSize(i) == resultShape[j])
        exprs.push_back(b.getAffineDimExpr(j));
      else
        exprs.push_back(b.getAffineConstantExpr(0));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, ctx()));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  Value init = empty(resultShape, resultElt);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), operands, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value r = body(nb, nl, args.drop_back());
        linalg::YieldOp::create(nb, nl, r);
      });
  return generic.getResult(0);
}

FailureOr<Value> NodeContext::elementwise(ValueRange operands, Type resultElt,
                                          const ScalarBody &body) {
  SmallVector<SmallVector<int64_t>> shapes;
  for (Value v : operands)
    shapes.emplace_back(cast<RankedTensorType>(v.getType()).getShape());
  FailureOr<SmallVector<int64_t>> shape = broadcastShape(shapes);
  if (failed(shape))
    return failure();
  return elementwiseTo(operands, *shape, resultElt, body);
}

Value NodeContext::reduce(Value input, ArrayRef<int64_t> axes, bool keepDims,
                          Value init, const ScalarBody &combine) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> outShape, keptShape;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = llvm::is_contained(axes, i);
    iters.push_back(reduced ? utils::IteratorType::reduction
                            : utils::IteratorType::parallel);
    keptShape.push_back(reduced ? 1 : type.getDimSize(i));
    if (!reduced) {
      outShape.push_back(type.getDimSize(i));
      outExprs.push_back(b.getAffineDimExpr(i));
    }
  }
  Value acc = filled(outShape, init);
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank),
                                 AffineMap::get(rank, 0, outExprs, ctx())};
  auto generic = linalg::GenericOp::create(
      b, loc, acc.getType(), ValueRange{input}, ValueRange{acc}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value r = combine(nb, nl, args);
        linalg::YieldOp::create(nb, nl, r);
      });
  Value out = generic.getResult(0);
  return keepDims ? reshape(out, keptShape) : out;
}

Value NodeContext::reshape(Value input, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getShape() == shape)
    return input;
  Type elt = type.getElementType();
  Value flat = input;
  int64_t n = type.getNumElements();
  // Through rank 1 (or rank 0 for single elements): always a valid
  // collapse followed by a valid expand for static shapes.
  bool toScalar = shape.empty() || type.getRank() == 0;
  if (toScalar) {
    SmallVector<int64_t> ones(std::max<size_t>(shape.size(), type.getRank()),
                              1);
    if (type.getRank() != 0)
      flat = tensor::CollapseShapeOp::create(
          b, loc, RankedTensorType::get({}, elt), input,
          ArrayRef<ReassociationIndices>{});
    if (shape.empty())
      return flat;
    return tensor::ExpandShapeOp::create(b, loc,
                                         RankedTensorType::get(shape, elt),
                                         flat, ArrayRef<ReassociationIndices>{});
  }
  // A pure collapse or expand keeps the IR readable (and the matmul form
  // that qc-raise-linear looks for).
  auto target = RankedTensorType::get(shape, elt);
  if (auto reassoc = getReassociationIndicesForReshape(type, target)) {
    if (target.getRank() < type.getRank())
      return tensor::CollapseShapeOp::create(b, loc, target, input, *reassoc);
    return tensor::ExpandShapeOp::create(b, loc, target, input, *reassoc);
  }
  if (type.getRank() != 1) {
    ReassociationIndices all;
    for (int64_t i = 0; i < type.getRank(); ++i)
      all.push_back(i);
    flat = tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get({n}, elt), input,
        ArrayRef<ReassociationIndices>{all});
  }
  if (shape.size() == 1)
    return flat;
  ReassociationIndices all;
  for (size_t i = 0; i < shape.size(); ++i)
    all.push_back(i);
  return tensor::ExpandShapeOp::create(b, loc, RankedTensorType::get(shape, elt),
                                       flat,
                                       ArrayRef<ReassociationIndices>{all});
}

Value NodeContext::transpose(Value input, ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(input.getType());
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity &= perm[i] == static_cast<int64_t>(i);
  if (identity)
    return input;
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getDimSize(p));
  Value init = empty(shape, type.getElementType());
  return linalg::TransposeOp::create(b, loc, input, init, perm).getResult()[0];
}

Value NodeContext::convertScalar(OpBuilder &nb, Location nl, Value v,
                                 DType from, DType to,
                                 const CastOptions &options) {
  // The narrow types through f32 (floats) or their integer value.
  if (from == to)
    return v;
  if (isNarrowType(from)) {
    DType wide = isNarrowFloat(from) ? TP::FLOAT
                 : isUnsigned(from)  ? TP::UINT8
                                     : TP::INT8;
    if (isNarrowFloat(from))
      v = decodeNarrowFloat(nb, nl, v, from);
    return convertScalar(nb, nl, v, wide, to, options);
  }
  if (subByteIntBits(to))
    return wrapSubByteInt(nb, nl, convertScalar(nb, nl, v, from, TP::INT32),
                          to);
  if (isNarrowFloat(to))
    return encodeNarrowFloat(nb, nl, convertScalar(nb, nl, v, from, TP::FLOAT),
                             to, options);
  Type src = v.getType();
  Type dst = toMLIRType(ctx(), to);
  if (src == dst)
    return v;
  bool fromFloat = isa<FloatType>(src), toFloat = isa<FloatType>(dst);
  if (fromFloat && toFloat) {
    if (cast<FloatType>(src).getWidth() < cast<FloatType>(dst).getWidth())
      return arith::ExtFOp::create(nb, nl, dst, v);
    if (cast<FloatType>(src).getWidth() > cast<FloatType>(dst).getWidth())
      return arith::TruncFOp::create(nb, nl, dst, v);
    // f16 <-> bf16: through f32.
    Value wide = arith::ExtFOp::create(nb, nl, nb.getF32Type(), v);
    return arith::TruncFOp::create(nb, nl, dst, wide);
  }
  if (!fromFloat && toFloat) {
    if (isUnsigned(from) || isBool(from))
      return arith::UIToFPOp::create(nb, nl, dst, v);
    return arith::SIToFPOp::create(nb, nl, dst, v);
  }
  if (fromFloat && !toFloat) {
    if (isBool(to)) {
      Value zero = arith::ConstantOp::create(nb, nl, nb.getFloatAttr(src, 0));
      return arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::UNE, v, zero);
    }
    if (isUnsigned(to))
      return arith::FPToUIOp::create(nb, nl, dst, v);
    return arith::FPToSIOp::create(nb, nl, dst, v);
  }
  // Integer to integer.
  unsigned sw = src.getIntOrFloatBitWidth(), dw = dst.getIntOrFloatBitWidth();
  if (isBool(to)) {
    Value zero = arith::ConstantOp::create(nb, nl, nb.getIntegerAttr(src, 0));
    return arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ne, v, zero);
  }
  if (sw < dw) {
    if (isUnsigned(from) || isBool(from))
      return arith::ExtUIOp::create(nb, nl, dst, v);
    return arith::ExtSIOp::create(nb, nl, dst, v);
  }
  return arith::TruncIOp::create(nb, nl, dst, v);
}

Value NodeContext::castTo(Value input, DType from, DType to,
                          const CastOptions &options) {
  if (toMLIRType(ctx(), from) == toMLIRType(ctx(), to) &&
      !isNarrowType(from) && !isNarrowType(to))
    return input;
  if (from == to)
    return input;
  auto type = mlir::cast<RankedTensorType>(input.getType());
  return elementwiseTo(input, type.getShape(), toMLIRType(ctx(), to),
                       [&](OpBuilder &nb, Location nl, ValueRange a) {
                         return convertScalar(nb, nl, a[0], from, to, options);
                       });
}
