//===- TilingUtils.h - shared steps of the vectorizing passes ---*- C++ -*-===//
//
// What qc-tile-and-vectorize and qc-vectorize-elementwise both do: tile a
// linalg op into static tiles (partial tiles peeled), and run patterns on
// nothing but the ops that replaced it.
//
//===----------------------------------------------------------------------===//

#ifndef QC_CONVERSION_LINALGTOVECTOR_TILINGUTILS_H
#define QC_CONVERSION_LINALGTOVECTOR_TILINGUTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"

#include <optional>

namespace qc {

/// Tiles `op` by `tiles` (0: not tiled) in loop order `order` into scf.for
/// loops, replaces it, marks the tiled op with the unit attribute `marker`
/// and peels the partial tiles (innermost loop first), so that every tile
/// (the peeled copies carry the marker too) has a static shape once its
/// bounds are canonicalized.
mlir::FailureOr<mlir::scf::SCFTilingResult>
tileAndPeel(mlir::RewriterBase &rewriter, mlir::Operation *op,
            llvm::ArrayRef<int64_t> tiles, llvm::ArrayRef<int64_t> order,
            llvm::StringRef marker);

/// Peels the partial last iteration off each of `loops` (a nest, outermost
/// first; innermost peeled first).
void peelLoops(mlir::RewriterBase &rewriter,
               llvm::ArrayRef<mlir::LoopLikeOpInterface> loops);

/// The ops of `block` strictly between `prev` and `next` (null: the block's
/// start / end): what replaced an op that sat between them.
llvm::SmallVector<mlir::Operation *>
opsBetween(mlir::Block *block, mlir::Operation *prev, mlir::Operation *next);

/// The ops in `roots` (nested included) that carry `marker`, which they
/// lose; those of static loop ranges on tensors, the ones to vectorize (a
/// tile left out stays correct, as scalar code).
llvm::SmallVector<mlir::linalg::LinalgOp>
takeStaticTiles(llvm::ArrayRef<mlir::Operation *> roots,
                llvm::StringRef marker);

/// Applies `patterns` to `roots` and the ops nested in them (and to the ops
/// the rewrites create), nothing else.
mlir::LogicalResult applyWithin(llvm::ArrayRef<mlir::Operation *> roots,
                                const mlir::FrozenRewritePatternSet &patterns);

/// Every loaded dialect's and registered op's canonicalization patterns,
/// built on first use (collecting them is not free).
class Canonicalizer {
public:
  mlir::LogicalResult run(llvm::ArrayRef<mlir::Operation *> roots);

private:
  std::optional<mlir::FrozenRewritePatternSet> patterns;
};

} // namespace qc

#endif // QC_CONVERSION_LINALGTOVECTOR_TILINGUTILS_H
