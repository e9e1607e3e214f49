//===- ConvChannelMajor.cpp - float convolutions as filter x im2col^T -----===//
//
// A convolution that qc-raise-linear made a linear layer and that stayed
// float is computed channel-major: out[F, OH * OW] = W[F, K] x cols[K, OH *
// OW] + init, where cols is the im2col view transposed (each row one input
// channel's shifted window, read along the image's rows). The result is
// already NCHW, the init (bias) is the matmul's accumulator, and the gather
// copies runs of pixels instead of kh * kw scattered floats, so the NHWC ->
// NCHW transpose and the pixel-major gather both disappear.
//
//===----------------------------------------------------------------------===//

#include "QC/IR/QCOps.h"
#include "qc/Transforms/ConstantData.h"
#include "qc/Transforms/ConvAsLinear.h"
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace qc {
#define GEN_PASS_DEF_CONVCHANNELMAJORPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// The generic that adds `y` [1, OH, OW, F] transposed to NCHW to an init
/// (qc::nhwcToNchwPlus), when it is `y`'s only user; its init in `init`.
linalg::GenericOp nchwPlusOf(Value y, Value &init) {
  if (!y.hasOneUse())
    return {};
  auto t = dyn_cast<linalg::GenericOp>(*y.getUsers().begin());
  if (!t || t.getNumDpsInputs() != 2 || t.getNumDpsInits() != 1 ||
      t.getDpsInputs()[0] != y || t.getNumReductionLoops() != 0)
    return {};
  MLIRContext *ctx = t.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineMap> maps = t.getIndexingMapsArray();
  if (maps[0] != AffineMap::get(4, 0, {d(0), d(2), d(3), d(1)}, ctx) ||
      !maps[1].isIdentity() || !maps[2].isIdentity())
    return {};
  auto yield = cast<linalg::YieldOp>(t.getBody()->getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  Block *body = t.getBody();
  if (!add || !((add.getLhs() == body->getArgument(0) &&
                 add.getRhs() == body->getArgument(1)) ||
                (add.getLhs() == body->getArgument(1) &&
                 add.getRhs() == body->getArgument(0))))
    return {};
  init = t.getDpsInputs()[1];
  return t;
}

/// The accumulator [F, P] of the product from `init` [1, F, OH, OW]: a
/// per-channel bias broadcast (a copy of [F, 1, 1] read at (f, 0, 0) that
/// nothing else reads) broadcast straight into [F, P], so that register
/// tiles can compute their part of it (qc-tile-and-vectorize); else `init`
/// collapsed.
Value channelMajorInit(RewriterBase &rewriter, Location loc, Value init) {
  SmallVector<ReassociationIndices> fm = {{0, 1}, {2, 3}};
  auto type = cast<RankedTensorType>(init.getType());
  auto g = init.getDefiningOp<linalg::GenericOp>();
  MLIRContext *ctx = rewriter.getContext();
  AffineExpr zero = getAffineConstantExpr(0, ctx);
  if (!g || !g->hasOneUse() || !qc::isCopyGeneric(g) || g.getNumLoops() != 4 ||
      g.getIndexingMapsArray()[0] !=
          AffineMap::get(4, 0, {getAffineDimExpr(1, ctx), zero, zero}, ctx) ||
      !g.getIndexingMapsArray()[1].isIdentity())
    return tensor::CollapseShapeOp::create(rewriter, loc, init, fm);
  Value bias = tensor::CollapseShapeOp::create(
      rewriter, loc, g.getDpsInputs()[0],
      SmallVector<ReassociationIndices>{{0, 1, 2}});
  Value empty = tensor::EmptyOp::create(
      rewriter, loc,
      {type.getDimSize(1), type.getDimSize(2) * type.getDimSize(3)},
      type.getElementType());
  return linalg::BroadcastOp::create(rewriter, loc, bias, empty,
                                     ArrayRef<int64_t>{1})
      ->getResult(0);
}

/// The gather of `g` with its loops reordered to (n, c, i, j, oh, ow),
/// collapsed to [C * kh * kw, OH * OW]; the input itself (collapsed) when
/// that is the same values (1x1 windows, unit strides, no padding).
Value transposedCols(RewriterBase &rewriter, linalg::GenericOp g) {
  MLIRContext *ctx = g.getContext();
  Location loc = g.getLoc();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  AffineMap toOld =
      AffineMap::get(6, 0, {d(0), d(4), d(5), d(1), d(2), d(3)}, ctx);
  AffineMap read = g.getIndexingMapsArray()[0].compose(toOld);
  ArrayRef<int64_t> s =
      cast<RankedTensorType>(g.getResult(0).getType()).getShape();
  SmallVector<int64_t> shape = {s[0], s[3], s[4], s[5], s[1], s[2]};
  Value x = g.getDpsInputs()[0];
  auto xt = cast<RankedTensorType>(x.getType());
  SmallVector<ReassociationIndices> flat = {{0, 1, 2, 3}, {4, 5}};
  // The window's offsets are 0 when it is 1 wide.
  AffineExpr zero = getAffineConstantExpr(0, ctx);
  AffineMap direct = simplifyAffineMap(read.replaceDimsAndSymbols(
      {d(0), d(1), s[4] == 1 ? zero : d(2), s[5] == 1 ? zero : d(3), d(4),
       d(5)},
      {}, 6, 0));
  if (direct == AffineMap::get(6, 0, {d(0), d(1), d(4), d(5)}, ctx) &&
      xt.getShape() == ArrayRef<int64_t>{s[0], s[3], s[1], s[2]})
    return tensor::CollapseShapeOp::create(
        rewriter, loc, x, SmallVector<ReassociationIndices>{{0, 1}, {2, 3}});
  return qc::gatherView(rewriter, loc, x, read, shape, flat);
}

/// Rewrites `op` channel-major when it is a raised convolution of at least
/// `minPixels` output pixels; whether it did.
bool rewriteLayer(RewriterBase &rewriter, qc::LinearOp op, int64_t minPixels) {
  if (op.getBias() || op.getPanel() || !qc::hasRewritableWeight(op))
    return false;
  linalg::GenericOp gather = qc::im2colOf(op.getInput());
  Value init;
  linalg::GenericOp toNchw = nchwPlusOf(op.getResult(), init);
  // Batch 1: the product's columns are one image's pixels.
  if (!gather || !toNchw ||
      cast<RankedTensorType>(gather.getResult(0).getType()).getDimSize(0) != 1)
    return false;
  auto outType = cast<RankedTensorType>(toNchw.getResult(0).getType());
  if (outType.getDimSize(2) * outType.getDimSize(3) < minPixels)
    return false;
  FailureOr<std::vector<float>> w = qc::getConstantFloats(op.getWeight());
  if (failed(w))
    return false;
  int64_t k = op.getInFeatures(), f = op.getOutFeatures();
  std::vector<float> rows(w->size()); // [K, F] -> [F, K]
  for (int64_t r = 0; r < k; ++r)
    for (int64_t o = 0; o < f; ++o)
      rows[o * k + r] = (*w)[r * f + o];

  // What only the replaced ops read (the [K, F] weight, the gather's
  // empty tensor, an NCHW bias broadcast and the transpose's empty tensor)
  // goes with them: an unused weight would still be outlined into the
  // artifact.
  SmallVector<Value> leftovers = {op.getWeight(), gather.getDpsInits()[0], init,
                                  toNchw.getDpsInits()[0]};
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(toNchw);
  Value cols = transposedCols(rewriter, gather);
  Value filter = qc::floatConstant(
      rewriter, loc, RankedTensorType::get({f, k}, rewriter.getF32Type()),
      (op.getLayer() + ".rows").str(), rows);
  SmallVector<ReassociationIndices> fm = {{0, 1}, {2, 3}};
  Value acc = channelMajorInit(rewriter, loc, init);
  Value product =
      linalg::MatmulOp::create(rewriter, loc, ValueRange{filter, cols}, acc)
          .getResult(0);
  rewriter.replaceOp(toNchw, tensor::ExpandShapeOp::create(
                                 rewriter, loc, outType, product, fm));
  Operation *collapse = op.getInput().getDefiningOp();
  rewriter.eraseOp(op);
  rewriter.eraseOp(collapse);
  rewriter.eraseOp(gather);
  for (Value v : leftovers)
    if (Operation *def = v.getDefiningOp(); def && def->use_empty())
      rewriter.eraseOp(def);
  return true;
}

struct ConvChannelMajorPass
    : qc::impl::ConvChannelMajorPassBase<ConvChannelMajorPass> {
  using Base::Base;

  void runOnOperation() override {
    // A direct rewrite of each layer, no pattern driver: the greedy one
    // would also fold and move the function's constants, and with them the
    // order of the artifact's weights.
    SmallVector<qc::LinearOp> layers;
    getOperation().walk([&](qc::LinearOp op) { layers.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (qc::LinearOp op : layers)
      if (rewriteLayer(rewriter, op, minPixels))
        ++numRewritten;
  }
};

} // namespace
