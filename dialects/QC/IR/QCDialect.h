//===- QCDialect.h - The qc dialect -----------------------------*- C++ -*-===//

#ifndef QC_QCDIALECT_H
#define QC_QCDIALECT_H

#include "mlir/IR/Dialect.h"

#include "QC/IR/QCOpsDialect.h.inc"

#endif // QC_QCDIALECT_H
