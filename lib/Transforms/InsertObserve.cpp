//===- InsertObserve.cpp - calibration taps on qc.linear inputs -----------===//

#include "QC/IR/QCOps.h"
#include "qc/Transforms/AttentionTaps.h"
#include "qc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "qc/Transforms/QuantRecipe.h"

namespace qc {
#define GEN_PASS_DEF_INSERTOBSERVEPASS
#define GEN_PASS_DEF_STRIPOBSERVEPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

struct InsertObservePass
    : qc::impl::InsertObservePassBase<InsertObservePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    qc::LayerPatterns excluded;
    std::string error;
    if (!excluded.compile(exclude, error)) {
      module.emitError() << "qc-insert-observe: " << error;
      return signalPassFailure();
    }
    // Distinct inputs in program order, with the layers reading each.
    llvm::MapVector<Value, SmallVector<Attribute>> readers;
    module.walk([&](qc::LinearOp op) {
      if (excluded.matches(op.getLayer()))
        return;
      if (!cast<RankedTensorType>(op.getInput().getType())
               .getElementType()
               .isF32())
        return;
      readers[op.getInput()].push_back(op.getLayerAttr());
    });
    Builder b(&getContext());
    int64_t tap = 0;
    for (auto &[value, layers] : readers) {
      OpBuilder builder(&getContext());
      if (Operation *def = value.getDefiningOp())
        builder.setInsertionPointAfter(def);
      else
        builder.setInsertionPointToStart(
            cast<BlockArgument>(value).getOwner());
      qc::ObserveOp::create(builder, value.getLoc(), value,
                            b.getI64IntegerAttr(tap++),
                            b.getArrayAttr(layers));
    }
    if (attention &&
        qc::insertAttentionTaps(module, tap, [&](StringRef layer) {
          return excluded.matches(layer);
        }) == 0)
      module.emitWarning() << "qc-insert-observe: attention=true found no "
                              "attention score product to tap";
  }
};

struct StripObservePass : qc::impl::StripObservePassBase<StripObservePass> {
  void runOnOperation() override {
    getOperation().walk([](qc::ObserveOp op) { op.erase(); });
  }
};

} // namespace
