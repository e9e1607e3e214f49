//===- ParallelizeGenerics.cpp - big generics over the thread pool -------===//

#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace qc {
#define GEN_PASS_DEF_PARALLELIZEGENERICSPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// Whether every output of `op` is indexed by loop `d` directly, so that
/// the iterations of `d` write disjoint parts of the results.
bool outputsIndexedBy(linalg::GenericOp op, unsigned d) {
  AffineExpr dim = getAffineDimExpr(d, op.getContext());
  return llvm::all_of(op.getDpsInitsMutable(), [&](OpOperand &init) {
    return llvm::is_contained(op.getMatchingIndexingMap(&init).getResults(),
                              dim);
  });
}

/// The outermost parallel dimension of `op` with two or more iterations,
/// or -1. Never the innermost loop (an iteration must keep a row to
/// vectorize) nor one that some output is not indexed by.
int64_t splitDimension(linalg::GenericOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  for (auto [d, kind] : llvm::enumerate(op.getIteratorTypesArray()))
    if (kind == utils::IteratorType::parallel && ranges[d] >= 2)
      return d + 1 < ranges.size() && outputsIndexedBy(op, d) ? int64_t(d)
                                                              : -1;
  return -1;
}

/// The iterations of dimension `d` one step of the split loop takes: 16
/// when some input holds `d` innermost (a transpose, which
/// qc-vectorize-elementwise reads in 16 x 16 tiles: one index per step
/// would leave it rows of one element) and 16 divides it, else 1.
int64_t splitStep(linalg::GenericOp op, int64_t d) {
  constexpr int64_t kSquare = 16;
  if (op.getStaticLoopRanges()[d] % kSquare != 0)
    return 1;
  AffineExpr dim = getAffineDimExpr(d, op.getContext());
  bool transposed = llvm::any_of(op.getDpsInputOperands(), [&](OpOperand *in) {
    AffineMap map = op.getMatchingIndexingMap(in);
    return map.getNumResults() > 0 && map.getResults().back() == dim;
  });
  return transposed ? kSquare : 1;
}

/// An elementwise generic over `shape` writing `init` (tensor.empty or a
/// slice) from `input` (identity-indexed), or `fill` where there is none.
linalg::GenericOp elementwise(RewriterBase &rewriter, Location loc,
                              Value input, Value fill, Value init) {
  auto type = cast<RankedTensorType>(init.getType());
  AffineMap id = rewriter.getMultiDimIdentityMap(type.getRank());
  SmallVector<Value> inputs;
  if (input)
    inputs.push_back(input);
  return linalg::GenericOp::create(
      rewriter, loc, type, inputs, init,
      SmallVector<AffineMap>(inputs.size() + 1, id),
      SmallVector<utils::IteratorType>(type.getRank(),
                                       utils::IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange args) {
        linalg::YieldOp::create(b, l, input ? args[0] : fill);
      });
}

/// Writes `value` into the slab [offsets, offsets + sizes) of `t` (in place,
/// through extract / insert_slice); returns the new tensor.
Value fillSlab(RewriterBase &rewriter, Location loc, Value t, Value value,
               ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes) {
  SmallVector<OpFoldResult> o = getAsIndexOpFoldResult(t.getContext(), offsets);
  SmallVector<OpFoldResult> z = getAsIndexOpFoldResult(t.getContext(), sizes);
  SmallVector<OpFoldResult> strides(offsets.size(), rewriter.getIndexAttr(1));
  Value slab = tensor::ExtractSliceOp::create(rewriter, loc, t, o, z, strides);
  linalg::GenericOp fill = elementwise(rewriter, loc, {}, value, slab);
  return tensor::InsertSliceOp::create(rewriter, loc, fill.getResult(0), t, o,
                                       z, strides);
}

/// The generic that computes `pad`'s source for the pad alone and writes
/// its init (a tensor.empty) without reading it: it can write the padded
/// tensor's interior directly. Only where the innermost dimension is not
/// padded (an NHWC image's channels): the interior's rows are then whole
/// runs; a padded NCHW row (7 or 14 floats in a longer one) would keep the
/// producer's vectorizer from collapsing its short rows in place
/// (bufferization would copy each tile out and back).
linalg::GenericOp soleProducer(tensor::PadOp pad) {
  ArrayRef<int64_t> low = pad.getStaticLow(), high = pad.getStaticHigh();
  if (low.empty() || low.back() != 0 || high.back() != 0)
    return {};
  Value v = pad.getSource();
  auto g = v.getDefiningOp<linalg::GenericOp>();
  if (!g || g->getNumResults() != 1 || !v.hasOneUse() ||
      !g.hasPureTensorSemantics())
    return {};
  OpOperand *init = g.getDpsInitOperand(0);
  if (!init->get().getDefiningOp<tensor::EmptyOp>() ||
      g.payloadUsesValueFromOperand(init))
    return {};
  return g;
}

/// `pad` as the padded tensor's interior written in place (by the generic
/// that computes the source, where it has no other user, else by a copying
/// generic) and generics filling the border around it with the padding
/// value (one slab per padded side: along each dim, the interior of the
/// dims before it and the whole of those after), all through extract /
/// insert_slice: the copy can be split over threads, and no element is
/// written twice (a tensor.pad bufferizes into a fill of the whole tensor
/// and a memref.copy on one thread).
void decomposePad(RewriterBase &rewriter, tensor::PadOp pad) {
  Value value = pad.getConstantPaddingValue();
  RankedTensorType type = pad.getResultType();
  SmallVector<OpFoldResult> low = pad.getMixedLowPad();
  if (!value || pad.getNofold() || !type.hasStaticShape() ||
      !pad.getSourceType().hasStaticShape() ||
      llvm::any_of(low, [](OpFoldResult f) { return !getConstantIntValue(f); }))
    return;
  Location loc = pad.getLoc();
  linalg::GenericOp producer = soleProducer(pad);
  rewriter.setInsertionPoint(producer ? producer.getOperation()
                                      : pad.getOperation());
  ArrayRef<int64_t> padded = type.getShape();
  ArrayRef<int64_t> inner = pad.getSourceType().getShape();
  SmallVector<int64_t> lo = llvm::map_to_vector(
      low, [](OpFoldResult f) { return *getConstantIntValue(f); });
  Value t =
      tensor::EmptyOp::create(rewriter, loc, padded, type.getElementType());
  SmallVector<OpFoldResult> offsets =
      getAsIndexOpFoldResult(rewriter.getContext(), lo);
  SmallVector<OpFoldResult> sizes =
      getAsIndexOpFoldResult(rewriter.getContext(), inner);
  SmallVector<OpFoldResult> strides(type.getRank(), rewriter.getIndexAttr(1));
  Value interior =
      tensor::ExtractSliceOp::create(rewriter, loc, t, offsets, sizes, strides);
  Value written;
  if (producer) {
    rewriter.modifyOpInPlace(
        producer, [&] { producer.getDpsInitOperand(0)->set(interior); });
    written = producer.getResult(0);
  } else {
    written =
        elementwise(rewriter, loc, pad.getSource(), {}, interior).getResult(0);
  }
  rewriter.setInsertionPoint(pad);
  t = tensor::InsertSliceOp::create(rewriter, loc, written, t, offsets, sizes,
                                    strides);
  for (int64_t d = 0, rank = type.getRank(); d < rank; ++d) {
    int64_t hi = padded[d] - inner[d] - lo[d];
    SmallVector<int64_t> at(lo.begin(), lo.begin() + d),
        size(inner.begin(), inner.begin() + d);
    at.append(rank - d, 0);
    size.append(padded.begin() + d, padded.end());
    if (lo[d] > 0) {
      size[d] = lo[d];
      t = fillSlab(rewriter, loc, t, value, at, size);
    }
    if (hi > 0) {
      at[d] = lo[d] + inner[d];
      size[d] = hi;
      t = fillSlab(rewriter, loc, t, value, at, size);
    }
  }
  rewriter.replaceOp(pad, t);
}

struct ParallelizeGenericsPass
    : qc::impl::ParallelizeGenericsPassBase<ParallelizeGenericsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (minElements <= 0)
      return;
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());
    SmallVector<tensor::PadOp> pads;
    for (Operation &op : func.getBody().getOps())
      if (auto pad = dyn_cast<tensor::PadOp>(op))
        if (pad.getResultType().hasStaticShape() &&
            pad.getResultType().getNumElements() >= minElements)
          pads.push_back(pad);
    for (tensor::PadOp pad : pads)
      decomposePad(rewriter, pad);
    SmallVector<linalg::GenericOp> targets;
    for (Operation &op : func.getBody().getOps())
      if (auto generic = dyn_cast<linalg::GenericOp>(op))
        if (worthSplitting(generic))
          targets.push_back(generic);
    for (linalg::GenericOp op : targets)
      if (failed(split(rewriter, op)))
        return signalPassFailure();
  }

  bool worthSplitting(linalg::GenericOp op) {
    if (!op.hasPureTensorSemantics())
      return false;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return false;
    int64_t iterations = 1;
    for (int64_t r : ranges)
      iterations *= r;
    return iterations >= minElements && splitDimension(op) >= 0;
  }

  /// One iteration of the loop per index (or square step, splitStep) of
  /// the split dimension.
  LogicalResult split(RewriterBase &rewriter, linalg::GenericOp op) {
    SmallVector<int64_t> tiles(op.getNumLoops(), 0);
    int64_t d = splitDimension(op);
    tiles[d] = splitStep(op, d);
    scf::SCFTilingOptions options;
    options.setTileSizes(getAsIndexOpFoldResult(rewriter.getContext(), tiles));
    options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled))
      return op.emitError("qc-parallelize-generics: tiling failed");
    rewriter.replaceOp(op, tiled->replacements);
    tiled->loops.front()->setAttr(qc::kParallelLoopAttrName,
                                  rewriter.getUnitAttr());
    return success();
  }
};

} // namespace
