//===- OpsNormalization.cpp - ONNX Normalization ops ---===//

#include "Importer.h"

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

void qc::detail::registerNormalizationOps(OpRegistry &r) {}
