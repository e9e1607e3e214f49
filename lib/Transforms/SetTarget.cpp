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
        "qc.target",
        TargetAttr::get(&getContext(), kt.name(), kt.llvmFeatures(),
                        kt.vectorBits(), threads));
  }
};
} // namespace
