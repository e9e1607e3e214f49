//===- OutlineKernels.cpp - one function per loop nest --------------------===//

#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/Twine.h"

namespace qc {
#define GEN_PASS_DEF_OUTLINEKERNELSPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

struct OutlineKernelsPass
    : qc::impl::OutlineKernelsPassBase<OutlineKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func || func.isExternal())
      return; // Nothing to outline.
    if (!func.getBody().hasOneBlock()) {
      func.emitError("qc-outline-kernels: the entry function must have one "
                     "block");
      return signalPassFailure();
    }
    SmallVector<Operation *> kernels;
    for (Operation &op : func.getBody().front())
      if (op.getNumRegions() > 0 && op.getNumResults() == 0)
        kernels.push_back(&op);

    IRRewriter rewriter(&getContext());
    unsigned index = 0;
    for (Operation *op : kernels) {
      // Wrap the op in a region, outline the region, then dissolve the
      // wrapper so that the entry is left with a plain call.
      rewriter.setInsertionPoint(op);
      auto wrapper =
          scf::ExecuteRegionOp::create(rewriter, op->getLoc(), TypeRange{});
      Block *body = rewriter.createBlock(&wrapper.getRegion());
      rewriter.setInsertionPointToEnd(body);
      auto yield = scf::YieldOp::create(rewriter, op->getLoc());
      op->moveBefore(yield);
      std::string name = (Twine(entry) + "_kernel" + Twine(index++)).str();
      func::CallOp call;
      FailureOr<func::FuncOp> kernel = outlineSingleBlockRegion(
          rewriter, op->getLoc(), wrapper.getRegion(), name, &call);
      if (failed(kernel)) {
        op->emitError("qc-outline-kernels: cannot outline this loop nest");
        return signalPassFailure();
      }
      kernel->setPrivate();
      kernel->getOperation()->setAttr(
          "passthrough",
          rewriter.getArrayAttr({rewriter.getStringAttr("noinline")}));
      Block &region = wrapper.getRegion().front();
      rewriter.eraseOp(region.getTerminator());
      rewriter.inlineBlockBefore(&region, wrapper);
      rewriter.eraseOp(wrapper);
    }
  }
};

} // namespace
