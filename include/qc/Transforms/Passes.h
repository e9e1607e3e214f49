//===- Passes.h - qc graph transformation passes ----------------*- C++ -*-===//

#ifndef QC_TRANSFORMS_PASSES_H
#define QC_TRANSFORMS_PASSES_H

#include "QC/IR/QCAttrs.h"
#include "QC/IR/QCDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace qc {
/// Marks a generated kernel whose last two arguments are the bounds of the
/// rows it computes; its value is the alignment of range bounds.
constexpr llvm::StringLiteral kParallelAttrName = "qc.parallel";
/// Marks a loop whose iterations are independent and worth running on the
/// runtime's threads; qc-outline-kernels turns a top-level one into a
/// qc.parallel kernel over its iterations.
constexpr llvm::StringLiteral kParallelLoopAttrName = "qc.parallel_loop";
/// Marks a function whose results r_i are its arguments a_i, updated in
/// place (array<i64: r0, a0, ...>; qc-drop-state-results).
constexpr llvm::StringLiteral kStateResultsAttrName = "qc.state_results";
/// The element type an entry argument or result has in the model ("u8",
/// "f32", ...: the importer's record of what the tensor type cannot tell),
/// which the artifact's manifest gives it.
constexpr llvm::StringLiteral kDTypeAttrName = "qc.dtype";
/// The name of the module attribute that holds the kernel target
/// (#qc.target, set by qc-set-target).
constexpr llvm::StringLiteral kTargetAttrName = "qc.target";
/// The indexing maps of the contraction qc-lower-linear makes of a
/// `qc.linear` with a panel weight: loops (m, panel, column, k); x [M, K],
/// weight [N / P, K, P], result [M, N / P, P].
llvm::SmallVector<mlir::AffineMap> panelMatmulMaps(mlir::MLIRContext *ctx);

/// f32 lanes of a vector register of the module's #qc.target; 0 without one.
int64_t floatVectorLanes(mlir::Operation *op);

/// The float register tile for the #qc.target of the module that holds
/// `op`: 8 rows x 3 vector registers where the target has 32 of them
/// (AVX-512: 24 accumulators), else 6 rows x 2 registers (AVX2, NEON:
/// 12 accumulators); 6 x 16 where the module has no target.
struct FloatTile {
  int64_t rows;
  int64_t columns;
};
FloatTile floatRegisterTile(mlir::Operation *op);

#define GEN_PASS_DECL
#include "qc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

#endif // QC_TRANSFORMS_PASSES_H
