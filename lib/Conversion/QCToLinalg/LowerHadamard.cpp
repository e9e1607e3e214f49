//===- LowerHadamard.cpp - qc.hadamard to linalg or a generated kernel ----===//
//
// The reference builds the transform stage by stage from linalg generics
// on tensors (each stage a pass over the activations); the kernel form
// calls the generated row kernel (lib/Codegen/CPU/Kernels/Hadamard.cpp),
// one pass per row in cache, with the same arithmetic.
//
//===----------------------------------------------------------------------===//

#include "../Kernels/Kernels.h"
#include "QC/IR/QCOps.h"
#include "qc/Codegen/CPUKernels.h"
#include "qc/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

namespace qc {
#define GEN_PASS_DEF_LOWERHADAMARDPASS
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

//===----------------------------------------------------------------------===//
// The reference
//===----------------------------------------------------------------------===//

/// Whether the mix is the constant [[1]] (qc-rotate's for a power-of-two
/// K): both lowerings leave the mix step out then.
bool isUnitMix(qc::HadamardOp op) {
  DenseElementsAttr mix;
  return op.getOrder() == 1 && matchPattern(op.getMix(), m_Constant(&mix)) &&
         mix.getValues<float>()[0] == 1.0f;
}

SmallVector<utils::IteratorType> parallel(unsigned n) {
  return SmallVector<utils::IteratorType>(n, utils::IteratorType::parallel);
}

/// The reassociation that splits the last of `rank` dimensions into `parts`.
SmallVector<ReassociationIndices> splitLast(int64_t rank, int64_t parts) {
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d + 1 < rank; ++d)
    groups.push_back({d});
  groups.emplace_back();
  for (int64_t p = 0; p < parts; ++p)
    groups.back().push_back(rank - 1 + p);
  return groups;
}

/// One butterfly stage on the last dimension (size P) of `x`, at stride b:
/// [..., P] viewed as [..., P / 2b, 2, b], y[.., 0, .] = lo + hi,
/// y[.., 1, .] = lo - hi.
Value butterfly(OpBuilder &b, Location loc, Value x, int64_t stride) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank(), p = type.getShape().back();
  SmallVector<int64_t> shape(type.getShape().drop_back());
  llvm::append_values(shape, p / (2 * stride), 2, stride);
  auto viewType = RankedTensorType::get(shape, b.getF32Type());
  Value view = tensor::ExpandShapeOp::create(b, loc, viewType, x,
                                             splitLast(rank, 3));
  // lo and hi: the halves, without the size-2 dimension.
  int64_t pair = rank; // index of the size-2 dimension
  SmallVector<int64_t> halfShape(shape);
  halfShape.erase(halfShape.begin() + pair);
  auto halfType = RankedTensorType::get(halfShape, b.getF32Type());
  SmallVector<Value> halves;
  for (int64_t h = 0; h < 2; ++h) {
    SmallVector<OpFoldResult> offsets(shape.size(), b.getIndexAttr(0)),
        sizes, strides(shape.size(), b.getIndexAttr(1));
    offsets[pair] = b.getIndexAttr(h);
    for (int64_t d = 0; d < int64_t(shape.size()); ++d)
      sizes.push_back(b.getIndexAttr(d == pair ? 1 : shape[d]));
    halves.push_back(tensor::ExtractSliceOp::create(b, loc, halfType, view,
                                                    offsets, sizes, strides));
  }
  unsigned dims = shape.size();
  SmallVector<AffineExpr> halfExprs;
  for (unsigned d = 0; d < dims; ++d)
    if (d != unsigned(pair))
      halfExprs.push_back(b.getAffineDimExpr(d));
  AffineMap halfMap = AffineMap::get(dims, 0, halfExprs, b.getContext());
  SmallVector<AffineMap> maps = {halfMap, halfMap,
                                 b.getMultiDimIdentityMap(dims)};
  Value init = tensor::EmptyOp::create(b, loc, shape, b.getF32Type());
  auto stage = linalg::GenericOp::create(
      b, loc, viewType, halves, init, maps, parallel(dims),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value sum = arith::AddFOp::create(nb, l, args[0], args[1]);
        Value diff = arith::SubFOp::create(nb, l, args[0], args[1]);
        Value idx = linalg::IndexOp::create(nb, l, pair);
        Value zero = arith::ConstantIndexOp::create(nb, l, 0);
        Value isLo = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq,
                                           idx, zero);
        linalg::YieldOp::create(
            nb, l, Value(arith::SelectOp::create(nb, l, isLo, sum, diff)));
      });
  return tensor::CollapseShapeOp::create(b, loc, x.getType(),
                                         stage.getResult(0),
                                         splitLast(rank, 3));
}

/// y[..., i', j] = sum_i mix[i][i'] z[..., i, j] on `z` of shape [..., m, P].
Value mixBlocks(OpBuilder &b, Location loc, Value z, Value hm) {
  auto type = cast<RankedTensorType>(z.getType());
  unsigned rank = type.getRank(), dims = rank + 1; // + the reduction i
  SmallVector<AffineExpr> zExprs, outExprs;
  for (unsigned d = 0; d + 2 < rank; ++d) {
    zExprs.push_back(b.getAffineDimExpr(d));
    outExprs.push_back(b.getAffineDimExpr(d));
  }
  AffineExpr iOut = b.getAffineDimExpr(rank - 2), j = b.getAffineDimExpr(rank - 1),
             i = b.getAffineDimExpr(rank);
  llvm::append_values(zExprs, i, j);
  llvm::append_values(outExprs, iOut, j);
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps = {AffineMap::get(dims, 0, zExprs, ctx),
                                 AffineMap::get(dims, 0, {i, iOut}, ctx),
                                 AffineMap::get(dims, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iterators = parallel(rank);
  iterators.push_back(utils::IteratorType::reduction);
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value init = linalg::FillOp::create(
                   b, loc, zero,
                   Value(tensor::EmptyOp::create(b, loc, type.getShape(),
                                                 b.getF32Type())))
                   .getResult(0);
  return linalg::GenericOp::create(
             b, loc, type, ValueRange{z, hm}, init, maps, iterators,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value prod = arith::MulFOp::create(nb, l, args[0], args[1]);
               linalg::YieldOp::create(
                   nb, l, Value(arith::AddFOp::create(nb, l, args[2], prod)));
             })
      .getResult(0);
}

/// qc.hadamard as linalg on tensors: the signs, the butterflies, the mix.
Value buildReference(OpBuilder &b, Location loc, qc::HadamardOp op) {
  Value x = op.getInput();
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap channel =
      AffineMap::get(rank, 0, b.getAffineDimExpr(rank - 1), b.getContext());
  Value init = tensor::EmptyOp::create(b, loc, type.getShape(),
                                      type.getElementType());
  Value signed_ =
      linalg::GenericOp::create(
          b, loc, type, ValueRange{x, op.getSigns()}, init,
          SmallVector<AffineMap>{id, channel, id}, parallel(rank),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            linalg::YieldOp::create(
                nb, l, Value(arith::MulFOp::create(nb, l, args[0], args[1])));
          })
          .getResult(0);
  SmallVector<int64_t> blocked(type.getShape().drop_back());
  llvm::append_values(blocked, op.getOrder(), op.getPow2());
  auto blockedType = RankedTensorType::get(blocked, b.getF32Type());
  Value z = tensor::ExpandShapeOp::create(b, loc, blockedType, signed_,
                                          splitLast(rank, 2));
  for (int64_t stride = 1; stride < op.getPow2(); stride *= 2)
    z = butterfly(b, loc, z, stride);
  if (!isUnitMix(op))
    z = mixBlocks(b, loc, z, op.getMix());
  return tensor::CollapseShapeOp::create(b, loc, type, z, splitLast(rank, 2));
}

//===----------------------------------------------------------------------===//
// The kernel
//===----------------------------------------------------------------------===//

/// A call of the row kernel on the flattened [R, K] input.
Value buildKernelCall(OpBuilder &b, Location loc, qc::HadamardOp op) {
  auto type = cast<RankedTensorType>(op.getInput().getType());
  int64_t k = op.getWidth(), rows = type.getNumElements() / k;
  auto module = op->getParentOfType<ModuleOp>();
  Value x = qc::kernels::activationBuffer(b, loc, op.getInput(), rows, k,
                                          op.getLayer());
  Value out = qc::kernels::allocBuffer(b, loc, {rows, k}, b.getF32Type());
  func::FuncOp kernel =
      qc::getHadamardKernel(module, loc, rows, k, op.getOrder(),
                            /*applyMix=*/!isUnitMix(op));
  kernel->setAttr(qc::kParallelAttrName, b.getI64IntegerAttr(1));
  func::CallOp::create(
      b, loc, kernel,
      ValueRange{x, qc::kernels::readOnlyBuffer(b, loc, op.getSigns()),
                 qc::kernels::readOnlyBuffer(b, loc, op.getMix()), out,
                 arith::ConstantIndexOp::create(b, loc, 0),
                 arith::ConstantIndexOp::create(b, loc, rows)});
  return qc::kernels::outputTensor(b, loc, out, rows, k, type);
}

struct LowerHadamardPass
    : qc::impl::LowerHadamardPassBase<LowerHadamardPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<qc::HadamardOp> ops;
    getOperation().walk([&](qc::HadamardOp op) { ops.push_back(op); });
    for (qc::HadamardOp op : ops) {
      if (!op.getInput().getType().hasStaticShape()) {
        op.emitOpError("qc-lower-hadamard: needs a static input shape");
        return signalPassFailure();
      }
      OpBuilder b(op);
      Value y = kernels ? buildKernelCall(b, op.getLoc(), op)
                        : buildReference(b, op.getLoc(), op);
      op.getResult().replaceAllUsesWith(y);
      op.erase();
    }
  }
};

} // namespace
