//===- Pipelines.h - qc pass pipelines and registration ---------*- C++ -*-===//

#ifndef QC_PIPELINES_PIPELINES_H
#define QC_PIPELINES_PIPELINES_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace qc {

/// Options of the graph-to-LLVM lowering (`qc-lower-to-llvm`).
struct LowerToLLVMOptions : mlir::PassPipelineOptions<LowerToLLVMOptions> {
  Option<bool> vectorize{*this, "vectorize",
                         llvm::cl::desc("tile and vectorize contractions"),
                         llvm::cl::init(true)};
  Option<int64_t> tileM{*this, "tile-m", llvm::cl::desc("register tile rows"),
                        llvm::cl::init(6)};
  Option<int64_t> tileN{*this, "tile-n",
                        llvm::cl::desc("register tile columns"),
                        llvm::cl::init(16)};
};

/// Lowers the graph IR (linalg / tensor / arith / math on tensors, plus
/// qc.linear) to the LLVM dialect. Functions with `llvm.emit_c_interface`
/// get a C wrapper taking memref descriptors; tensor results become trailing
/// out-parameters.
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm,
                              const LowerToLLVMOptions &options);

/// Registers every qc pass and pipeline with the global registry.
void registerAllPasses();

/// Adds the dialects qc's inputs and pipelines use, with their interfaces.
void registerAllDialects(mlir::DialectRegistry &registry);

} // namespace qc

#endif // QC_PIPELINES_PIPELINES_H
