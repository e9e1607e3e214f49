//===- Epilogue.h - elementwise epilogues of register-tiled GEMMs -*- C++ -*-===//
//
// A matmul whose only reader is an elementwise generic (an activation, a
// residual add; through the expand_shape back to an image's shape or not)
// is tiled together with that reader: the reader's tiles, each computing
// the matmul's tile first, so that the activation is applied to the
// accumulators while they are in registers instead of in a pass of its own
// over memory. The matmul's initial value (a bias broadcast) is computed
// per tile as well.
//
//===----------------------------------------------------------------------===//

#ifndef QC_CONVERSION_LINALGTOVECTOR_EPILOGUE_H
#define QC_CONVERSION_LINALGTOVECTOR_EPILOGUE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

namespace qc {

/// The elementwise generic that reads `matmul`'s [M, N] result, rewritten
/// over the matmul's two loops (the consumers after it that only it reads
/// fused into it); null when the result has another reader or its reader
/// is not elementwise with identity maps.
mlir::linalg::GenericOp prepareEpilogue(mlir::RewriterBase &rewriter,
                                        mlir::linalg::MatmulOp matmul);

/// Tiles `epilogue` (from prepareEpilogue) by [rows, columns] (columns
/// outermost) with `matmul` and the elementwise producers of its initial
/// value fused into each tile; replaces them. The matmul's tiles carry
/// `contractionMarker`, the other tiles `tileMarker`. Returns the loops,
/// outermost first.
mlir::FailureOr<llvm::SmallVector<mlir::LoopLikeOpInterface>>
tileWithEpilogue(mlir::RewriterBase &rewriter, mlir::linalg::MatmulOp matmul,
                 mlir::linalg::GenericOp epilogue, int64_t rows,
                 int64_t columns, llvm::StringRef contractionMarker,
                 llvm::StringRef tileMarker);

} // namespace qc

#endif // QC_CONVERSION_LINALGTOVECTOR_EPILOGUE_H
