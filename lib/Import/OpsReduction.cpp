//===- OpsReduction.cpp - ONNX Reduction ops ---===//

#include "Importer.h"

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

void qc::detail::registerReductionOps(OpRegistry &r) {}
