//===- TilingUtils.cpp - shared steps of the vectorizing passes -----------===//

#include "TilingUtils.h"

#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

FailureOr<scf::SCFTilingResult>
qc::tileAndPeel(RewriterBase &rewriter, Operation *op, ArrayRef<int64_t> tiles,
                ArrayRef<int64_t> order, StringRef marker) {
  scf::SCFTilingOptions options;
  options.setTileSizes(getAsIndexOpFoldResult(rewriter.getContext(), tiles));
  options.setInterchange(order);
  options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> tiled =
      scf::tileUsingSCF(rewriter, cast<TilingInterface>(op), options);
  if (failed(tiled))
    return op->emitError("qc: tiling failed");
  rewriter.replaceOp(op, tiled->replacements);
  tiled->tiledOps.back()->setAttr(marker, rewriter.getUnitAttr());
  peelLoops(rewriter, tiled->loops);
  return tiled;
}

void qc::peelLoops(RewriterBase &rewriter,
                   ArrayRef<LoopLikeOpInterface> loops) {
  // Innermost first, so that the peeled outer iterations receive loops that
  // are already peeled.
  for (LoopLikeOpInterface loop : llvm::reverse(loops)) {
    auto forOp = dyn_cast<scf::ForOp>(loop.getOperation());
    scf::ForOp partial;
    if (forOp)
      (void)scf::peelForLoopAndSimplifyBounds(rewriter, forOp, partial);
  }
}

SmallVector<Operation *> qc::opsBetween(Block *block, Operation *prev,
                                        Operation *next) {
  SmallVector<Operation *> ops;
  for (Operation *o = prev ? prev->getNextNode() : &block->front(); o != next;
       o = o->getNextNode())
    ops.push_back(o);
  return ops;
}

SmallVector<linalg::LinalgOp> qc::takeStaticTiles(ArrayRef<Operation *> roots,
                                                  StringRef marker) {
  SmallVector<linalg::LinalgOp> tiles;
  for (Operation *root : roots)
    root->walk([&](linalg::LinalgOp op) {
      if (!op->hasAttr(marker))
        return;
      op->removeAttr(marker);
      if (op.hasPureTensorSemantics() &&
          !llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
        tiles.push_back(op);
    });
  return tiles;
}

LogicalResult qc::applyWithin(ArrayRef<Operation *> roots,
                              const FrozenRewritePatternSet &patterns) {
  SmallVector<Operation *> ops;
  for (Operation *root : roots)
    root->walk([&](Operation *op) { ops.push_back(op); });
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
  return applyOpPatternsGreedily(ops, patterns, config);
}

LogicalResult qc::Canonicalizer::run(ArrayRef<Operation *> roots) {
  if (roots.empty())
    return success();
  if (!patterns) {
    MLIRContext *ctx = roots.front()->getContext();
    RewritePatternSet set(ctx);
    for (Dialect *dialect : ctx->getLoadedDialects())
      dialect->getCanonicalizationPatterns(set);
    for (RegisteredOperationName op : ctx->getRegisteredOperations())
      op.getCanonicalizationPatterns(set, ctx);
    patterns.emplace(std::move(set));
  }
  return applyWithin(roots, *patterns);
}
