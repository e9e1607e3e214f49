//===- CPUKernels.h - bodies of the generated CPU kernels -------*- C++ -*-===//
//
// qc-emit-kernels gives each kernel function the generators declared its
// body. The bodies are built from the function's role and shape
// (KernelShape.h) and ask the shape's KernelTarget for what differs between
// instruction sets (lib/Codegen/CPU/Kernels: one file per kernel family).
//
//===----------------------------------------------------------------------===//

#ifndef QC_CODEGEN_CPUKERNELS_H
#define QC_CODEGEN_CPUKERNELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"

namespace qc {

/// Whether `fn` is a kernel declaration waiting for its body (it carries a
/// role).
bool isKernelDeclaration(mlir::func::FuncOp fn);

/// Gives the kernel declaration `fn` its body (and its target's LLVM
/// features) and removes its role and shape; an error on `fn` when the
/// shape is malformed or the role unknown.
mlir::LogicalResult emitKernelBody(mlir::func::FuncOp fn);

} // namespace qc

#endif // QC_CODEGEN_CPUKERNELS_H
