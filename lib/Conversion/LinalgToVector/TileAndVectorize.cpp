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

  /// Tiles `op` by `tiles` (0: not tiled) in loop order `order`, replaces
  /// it, and peels the partial tiles so that every tile has a static shape.
  FailureOr<scf::SCFTilingResult> tileAndPeel(RewriterBase &rewriter,
                                              Operation *op,
                                              ArrayRef<int64_t> tiles,
                                              ArrayRef<int64_t> order) {
    scf::SCFTilingOptions options;
    options.setTileSizes(getAsIndexOpFoldResult(rewriter.getContext(), tiles));
    options.setInterchange(order);
    options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled =
        scf::tileUsingSCF(rewriter, cast<TilingInterface>(op), options);
    if (failed(tiled))
      return op->emitError("qc-tile-and-vectorize: tiling failed");
    rewriter.replaceOp(op, tiled->replacements);
    tiled->tiledOps.back()->setAttr(kTileMarker, rewriter.getUnitAttr());
    // Innermost first, so that the peeled outer iterations receive loops that
    // are already peeled.
    for (LoopLikeOpInterface loop : llvm::reverse(tiled->loops)) {
      auto forOp = dyn_cast<scf::ForOp>(loop.getOperation());
      scf::ForOp partial;
      if (forOp)
        (void)scf::peelForLoopAndSimplifyBounds(rewriter, forOp, partial);
    }
    return tiled;
  }

  /// The K block of a panel contraction: the largest divisor of `k` whose
  /// rows of `panel` floats fit in 16 KiB (a quarter to a third of an L1
  /// data cache), so that the block stays in L1 while every row tile of the
  /// activations passes over it; `k` itself when only small divisors exist.
  int64_t panelKBlock(int64_t k, int64_t panel) {
    int64_t limit = tileKc > 0 ? tileKc : 16384 / (4 * panel);
    for (int64_t kc = std::min(k, limit); kc >= std::max<int64_t>(limit / 4, 1);
         --kc)
      if (k % kc == 0)
        return kc;
    return k;
  }

  /// Tiles one contraction into register tiles (rows x two vectors, one K
  /// step) and returns the outermost loop, the one worth threads.
  FailureOr<Operation *> tileOne(RewriterBase &rewriter, linalg::LinalgOp op,
                                 qc::FloatTile tile) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    unsigned numLoops = ranges.size();
    SmallVector<int64_t> tiles(numLoops, 1);
    SmallVector<int64_t> order = llvm::to_vector(llvm::seq<int64_t>(numLoops));
    Operation *target = op;
    Operation *outer = nullptr;
    if (isPanelMatmul(op)) {
      // Loops M, panel, column, K: one panel (its whole width) at a time,
      // split into K blocks, every row tile of the activations passing over
      // a block while it is in L1.
      int64_t kc = panelKBlock(ranges[3], ranges[2]);
      tiles = {std::min<int64_t>(tile.rows, ranges[0]), 1, 0,
               std::min<int64_t>(tileK, ranges[3])};
      order = {1, 0, 2, 3};
      if (kc < ranges[3]) {
        FailureOr<scf::SCFTilingResult> blocks =
            tileAndPeel(rewriter, op, {0, 1, 0, kc}, {1, 3, 0, 2});
        if (failed(blocks))
          return failure();
        outer = blocks->loops.front();
        target = blocks->tiledOps.back();
        target->removeAttr(kTileMarker);
        tiles[1] = 0;
        order = {0, 1, 2, 3};
      }
    } else {
      // The last three loops of matmul / batch_matmul are M, N, K.
      tiles[numLoops - 3] = std::min<int64_t>(tile.rows, ranges[numLoops - 3]);
      tiles[numLoops - 2] =
          std::min<int64_t>(tile.columns, ranges[numLoops - 2]);
      tiles[numLoops - 1] = std::min<int64_t>(tileK, ranges[numLoops - 1]);
      // N outside M: one K x tileN panel of the weight stays in cache while
      // every row tile of the activations passes over it, instead of the
      // whole weight streaming from memory once per row tile.
      std::swap(order[numLoops - 3], order[numLoops - 2]);
    }
    FailureOr<scf::SCFTilingResult> tiled =
        tileAndPeel(rewriter, target, tiles, order);
    if (failed(tiled))
      return failure();
    return outer ? outer : tiled->loops.front().getOperation();
  }

  /// Tiles `op` and marks its outermost loop qc.parallel_loop when the
  /// contraction has at least parallel-min-macs multiply-adds.
  LogicalResult tileAndMark(RewriterBase &rewriter, linalg::LinalgOp op,
                            qc::FloatTile tile) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return success(); // Left to the generic lowering.
    int64_t macs = 1;
    for (int64_t r : ranges)
      macs *= r;
    FailureOr<Operation *> outer = tileOne(rewriter, op, tile);
    if (failed(outer))
      return failure();
    if (parallelMinMacs > 0 && macs >= parallelMinMacs)
      (*outer)->setAttr(qc::kParallelLoopAttrName, rewriter.getUnitAttr());
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
    qc::FloatTile tile = qc::floatRegisterTile(func);
    if (tileM > 0)
      tile.rows = tileM;
    if (tileN > 0)
      tile.columns = tileN;
    for (linalg::LinalgOp op : targets)
      if (failed(tileAndMark(rewriter, op, tile)))
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
      int64_t lanes = qc::floatVectorLanes(func);
      // One piece per vector register: `lanes` of the last dimension where
      // it divides it, else the whole dimension.
      auto piece = [lanes](int64_t size) {
        return lanes > 0 && size > lanes && size % lanes == 0 ? lanes : size;
      };
      unroll.setNativeShapeFn(
          [piece](Operation *op) -> std::optional<SmallVector<int64_t>> {
            if (auto contract = dyn_cast<vector::ContractionOp>(op)) {
              // Iteration space (..., m, n, k): one row, one register of
              // columns.
              SmallVector<int64_t> shape(
                  contract.getIteratorTypes().size(), 1);
              auto resultType = dyn_cast<VectorType>(contract.getResultType());
              if (!resultType)
                return std::nullopt;
              shape[shape.size() - 2] = piece(resultType.getShape().back());
              return shape;
            }
            auto vectorType = [&]() -> VectorType {
              if (auto read = dyn_cast<vector::TransferReadOp>(op))
                return read.getVectorType();
              if (auto write = dyn_cast<vector::TransferWriteOp>(op))
                return write.getVectorType();
              return {};
            }();
            if (!vectorType || vectorType.getRank() < 1 ||
                (vectorType.getRank() == 1 &&
                 piece(vectorType.getShape().back()) ==
                     vectorType.getShape().back()))
              return std::nullopt;
            SmallVector<int64_t> shape(vectorType.getRank(), 1);
            shape.back() = piece(vectorType.getShape().back());
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
