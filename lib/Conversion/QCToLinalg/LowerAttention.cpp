//===- LowerAttention.cpp - qc.cached_attention to cache writes + kernel --===//

#include "../Kernels/Kernels.h"
#include "QC/IR/QCOps.h"
#include "qc/Codegen/CPUKernels.h"
#include "qc/Conversion/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"

namespace qc {
#define GEN_PASS_DEF_LOWERATTENTIONPASS
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;
using qc::kernels::allocBuffer;
using qc::kernels::flattenInput;
using qc::kernels::outputTensor;
using qc::kernels::readOnlyBuffer;

namespace {

/// The kernel shape of `op` (the verifier checked the shapes).
qc::AttentionShape shapeOf(qc::CachedAttentionOp op) {
  auto q = cast<RankedTensorType>(op.getQuery().getType());
  auto c = cast<RankedTensorType>(op.getKeyCache().getType());
  qc::AttentionShape s;
  s.batch = q.getDimSize(0);
  s.heads = q.getDimSize(1);
  s.seq = q.getDimSize(2);
  s.headDim = q.getDimSize(3);
  s.kvHeads = c.getDimSize(1);
  s.cacheLen = c.getDimSize(2);
  s.scale = op.getScale().convertToFloat();
  s.lanes = qc::floatVectorLanes(op);
  s.cache = op.getCacheLayout().format;
  return s;
}

/// The step's `[B, KV, S, D]` keys or values in the storage of `layout`:
/// `[B, KV, S, W]` rows of the cache's element type (f32 stays as it is).
Value encode(OpBuilder &b, Location loc, ModuleOp module, Value value,
             const qc::KVCacheLayout &layout) {
  if (layout.format == qc::KVCacheFormat::F32)
    return value;
  ArrayRef<int64_t> shape = cast<RankedTensorType>(value.getType()).getShape();
  int64_t rows = shape[0] * shape[1] * shape[2], width = layout.rowWidth();
  Type element = layout.elementType(b.getContext());
  Value flat = flattenInput(b, loc, value, rows, layout.headDim);
  Value out = allocBuffer(b, loc, {rows, width}, element);
  func::CallOp::create(
      b, loc, qc::getKVCacheEncodeKernel(module, loc, layout, rows),
      ValueRange{readOnlyBuffer(b, loc, flat), out});
  return outputTensor(
      b, loc, out, rows, width,
      RankedTensorType::get({shape[0], shape[1], shape[2], width}, element));
}

/// `value` written into `cache` at positions [past, past + S).
Value writeCache(OpBuilder &b, Location loc, Value value, Value cache,
                 Value past) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0),
                                       past, b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes, strides(4, b.getIndexAttr(1));
  for (int64_t d : type.getShape())
    sizes.push_back(b.getIndexAttr(d));
  return tensor::InsertSliceOp::create(b, loc, value, cache, offsets, sizes,
                                       strides);
}

/// The buffer of the cache `tensor` for a kernel that updates it in place
/// (MiKV's pool and importance).
Value writableBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
      /*readOnly=*/false);
}

/// The new value of a cache a kernel updated in `buffer`. (Made after the
/// call: right after its to_buffer, the pair would fold away.)
Value updatedCache(OpBuilder &b, Location loc, Value buffer, Type type) {
  return bufferization::ToTensorOp::create(b, loc, type, buffer,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

void lower(qc::CachedAttentionOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  qc::AttentionShape s = shapeOf(op);
  // Keep every write inside the caches whatever `past` is.
  Value past = arith::MaxSIOp::create(
      b, loc, op.getPast(), arith::ConstantIndexOp::create(b, loc, 0));
  past = arith::MinSIOp::create(
      b, loc, past,
      arith::ConstantIndexOp::create(b, loc, s.cacheLen - s.seq));
  qc::KVCacheLayout layout = op.getCacheLayout();
  auto module = op->getParentOfType<ModuleOp>();
  // A MiKV row's int4 part is written here; the kernel pools the rest.
  qc::KVCacheLayout stored = layout.lowPrecision();
  Value keys = writeCache(b, loc, encode(b, loc, module, op.getKey(), stored),
                          op.getKeyCache(), past);
  Value values =
      writeCache(b, loc, encode(b, loc, module, op.getValue(), stored),
                 op.getValueCache(), past);

  Value out = allocBuffer(b, loc, {s.batch, s.heads, s.seq, s.headDim},
                          b.getF32Type());
  func::FuncOp kernel = qc::getAttentionKernel(module, loc, s);
  kernel->setAttr(qc::kParallelAttrName, b.getI64IntegerAttr(1));
  SmallVector<Value> args = {readOnlyBuffer(b, loc, op.getQuery())};
  Value keyBuffer, valueBuffer;
  if (layout.mixed()) {
    keyBuffer = writableBuffer(b, loc, keys);
    valueBuffer = writableBuffer(b, loc, values);
    args.append({keyBuffer, valueBuffer, past, out,
                 readOnlyBuffer(b, loc, op.getKey()),
                 readOnlyBuffer(b, loc, op.getValue())});
  } else {
    args.append({readOnlyBuffer(b, loc, keys), readOnlyBuffer(b, loc, values),
                 past, out});
  }
  args.append({arith::ConstantIndexOp::create(b, loc, 0),
               arith::ConstantIndexOp::create(b, loc, s.rows())});
  func::CallOp::create(b, loc, kernel, args);
  if (layout.mixed()) {
    keys = updatedCache(b, loc, keyBuffer, keys.getType());
    values = updatedCache(b, loc, valueBuffer, values.getType());
  }
  Value result = bufferization::ToTensorOp::create(
      b, loc, op.getResult().getType(), out, /*restrict=*/true,
      /*writable=*/true);
  op.getResult().replaceAllUsesWith(result);
  op.getKeyCacheOut().replaceAllUsesWith(keys);
  op.getValueCacheOut().replaceAllUsesWith(values);
  op.erase();
}

struct LowerAttentionPass
    : qc::impl::LowerAttentionPassBase<LowerAttentionPass> {
  void runOnOperation() override {
    SmallVector<qc::CachedAttentionOp> ops;
    getOperation().walk([&](qc::CachedAttentionOp op) { ops.push_back(op); });
    for (qc::CachedAttentionOp op : ops)
      lower(op);
  }
};

} // namespace
