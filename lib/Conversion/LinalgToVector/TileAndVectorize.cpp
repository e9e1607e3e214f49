//===- TileAndVectorize.cpp - register tiling of contractions -------------===//

#include "qc/Conversion/Passes.h"
#include "qc/Transforms/Passes.h"

#include "Epilogue.h"
#include "TilingUtils.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
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

/// Whether `op` is a depthwise 2-D convolution as the importer writes a
/// grouped one: a generic over (n, g, f, oh, ow, c, i, j) accumulating
/// x[n, g, c, oh * s + i * d, ow * s + j * d] * w[g, f, c, i, j] into
/// out[n, g, f, oh, ow], with one filter and one input channel per group.
bool isDepthwiseConv(linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic || generic.getNumLoops() != 8 ||
      generic.getNumDpsInputs() != 2 || generic.getNumDpsInits() != 1 ||
      !generic.hasPureTensorSemantics())
    return false;
  SmallVector<utils::IteratorType> iters = generic.getIteratorTypesArray();
  for (unsigned i = 0; i < 8; ++i)
    if ((i >= 5) != linalg::isReductionIterator(iters[i]))
      return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges[2] != 1 || ranges[5] != 1)
    return false;
  MLIRContext *ctx = op.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  if (maps[1] != AffineMap::get(8, 0, {d(1), d(2), d(5), d(6), d(7)}, ctx) ||
      maps[2] != AffineMap::get(8, 0, {d(0), d(1), d(2), d(3), d(4)}, ctx))
    return false;
  Block *body = generic.getBody();
  auto add = cast<linalg::YieldOp>(body->getTerminator())
                 .getOperand(0)
                 .getDefiningOp<arith::AddFOp>();
  if (!add || !body->getArgument(2).getType().isF32())
    return false;
  Value other = add.getLhs() == body->getArgument(2)   ? add.getRhs()
                : add.getRhs() == body->getArgument(2) ? add.getLhs()
                                                       : Value();
  auto mul = other ? other.getDefiningOp<arith::MulFOp>() : arith::MulFOp();
  return mul && ((mul.getLhs() == body->getArgument(0) &&
                  mul.getRhs() == body->getArgument(1)) ||
                 (mul.getLhs() == body->getArgument(1) &&
                  mul.getRhs() == body->getArgument(0)));
}

/// One index of a transfer as `base + offset` (base null for a constant),
/// looking through affine.apply of `d0 + c` / `s0 + c`.
struct IndexTerm {
  Value base;
  int64_t offset;
  bool operator==(const IndexTerm &o) const {
    return base == o.base && offset == o.offset;
  }
};

IndexTerm decompose(Value index) {
  if (std::optional<int64_t> c = getConstantIntValue(index))
    return {Value(), *c};
  auto apply = index.getDefiningOp<affine::AffineApplyOp>();
  if (apply && apply.getMapOperands().size() == 1 &&
      apply.getAffineMap().getNumResults() == 1) {
    AffineExpr e = apply.getAffineMap().getResult(0);
    if (auto sum = dyn_cast<AffineBinaryOpExpr>(e);
        sum && sum.getKind() == AffineExprKind::Add &&
        isa<AffineDimExpr, AffineSymbolExpr>(sum.getLHS()))
      if (auto c = dyn_cast<AffineConstantExpr>(sum.getRHS()))
        return {apply.getMapOperands()[0], c.getValue()};
  }
  return {index, 0};
}

/// The position of a vector transfer of `loop`'s body without a mask whose
/// vector covers the trailing dimensions of its tensor in order and whose
/// indices are defined outside the loop; nullopt otherwise.
std::optional<SmallVector<IndexTerm>>
invariantPosition(scf::ForOp loop, VectorTransferOpInterface op) {
  if (op.getMask() || !op.getPermutationMap().isMinorIdentity() ||
      llvm::any_of(op.getInBoundsValues(), [](bool b) { return !b; }))
    return std::nullopt;
  SmallVector<IndexTerm> position;
  for (Value index : op.getIndices()) {
    if (!loop.isDefinedOutsideOfLoop(index))
      return std::nullopt;
    position.push_back(decompose(index));
  }
  return position;
}

/// Whether the boxes of two transfers of vector shapes `a` / `b` at `pa` /
/// `pb` (vectors along the trailing dimensions) are provably disjoint: in
/// some dimension both indices have the same base and their ranges of
/// offsets do not meet.
bool disjoint(ArrayRef<IndexTerm> pa, ArrayRef<int64_t> a,
              ArrayRef<IndexTerm> pb, ArrayRef<int64_t> b) {
  size_t rank = pa.size();
  auto extent = [rank](ArrayRef<int64_t> shape, size_t d) -> int64_t {
    return d + shape.size() >= rank ? shape[d + shape.size() - rank] : 1;
  };
  for (size_t d = 0; d < rank; ++d)
    if (pa[d].base == pb[d].base &&
        (pa[d].offset + extent(a, d) <= pb[d].offset ||
         pb[d].offset + extent(b, d) <= pa[d].offset))
      return true;
  return false;
}

/// The accumulators of a register tile's reduction loop: reads of a
/// loop-carried tensor at constant positions, each matched by a write of
/// the same position and type in the chain of writes the loop yields.
struct Accumulators {
  unsigned iterArg;
  SmallVector<vector::TransferReadOp> reads;   // in pair order
  SmallVector<vector::TransferWriteOp> writes; // reads[k] <-> writes[k]
  SmallVector<vector::TransferWriteOp> chain;  // last write first
};

/// Finds the accumulators carried by iter_arg `i` of `loop`.
std::optional<Accumulators> findAccumulators(scf::ForOp loop, unsigned i) {
  BlockArgument acc = loop.getRegionIterArg(i);
  if (!isa<RankedTensorType>(acc.getType()))
    return std::nullopt;
  Accumulators found{i, {}, {}, {}};
  Value v = loop.getYieldedValues()[i];
  while (auto w = v.getDefiningOp<vector::TransferWriteOp>()) {
    if (w->getParentOp() != loop || !w.getResult().hasOneUse())
      return std::nullopt;
    found.chain.push_back(w);
    v = w.getBase();
  }
  if (v != acc || found.chain.empty())
    return std::nullopt;
  SmallVector<vector::TransferReadOp> reads;
  for (Operation *user : acc.getUsers()) {
    if (user == found.chain.back().getOperation())
      continue;
    auto read = dyn_cast<vector::TransferReadOp>(user);
    if (!read || !loop.isDefinedOutsideOfLoop(read.getPadding()))
      return std::nullopt;
    reads.push_back(read);
  }
  if (reads.size() != found.chain.size())
    return std::nullopt;
  SmallVector<SmallVector<IndexTerm>> writeAt;
  for (vector::TransferWriteOp w : found.chain) {
    std::optional<SmallVector<IndexTerm>> p = invariantPosition(loop, w);
    if (!p)
      return std::nullopt;
    for (auto [k, q] : llvm::enumerate(writeAt))
      if (!disjoint(*p, w.getVectorType().getShape(), q,
                    found.chain[k].getVectorType().getShape()))
        return std::nullopt;
    writeAt.push_back(*p);
  }
  SmallVector<bool> taken(found.chain.size(), false);
  for (vector::TransferReadOp read : reads) {
    std::optional<SmallVector<IndexTerm>> p = invariantPosition(loop, read);
    if (!p)
      return std::nullopt;
    auto match = llvm::find_if(llvm::seq<size_t>(found.chain.size()),
                               [&](size_t k) {
                                 return !taken[k] && writeAt[k] == *p &&
                                        found.chain[k].getVectorType() ==
                                            read.getVectorType();
                               });
    if (match == llvm::seq<size_t>(found.chain.size()).end())
      return std::nullopt;
    taken[*match] = true;
    found.reads.push_back(read);
    found.writes.push_back(found.chain[*match]);
  }
  return found;
}

/// Clones the transfer `op` (its indices defined outside the loop) onto
/// `base`, a write storing `vector`.
Operation *cloneTransferOnto(RewriterBase &rewriter, Operation *op,
                             Value base, Value vector = {}) {
  Operation *clone = rewriter.clone(*op);
  if (auto read = dyn_cast<vector::TransferReadOp>(clone)) {
    read.getBaseMutable().assign(base);
  } else {
    auto write = cast<vector::TransferWriteOp>(clone);
    write.getBaseMutable().assign(base);
    write.getValueToStoreMutable().assign(vector);
  }
  return clone;
}

/// Moves the accumulators of a register tile out of its reduction loop: the
/// loop carries their vectors instead of the tensor, read before the loop
/// and written after it. (Upstream's hoistLoopInvariantSubsets does this for
/// any subsets, but proves disjointness with affine value bounds: seconds
/// for the 24 accumulators of one AVX-512 tile. A tile's positions are its
/// row and column plus constants, which is all this compares.)
void hoistAccumulators(RewriterBase &rewriter, scf::ForOp loop) {
  for (unsigned i = 0; i < loop.getNumRegionIterArgs(); ++i) {
    std::optional<Accumulators> acc = findAccumulators(loop, i);
    if (!acc)
      continue;
    Value init = loop.getInitArgs()[i];
    rewriter.setInsertionPoint(loop);
    SmallVector<Value> inits;
    for (vector::TransferReadOp read : acc->reads)
      inits.push_back(
          cloneTransferOnto(rewriter, read, init)->getResult(0));
    auto yieldFn = [&](OpBuilder &, Location,
                       ArrayRef<BlockArgument> bbArgs) {
      SmallVector<Value> yields;
      for (auto [k, read] : llvm::enumerate(acc->reads)) {
        rewriter.replaceAllUsesWith(read.getResult(), bbArgs[k]);
        yields.push_back(acc->writes[k].getVector());
      }
      return yields;
    };
    unsigned numOld = loop.getNumResults();
    FailureOr<LoopLikeOpInterface> grown =
        cast<LoopLikeOpInterface>(loop.getOperation())
            .replaceWithAdditionalYields(rewriter, inits,
                                         /*replaceInitOperandUsesInLoop=*/false,
                                         yieldFn);
    if (failed(grown))
      return;
    loop = cast<scf::ForOp>(grown->getOperation());
    rewriter.setInsertionPointAfter(loop);
    Value tensor = loop.getResult(i);
    Operation *first = nullptr;
    for (auto [k, write] : llvm::enumerate(acc->writes)) {
      Operation *w = cloneTransferOnto(rewriter, write, tensor,
                                       loop.getResult(numOld + k));
      first = first ? first : w;
      tensor = w->getResult(0);
    }
    rewriter.replaceAllUsesExcept(loop.getResult(i), tensor, first);
    // The tensor passes through the loop untouched; the reads and writes
    // inside go.
    Operation *yield = loop.getBody()->getTerminator();
    rewriter.modifyOpInPlace(yield, [&] {
      yield->setOperand(i, loop.getRegionIterArg(i));
    });
    for (vector::TransferReadOp read : acc->reads)
      rewriter.eraseOp(read);
    for (vector::TransferWriteOp write : acc->chain)
      rewriter.eraseOp(write);
  }
}

struct TileAndVectorizePass
    : qc::impl::TileAndVectorizePassBase<TileAndVectorizePass> {
  using Base::Base;

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
        FailureOr<scf::SCFTilingResult> blocks = qc::tileAndPeel(
            rewriter, op, {0, 1, 0, kc}, {1, 3, 0, 2}, kTileMarker);
        if (failed(blocks))
          return failure();
        outer = blocks->loops.front();
        target = blocks->tiledOps.back();
        target->removeAttr(kTileMarker);
        tiles[1] = 0;
        order = {0, 1, 2, 3};
      }
    } else if (isDepthwiseConv(op)) {
      // One channel, one output row, a register tile's width of pixels;
      // the window's taps innermost, so that the pixels accumulate in
      // registers. The tiles drop their unit loops into elementwise
      // multiply-adds of shifted input rows (strided rows through strided
      // slices).
      tiles = {0, 1, 0, 1, std::min<int64_t>(tile.columns, ranges[4]), 0, 1, 1};
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
        qc::tileAndPeel(rewriter, target, tiles, order, kTileMarker);
    if (failed(tiled))
      return failure();
    return outer ? outer : tiled->loops.front().getOperation();
  }

  /// Whether a contraction of static loop `ranges` has at least
  /// parallel-min-macs multiply-adds: worth its outermost tile loop being
  /// split over the threads (qc.parallel_loop).
  bool worthThreads(ArrayRef<int64_t> ranges) {
    int64_t macs = 1;
    for (int64_t r : ranges)
      macs *= r;
    return parallelMinMacs > 0 && macs >= parallelMinMacs;
  }

  /// Tiles `op` and marks its outermost loop qc.parallel_loop when it is
  /// worth threads.
  LogicalResult tileAndMark(RewriterBase &rewriter, linalg::LinalgOp op,
                            qc::FloatTile tile) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return success(); // Left to the generic lowering.
    FailureOr<Operation *> outer = tileOne(rewriter, op, tile);
    if (failed(outer))
      return failure();
    if (worthThreads(ranges))
      (*outer)->setAttr(qc::kParallelLoopAttrName, rewriter.getUnitAttr());
    return success();
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    unrolling.reset();
    SmallVector<linalg::LinalgOp> targets;
    func.walk([&](linalg::LinalgOp op) {
      if ((isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) ||
           isPanelMatmul(op) || isDepthwiseConv(op)) &&
          op.hasPureTensorSemantics())
        targets.push_back(op);
    });
    qc::FloatTile tile = qc::floatRegisterTile(func);
    if (tileM > 0)
      tile.rows = tileM;
    if (tileN > 0)
      tile.columns = tileN;
    // One contraction at a time, every rewrite confined to the ops that
    // replace it (between its neighbours, which tiling leaves alone): the
    // pass costs what the contractions cost, not their number times the
    // size of the model.
    for (linalg::LinalgOp op : targets) {
      Block *block = op->getBlock();
      Operation *prev = op->getPrevNode();
      linalg::GenericOp epilogue = epilogueOf(op);
      Operation *last = epilogue ? epilogue.getOperation() : op.getOperation();
      // The epilogue's result reshaped back to an image's shape.
      if (Operation *back = last->getNextNode();
          epilogue && back &&
          isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(back) &&
          back->getOperand(0) == epilogue->getResult(0))
        last = back;
      Operation *next = last->getNextNode();
      auto between = [block, prev, next] {
        return qc::opsBetween(block, prev, next);
      };
      if (failed(tileAndVectorize(func, op, epilogue, tile, between)))
        return signalPassFailure();
    }
    // One sweep for the index constants each contraction made its own of.
    IRRewriter rewriter(&getContext());
    DominanceInfo dominance(func);
    eliminateCommonSubExpressions(rewriter, dominance, func);
  }

  /// The pointwise generic `op` (a static matmul or depthwise convolution)
  /// is tiled with, rewritten over its loops (qc::prepareEpilogue); null if
  /// none.
  linalg::GenericOp epilogueOf(linalg::LinalgOp op) {
    if (!epilogues || !(isa<linalg::MatmulOp>(op) || isDepthwiseConv(op)) ||
        llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
      return {};
    IRRewriter rewriter(&getContext());
    return qc::prepareEpilogue(rewriter, op);
  }

  /// Tiles `op` with `epilogue` by register tiles (a matmul's: rows x
  /// columns, columns outside; a depthwise convolution's: one channel, one
  /// row, a register tile's width of pixels), then each of `op`'s tiles by
  /// its reduction steps (a matmul's K, a depthwise convolution's taps);
  /// marks the outermost loop as tileAndMark does. `between` as for
  /// tileAndVectorize.
  LogicalResult
  tileWithEpilogue(RewriterBase &rewriter, linalg::LinalgOp op,
                   linalg::GenericOp epilogue, qc::FloatTile tile,
                   llvm::function_ref<SmallVector<Operation *>()> between) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    bool depthwise = isDepthwiseConv(op);
    SmallVector<int64_t> tiles, order, steps;
    if (depthwise) {
      tiles = {0, 1, 0, 1, std::min<int64_t>(tile.columns, ranges[4])};
      order = {0, 1, 2, 3, 4};
      steps = {0, 0, 0, 0, 0, 0, 1, 1};
    } else {
      tiles = {std::min<int64_t>(tile.rows, ranges[0]),
               std::min<int64_t>(tile.columns, ranges[1])};
      order = {1, 0};
      steps = {0, 0, std::min<int64_t>(tileK, ranges[2])};
    }
    FailureOr<SmallVector<LoopLikeOpInterface>> loops = qc::tileWithEpilogue(
        rewriter, op, epilogue, tiles, order, kContractionMarker, kTileMarker);
    if (failed(loops))
      return failure();
    if (worthThreads(ranges))
      loops->front()->setAttr(qc::kParallelLoopAttrName,
                              rewriter.getUnitAttr());
    if (failed(canonicalizer.run(between())))
      return failure();
    for (linalg::LinalgOp t :
         qc::takeStaticTiles(between(), kContractionMarker))
      if (failed(qc::tileAndPeel(
              rewriter, t, steps,
              llvm::to_vector(llvm::seq<int64_t>(steps.size())), kTileMarker)))
        return failure();
    return success();
  }

  /// Register-tiles one contraction (with its epilogue, if not null),
  /// vectorizes its tiles, lowers them to broadcast FMAs and keeps the
  /// accumulators in registers. `between` lists the top-level ops that
  /// hold the contraction's code at any point.
  LogicalResult
  tileAndVectorize(func::FuncOp func, linalg::LinalgOp op,
                   linalg::GenericOp epilogue, qc::FloatTile tile,
                   llvm::function_ref<SmallVector<Operation *>()> between) {
    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);
    bool depthwise = isDepthwiseConv(op); // op is replaced by its tiles
    if (epilogue
            ? failed(tileWithEpilogue(rewriter, op, epilogue, tile, between))
            : failed(tileAndMark(rewriter, op, tile)))
      return failure();
    // Fold the peeled bounds so that each tile's slices get static types.
    if (failed(canonicalizer.run(between())))
      return failure();

    for (linalg::LinalgOp tile : qc::takeStaticTiles(between(), kTileMarker)) {
      rewriter.setInsertionPoint(tile);
      if (isDepthwiseConv(tile)) {
        FailureOr<linalg::LinalgOp> flat = dropUnitLoops(rewriter, tile);
        if (failed(flat))
          continue;
        tile = *flat;
      }
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

    // A depthwise tile's rank-reducing slices, merged with the tile's, fold
    // into its transfers, so that they index the loop-carried tensor.
    if (depthwise && failed(qc::applyWithin(between(), sliceFolding())))
      return failure();

    // Split each tile into rows of 1-D vectors (one register row of the
    // accumulator each), then lower the contraction to broadcast FMAs.
    if (!unrolling)
      unrolling.emplace(unrollPatterns(func));
    if (failed(qc::applyWithin(between(), *unrolling)))
      return failure();

    // Keep the accumulator rows in registers across the reduction loop: the
    // read / write pairs on the loop-carried tensor are loop invariant once
    // their row indices are in one canonical form. A depthwise tile with an
    // epilogue takes a second round: the reads of its initial value fold
    // into the bias vector first, which uncovers its outer tap loop.
    for (int round = 0, rounds = epilogue && depthwise ? 2 : 1;
         round < rounds; ++round)
      if (failed(hoistAllAccumulators(func, rewriter, between)))
        return failure();
    // The epilogue reads the accumulators where they were written.
    if (epilogue && failed(canonicalizer.run(between())))
      return failure();
    return success();
  }

  /// Canonicalizes the ops of `between`, then moves each of their loops'
  /// invariant code and accumulators out of it.
  LogicalResult
  hoistAllAccumulators(func::FuncOp func, RewriterBase &rewriter,
                       llvm::function_ref<SmallVector<Operation *>()> between) {
    if (failed(canonicalizer.run(between())))
      return failure();
    DominanceInfo dominance(func);
    SmallVector<scf::ForOp> loops;
    for (Operation *root : between()) {
      if (root->getNumRegions())
        eliminateCommonSubExpressions(rewriter, dominance, root);
      root->walk([&](scf::ForOp loop) { loops.push_back(loop); });
    }
    for (scf::ForOp loop : loops) {
      moveLoopInvariantCode(cast<LoopLikeOpInterface>(loop.getOperation()));
      hoistAccumulators(rewriter, loop);
    }
    return success();
  }

  /// `tile` (a generic) without its unit loops, the operands reduced by
  /// rank-reducing slices, which vector transfers fold.
  static FailureOr<linalg::LinalgOp> dropUnitLoops(RewriterBase &rewriter,
                                                   linalg::LinalgOp tile) {
    linalg::ControlDropUnitDims control;
    control.rankReductionStrategy = linalg::ControlDropUnitDims::
        RankReductionStrategy::ExtractInsertSlice;
    FailureOr<linalg::DropUnitDimsResult> dropped = linalg::dropUnitDims(
        rewriter, cast<linalg::GenericOp>(tile.getOperation()), control);
    if (failed(dropped))
      return failure();
    rewriter.replaceOp(tile, dropped->replacements);
    auto flat = cast<linalg::GenericOp>(dropped->resultOp.getOperation());
    unstrideInputs(rewriter, flat);
    return cast<linalg::LinalgOp>(flat.getOperation());
  }

  /// The inputs a 1-D `tile` reads as `x[d0 * s]` (the row of a strided
  /// convolution) become strided slices read as `x[d0]`: the vectorizer
  /// takes the tile, and the strided row is read element by element.
  static void unstrideInputs(RewriterBase &rewriter, linalg::GenericOp tile) {
    if (tile.getNumLoops() != 1)
      return;
    int64_t n = tile.getStaticLoopRanges()[0];
    SmallVector<AffineMap> maps = tile.getIndexingMapsArray();
    AffineExpr d0 = rewriter.getAffineDimExpr(0);
    bool changed = false;
    for (OpOperand *in : tile.getDpsInputOperands()) {
      AffineMap &map = maps[in->getOperandNumber()];
      if (map.getNumResults() != 1 || ShapedType::isDynamic(n) ||
          map.getResult(0).getKind() != AffineExprKind::Mul)
        continue;
      auto mul = cast<AffineBinaryOpExpr>(map.getResult(0));
      auto step = dyn_cast<AffineConstantExpr>(mul.getRHS());
      if (mul.getLHS() != d0 || !step || step.getValue() <= 1)
        continue;
      rewriter.setInsertionPoint(tile);
      SmallVector<OpFoldResult> offsets = {rewriter.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes = {rewriter.getIndexAttr(n)};
      SmallVector<OpFoldResult> strides = {
          rewriter.getIndexAttr(step.getValue())};
      Value slice = tensor::ExtractSliceOp::create(
          rewriter, tile.getLoc(), in->get(), offsets, sizes, strides);
      rewriter.modifyOpInPlace(tile, [&] { in->set(slice); });
      map = AffineMap::get(1, 0, d0);
      changed = true;
    }
    if (changed)
      rewriter.modifyOpInPlace(tile, [&] {
        tile.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
      });
  }

  /// Patterns that merge nested slices and fold them into vector transfers.
  FrozenRewritePatternSet sliceFolding() {
    RewritePatternSet patterns(&getContext());
    tensor::populateMergeConsecutiveInsertExtractSlicePatterns(patterns);
    tensor::populateReassociativeReshapeFoldingPatterns(patterns);
    tensor::populateFoldTensorSubsetIntoVectorTransferPatterns(patterns);
    return FrozenRewritePatternSet(std::move(patterns));
  }

  /// The patterns that split vectorized tiles into one-register pieces and
  /// lower their contractions to broadcast FMAs.
  FrozenRewritePatternSet unrollPatterns(func::FuncOp func) {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    vector::UnrollVectorOptions unroll;
    int64_t lanes = qc::floatVectorLanes(func);
    // One piece per vector register: `lanes` of the last dimension where it
    // divides it, else the whole dimension.
    auto piece = [lanes](int64_t size) {
      return lanes > 0 && size > lanes && size % lanes == 0 ? lanes : size;
    };
    unroll.setNativeShapeFn(
        [piece](Operation *op) -> std::optional<SmallVector<int64_t>> {
          if (auto contract = dyn_cast<vector::ContractionOp>(op)) {
            // Iteration space (..., m, n, k): one row, one register of
            // columns.
            SmallVector<int64_t> shape(contract.getIteratorTypes().size(), 1);
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
            // An epilogue's arithmetic on the accumulators.
            if (OpTrait::hasElementwiseMappableTraits(op) &&
                op->getNumResults() == 1)
              return dyn_cast<VectorType>(op->getResult(0).getType());
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
    return FrozenRewritePatternSet(std::move(patterns));
  }

  qc::Canonicalizer canonicalizer;
  /// unrollPatterns of the function being rewritten (built once per run).
  std::optional<FrozenRewritePatternSet> unrolling;
  static constexpr StringLiteral kTileMarker = "qc.register_tile";
  /// A contraction's tile in an epilogue's tile, to be tiled by its
  /// reduction steps.
  static constexpr StringLiteral kContractionMarker = "qc.epilogue_contraction";
};

} // namespace
