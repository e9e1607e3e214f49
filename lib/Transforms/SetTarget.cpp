//===- SetTarget.cpp - record the module's kernel target ------------------===//

#include "QC/IR/QCAttrs.h"
#include "qc/Codegen/KernelTarget.h"
#include "qc/Transforms/Passes.h"

namespace qc {
#define GEN_PASS_DEF_SETTARGETPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {
struct SetTargetPass : qc::impl::SetTargetPassBase<SetTargetPass> {
  using Base::Base;

  void runOnOperation() override {
    std::string error;
    FailureOr<const KernelTarget *> resolved =
        resolveKernelTarget(target, error);
    if (failed(resolved)) {
      getOperation().emitError("qc-set-target: ") << error;
      return signalPassFailure();
    }
    if (threads < 0) {
      getOperation().emitError("qc-set-target: threads must be >= 0");
      return signalPassFailure();
    }
    const KernelTarget &kt = **resolved;
    getOperation()->setAttr(
        qc::kTargetAttrName,
        TargetAttr::get(&getContext(), kt.name(), kt.llvmFeatures(),
                        kt.vectorBits(), threads));
  }
};
} // namespace

int64_t qc::floatVectorLanes(Operation *op) {
  auto module = isa<ModuleOp>(op) ? cast<ModuleOp>(op)
                                  : op->getParentOfType<ModuleOp>();
  auto target =
      module ? module->getAttrOfType<TargetAttr>(kTargetAttrName) : nullptr;
  return target && target.getVectorBits() >= 128 ? target.getVectorBits() / 32
                                                 : 0;
}

qc::FloatTile qc::floatRegisterTile(Operation *op) {
  int64_t lanes = floatVectorLanes(op);
  if (lanes >= 16)
    return {8, 3 * lanes};
  return {6, lanes ? 2 * lanes : 16};
}

SmallVector<AffineMap> qc::panelMatmulMaps(MLIRContext *ctx) {
  AffineExpr m, j, p, k;
  bindDims(ctx, m, j, p, k);
  return {AffineMap::get(4, 0, {m, k}, ctx), AffineMap::get(4, 0, {j, k, p}, ctx),
          AffineMap::get(4, 0, {m, j, p}, ctx)};
}
