//===- KVCacheFormat.cpp - the storage format of key-value caches ---------===//

#include "QC/IR/QCOps.h"
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace qc {
#define GEN_PASS_DEF_KVCACHEFORMATPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// Whether `cache` is an argument of `fn` used by `op` alone and `updated`
/// is used by return ops only.
bool isStateOf(func::FuncOp fn, Operation *op, Value cache, Value updated) {
  auto arg = dyn_cast<BlockArgument>(cache);
  return arg && arg.getOwner() == &fn.getBody().front() &&
         llvm::all_of(cache.getUsers(),
                      [&](Operation *user) { return user == op; }) &&
         llvm::all_of(updated.getUsers(), [](Operation *user) {
           return isa<func::ReturnOp>(user);
         });
}

/// Gives the caches of `op` (in another format) the storage `format`.
LogicalResult setFormat(func::FuncOp fn, qc::CachedAttentionOp op,
                        qc::KVCacheFormat format) {
  qc::KVCacheLayout layout = op.getCacheLayout();
  if (!qc::kvCacheFormatFits(format, layout.headDim))
    return op.emitError("qc-kv-cache: ")
           << qc::kvCacheFormatName(format) << " caches need a head size "
           << "that is a multiple of " << qc::kKVCacheGroup << ", not "
           << layout.headDim;
  if (!isStateOf(fn, op, op.getKeyCache(), op.getKeyCacheOut()) ||
      !isStateOf(fn, op, op.getValueCache(), op.getValueCacheOut()))
    return op.emitError("qc-kv-cache: the caches must be arguments of @")
           << fn.getName()
           << " read by this attention alone, and its updated caches "
              "results of @"
           << fn.getName();
  qc::KVCacheLayout target{format, layout.headDim};
  auto old = cast<RankedTensorType>(op.getKeyCache().getType());
  if (target.mixed() && old.getDimSize(2) < qc::kMiKVMinLength)
    return op.emitError("qc-kv-cache: mikv caches hold at least ")
           << qc::kMiKVMinLength << " positions, not " << old.getDimSize(2);
  op.setMixedPrecision(target.mixed());
  auto type = RankedTensorType::get(
      {old.getDimSize(0), old.getDimSize(1), old.getDimSize(2),
       target.rowWidth()},
      target.elementType(fn.getContext()));
  // The model's element type of these arguments and results is gone.
  auto dtype = StringAttr::get(fn.getContext(), qc::kDTypeAttrName);
  for (Value cache : {op.getKeyCache(), op.getValueCache()}) {
    cache.setType(type);
    fn.removeArgAttr(cast<BlockArgument>(cache).getArgNumber(), dtype);
  }
  for (Value updated : {op.getKeyCacheOut(), op.getValueCacheOut()}) {
    updated.setType(type);
    for (OpOperand &use : updated.getUses())
      fn.removeResultAttr(use.getOperandNumber(), dtype);
  }
  return success();
}

/// Stores the caches of `fn`'s attention ops as `format` says and updates
/// its type.
LogicalResult setFormats(func::FuncOp fn, qc::KVCacheFormat format) {
  SmallVector<qc::CachedAttentionOp> ops;
  fn.walk([&](qc::CachedAttentionOp op) {
    if (op.getCacheLayout().format != format)
      ops.push_back(op);
  });
  if (ops.empty())
    return success();
  if (!SymbolTable::symbolKnownUseEmpty(fn, fn->getParentOp()))
    return fn.emitError("qc-kv-cache: @")
           << fn.getName()
           << " is called: its callers would keep the caches' old types";
  for (qc::CachedAttentionOp op : ops)
    if (failed(setFormat(fn, op, format)))
      return failure();
  SmallVector<Type> results;
  fn.walk([&](func::ReturnOp r) {
    results.assign(r.getOperandTypes().begin(), r.getOperandTypes().end());
  });
  fn.setType(FunctionType::get(
      fn.getContext(), fn.getBody().front().getArgumentTypes(), results));
  return success();
}

struct KVCacheFormatPass
    : qc::impl::KVCacheFormatPassBase<KVCacheFormatPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<qc::KVCacheFormat> parsed = qc::parseKVCacheFormat(format);
    if (!parsed) {
      getOperation().emitError("qc-kv-cache: unknown format '")
          << format << "' (f32, f16, int8, int4 or mikv)";
      return signalPassFailure();
    }
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (!fn.isExternal() && failed(setFormats(fn, *parsed)))
        return signalPassFailure();
  }
};

} // namespace
