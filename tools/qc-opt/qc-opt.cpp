//===- qc-opt.cpp - the qc pass driver, like mlir-opt ---------------------===//

#include "qc/Codegen/KernelTarget.h"
#include "qc/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  qc::registerAllPasses();
  qc::registerTestKernelTargets();
  mlir::DialectRegistry registry;
  qc::registerAllDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qc optimizer driver\n", registry));
}
