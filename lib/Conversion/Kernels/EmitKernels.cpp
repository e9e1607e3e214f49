//===- EmitKernels.cpp - bodies of the generated kernels ------------------===//
//
// Gives the functions qc-gen-dequant-gemm, qc-gen-lut-gemm and
// qc-gen-codegemm declared their bodies (qc/Codegen/CPUKernels.h; the
// bodies live in lib/Codegen/CPU/Kernels, one file per kernel family).
//
// Runs after buffer deallocation: the dot products are LLVM intrinsics
// (llvm.call_intrinsic), whose memory effects that analysis cannot see.
//
//===----------------------------------------------------------------------===//

#include "qc/Codegen/CPUKernels.h"
#include "qc/Conversion/Passes.h"

namespace qc {
#define GEN_PASS_DEF_EMITKERNELSPASS
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {
struct EmitKernelsPass : qc::impl::EmitKernelsPassBase<EmitKernelsPass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (qc::isKernelDeclaration(fn) && failed(qc::emitKernelBody(fn)))
        return signalPassFailure();
  }
};
} // namespace
