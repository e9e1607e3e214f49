//===- Passes.h - qc graph transformation passes ----------------*- C++ -*-===//

#ifndef QC_TRANSFORMS_PASSES_H
#define QC_TRANSFORMS_PASSES_H

#include "QC/QCAttrs.h"
#include "QC/QCDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace qc {
#define GEN_PASS_DECL
#include "qc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

#endif // QC_TRANSFORMS_PASSES_H
