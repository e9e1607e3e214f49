//===- Epilogue.cpp - elementwise epilogues of register-tiled GEMMs -------===//

#include "Epilogue.h"
#include "TilingUtils.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;

namespace {

/// Whether `g` computes each element of its one result from the same
/// element of each operand: all loops parallel, every map the identity, no
/// linalg.index.
bool isPointwise(linalg::GenericOp g) {
  if (!g.hasPureTensorSemantics() || g->getNumResults() != 1 ||
      g.getNumReductionLoops() != 0 || g.hasIndexSemantics())
    return false;
  return llvm::all_of(g.getIndexingMapsArray(),
                      [](AffineMap m) { return m.isIdentity(); });
}

/// The pointwise generic reading `use` as an input, in `block`; null if
/// none.
linalg::GenericOp pointwiseReader(OpOperand &use, Block *block) {
  auto g = dyn_cast<linalg::GenericOp>(use.getOwner());
  if (!g || g->getBlock() != block || !isPointwise(g) || !g.isDpsInput(&use))
    return {};
  return g;
}

/// Fuses into `g` the chain of pointwise generics after it that each read
/// only the one before (bias add, then activation); returns the fused op.
linalg::GenericOp fuseReaders(RewriterBase &rewriter, linalg::GenericOp g) {
  while (g->getResult(0).hasOneUse()) {
    OpOperand &use = *g->getResult(0).getUses().begin();
    linalg::GenericOp next = pointwiseReader(use, g->getBlock());
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

} // namespace

linalg::GenericOp qc::prepareEpilogue(RewriterBase &rewriter,
                                      linalg::MatmulOp matmul) {
  Value result = matmul->getResult(0);
  if (!result.hasOneUse())
    return {};
  OpOperand *use = &*result.getUses().begin();
  auto expand = dyn_cast<tensor::ExpandShapeOp>(use->getOwner());
  if (expand) {
    if (!expand->hasOneUse())
      return {};
    use = &*expand->getUses().begin();
  }
  linalg::GenericOp g = pointwiseReader(*use, matmul->getBlock());
  if (!g)
    return {};
  g = fuseReaders(rewriter, g);
  if (!expand)
    return g;

  // Over the matmul's [M, N]: the expanded image's dims collapsed back.
  rewriter.setInsertionPoint(g);
  FailureOr<linalg::CollapseResult> collapsed = linalg::collapseOpIterationDims(
      g, expand.getReassociationIndices(), rewriter);
  if (failed(collapsed))
    return {};
  rewriter.replaceOp(g, collapsed->results);
  auto flat = cast<linalg::GenericOp>(collapsed->collapsedOp.getOperation());
  // It reads the matmul's result through collapse(expand(result)).
  for (OpOperand *in : flat.getDpsInputOperands()) {
    auto c = in->get().getDefiningOp<tensor::CollapseShapeOp>();
    if (!c || c.getSrc() != expand.getResult() ||
        c.getReassociationIndices() != expand.getReassociationIndices())
      continue;
    rewriter.modifyOpInPlace(flat, [&] { in->set(result); });
    if (c->use_empty())
      rewriter.eraseOp(c);
  }
  if (expand->use_empty())
    rewriter.eraseOp(expand);
  return flat;
}

FailureOr<SmallVector<LoopLikeOpInterface>>
qc::tileWithEpilogue(RewriterBase &rewriter, linalg::MatmulOp matmul,
                     linalg::GenericOp epilogue, int64_t rows, int64_t columns,
                     StringRef contractionMarker, StringRef tileMarker) {
  ArrayRef<int64_t> shape =
      cast<RankedTensorType>(epilogue->getResult(0).getType()).getShape();
  scf::SCFTilingOptions tiling;
  tiling.setTileSizes(getAsIndexOpFoldResult(
      rewriter.getContext(),
      {std::min(rows, shape[0]), std::min(columns, shape[1])}));
  // Columns outside rows, as an unfused matmul's tiles.
  tiling.setInterchange({1, 0});
  tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
  scf::SCFTileAndFuseOptions options;
  options.setTilingOptions(tiling);
  // Fused: the matmul, and what computes its initial value (a tile of it
  // each, computed once). Not its operands: the tiles of one row block
  // would each compute the same slice of them again.
  Operation *product = matmul;
  options.setFusionControlFn(
      [product](tensor::ExtractSliceOp slice, OpResult producer,
                bool isDestination)
          -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
        if (producer.getOwner() == product)
          return scf::SCFTileAndFuseOptions::ControlFnResult{};
        auto op = dyn_cast<linalg::LinalgOp>(producer.getOwner());
        bool initOfTile = llvm::any_of(slice->getUses(), [](OpOperand &u) {
          auto dps = dyn_cast<DestinationStyleOpInterface>(u.getOwner());
          return dps && dps.isDpsInit(&u);
        });
        if (!isDestination && initOfTile && op &&
            op.getNumReductionLoops() == 0)
          return scf::SCFTileAndFuseOptions::ControlFnResult{};
        return std::nullopt;
      });
  rewriter.setInsertionPoint(epilogue);
  FailureOr<scf::SCFTileAndFuseResult> tiled =
      scf::tileConsumerAndFuseProducersUsingSCF(
          rewriter, cast<TilingInterface>(epilogue.getOperation()), options);
  if (failed(tiled) || !tiled->fusedProducers.contains(matmul))
    return epilogue->emitError("qc: tiling with the epilogue failed");
  for (OpResult r : epilogue->getResults())
    rewriter.replaceAllUsesWith(r, tiled->replacements.lookup(r));
  rewriter.eraseOp(epilogue);
  // The matmul and its initial value's producers, now dead (but for the
  // slices of them fusion left), go with the canonicalization.
  for (Operation *op : tiled->tiledAndFusedOps)
    op->setAttr(isa<linalg::MatmulOp>(op) ? contractionMarker : tileMarker,
                rewriter.getUnitAttr());
  qc::peelLoops(rewriter, tiled->loops);
  return tiled->loops;
}
