//===- OutlineWeights.cpp - weight blobs become entry arguments -----------===//

#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace qc {
#define GEN_PASS_DEF_OUTLINEWEIGHTSPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

struct OutlineWeightsPass : qc::impl::OutlineWeightsPassBase<OutlineWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func) {
      module.emitError("no entry function named '") << entry << "'";
      return signalPassFailure();
    }
    Builder b(&getContext());
    StringAttr readOnly =
        b.getStringAttr(bufferization::BufferizationDialect::kWritableAttrName);
    // The caller owns inputs: never write into them.
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      func.setArgAttr(i, readOnly, b.getBoolAttr(false));

    SmallVector<arith::ConstantOp> weights;
    func.walk([&](arith::ConstantOp cst) {
      if (isa<DenseResourceElementsAttr>(cst.getValue()))
        weights.push_back(cst);
    });
    // One argument per distinct blob, however many constants refer to it.
    llvm::DenseMap<Attribute, unsigned> argOf;
    for (arith::ConstantOp cst : weights) {
      auto attr = cast<DenseResourceElementsAttr>(cst.getValue());
      if (auto it = argOf.find(attr); it != argOf.end()) {
        cst.replaceAllUsesWith(func.getArgument(it->second));
        cst.erase();
        continue;
      }
      unsigned index = func.getNumArguments();
      argOf[attr] = index;
      NamedAttribute attrs[] = {
          b.getNamedAttr("qc.weight", attr),
          b.getNamedAttr(readOnly, b.getBoolAttr(false))};
      if (failed(func.insertArgument(index, cst.getType(),
                                     b.getDictionaryAttr(attrs),
                                     cst.getLoc()))) {
        cst.emitError("cannot add a weight argument");
        return signalPassFailure();
      }
      cst.replaceAllUsesWith(func.getArgument(index));
      cst.erase();
    }
  }
};

} // namespace
