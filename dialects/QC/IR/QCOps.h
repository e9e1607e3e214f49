//===- QCOps.h - qc dialect operations --------------------------*- C++ -*-===//

#ifndef QC_QCOPS_H
#define QC_QCOPS_H

#include "QC/IR/KVCache.h"
#include "QC/IR/QCAttrs.h"
#include "QC/IR/QCDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "QC/IR/QCOps.h.inc"

#endif // QC_QCOPS_H
