//===- OpsShape.cpp - ONNX shape and data-movement ops --------------------===//

#include "Importer.h"

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

void qc::detail::registerShapeOps(OpRegistry &r) {}
