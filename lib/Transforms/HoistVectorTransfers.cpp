//===- HoistVectorTransfers.cpp - accumulators out of reduction loops -----===//

#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"

namespace qc {
#define GEN_PASS_DEF_HOISTVECTORTRANSFERSPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {
struct HoistVectorTransfersPass
    : qc::impl::HoistVectorTransfersPassBase<HoistVectorTransfersPass> {
  void runOnOperation() override {
    linalg::hoistRedundantVectorTransfers(getOperation());
  }
};
} // namespace
