//===- Im2colNhwc.cpp - pixel-major im2col rows from an NHWC copy ---------===//
//
// A convolution layer that stays pixel-major (a quantized one, whose kernel
// reads one row of K inputs per output pixel, or a float one below
// qc-conv-channel-major's threshold) gathers each row [C, kh, kw] from the
// NCHW input: kh * kw floats that lie H * W apart for every channel, which
// LLVM vectorizes as gathers and scatters. Ordered [kh, kw, C] and read
// from an NHWC copy of the input, a row is kh * kw runs of C contiguous
// values instead, at the cost of one transposing pass over the input (not
// over the kh * kw times larger im2col view); the layer's weight rows are
// permuted the same way at compile time.
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
#define GEN_PASS_DEF_IM2COLNHWCPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// The read map of the NHWC gather over its loops (n, oh, ow, i, j, c), from
/// the NCHW one's over (n, oh, ow, c, i, j); none unless that one reads
/// x[n, c, h(oh, i), w(ow, j)].
std::optional<AffineMap> nhwcRead(linalg::GenericOp gather) {
  MLIRContext *ctx = gather.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  AffineMap read = gather.getIndexingMapsArray()[0];
  if (read.getNumResults() != 4 || read.getResult(0) != d(0) ||
      read.getResult(1) != d(3) || read.getResult(2).isFunctionOfDim(3) ||
      read.getResult(3).isFunctionOfDim(3))
    return std::nullopt;
  AffineMap toOld =
      AffineMap::get(6, 0, {d(0), d(1), d(2), d(5), d(3), d(4)}, ctx);
  AffineMap r = read.compose(toOld);
  return AffineMap::get(
      6, 0, {r.getResult(0), r.getResult(2), r.getResult(3), r.getResult(1)},
      ctx);
}

/// `x` [N, C, H, W] copied into [N, H, W, C].
Value toNhwc(OpBuilder &b, Location loc, Value x) {
  ArrayRef<int64_t> s = cast<RankedTensorType>(x.getType()).getShape();
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  return qc::gatherView(b, loc, x,
                        AffineMap::get(4, 0, {d(0), d(3), d(1), d(2)}, ctx),
                        {s[0], s[2], s[3], s[1]}, {});
}

/// `x` [N, C, H, W] in NHWC. When `x` pads an image by a constant on its
/// height and width only, the image is transposed and the NHWC copy padded:
/// elementwise fusion can then fold the transpose into the producers (the
/// previous layer's NHWC result, transposed to NCHW, its bias and
/// activation) instead of transposing the larger padded image.
Value nhwcInput(OpBuilder &b, Location loc, Value x) {
  auto pad = x.getDefiningOp<tensor::PadOp>();
  Value value = pad ? pad.getConstantPaddingValue() : Value();
  if (!pad || !value || !pad.getSourceType().hasStaticShape())
    return toNhwc(b, loc, x);
  ArrayRef<int64_t> lo = pad.getStaticLow(), hi = pad.getStaticHigh();
  if (lo.size() != 4 || lo[0] || lo[1] || hi[0] || hi[1] ||
      llvm::any_of(lo, ShapedType::isDynamic) ||
      llvm::any_of(hi, ShapedType::isDynamic))
    return toNhwc(b, loc, x);
  auto ofrs = [&](ArrayRef<int64_t> v) {
    return SmallVector<OpFoldResult>{b.getIndexAttr(v[0]), b.getIndexAttr(v[2]),
                                     b.getIndexAttr(v[3]),
                                     b.getIndexAttr(v[1])};
  };
  // A constant yielded from inside the pad's region goes with the new pad.
  if (Operation *def = value.getDefiningOp(); def && pad->isProperAncestor(def))
    value = b.clone(*def)->getResult(0);
  ArrayRef<int64_t> s = cast<RankedTensorType>(x.getType()).getShape();
  auto type = RankedTensorType::get({s[0], s[2], s[3], s[1]},
                                    pad.getResultType().getElementType());
  return tensor::PadOp::create(b, loc, type, toNhwc(b, loc, pad.getSource()),
                               ofrs(lo), ofrs(hi), value)
      .getResult();
}

/// The rows of a [K, N] matrix of `width`-byte elements, K = C * kh * kw
/// ordered (c, i, j), reordered (i, j, c).
std::vector<char> permuteRows(ArrayRef<char> m, int64_t c, int64_t kh,
                              int64_t kw, int64_t rowBytes) {
  std::vector<char> out(m.size());
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j) {
        int64_t from = (ch * kh + i) * kw + j, to = (i * kw + j) * c + ch;
        std::copy_n(m.begin() + from * rowBytes, rowBytes,
                    out.begin() + to * rowBytes);
      }
  return out;
}

/// Whether permuting a quantized layer's K rows leaves it the same layer:
/// canonical uniform codes with one scale per output column, activations
/// quantized per tensor or per whole row.
bool isPermutable(qc::QLinearOp op) {
  auto scheme = dyn_cast<qc::UniformAttr>(op.getScheme());
  int64_t k = op.getInFeatures();
  auto wholeRow = [&](int64_t block) { return block == -1 || block >= k; };
  qc::ActivationAttr act = op.getActAttr();
  return scheme && !scheme.getPerIc() && wholeRow(scheme.getGroup()) &&
         !op.getPacked() && !op.getBitplanes() && !op.getCodebook() &&
         (!act || act.isStatic() || wholeRow(act.getBlock()));
}

/// The weight operand of a layer this pass may reorder (a constant [K, N]),
/// with its element size in `width`; null otherwise.
OpOperand *weightOperand(Operation *op, int64_t &width) {
  if (auto linear = dyn_cast<qc::LinearOp>(op)) {
    width = 4;
    return qc::hasRewritableWeight(linear) ? &linear.getWeightMutable()
                                           : nullptr;
  }
  auto qlinear = cast<qc::QLinearOp>(op);
  width = 1;
  return isPermutable(qlinear) &&
                 qlinear.getCodes().getDefiningOp<arith::ConstantOp>() &&
                 qlinear.getCodes().getType().getElementType().isInteger(8)
             ? &qlinear.getCodesMutable()
             : nullptr;
}

/// Rewrites the layer `op` reading `input` (layer name `layer`) to gather
/// from an NHWC copy; whether it did.
bool rewriteLayer(RewriterBase &rewriter, Operation *op, OpOperand &input,
                  StringRef layer, int64_t minChannels) {
  linalg::GenericOp gather = qc::im2colOf(input.get());
  int64_t width = 0;
  OpOperand *weight = weightOperand(op, width);
  if (!gather || !weight)
    return false;
  std::optional<AffineMap> read = nhwcRead(gather);
  ArrayRef<int64_t> s =
      cast<RankedTensorType>(gather.getResult(0).getType()).getShape();
  if (!read || s[3] < minChannels)
    return false;
  FailureOr<std::vector<char>> bytes = qc::getConstantBytes(weight->get());
  auto wt = cast<RankedTensorType>(weight->get().getType());
  if (failed(bytes) || wt.getRank() != 2 ||
      bytes->size() != static_cast<size_t>(wt.getNumElements() * width))
    return false;

  Location loc = gather.getLoc();
  rewriter.setInsertionPoint(op);
  Value x = nhwcInput(rewriter, loc, gather.getDpsInputs()[0]);
  Value cols = qc::gatherView(
      rewriter, loc, x, *read, {s[0], s[1], s[2], s[4], s[5], s[3]},
      SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4, 5}});
  Value w = qc::bytesConstant(
      rewriter, loc, wt, (layer + ".nhwc").str(),
      permuteRows(*bytes, s[3], s[4], s[5], wt.getDimSize(1) * width));
  Value oldWeight = weight->get();
  Operation *collapse = input.get().getDefiningOp();
  rewriter.modifyOpInPlace(op, [&] {
    input.set(cols);
    weight->set(w);
  });
  rewriter.eraseOp(collapse);
  Value empty = gather.getDpsInits()[0], source = gather.getDpsInputs()[0];
  rewriter.eraseOp(gather);
  for (Value v : {empty, oldWeight, source})
    if (Operation *def = v.getDefiningOp(); def && def->use_empty())
      rewriter.eraseOp(def);
  return true;
}

struct Im2colNhwcPass : qc::impl::Im2colNhwcPassBase<Im2colNhwcPass> {
  using Base::Base;

  void runOnOperation() override {
    // A direct rewrite of each layer, as in qc-conv-channel-major: the
    // order of the artifact's weights stays that of the layers.
    SmallVector<Operation *> layers;
    getOperation().walk([&](Operation *op) {
      if (isa<qc::LinearOp, qc::QLinearOp>(op))
        layers.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : layers) {
      bool done =
          isa<qc::LinearOp>(op)
              ? rewriteLayer(rewriter, op,
                             cast<qc::LinearOp>(op).getInputMutable(),
                             cast<qc::LinearOp>(op).getLayer(), minChannels)
              : rewriteLayer(rewriter, op,
                             cast<qc::QLinearOp>(op).getInputMutable(),
                             cast<qc::QLinearOp>(op).getLayer(), minChannels);
      numRewritten += done;
    }
  }
};

} // namespace
