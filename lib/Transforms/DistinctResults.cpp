//===- DistinctResults.cpp - every result in a buffer of its own ----------===//
//
// After bufferization a function may return one buffer twice: two graph
// outputs that computed the same thing became one value under CSE, or the
// graph names one value twice as an output. buffer-results-to-out-params
// moves each result into a caller's buffer and cannot place one buffer in
// two; so each repeat is copied into a buffer of its own first.
//
//===----------------------------------------------------------------------===//

#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace qc {
#define GEN_PASS_DEF_DISTINCTRESULTSPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// Replaces each repeated memref operand of `ret` by a fresh copy of it.
LogicalResult copyRepeats(func::ReturnOp ret) {
  llvm::SmallPtrSet<Value, 8> seen;
  OpBuilder b(ret);
  for (OpOperand &operand : ret->getOpOperands()) {
    Value v = operand.get();
    if (seen.insert(v).second)
      continue;
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type)
      continue;
    if (!type.hasStaticShape())
      return ret.emitError("qc-distinct-results: result ")
             << operand.getOperandNumber()
             << " repeats a dynamically shaped buffer";
    // The copy gets the identity layout the results are declared with.
    auto plain = MemRefType::get(type.getShape(), type.getElementType(),
                                 MemRefLayoutAttrInterface(),
                                 type.getMemorySpace());
    Value copy = memref::AllocOp::create(b, ret.getLoc(), plain);
    memref::CopyOp::create(b, ret.getLoc(), v, copy);
    if (plain != type)
      copy = memref::CastOp::create(b, ret.getLoc(), type, copy);
    operand.set(copy);
  }
  return success();
}

struct DistinctResultsPass
    : qc::impl::DistinctResultsPassBase<DistinctResultsPass> {
  void runOnOperation() override {
    WalkResult r = getOperation().walk([](func::ReturnOp ret) {
      return failed(copyRepeats(ret)) ? WalkResult::interrupt()
                                      : WalkResult::advance();
    });
    if (r.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
