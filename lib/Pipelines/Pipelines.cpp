//===- Pipelines.cpp - qc pass pipelines and registration -----------------===//

#include "qc/Pipelines/Pipelines.h"

#include "QC/IR/QCDialect.h"
#include "qc/Conversion/Passes.h"
#include "qc/Transforms/Passes.h"

#include "mlir/IR/Dialect.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

void qc::buildLowerToLLVMPipeline(OpPassManager &pm,
                                  const LowerToLLVMOptions &options) {
  std::string tiling;
  if (options.vectorize)
    tiling = llvm::formatv("qc-tile-and-vectorize{{tile-m={0} tile-n={1}},",
                           options.tileM.getValue(), options.tileN.getValue())
                 .str();
  // The upstream passes are named by their registered names so that this
  // pipeline reads the same as the `qc-opt` command line that reproduces it.
  std::string pipeline =
      // Contractions are tiled before elementwise fusion: the fusion folds
      // the reshapes around a matmul into it, which would turn it into a
      // generic the register tiling does not recognise.
      "qc-lower-observe,qc-lower-attention,qc-lower-hadamard,"
      "func.func(qc-layout,qc-lower-qlinear,qc-lower-linear),canonicalize,cse,"
      "func.func(" +
      tiling +
      "canonicalize,linalg-fuse-elementwise-ops),canonicalize,cse,"
      "func.func(qc-channels-last,qc-parallelize-generics,"
      "qc-vectorize-elementwise),"
      "eliminate-empty-tensors,func.func(qc-full-rank-transfer-writes),"
      // A recurrent op's state (scf.for iter_args) may be a new tensor
      // each step: loops may yield fresh buffers.
      "one-shot-bufferize{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map "
      "allow-return-allocs-from-loops},"
      // Key-value caches are updated in place: not results.
      "qc-drop-state-results,qc-distinct-results,"
      "buffer-results-to-out-params{hoist-static-allocs "
      "modify-public-functions},"
      // CSE first: the slices a parallel loop bufferizes in place are
      // copied onto themselves until their subviews are one value.
      "canonicalize,func.func(qc-hoist-vector-transfers),qc-outline-kernels,"
      "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
      // Kernel bodies use LLVM intrinsics, which buffer deallocation cannot
      // analyse: they are generated after it.
      "qc-emit-kernels,"
      "convert-linalg-to-loops,func.func(lower-vector-mask),qc-approximate-"
      "math,"
      // bf16 truncation would otherwise call compiler-rt's __truncsfbf2,
      // which the artifact does not link.
      "arith-expand{include-bf16=true},"
      // Math without an LLVM intrinsic becomes libm calls, a vector op one
      // call per element (vector.extract / insert): before the vector
      // lowering.
      "convert-math-to-llvm,convert-math-to-libm,"
      // vector-to-scf emits affine.apply and memref ops: before their
      // lowerings.
      "convert-vector-to-scf,expand-strided-metadata,lower-affine,"
      "convert-scf-to-cf,"
      "convert-vector-to-llvm{vector-contract-lowering=outerproduct},"
      "finalize-memref-to-llvm,"
      "convert-arith-to-llvm,convert-ub-to-llvm,convert-func-to-llvm,"
      "convert-cf-to-llvm,"
      "reconcile-unrealized-casts,qc-parallel-calls";
  registerAllPasses();
  if (failed(parsePassPipeline(pipeline, pm)))
    llvm::report_fatal_error("qc: malformed built-in lowering pipeline");
}

void qc::buildKernelsPipeline(OpPassManager &pm,
                              const KernelsOptions &options) {
  // Convolution layers' layouts first: the kernel generators read the
  // pixel-major ones' weights as these leave them.
  if (options.packWeights) {
    pm.addNestedPass<func::FuncOp>(createConvChannelMajorPass());
    pm.addNestedPass<func::FuncOp>(createIm2colNhwcPass());
  }
  if (!options.reference) {
    SetTargetPassOptions setTarget;
    setTarget.target = options.target;
    pm.addPass(createSetTargetPass(setTarget));
    SelectKernelPassOptions select;
    select.uniformLut = options.uniformLut;
    pm.addNestedPass<func::FuncOp>(createSelectKernelPass(select));
    pm.addPass(createGenDequantGemmPass());
    pm.addPass(createGenLutGemmPass());
    pm.addPass(createGenCodeGemmPass());
    LowerHadamardPassOptions hadamard;
    hadamard.kernels = true;
    pm.addPass(createLowerHadamardPass(hadamard));
  }
  pm.addNestedPass<func::FuncOp>(createLayoutPass());
  if (options.packWeights)
    pm.addNestedPass<func::FuncOp>(createPackLinearWeightsPass());
  OutlineWeightsPassOptions outline;
  outline.entry = options.entry;
  pm.addPass(createOutlineWeightsPass(outline));
}

void qc::buildCompilePipeline(OpPassManager &pm,
                              const CompilePipelineOptions &options) {
  if (options.raiseLinear) {
    RaiseLinearPassOptions raise;
    raise.convs = true; // as qc-compile raises them
    pm.addNestedPass<func::FuncOp>(createRaiseLinearPass(raise));
  }
  KernelsOptions kernels;
  kernels.reference = options.reference;
  kernels.target = options.target;
  kernels.uniformLut = options.uniformLut;
  buildKernelsPipeline(pm, kernels);
  LowerToLLVMOptions lower;
  lower.vectorize = options.vectorize;
  buildLowerToLLVMPipeline(pm, lower);
}

void qc::registerAllPasses() {
  // Idempotent: tools and the pipeline builder may both ask.
  static bool registered = false;
  if (registered)
    return;
  registered = true;
  mlir::registerAllPasses();
  qc::registerQCTransformsPasses();
  qc::registerQCConversionPasses();
  PassPipelineRegistration<LowerToLLVMOptions>(
      "qc-lower-to-llvm",
      "Lower qc graph IR on tensors to the LLVM dialect (the qc-compile "
      "pipeline)",
      buildLowerToLLVMPipeline);
  PassPipelineRegistration<KernelsOptions>(
      "qc-kernels",
      "Generate the kernels of quantized layers, pack the rest, outline the "
      "weights (qc-compile's kernel stage)",
      buildKernelsPipeline);
  PassPipelineRegistration<CompilePipelineOptions>(
      "qc-compile-pipeline",
      "Raise linear layers, generate kernels and lower to the LLVM dialect "
      "(what qc-compile runs)",
      buildCompilePipeline);
}

void qc::registerAllDialects(DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<qc::QCDialect>();
}
