//===- Smooth.cpp - SmoothQuant scale migration into the weights ----------===//
//
// Activation outliers sit in a few input channels; SmoothQuant divides
// channel j of a linear input by s_j and multiplies row j of the weights by
// it, which leaves the product unchanged and moves the outliers into the
// weights, where per-output-channel / group scales absorb them:
//
//   s_j = max|x_j|^alpha / max_n |W[j, n]|^(1 - alpha)
//
// (max|x_j| from the calibration statistics, the weight maximum over every
// layer that reads x). The division is folded into the op that produces x,
// so that the smoothed model costs nothing more: an elementwise
// linalg.generic (a normalization's last step) whose result is
// `t * gamma (+ beta)` with gamma and beta constants along the last
// dimension takes gamma / s and beta / s; an elementwise product one of
// whose factors is a linear layer's output (SiLU(gate) x up) takes it in
// that layer's output columns. Inputs whose producer is neither, or is read
// by anything but the smoothed layers (a residual), are left as they are.
//
//===----------------------------------------------------------------------===//

#include "QC/IR/QCOps.h"
#include "qc/Quant/Stats.h"
#include "qc/Transforms/ConstantData.h"
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <algorithm>
#include <cmath>

namespace qc {
#define GEN_PASS_DEF_SMOOTHPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {

/// Where a tap's division by s goes: the channel constants (operand
/// numbers) of an elementwise generic whose result is t * gamma (+ beta),
/// or the output columns of a linear layer whose result is a factor of the
/// generic's product (`producer`).
struct FoldSite {
  linalg::GenericOp generic;
  SmallVector<unsigned> operands;
  LinearOp producer;
};

/// The gamma of `v = t * gamma` (either order), if `v` is one.
std::optional<unsigned> scaledBy(linalg::GenericOp generic, Value v,
                                 int64_t k) {
  auto mul = v.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return std::nullopt;
  if (auto c = channelConstantOperand(generic, mul.getRhs(), k))
    return c;
  return channelConstantOperand(generic, mul.getLhs(), k);
}

/// The channel constants to divide by s when `generic` (elementwise, one
/// result) yields t * gamma or t * gamma + beta.
std::optional<SmallVector<unsigned>> foldableOperands(linalg::GenericOp generic,
                                                      int64_t k) {
  if (generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops() ||
      !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
           .isIdentity())
    return std::nullopt;
  Value yielded = generic.getBody()->getTerminator()->getOperand(0);
  if (auto gamma = scaledBy(generic, yielded, k))
    return SmallVector<unsigned>{*gamma};
  auto add = yielded.getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  for (auto [t, b] : {std::pair(add.getLhs(), add.getRhs()),
                      std::pair(add.getRhs(), add.getLhs())}) {
    auto gamma = scaledBy(generic, t, k);
    auto beta = channelConstantOperand(generic, b, k);
    if (gamma && beta)
      return SmallVector<unsigned>{*gamma, *beta};
  }
  return std::nullopt;
}

/// `v` through reshapes that keep the last dimension `k`, each read only by
/// the next; the value it starts from.
Value throughReshapes(Value v, int64_t k) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(def) ||
        cast<RankedTensorType>(def->getOperand(0).getType()).getShape().back() !=
            k ||
        !def->getOperand(0).hasOneUse())
      break;
    v = def->getOperand(0);
  }
  return v;
}

/// Whether the body value `v` is computed without `arg`.
bool independentOf(Value v, Value arg) {
  if (v == arg)
    return false;
  Operation *def = v.getDefiningOp();
  return !def || llvm::all_of(def->getOperands(), [&](Value operand) {
           return independentOf(operand, arg);
         });
}

/// The linear layer (constant f32 weight, read only through reshapes by
/// `generic`) whose output is a factor of the product `generic` yields:
/// scaling its output columns scales the product's (SiLU(gate) x up).
LinearOp linearFactor(linalg::GenericOp generic, int64_t k) {
  if (generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops())
    return {};
  auto mul = generic.getBody()->getTerminator()->getOperand(0)
                 .getDefiningOp<arith::MulFOp>();
  if (!mul)
    return {};
  for (auto [factor, other] : {std::pair(mul.getRhs(), mul.getLhs()),
                               std::pair(mul.getLhs(), mul.getRhs())}) {
    auto arg = dyn_cast<BlockArgument>(factor);
    if (!arg || arg.getOwner() != generic.getBody() ||
        arg.getArgNumber() >= generic.getNumDpsInputs() ||
        !independentOf(other, arg))
      continue;
    OpOperand *operand = generic.getDpsInputOperand(arg.getArgNumber());
    if (!generic.getMatchingIndexingMap(operand).isIdentity() ||
        !operand->get().hasOneUse())
      continue;
    auto linear = throughReshapes(operand->get(), k).getDefiningOp<LinearOp>();
    if (linear && linear->hasOneUse() && linear.getOutFeatures() == k &&
        hasRewritableWeight(linear))
      return linear;
  }
  return {};
}

/// Where the division of `input` by s folds, or why it cannot: back
/// through reshapes that keep the last dimension, to a foldable generic
/// that nothing but `layers` (and the chain) reads.
FailureOr<FoldSite> findFoldSite(Value input, ArrayRef<LinearOp> layers,
                                 int64_t k, std::string &why) {
  llvm::SmallPtrSet<Operation *, 8> allowed;
  for (LinearOp l : layers)
    allowed.insert(l);
  Value v = input;
  while (true) {
    for (Operation *user : v.getUsers())
      if (!allowed.contains(user)) {
        why = "the input is also read by '" +
              user->getName().getStringRef().str() + "' (a residual?)";
        return failure();
      }
    Operation *def = v.getDefiningOp();
    if (isa_and_nonnull<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(def)) {
      auto src = cast<RankedTensorType>(def->getOperand(0).getType());
      if (src.getShape().back() != k)
        break;
      allowed.insert(def);
      v = def->getOperand(0);
      continue;
    }
    if (auto generic = dyn_cast_or_null<linalg::GenericOp>(def)) {
      if (std::optional<SmallVector<unsigned>> ops =
              foldableOperands(generic, k))
        return FoldSite{generic, *ops, {}};
      if (LinearOp producer = linearFactor(generic, k))
        return FoldSite{generic, {}, producer};
      why = "its producer is neither t * gamma (+ beta) with constant gamma "
            "nor a product with a linear layer's output";
      return failure();
    }
    break;
  }
  why = "its producer is not an elementwise normalization step";
  return failure();
}

struct SmoothPass : qc::impl::SmoothPassBase<SmoothPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!(alpha > 0.0 && alpha <= 1.0)) {
      module.emitError() << "qc-smooth: alpha must be in (0, 1], found "
                         << alpha;
      return signalPassFailure();
    }
    quant::CalibrationStats calibration;
    std::string error;
    if (stats.empty() || !quant::readStats(stats, calibration, error)) {
      module.emitError() << "qc-smooth: "
                         << (stats.empty() ? "needs calibration statistics "
                                             "(stats=FILE, from qc-calibrate)"
                                           : error);
      return signalPassFailure();
    }
    // The layers with constant f32 weights, by the value they read.
    llvm::MapVector<Value, SmallVector<LinearOp>> taps;
    module.walk([&](LinearOp op) {
      if (!op.getPanel() && op.getWeight().getDefiningOp<arith::ConstantOp>() &&
          op.getWeight().getType().getElementType().isF32())
        taps[op.getInput()].push_back(op);
    });
    for (auto &[input, layers] : taps)
      if (failed(smoothTap(input, layers, calibration)))
        return signalPassFailure();
  }

  /// Smooths the layers reading `input`, or says in a remark why not.
  LogicalResult smoothTap(Value input, ArrayRef<LinearOp> layers,
                          const quant::CalibrationStats &calibration) {
    LinearOp first = layers.front();
    int64_t k = first.getInFeatures();
    const quant::TapStats *tap = calibration.lookup(first.getLayer().str());
    std::string why;
    FailureOr<FoldSite> site = failure();
    if (!tap || tap->K != k)
      why = "no calibration statistics for it";
    else
      site = findFoldSite(input, layers, k, why);
    if (failed(site)) {
      ++numSkipped;
      if (remarks)
        first.emitRemark() << "qc-smooth: layer '" << first.getLayer()
                           << "' not smoothed: " << why;
      return success();
    }
    // Weights, and the maximum of each row over the layers.
    SmallVector<std::vector<float>> weights;
    std::vector<float> wmax(k, 0.0f);
    for (LinearOp l : layers) {
      FailureOr<std::vector<float>> w = getConstantFloats(l.getWeight());
      if (failed(w))
        return l.emitError() << "qc-smooth: layer '" << l.getLayer()
                             << "': the weight is not readable";
      int64_t n = l.getOutFeatures();
      for (int64_t j = 0; j < k; ++j)
        for (int64_t c = 0; c < n; ++c)
          wmax[j] = std::max(wmax[j], std::fabs((*w)[j * n + c]));
      weights.push_back(std::move(*w));
    }
    std::vector<float> s(k, 1.0f);
    float largest = 1.0f;
    for (int64_t j = 0; j < k; ++j) {
      float a = tap->absMax[j];
      if (!(a > 0.0f) || !(wmax[j] > 0.0f))
        continue; // a dead channel or a zero row: nothing to migrate
      double v = std::pow(std::max<double>(a, 1e-5), alpha) /
                 std::pow(std::max<double>(wmax[j], 1e-5), 1.0 - alpha);
      s[j] = static_cast<float>(std::clamp(v, 1e-4, 1e4));
      largest = std::max(largest, std::max(s[j], 1.0f / s[j]));
    }
    apply(*site, layers, weights, s);
    ++numSmoothed;
    if (remarks)
      first.emitRemark() << "qc-smooth: " << layers.size()
                         << " layer(s) from '" << first.getLayer()
                         << "' smoothed, largest scale (or its inverse) "
                         << largest;
    return success();
  }

  /// The producer's output columns (and bias) divided by s.
  void scaleColumns(LinearOp producer, ArrayRef<float> s) {
    OpBuilder b(producer);
    int64_t k = producer.getInFeatures(), n = s.size();
    std::vector<float> w = *getConstantFloats(producer.getWeight());
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < n; ++c)
        w[r * n + c] /= s[c];
    replaceConstant(b, producer.getWeightMutable(), w,
                    (producer.getLayer() + ".smoothed_out").str());
    if (Value bias = producer.getBias()) {
      std::vector<float> v = *getConstantFloats(bias);
      for (int64_t c = 0; c < n; ++c)
        v[c] /= s[c];
      replaceConstant(b, producer.getBiasMutable()[0], v,
                      (producer.getLayer() + ".smoothed_bias").str());
    }
  }

  /// x / s into the fold site (channel constants or the producer's
  /// columns), s into the weights' rows.
  void apply(const FoldSite &site, ArrayRef<LinearOp> layers,
             ArrayRef<std::vector<float>> weights, ArrayRef<float> s) {
    int64_t k = s.size();
    if (site.producer)
      scaleColumns(site.producer, s);
    OpBuilder b(site.generic);
    for (unsigned operand : site.operands) {
      std::vector<float> values =
          *getConstantFloats(site.generic->getOperand(operand));
      for (int64_t j = 0; j < k; ++j)
        values[j] /= s[j];
      replaceConstant(b, site.generic->getOpOperand(operand), values,
                      "smoothed_channels");
    }
    for (auto [layer, w] : llvm::zip(layers, weights)) {
      LinearOp l = layer;
      int64_t n = l.getOutFeatures();
      std::vector<float> scaled(w);
      for (int64_t j = 0; j < k; ++j)
        for (int64_t c = 0; c < n; ++c)
          scaled[j * n + c] *= s[j];
      b.setInsertionPoint(l);
      replaceConstant(b, l.getWeightMutable(), scaled,
                      (l.getLayer() + ".smoothed").str());
    }
  }
};

} // namespace
