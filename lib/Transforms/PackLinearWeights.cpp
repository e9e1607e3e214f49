//===- PackLinearWeights.cpp - float weights in register-tile panels ------===//

#include "QC/IR/QCOps.h"
#include "qc/Transforms/ConstantData.h"
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

namespace qc {
#define GEN_PASS_DEF_PACKLINEARWEIGHTSPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {

/// `weight` ([K, N] row-major, `eltSize` bytes an element) as panels of
/// `panel` columns: [N / panel, K, panel].
std::vector<char> toPanels(const std::vector<char> &weight, int64_t k,
                           int64_t n, int64_t panel, size_t eltSize) {
  std::vector<char> packed(weight.size());
  size_t run = panel * eltSize;
  for (int64_t j = 0; j < n / panel; ++j)
    for (int64_t r = 0; r < k; ++r)
      std::memcpy(&packed[((j * k + r) * panel) * eltSize],
                  &weight[(r * n + j * panel) * eltSize], run);
  return packed;
}

struct PackLinearWeightsPass
    : qc::impl::PackLinearWeightsPassBase<PackLinearWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (panel < 0) {
      getOperation().emitError("qc-pack-linear-weights: panel must be >= 0");
      return signalPassFailure();
    }
    getOperation().walk([&](LinearOp op) { packOne(op); });
  }

  /// The panel width for N output columns: the option, else the register
  /// tile's width or the widest whole number of vector registers below it
  /// that divides N; 0 for none (also where N fits in one register tile).
  int64_t panelWidth(int64_t n) {
    if (panel > 0)
      return n % panel == 0 && n > panel ? panel : 0;
    int64_t columns = floatRegisterTile(getOperation()).columns;
    int64_t lanes = floatVectorLanes(getOperation());
    int64_t step = lanes ? lanes : columns;
    if (n <= columns)
      return 0;
    for (int64_t p = columns; p >= step; p -= step)
      if (n % p == 0)
        return p;
    return 0;
  }

  void packOne(LinearOp op) {
    auto type = op.getWeight().getType();
    int64_t k = op.getInFeatures(), n = op.getOutFeatures();
    if (op.getPanel() || !type.hasStaticShape())
      return;
    int64_t p = panelWidth(n);
    if (p == 0)
      return;
    Operation *old = op.getWeight().getDefiningOp();
    FailureOr<std::vector<char>> bytes = getConstantBytes(op.getWeight());
    if (failed(bytes))
      return; // A weight computed at run time keeps its layout.
    size_t eltSize = bytes->size() / (k * n);
    std::vector<char> packed = toPanels(*bytes, k, n, p, eltSize);
    auto packedType =
        RankedTensorType::get({n / p, k, p}, type.getElementType());
    AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(packed), alignof(uint64_t));
    auto attr = DenseResourceElementsAttr::get(
        packedType, (op.getLayer() + ".panels").str(), std::move(blob));
    OpBuilder b(op);
    Value weight = arith::ConstantOp::create(b, op.getLoc(), attr);
    op.getWeightMutable().assign(weight);
    op.setPanel(p);
    if (old && old->use_empty())
      old->erase();
    ++numPacked;
  }
};

} // namespace
