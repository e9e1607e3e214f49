//===- Epilogue.cpp - elementwise epilogues of register tiles -------------===//

#include "Epilogue.h"
#include "TilingUtils.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;

namespace {

/// Whether `g` computes each element of its one float result from the same
/// element of each float operand: all loops parallel, every map the
/// identity, no linalg.index. (Not i1: a vector store of i1 writes packed
/// bits where the buffer holds a byte per element.)
bool isPointwise(linalg::GenericOp g) {
  if (!g.hasPureTensorSemantics() || g->getNumResults() != 1 ||
      g.getNumReductionLoops() != 0 || g.hasIndexSemantics())
    return false;
  return llvm::all_of(g.getIndexingMapsArray(),
                      [](AffineMap m) { return m.isIdentity(); }) &&
         llvm::all_of(g->getOperandTypes(), [](Type t) {
           return isa<FloatType>(getElementTypeOrSelf(t));
         });
}

/// Whether a contraction (a linalg op with a reduction loop) lies strictly
/// between `a` and `b` of one block: tiling `a` with an epilogue at `b`
/// rewrites what lies between, and the pass still holds that one.
bool contractionBetween(Operation *a, Operation *b) {
  for (Operation *o = a->getNextNode(); o && o != b; o = o->getNextNode())
    if (auto l = dyn_cast<linalg::LinalgOp>(o); l && l.getNumReductionLoops())
      return true;
  return false;
}

/// The pointwise generic reading `use` as an input, after `after` in its
/// block with no contraction between; null if none.
linalg::GenericOp pointwiseReader(OpOperand &use, Operation *after) {
  auto g = dyn_cast<linalg::GenericOp>(use.getOwner());
  if (!g || g->getBlock() != after->getBlock() || !isPointwise(g) ||
      !g.isDpsInput(&use) || contractionBetween(after, g))
    return {};
  return g;
}

/// Fuses into `g` the chain of pointwise generics after it that each read
/// only the one before (bias add, then activation); returns the fused op.
linalg::GenericOp fuseReaders(RewriterBase &rewriter, linalg::GenericOp g) {
  while (g->getResult(0).hasOneUse()) {
    OpOperand &use = *g->getResult(0).getUses().begin();
    linalg::GenericOp next = pointwiseReader(use, g);
    if (!next || !linalg::areElementwiseOpsFusable(&use))
      break;
    rewriter.setInsertionPoint(next);
    FailureOr<linalg::ElementwiseOpFusionResult> fused =
        linalg::fuseElementwiseOps(rewriter, &use);
    if (failed(fused))
      break;
    for (auto [from, to] : fused->replacements)
      rewriter.replaceUsesWithIf(from, to, [&](OpOperand &u) {
        return u.getOwner() != g.getOperation();
      });
    rewriter.eraseOp(next);
    rewriter.eraseOp(g);
    g = cast<linalg::GenericOp>(fused->fusedOp);
  }
  return g;
}

/// `g` (pointwise, reading `reshape`'s result) rewritten over the shape of
/// `reshape`'s source, `value`: its other operands reshaped the other way,
/// its result reshaped back.
linalg::GenericOp reshapedOver(RewriterBase &rewriter, linalg::GenericOp g,
                               Operation *reshape, Value value) {
  auto target = cast<RankedTensorType>(value.getType());
  bool expand = isa<tensor::CollapseShapeOp>(reshape);
  SmallVector<ReassociationIndices> reassoc =
      expand ? cast<tensor::CollapseShapeOp>(reshape).getReassociationIndices()
             : cast<tensor::ExpandShapeOp>(reshape).getReassociationIndices();
  Location loc = g.getLoc();
  rewriter.setInsertionPoint(g);
  auto over = [&](Value v) -> Value {
    if (v == reshape->getResult(0))
      return value;
    auto type = target.clone(getElementTypeOrSelf(v.getType()));
    if (expand)
      return tensor::ExpandShapeOp::create(rewriter, loc, type, v, reassoc);
    return tensor::CollapseShapeOp::create(rewriter, loc, v, reassoc);
  };
  SmallVector<Value> ins = llvm::map_to_vector(g.getDpsInputs(), over);
  SmallVector<Value> outs = llvm::map_to_vector(g.getDpsInits(), over);
  AffineMap id = rewriter.getMultiDimIdentityMap(target.getRank());
  auto flat = linalg::GenericOp::create(
      rewriter, loc, TypeRange{outs[0].getType()}, ins, outs,
      SmallVector<AffineMap>(ins.size() + 1, id),
      SmallVector<utils::IteratorType>(target.getRank(),
                                       utils::IteratorType::parallel));
  rewriter.inlineRegionBefore(g.getRegion(), flat.getRegion(),
                              flat.getRegion().end());
  auto type = cast<RankedTensorType>(g->getResult(0).getType());
  Value back = expand
                   ? tensor::CollapseShapeOp::create(rewriter, loc, type,
                                                     flat.getResult(0), reassoc)
                         .getResult()
                   : tensor::ExpandShapeOp::create(rewriter, loc, type,
                                                   flat.getResult(0), reassoc)
                         .getResult();
  rewriter.replaceOp(g, back);
  if (reshape->use_empty())
    rewriter.eraseOp(reshape);
  return flat;
}

/// Whether `slice` is the initial value of a tile.
bool isTileInit(tensor::ExtractSliceOp slice) {
  return llvm::any_of(slice->getUses(), [](OpOperand &u) {
    auto dps = dyn_cast<DestinationStyleOpInterface>(u.getOwner());
    return dps && dps.isDpsInit(&u);
  });
}

} // namespace

linalg::GenericOp qc::prepareEpilogue(RewriterBase &rewriter,
                                      linalg::LinalgOp contraction) {
  Value result = contraction->getResult(0);
  if (contraction->getNumResults() != 1 || !result.hasOneUse())
    return {};
  OpOperand *use = &*result.getUses().begin();
  Operation *reshape = use->getOwner();
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(reshape)) {
    if (!reshape->hasOneUse())
      return {};
    use = &*reshape->getUses().begin();
  } else {
    reshape = nullptr;
  }
  linalg::GenericOp g = pointwiseReader(*use, contraction);
  if (!g)
    return {};
  g = fuseReaders(rewriter, g);
  return reshape ? reshapedOver(rewriter, g, reshape, result) : g;
}

FailureOr<SmallVector<LoopLikeOpInterface>>
qc::tileWithEpilogue(RewriterBase &rewriter, linalg::LinalgOp contraction,
                     linalg::GenericOp epilogue, ArrayRef<int64_t> tiles,
                     ArrayRef<int64_t> order, StringRef contractionMarker,
                     StringRef tileMarker) {
  scf::SCFTilingOptions tiling;
  tiling.setTileSizes(getAsIndexOpFoldResult(rewriter.getContext(), tiles));
  tiling.setInterchange(order);
  tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
  scf::SCFTileAndFuseOptions options;
  options.setTilingOptions(tiling);
  // Fused: the contraction, and what computes its initial value (a tile of
  // it each, computed once). Not its operands: the tiles of one row block
  // would each compute the same slice of them again.
  Operation *product = contraction;
  options.setFusionControlFn(
      [product](tensor::ExtractSliceOp slice, OpResult producer,
                bool isDestination)
          -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
        auto op = dyn_cast<linalg::LinalgOp>(producer.getOwner());
        if (producer.getOwner() == product ||
            (!isDestination && op && op.getNumReductionLoops() == 0 &&
             isTileInit(slice)))
          return scf::SCFTileAndFuseOptions::ControlFnResult{};
        return std::nullopt;
      });
  // The contraction's tile inherits the marker.
  contraction->setAttr(contractionMarker, rewriter.getUnitAttr());
  rewriter.setInsertionPoint(epilogue);
  FailureOr<scf::SCFTileAndFuseResult> tiled =
      scf::tileConsumerAndFuseProducersUsingSCF(
          rewriter, cast<TilingInterface>(epilogue.getOperation()), options);
  contraction->removeAttr(contractionMarker);
  if (failed(tiled) || !tiled->fusedProducers.contains(contraction))
    return epilogue->emitError("qc: tiling with the epilogue failed");
  for (OpResult r : epilogue->getResults())
    rewriter.replaceAllUsesWith(r, tiled->replacements.lookup(r));
  rewriter.eraseOp(epilogue);
  // The contraction and its initial value's producers, now dead (but for
  // the slices of them fusion left), go with the canonicalization.
  for (Operation *op : tiled->tiledAndFusedOps)
    if (!op->hasAttr(contractionMarker))
      op->setAttr(tileMarker, rewriter.getUnitAttr());
  qc::peelLoops(rewriter, tiled->loops);
  return tiled->loops;
}
