//===- Passes.h - qc graph transformation passes ----------------*- C++ -*-===//

#ifndef QC_TRANSFORMS_PASSES_H
#define QC_TRANSFORMS_PASSES_H

#include "QC/IR/QCAttrs.h"
#include "QC/IR/QCDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace qc {
/// Marks a generated kernel whose last two arguments are the bounds of the
/// rows it computes; its value is the alignment of range bounds.
constexpr llvm::StringLiteral kParallelAttrName = "qc.parallel";

#define GEN_PASS_DECL
#include "qc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

#endif // QC_TRANSFORMS_PASSES_H
