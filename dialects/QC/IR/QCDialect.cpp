//===- QCDialect.cpp - qc dialect registration ----------------------------===//

#include "QC/IR/QCDialect.h"
#include "QC/IR/QCAttrs.h"
#include "QC/IR/QCOps.h"

using namespace mlir;
using namespace qc;

#include "QC/IR/QCOpsDialect.cpp.inc"

void QCDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "QC/IR/QCOps.cpp.inc"
      >();
  registerAttributes();
}
