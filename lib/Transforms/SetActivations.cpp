//===- SetActivations.cpp - the activation scheme of quantized layers -----===//

#include "QC/IR/QCAttrs.h"
#include "QC/IR/QCOps.h"
#include "qc/Transforms/Passes.h"

namespace qc {
#define GEN_PASS_DEF_SETACTIVATIONSPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {
struct SetActivationsPass
    : qc::impl::SetActivationsPassBase<SetActivationsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (isStaticActivationName(act)) {
      getOperation().emitError()
          << "qc-set-activations: act=" << act
          << " (static int8) takes its scales from calibration: "
             "qc-quantize act=" << act << " stats=FILE";
      return signalPassFailure();
    }
    WalkResult result = getOperation().walk([&](QLinearOp op) {
      if (op.getKernel()) {
        op.emitError() << "qc-set-activations: layer '" << op.getLayer()
                       << "' already has a kernel for its activations";
        return WalkResult::interrupt();
      }
      std::string error;
      FailureOr<ActivationAttr> scheme =
          activationFor(act, op.getScheme(), error);
      if (failed(scheme)) {
        op.emitError() << "qc-set-activations: " << error;
        return WalkResult::interrupt();
      }
      if (*scheme)
        op.setActAttr(*scheme);
      else
        op.removeActAttr();
      ++numSet;
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
