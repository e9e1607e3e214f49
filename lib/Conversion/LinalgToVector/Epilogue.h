//===- Epilogue.h - elementwise epilogues of register tiles -----*- C++ -*-===//
//
// A contraction (a matmul, a depthwise convolution) whose only reader is a
// pointwise generic (an activation, a residual add; through the reshape
// back to an image's shape or not) is tiled together with that reader: the
// reader's tiles, each computing the contraction's tile first, so that the
// activation is applied to the accumulators while they are in registers
// instead of in a pass of its own over memory. The contraction's initial
// value (a bias broadcast) is computed per tile as well.
//
//===----------------------------------------------------------------------===//

#ifndef QC_CONVERSION_LINALGTOVECTOR_EPILOGUE_H
#define QC_CONVERSION_LINALGTOVECTOR_EPILOGUE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

namespace qc {

/// The pointwise generic that reads `contraction`'s result, rewritten over
/// the contraction's parallel loops (the pointwise generics after it that
/// only it reads fused into it); null when the result has another reader or
/// its reader is not pointwise (identity maps).
mlir::linalg::GenericOp prepareEpilogue(mlir::RewriterBase &rewriter,
                                        mlir::linalg::LinalgOp contraction);

/// Tiles `epilogue` (from prepareEpilogue) by `tiles` in loop order
/// `order`, with `contraction` and the producers of its initial value fused
/// into each tile; replaces them and peels the partial tiles. The
/// contraction's tiles carry `contractionMarker`, the other tiles
/// `tileMarker`. Returns the loops, outermost first.
mlir::FailureOr<llvm::SmallVector<mlir::LoopLikeOpInterface>>
tileWithEpilogue(mlir::RewriterBase &rewriter,
                 mlir::linalg::LinalgOp contraction,
                 mlir::linalg::GenericOp epilogue,
                 llvm::ArrayRef<int64_t> tiles, llvm::ArrayRef<int64_t> order,
                 llvm::StringRef contractionMarker, llvm::StringRef tileMarker);

} // namespace qc

#endif // QC_CONVERSION_LINALGTOVECTOR_EPILOGUE_H
