//===- OpsConvPool.cpp - ONNX ConvPool ops ---===//

#include "Importer.h"

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

void qc::detail::registerConvPoolOps(OpRegistry &r) {}
