//===- VectorizeElementwise.cpp - elementwise generics as vector code -----===//
//
// Elementwise generics (activations, bias broadcasts, residual adds, pads'
// fills and copies) used to reach LLVM as scalar loops for its loop
// vectorizer, which left some scalar: rows of 7 or 14 floats (fully
// unrolled instead), broadcasts whose source it could not prove apart from
// the destination (reloaded after every store), fills vectorized along the
// outer loop (scatters). Here they become vector code before bufferization:
// trailing contiguous loops collapsed into one, tiled by two vector
// registers, each tile vectorized.
//
//===----------------------------------------------------------------------===//

#include "qc/Conversion/Passes.h"
#include "qc/Transforms/Passes.h"

#include "TilingUtils.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"

namespace qc {
#define GEN_PASS_DEF_VECTORIZEELEMENTWISEPASS
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

constexpr StringLiteral kTileMarker = "qc.elementwise_tile";
/// How a target generic is vectorized, where not by the loop it transposes.
constexpr int64_t kPlain = -1, kGather = -2;

/// Whether `op` is elementwise as the pass means it: static tensors of
/// integers or floats of 8 bits or more, every loop parallel, every map a
/// projected permutation (inputs': zeros allowed, at unit dimensions) that has
/// the innermost loop last or not at all (outputs: permutations), a body of
/// arith / math ops and linalg.index. With `transposed`, inputs may also have
/// another loop last (all the same one, returned there, -1 if none): a
/// transpose, read in square tiles.
bool isElementwise(linalg::GenericOp op, int64_t *transposed = nullptr) {
  if (transposed)
    *transposed = -1;
  if (!op.hasPureTensorSemantics() || op.getNumLoops() == 0 ||
      op.getNumReductionLoops() != 0 ||
      llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
    return false;
  // Not i1 (or narrower) tensors: their buffers hold a byte per element,
  // a vector of them loads packed bits.
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || !type.getElementType().isIntOrFloat() ||
        type.getElementType().getIntOrFloatBitWidth() < 8)
      return false; // scalar operands are left alone too
  }
  AffineExpr inner = getAffineDimExpr(op.getNumLoops() - 1, op.getContext());
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    // Inputs may read a unit dimension at 0 (a broadcast bias [1, C, 1, 1]).
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/true) ||
        (op.isDpsInit(&operand) && !map.isPermutation()))
      return false;
    std::optional<unsigned> pos = map.getResultPosition(inner);
    if (pos && *pos + 1 != map.getNumResults()) {
      auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
      if (!transposed || op.isDpsInit(&operand) || !last ||
          (*transposed != -1 && *transposed != last.getPosition()))
        return false;
      *transposed = last.getPosition();
    }
    auto type = cast<RankedTensorType>(operand.get().getType());
    for (auto [i, e] : llvm::enumerate(map.getResults()))
      if (isa<AffineConstantExpr>(e) && type.getDimSize(i) != 1)
        return false; // index 0 of a longer dimension: not a broadcast
  }
  return llvm::all_of(op.getBody()->without_terminator(), [](Operation &o) {
    return isa<arith::ArithDialect, math::MathDialect>(o.getDialect()) ||
           isa<linalg::IndexOp>(o);
  });
}

/// The inputs of `op` that read unit dimensions at a constant 0 (a bias
/// [C, 1, 1] broadcast over [N, C, H, W]) read through a collapse_shape
/// without them instead, so that every map is a projected permutation (the
/// loop collapsing misreads constant results). With `unitLoops`, inputs
/// that do not depend on the innermost loop also drop unit dimensions read
/// by loops of one iteration (a per-channel [C, 1, 1] read (c, h, 0) over
/// an image of height 1): the square transposes' tiles would otherwise read
/// them as [16, 1] vectors, whose broadcast and transpose to the tile came
/// out untransposed (each of the tile's columns took a row's parameter).
void dropConstantIndices(RewriterBase &rewriter, linalg::GenericOp op,
                         bool unitLoops = false) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  unsigned inner = op.getNumLoops() - 1;
  bool changed = false;
  for (OpOperand *in : op.getDpsInputOperands()) {
    AffineMap &map = maps[in->getOperandNumber()];
    auto type = cast<RankedTensorType>(in->get().getType());
    bool loopsToo = unitLoops && !map.isFunctionOfDim(inner);
    auto dropped = [&](int64_t i, AffineExpr e) {
      if (isa<AffineConstantExpr>(e))
        return true;
      auto d = dyn_cast<AffineDimExpr>(e);
      return loopsToo && d && ranges[d.getPosition()] == 1 &&
             type.getDimSize(i) == 1;
    };
    if (llvm::none_of(llvm::enumerate(map.getResults()),
                      [&](auto ie) { return dropped(ie.index(), ie.value()); }))
      continue;
    // Each kept dimension takes the unit ones before it; the last, those
    // after it too.
    SmallVector<ReassociationIndices> groups;
    ReassociationIndices pending;
    SmallVector<int64_t> shape;
    SmallVector<AffineExpr> kept;
    for (auto [i, e] : llvm::enumerate(map.getResults())) {
      pending.push_back(i);
      if (dropped(i, e))
        continue;
      groups.push_back(std::move(pending));
      pending.clear();
      shape.push_back(type.getDimSize(i));
      kept.push_back(e);
    }
    if (!groups.empty())
      llvm::append_range(groups.back(), pending);
    rewriter.setInsertionPoint(op);
    Value flat = tensor::CollapseShapeOp::create(
        rewriter, op.getLoc(),
        RankedTensorType::get(shape, type.getElementType()), in->get(), groups);
    rewriter.modifyOpInPlace(op, [&] { in->set(flat); });
    map = AffineMap::get(map.getNumDims(), 0, kept, op.getContext());
    changed = true;
  }
  if (changed)
    rewriter.modifyOpInPlace(op, [&] {
      op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
    });
}

/// Whether the buffer of `v` will hold its dimensions from `dim` on
/// row-major without gaps: a slice must keep them whole (but the first,
/// which it may cut, at unit stride), of a source that does; a block
/// argument must be a function's (its buffer has the identity layout) or a
/// loop's iteration argument whose init does (the threads' loops of
/// qc-parallelize-generics). A wrong guess costs a copy, not correctness:
/// bufferization copies what it cannot collapse in place.
bool contiguousFrom(Value v, int64_t dim) {
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    Operation *owner = arg.getOwner()->getParentOp();
    if (auto loop = dyn_cast<scf::ForOp>(owner))
      if (OpOperand *init = loop.getTiedLoopInit(arg))
        return contiguousFrom(init->get(), dim);
    return isa<func::FuncOp>(owner);
  }
  auto slice = v.getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice)
    return true; // a new buffer, or one bufferization copies
  RankedTensorType src = slice.getSourceType();
  if (src.getRank() != slice.getType().getRank())
    return false;
  for (int64_t d = dim; d < src.getRank(); ++d) {
    std::optional<int64_t> stride =
        getConstantIntValue(slice.getMixedStrides()[d]);
    if (stride != 1)
      return false;
    if (d == dim)
      continue;
    std::optional<int64_t> offset =
        getConstantIntValue(slice.getMixedOffsets()[d]);
    if (offset != 0 || slice.getType().getDimSize(d) != src.getDimSize(d))
      return false;
  }
  return contiguousFrom(slice.getSource(), dim);
}

/// The longest run of two or more trailing loops that every map keeps in
/// order and every operand holds contiguously; empty if none.
ReassociationIndices trailingGroup(linalg::GenericOp op) {
  int64_t n = op.getNumLoops();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  ReassociationIndices best;
  for (int64_t first = n - 2; first >= 0; --first) {
    ReassociationIndices group = llvm::to_vector(llvm::seq<int64_t>(first, n));
    if (!linalg::areDimSequencesPreserved(maps, {group}))
      break;
    bool contiguous = llvm::all_of(op->getOpOperands(), [&](OpOperand &o) {
      AffineMap map = op.getMatchingIndexingMap(&o);
      // The first result of the run in this operand, if any.
      for (auto [pos, e] : llvm::enumerate(map.getResults()))
        if (auto d = dyn_cast<AffineDimExpr>(e); d && d.getPosition() >= first)
          return contiguousFrom(o.get(), pos);
      return true;
    });
    if (!contiguous)
      break;
    best = std::move(group);
  }
  return best;
}

/// The elements of a tile of the innermost loop: two vector registers
/// (`vectorBytes` each) of the widest element type of `op`.
int64_t tileWidth(linalg::GenericOp op, int64_t vectorBytes) {
  unsigned bits = 8;
  for (Value v : op->getOperands())
    bits = std::max(bits,
                    getElementTypeOrSelf(v.getType()).getIntOrFloatBitWidth());
  return std::max<int64_t>(1, 2 * vectorBytes * 8 / bits);
}

/// Whether every operand of `op` has 32-bit elements.
bool hasWordOperands(linalg::GenericOp op) {
  return llvm::all_of(op->getOperands(), [](Value v) {
    return getElementTypeOrSelf(v.getType()).getIntOrFloatBitWidth() == 32;
  });
}

/// Whether tiling the transposing `op` by `lanes` x `lanes` (its innermost
/// loop and loop `transposed`) pays: 32-bit elements (16 per 512-bit
/// register, the shuffle lowering's square) and both loops at least that
/// long.
bool isSquareTransposable(linalg::GenericOp op, int64_t transposed,
                          int64_t lanes) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  return lanes == 16 && ranges.back() >= lanes && ranges[transposed] >= lanes &&
         hasWordOperands(op);
}

/// `op` (a transposing generic) with its loops after `transposed` as one
/// where every operand reads them contiguously and in order: an [H, W, C]
/// image written [C, H, W] is a [C, H W] transpose, whose H W positions
/// make square tiles where W alone (14, 7) is too short. Null where there
/// are not two such loops or they do not collapse.
linalg::GenericOp collapseTrailingLoops(linalg::GenericOp op,
                                        int64_t transposed) {
  int64_t loops = op.getNumLoops();
  if (transposed + 2 >= loops ||
      !llvm::all_of(op.getIteratorTypesArray(), linalg::isParallelIterator))
    return {};
  ReassociationIndices trailing =
      llvm::to_vector(llvm::seq<int64_t>(transposed + 1, loops));
  IRRewriter rewriter(op);
  // Per-channel operands read [C, 1, 1] by constant indices: [C].
  dropConstantIndices(rewriter, op);
  if (!linalg::areDimSequencesPreserved(op.getIndexingMapsArray(), trailing))
    return {};
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i <= transposed; ++i)
    groups.push_back({i});
  groups.push_back(trailing);
  rewriter.setInsertionPoint(op);
  FailureOr<linalg::CollapseResult> collapsed =
      linalg::collapseOpIterationDims(op, groups, rewriter);
  if (failed(collapsed))
    return {};
  rewriter.replaceOp(op, collapsed->results);
  return cast<linalg::GenericOp>(collapsed->collapsedOp.getOperation());
}

/// Whether `op` is a gather of runs (an im2col view, its values copied or
/// computed elementwise, as a quantizing gather does): a static
/// all-parallel generic of one input and an identity-indexed output, a body
/// of arith / math ops, the input read at affine expressions of the loops
/// of which only the last uses the innermost loop, plainly (coefficient 1):
/// each row of the output comes from a contiguous run of the input. Runs of
/// `minRun` or more.
bool isRunGather(linalg::GenericOp op, int64_t minRun) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 1 ||
      op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 0 ||
      op.getNumLoops() < 2 ||
      llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic) ||
      op.getStaticLoopRanges().back() < minRun)
    return false;
  if (!llvm::all_of(op.getBody()->without_terminator(), [](Operation &o) {
        return isa<arith::ArithDialect, math::MathDialect>(o.getDialect());
      }))
    return false;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!maps[1].isIdentity() || maps[0].isProjectedPermutation() ||
      maps[0].getNumResults() == 0)
    return false;
  for (Value v : op->getOperands()) {
    Type elt = getElementTypeOrSelf(v.getType());
    if (!elt.isIntOrFloat() || elt.getIntOrFloatBitWidth() < 8)
      return false;
  }
  unsigned inner = op.getNumLoops() - 1;
  ArrayRef<AffineExpr> results = maps[0].getResults();
  for (AffineExpr e : results.drop_back())
    if (e.isFunctionOfDim(inner))
      return false;
  // The last result minus the innermost loop must not use it any more.
  AffineExpr rest = results.back() - getAffineDimExpr(inner, op.getContext());
  return results.back().isFunctionOfDim(inner) &&
         !simplifyAffineExpr(rest, op.getNumLoops(), 0).isFunctionOfDim(inner);
}

/// In a tile of a run gather whose loops but the innermost have one
/// iteration, those loops read index 0 of the tile's input slice: their
/// dimensions become 0 in the input map, which leaves a projected
/// permutation (with zeros) that linalg's vectorizer takes.
void zeroUnitLoops(RewriterBase &rewriter, linalg::GenericOp tile) {
  MLIRContext *ctx = tile.getContext();
  SmallVector<int64_t> ranges = tile.getStaticLoopRanges();
  SmallVector<AffineExpr> dims;
  for (auto [d, r] : llvm::enumerate(ranges))
    dims.push_back(r == 1 ? getAffineConstantExpr(0, ctx)
                          : getAffineDimExpr(d, ctx));
  SmallVector<AffineMap> maps = tile.getIndexingMapsArray();
  maps[0] = simplifyAffineMap(
      maps[0].replaceDimsAndSymbols(dims, {}, ranges.size(), 0));
  rewriter.modifyOpInPlace(tile, [&] {
    tile.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
  });
}

/// transfer_read %t[i...] : tensor, vector<T>  ==>  broadcast(extract):
/// the read of a broadcast's one element (upstream's scalar patterns take
/// only reads that vector.extract uses).
struct ScalarRead : OpRewritePattern<vector::TransferReadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::TransferReadOp read,
                                PatternRewriter &rewriter) const override {
    if (read.getVectorType().getRank() != 0 || read.getMask() ||
        !isa<RankedTensorType>(read.getBase().getType()))
      return rewriter.notifyMatchFailure(read, "not a 0-D read of a tensor");
    Value element = tensor::ExtractOp::create(
        rewriter, read.getLoc(), read.getBase(), read.getIndices());
    rewriter.replaceOpWithNewOp<vector::BroadcastOp>(read, read.getVectorType(),
                                                     element);
    return success();
  }
};

struct VectorizeElementwisePass
    : qc::impl::VectorizeElementwisePassBase<VectorizeElementwisePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    int64_t lanes = qc::floatVectorLanes(func);
    int64_t vectorBytes = lanes > 0 ? lanes * 4 : 32;
    // Each target with its kind: kPlain, kGather, or the loop a transpose
    // reads innermost.
    SmallVector<std::pair<linalg::GenericOp, int64_t>> targets, shortRows;
    func.walk([&](linalg::GenericOp op) {
      if (isRunGather(op, lanes > 0 ? lanes : 8)) {
        targets.push_back({op, kGather});
        return;
      }
      int64_t transposed = kPlain;
      if (!isElementwise(op, &transposed))
        return;
      int64_t iterations = 1;
      for (int64_t r : op.getStaticLoopRanges())
        iterations *= r;
      if (iterations < minElements)
        return;
      if (transposed == kPlain || isSquareTransposable(op, transposed, lanes))
        targets.push_back({op, transposed});
      else
        shortRows.push_back({op, transposed});
    });
    // Transposes whose rows are too short for square tiles, with their
    // trailing loops collapsed where that makes them long enough.
    for (auto [op, transposed] : shortRows) {
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      int64_t positions = 1;
      for (int64_t r : ArrayRef(ranges).drop_front(transposed + 1))
        positions *= r;
      if (lanes != 16 || !hasWordOperands(op) || ranges[transposed] < lanes ||
          positions < lanes)
        continue;
      if (linalg::GenericOp collapsed = collapseTrailingLoops(op, transposed))
        if (isSquareTransposable(collapsed, transposed, lanes))
          targets.push_back({collapsed, transposed});
    }
    if (!cleanup)
      cleanup.emplace(cleanupPatterns());
    for (auto [op, kind] : targets) {
      Block *block = op->getBlock();
      Operation *prev = op->getPrevNode(), *next = op->getNextNode();
      auto between = [&] { return qc::opsBetween(block, prev, next); };
      LogicalResult done = kind == kPlain ? vectorize(op, vectorBytes, between)
                           : kind == kGather
                               ? vectorizeGather(op, vectorBytes, between)
                               : vectorizeTranspose(op, kind, lanes, between);
      if (failed(done))
        return signalPassFailure();
      ++numVectorized;
    }
  }

  /// Tiles `op` by `tiles` (partial last tiles peeled), then vectorizes
  /// each tile (after `prepare`, if given) and cleans up; `between` lists
  /// the ops that replace `op` at any point.
  LogicalResult
  tileAndVectorize(linalg::GenericOp op, ArrayRef<int64_t> tiles,
                   llvm::function_ref<SmallVector<Operation *>()> between,
                   llvm::function_ref<void(linalg::GenericOp)> prepare = {}) {
    IRRewriter rewriter(&getContext());
    rewriter.setInsertionPoint(op);
    auto order = llvm::to_vector(llvm::seq<int64_t>(tiles.size()));
    // Peeled bounds folded: every tile's slices get static types.
    if (failed(qc::tileAndPeel(rewriter, op, tiles, order, kTileMarker)) ||
        failed(canonicalizer.run(between())))
      return failure();
    for (linalg::LinalgOp t : qc::takeStaticTiles(between(), kTileMarker)) {
      auto tile = dyn_cast<linalg::GenericOp>(t.getOperation());
      if (!tile)
        continue;
      if (prepare)
        prepare(tile);
      rewriter.setInsertionPoint(tile);
      FailureOr<linalg::VectorizationResult> vec =
          linalg::vectorize(rewriter, tile);
      if (succeeded(vec))
        rewriter.replaceOp(tile, vec->replacements);
    }
    return qc::applyWithin(between(), *cleanup);
  }

  /// The tiles of two vector registers along the innermost loop of `op`,
  /// 1 elsewhere.
  SmallVector<int64_t> rowTiles(linalg::GenericOp op, int64_t vectorBytes) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<int64_t> tiles(ranges.size(), 1);
    tiles.back() = std::min(ranges.back(), tileWidth(op, vectorBytes));
    return tiles;
  }

  /// A run gather: each tile copies (or computes from) one run, a row read
  /// and a row written.
  LogicalResult
  vectorizeGather(linalg::GenericOp op, int64_t vectorBytes,
                  llvm::function_ref<SmallVector<Operation *>()> between) {
    IRRewriter rewriter(&getContext());
    return tileAndVectorize(
        op, rowTiles(op, vectorBytes), between,
        [&](linalg::GenericOp tile) { zeroUnitLoops(rewriter, tile); });
  }

  /// An elementwise generic: its trailing contiguous loops collapsed into
  /// one, tiled by two vector registers.
  LogicalResult
  vectorize(linalg::GenericOp op, int64_t vectorBytes,
            llvm::function_ref<SmallVector<Operation *>()> between) {
    IRRewriter rewriter(&getContext());
    dropConstantIndices(rewriter, op);
    rewriter.setInsertionPoint(op);
    if (ReassociationIndices group = trailingGroup(op); !group.empty()) {
      FailureOr<linalg::CollapseResult> collapsed =
          linalg::collapseOpIterationDims(op, {group}, rewriter);
      if (succeeded(collapsed)) {
        rewriter.replaceOp(op, collapsed->results);
        op = cast<linalg::GenericOp>(collapsed->collapsedOp.getOperation());
      }
    }
    return tileAndVectorize(op, rowTiles(op, vectorBytes), between);
  }

  /// A transpose (inputs read loop `transposed` where its outputs read the
  /// innermost one): `lanes` x `lanes` tiles in those two loops, whose
  /// transposed reads become a row read and a vector.transpose (lowered to
  /// shuffles), the writes whole rows.
  LogicalResult
  vectorizeTranspose(linalg::GenericOp op, int64_t transposed, int64_t lanes,
                     llvm::function_ref<SmallVector<Operation *>()> between) {
    IRRewriter rewriter(&getContext());
    dropConstantIndices(rewriter, op, /*unitLoops=*/true);
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<int64_t> tiles(ranges.size(), 1);
    tiles.back() = std::min(ranges.back(), lanes);
    tiles[transposed] = std::min(ranges[transposed], lanes);
    return tileAndVectorize(op, tiles, between);
  }

  /// 1-D vector ops (leading unit dimensions cast away, broadcasts made
  /// explicit, one-element transfers scalar), their transfers folding the
  /// tiles' slices.
  FrozenRewritePatternSet cleanupPatterns() {
    RewritePatternSet patterns(&getContext());
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    // One-element transfers (a broadcast's source, a peeled last element)
    // as tensor.extract / insert: a 0-D read of a strided buffer has no
    // vector lowering.
    vector::populateScalarVectorTransferLoweringPatterns(
        patterns, /*benefit=*/1, /*allowMultipleUses=*/true);
    patterns.add<ScalarRead>(&getContext());
    vector::BroadcastOp::getCanonicalizationPatterns(patterns, &getContext());
    tensor::populateFoldTensorSubsetIntoVectorTransferPatterns(patterns);
    vector::populateVectorToVectorCanonicalizationPatterns(patterns);
    // Square f32 transposes as 16 x 16 shuffles (AVX-512's vunpck /
    // vshuf / vperm sequence); other shapes element by element.
    vector::populateVectorTransposeLoweringPatterns(
        patterns, vector::VectorTransposeLowering::Shuffle16x16);
    return FrozenRewritePatternSet(std::move(patterns));
  }

  qc::Canonicalizer canonicalizer;
  std::optional<FrozenRewritePatternSet> cleanup;
};

} // namespace
