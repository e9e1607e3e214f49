//===- QCDialect.cpp - qc dialect registration ----------------------------===//

#include "QC/QCDialect.h"
#include "QC/QCAttrs.h"
#include "QC/QCOps.h"

using namespace mlir;
using namespace qc;

#include "QC/QCOpsDialect.cpp.inc"

void QCDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "QC/QCOps.cpp.inc"
      >();
  registerAttributes();
}
