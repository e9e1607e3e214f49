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
  Option<int64_t> tileM{*this, "tile-m",
                        llvm::cl::desc("register tile rows (0: the module's "
                                       "target's)"),
                        llvm::cl::init(0)};
  Option<int64_t> tileN{*this, "tile-n",
                        llvm::cl::desc("register tile columns (0: the "
                                       "module's target's)"),
                        llvm::cl::init(0)};
};

/// Lowers the graph IR (linalg / tensor / arith / math on tensors, plus
/// qc.linear) to the LLVM dialect. Functions with `llvm.emit_c_interface`
/// get a C wrapper taking memref descriptors; tensor results become trailing
/// out-parameters.
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm,
                              const LowerToLLVMOptions &options);

/// Options of the kernel stage (`qc-kernels`).
struct KernelsOptions : mlir::PassPipelineOptions<KernelsOptions> {
  Option<bool> reference{
      *this, "reference",
      llvm::cl::desc("every quantized layer through the dequantize-then-"
                     "matmul reference lowering (no generated kernel)"),
      llvm::cl::init(false)};
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("kernel target: host or a target's --target value"),
      llvm::cl::init("host")};
  Option<bool> uniformLut{
      *this, "uniform-lut",
      llvm::cl::desc("uniform 2-4 bit layers through LUT-GEMM"),
      llvm::cl::init(false)};
  Option<bool> packWeights{
      *this, "pack-weights",
      llvm::cl::desc("float linear weights in register-tile panels "
                     "(qc-pack-linear-weights); off keeps them [N, K], as "
                     "callers that replace weights at run time need"),
      llvm::cl::init(true)};
  Option<std::string> entry{*this, "entry",
                            llvm::cl::desc("the model's entry function"),
                            llvm::cl::init("main")};
};

/// The kernel stage: qc-set-target records the kernel target on the module,
/// qc-select-kernel and the generators (qc-gen-dequant-
/// gemm, qc-gen-lut-gemm, qc-gen-codegemm) give quantized layers their
/// generated kernels (unless `reference`), qc-layout packs the codes the
/// reference lowering reads, qc-pack-linear-weights gives float linear
/// weights their panels (unless not `packWeights`), and qc-outline-weights turns the weight
/// constants into trailing arguments of the entry (the artifact's weights).
void buildKernelsPipeline(mlir::OpPassManager &pm,
                          const KernelsOptions &options);

/// Options of the whole compile pipeline (`qc-compile-pipeline`).
struct CompilePipelineOptions
    : mlir::PassPipelineOptions<CompilePipelineOptions> {
  Option<bool> raiseLinear{*this, "raise-linear",
                           llvm::cl::desc("raise matmuls to qc.linear"),
                           llvm::cl::init(true)};
  Option<bool> reference{*this, "reference",
                         llvm::cl::desc("see qc-kernels"),
                         llvm::cl::init(false)};
  Option<std::string> target{*this, "target", llvm::cl::desc("see qc-kernels"),
                             llvm::cl::init("host")};
  Option<bool> uniformLut{*this, "uniform-lut",
                          llvm::cl::desc("see qc-kernels"),
                          llvm::cl::init(false)};
  Option<bool> vectorize{*this, "vectorize",
                         llvm::cl::desc("tile and vectorize contractions"),
                         llvm::cl::init(true)};
};

/// What qc-compile runs on an imported (and quantized) module, in one
/// pipeline qc-opt can reproduce: qc-raise-linear, the kernel stage, and
/// the lowering to LLVM. (qc-compile itself quantizes between the first two,
/// and reads the weights out between the last two; lib/Target.)
void buildCompilePipeline(mlir::OpPassManager &pm,
                          const CompilePipelineOptions &options);

/// Registers every qc pass and pipeline with the global registry.
void registerAllPasses();

/// Adds the dialects qc's inputs and pipelines use, with their interfaces.
void registerAllDialects(mlir::DialectRegistry &registry);

} // namespace qc

#endif // QC_PIPELINES_PIPELINES_H
