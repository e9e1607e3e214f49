//===- DropStateResults.cpp - states updated in place are not results -----===//

#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/BitVector.h"

namespace qc {
#define GEN_PASS_DEF_DROPSTATERESULTSPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// `v` without the memref.casts around it.
Value stripCasts(Value v) {
  while (auto cast = v.getDefiningOp<memref::CastOp>())
    v = cast.getSource();
  return v;
}

LogicalResult dropStateResults(func::FuncOp fn,
                               DenseI64ArrayAttr pairs) {
  if (pairs.size() % 2 != 0)
    return fn.emitError("qc-drop-state-results: ")
           << qc::kStateResultsAttrName << " must hold (result, argument) pairs";
  SmallVector<func::ReturnOp> returns;
  fn.walk([&](func::ReturnOp r) { returns.push_back(r); });
  llvm::BitVector drop(fn.getNumResults());
  for (int64_t i = 0; i < static_cast<int64_t>(pairs.size()); i += 2) {
    int64_t res = pairs[i], arg = pairs[i + 1];
    if (res < 0 || res >= fn.getNumResults() || arg < 0 ||
        arg >= fn.getNumArguments())
      return fn.emitError("qc-drop-state-results: no result ")
             << res << " or argument " << arg;
    for (func::ReturnOp r : returns)
      if (stripCasts(r.getOperand(res)) != fn.getArgument(arg))
        return fn.emitError("qc-drop-state-results: result ")
               << res << " is not argument " << arg
               << " updated in place: the state would be copied";
    drop.set(res);
  }
  for (func::ReturnOp r : returns)
    r->eraseOperands(drop);
  if (failed(fn.eraseResults(drop)))
    return fn.emitError("qc-drop-state-results: cannot erase the results");
  fn->removeAttr(qc::kStateResultsAttrName);
  return success();
}

struct DropStateResultsPass
    : qc::impl::DropStateResultsPassBase<DropStateResultsPass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (auto pairs =
              fn->getAttrOfType<DenseI64ArrayAttr>(qc::kStateResultsAttrName))
        if (failed(dropStateResults(fn, pairs)))
          return signalPassFailure();
  }
};

} // namespace
