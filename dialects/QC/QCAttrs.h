//===- QCAttrs.h - qc quantization scheme attributes ------------*- C++ -*-===//

#ifndef QC_QCATTRS_H
#define QC_QCATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/SmallVector.h"

#include "QC/QCEnums.h.inc"

#include "QC/QCAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "QC/QCAttrs.h.inc"

#endif // QC_QCATTRS_H
