//===- TileAndVectorize.cpp - register tiling of contractions -------------===//

#include "qc/Conversion/Passes.h"
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace qc {
#define GEN_PASS_DEF_TILEANDVECTORIZEPASS
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// Whether `op` is the panel-weight contraction of qc-lower-linear.
bool isPanelMatmul(linalg::LinalgOp op) {
  return isa<linalg::ContractOp>(op) &&
         op.getIndexingMapsArray() == qc::panelMatmulMaps(op.getContext());
}

struct TileAndVectorizePass
    : qc::impl::TileAndVectorizePassBase<TileAndVectorizePass> {
  using Base::Base;

  /// Tiles one contraction into [*batch, M, N, K] register tiles and peels
  /// the partial tiles, so that every tile has a static shape.
  LogicalResult tileOne(RewriterBase &rewriter, linalg::LinalgOp op,
                        int64_t columns) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return success(); // Left to the generic lowering.
    unsigned numLoops = ranges.size();
    SmallVector<int64_t> tiles(numLoops, 1);
    SmallVector<int64_t> order = llvm::to_vector(llvm::seq<int64_t>(numLoops));
    if (isPanelMatmul(op)) {
      // Loops M, panel, column, K: one panel (its whole width) at a time,
      // every row tile of the activations passing over it.
      tiles = {std::min<int64_t>(tileM, ranges[0]), 1, ranges[2],
               std::min<int64_t>(tileK, ranges[3])};
      order = {1, 0, 2, 3};
    } else {
      // The last three loops of matmul / batch_matmul are M, N, K.
      tiles[numLoops - 3] = std::min<int64_t>(tileM, ranges[numLoops - 3]);
      tiles[numLoops - 2] = std::min<int64_t>(columns, ranges[numLoops - 2]);
      tiles[numLoops - 1] = std::min<int64_t>(tileK, ranges[numLoops - 1]);
      // N outside M: one K x tileN panel of the weight stays in cache while
      // every row tile of the activations passes over it, instead of the
      // whole weight streaming from memory once per row tile.
      std::swap(order[numLoops - 3], order[numLoops - 2]);
    }

    scf::SCFTilingOptions options;
    options.setTileSizes(getAsIndexOpFoldResult(rewriter.getContext(), tiles));
    options.setInterchange(order);
    options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled))
      return op.emitError("qc-tile-and-vectorize: tiling failed");
    rewriter.replaceOp(op, tiled->replacements);
    tiled->tiledOps.back()->setAttr(kTileMarker, rewriter.getUnitAttr());
    int64_t macs = 1;
    for (int64_t r : ranges)
      macs *= r;
    if (parallelMinMacs > 0 && macs >= parallelMinMacs)
      tiled->loops.front()->setAttr(qc::kParallelLoopAttrName,
                                    rewriter.getUnitAttr());
    // Innermost first, so that the peeled outer iterations receive loops that
    // are already peeled.
    for (LoopLikeOpInterface loop : llvm::reverse(tiled->loops)) {
      auto forOp = dyn_cast<scf::ForOp>(loop.getOperation());
      scf::ForOp partial;
      if (forOp)
        (void)scf::peelForLoopAndSimplifyBounds(rewriter, forOp, partial);
    }
    return success();
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<linalg::LinalgOp> targets;
    func.walk([&](linalg::LinalgOp op) {
      if ((isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) ||
           isPanelMatmul(op)) &&
          op.hasPureTensorSemantics())
        targets.push_back(op);
    });
    IRRewriter rewriter(ctx);
    int64_t columns = tileN > 0 ? tileN : qc::floatTileColumns(func);
    for (linalg::LinalgOp op : targets)
      if (failed(tileOne(rewriter, op, columns)))
        return signalPassFailure();

    // Fold the peeled bounds so that each tile's slices get static types.
    if (failed(canonicalize(func)))
      return signalPassFailure();

    SmallVector<linalg::LinalgOp> tiles;
    func.walk([&](linalg::LinalgOp op) {
      if (op->hasAttr(kTileMarker))
        tiles.push_back(op);
    });
    for (linalg::LinalgOp tile : tiles) {
      tile->removeAttr(kTileMarker);
      if (!tile.hasPureTensorSemantics() ||
          llvm::any_of(tile.getStaticLoopRanges(), ShapedType::isDynamic))
        continue; // A scalar tile is still correct.
      rewriter.setInsertionPoint(tile);
      FailureOr<linalg::VectorizationResult> vec = linalg::vectorize(
          rewriter, tile, /*inputVectorSizes=*/{}, /*inputScalableVecDims=*/{},
          /*vectorizeNDExtract=*/false, /*flatten1DDepthwiseConv=*/false,
          /*assumeDynamicDimsMatchVecSizes=*/false,
          /*createNamedContraction=*/true);
      if (failed(vec))
        continue;
      if (!vec->replacements.empty())
        rewriter.replaceOp(tile, vec->replacements);
      else
        rewriter.eraseOp(tile);
    }

    // Split each tile into rows of 1-D vectors (one register row of the
    // accumulator each), then lower the contraction to broadcast FMAs.
    {
      RewritePatternSet patterns(ctx);
      vector::UnrollVectorOptions unroll;
      unroll.setNativeShapeFn(
          [](Operation *op) -> std::optional<SmallVector<int64_t>> {
            if (auto contract = dyn_cast<vector::ContractionOp>(op)) {
              // Iteration space (..., m, n, k): one row, all columns.
              SmallVector<int64_t> shape(
                  contract.getIteratorTypes().size(), 1);
              auto resultType = dyn_cast<VectorType>(contract.getResultType());
              if (!resultType)
                return std::nullopt;
              shape[shape.size() - 2] = resultType.getShape().back();
              return shape;
            }
            auto vectorType = [&]() -> VectorType {
              if (auto read = dyn_cast<vector::TransferReadOp>(op))
                return read.getVectorType();
              if (auto write = dyn_cast<vector::TransferWriteOp>(op))
                return write.getVectorType();
              return {};
            }();
            if (!vectorType || vectorType.getRank() < 2)
              return std::nullopt;
            SmallVector<int64_t> shape(vectorType.getRank(), 1);
            shape.back() = vectorType.getShape().back();
            return shape;
          });
      vector::populateVectorUnrollPatterns(patterns, unroll);
      vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
      vector::populateVectorContractLoweringPatterns(
          patterns, vector::VectorContractLowering::OuterProduct);
      vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
      vector::populateVectorOuterProductLoweringPatterns(patterns);
      tensor::populateFoldTensorSubsetIntoVectorTransferPatterns(patterns);
      vector::populateVectorToVectorCanonicalizationPatterns(patterns);
      scf::ForOp::getCanonicalizationPatterns(patterns, ctx);
      if (failed(applyPatternsGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }

    // Keep the accumulator rows in registers across the reduction loop: the
    // read / write pairs on the loop-carried tensor are loop invariant once
    // their row indices are in one canonical form.
    if (failed(canonicalize(func)))
      return signalPassFailure();
    {
      DominanceInfo dominance(func);
      eliminateCommonSubExpressions(rewriter, dominance, func);
    }
    SmallVector<scf::ForOp> loops;
    func.walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops) {
      moveLoopInvariantCode(cast<LoopLikeOpInterface>(loop.getOperation()));
      (void)hoistLoopInvariantSubsets(rewriter, loop);
    }
  }

  /// Runs every loaded dialect's and op's canonicalization patterns.
  LogicalResult canonicalize(func::FuncOp func) {
    MLIRContext *ctx = func.getContext();
    RewritePatternSet patterns(ctx);
    for (Dialect *dialect : ctx->getLoadedDialects())
      dialect->getCanonicalizationPatterns(patterns);
    for (RegisteredOperationName op : ctx->getRegisteredOperations())
      op.getCanonicalizationPatterns(patterns, ctx);
    return applyPatternsGreedily(func, std::move(patterns));
  }

  static constexpr StringLiteral kTileMarker = "qc.register_tile";
};

} // namespace
