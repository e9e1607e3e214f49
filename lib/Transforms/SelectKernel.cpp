//===- SelectKernel.cpp - choose a kernel for each qc.qlinear -------------===//

#include "QC/IR/QCOps.h"
#include "qc/Codegen/KernelTarget.h"
#include "qc/Quant/Packing.h"
#include "qc/Transforms/Passes.h"

#include <numeric>

namespace qc {
#define GEN_PASS_DEF_SELECTKERNELPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {

/// Shape and operand conditions every generated kernel has.
std::string commonBlocker(QLinearOp op) {
  if (op.getPacked() || op.getBitplanes())
    return "codes are already packed for another layout";
  auto in = cast<RankedTensorType>(op.getInput().getType());
  if (!in.hasStaticShape() || !op.getType().hasStaticShape())
    return "dynamic shapes";
  if (!in.getElementType().isF32())
    return "input is not f32";
  if (!op.getCodes().getDefiningOp<arith::ConstantOp>() ||
      !op.getScales().getDefiningOp<arith::ConstantOp>() ||
      (op.getZeros() && !op.getZeros().getDefiningOp<arith::ConstantOp>()) ||
      (op.getBias() && !op.getBias().getDefiningOp<arith::ConstantOp>()))
    return "weights are not constants";
  return "";
}

/// Why a BCQ layer cannot take the lut_bcq kernel, or "" when it can.
std::string lutBlocker(QLinearOp op, BCQAttr bcq, const KernelTarget &target) {
  if (!target.hasByteLookup())
    return "LUT-GEMM needs byte table lookups (x86 vpshufb, NEON tbl)";
  if (bcq.getPlanes() > 4)
    return "more than 4 bit-planes";
  if (bcq.getGroup() != -1 && bcq.getGroup() % 32 != 0)
    return "group is not a multiple of 32";
  return commonBlocker(op);
}

/// Why a layer cannot take the dequant_i8 kernel, or "" when it can.
std::string dequantI8Blocker(QLinearOp op, const KernelTarget &target) {
  auto uniform = dyn_cast<UniformAttr>(op.getScheme());
  if (!uniform)
    return "no generated kernel for this scheme yet";
  if (uniform.getPerIc())
    return "per-input-channel groups";
  if (uniform.getBits() == 8 && !target.hasWideCodeDot())
    return "8-bit codes need a u8 x s8 dot product into 32-bit lanes "
           "(AVX-512 VNNI or the generic target)";
  if (!qc::quant::isKernelPanelBits(uniform.getBits()))
    return "code width is not 2, 3, 4 or 8 bits";
  if (uniform.getGroup() != -1 && uniform.getGroup() % 32 != 0)
    return "group is not a multiple of 32";
  return commonBlocker(op);
}

int64_t actBlockFor(int64_t group) {
  return group == -1 ? 128 : std::gcd<int64_t>(group, 128);
}

struct SelectKernelPass : qc::impl::SelectKernelPassBase<SelectKernelPass> {
  using Base::Base;

  /// The module's #qc.target if it has one, else the `target` option.
  FailureOr<const KernelTarget *> kernelTarget() {
    auto module = getOperation()->getParentOfType<ModuleOp>();
    if (auto attr =
            module ? module->getAttrOfType<TargetAttr>(qc::kTargetAttrName) : nullptr) {
      if (const KernelTarget *kt = lookupKernelTarget(attr.getIsa()))
        return kt;
      return module.emitError("qc-select-kernel: qc.target names an unknown "
                              "kernel target '")
             << attr.getIsa() << "'";
    }
    std::string error;
    FailureOr<const KernelTarget *> resolved =
        resolveKernelTarget(target, error);
    if (failed(resolved))
      getOperation().emitError("qc-select-kernel: ") << error;
    return resolved;
  }

  void runOnOperation() override {
    FailureOr<const KernelTarget *> resolved = kernelTarget();
    if (failed(resolved))
      return signalPassFailure();
    if (mTile < 0 || mTile > 8) {
      getOperation().emitError(
          "qc-select-kernel: m-tile must be in [1, 8], or 0 for the target's");
      return signalPassFailure();
    }
    const KernelTarget &kt = **resolved;
    StringRef isa = kt.name();
    int64_t tokenTile =
        mTile ? static_cast<int64_t>(mTile) : kt.defaultTokenTile();
    MLIRContext *ctx = &getContext();
    getOperation().walk([&](QLinearOp op) {
      if (op.getKernel())
        return; // Chosen before (a recipe or an earlier run).
      int64_t k = op.getInFeatures();
      int64_t m = cast<RankedTensorType>(op.getInput().getType())
                      .getNumElements() /
                  std::max<int64_t>(k, 1);
      std::string blocker;
      KernelAttr kernel;
      if (auto book = dyn_cast<CodebookAttr>(op.getScheme())) {
        if (book.getEntries() > 256)
          blocker = "codebooks of more than 256 entries";
        else if (book.getEntries() % 8 != 0)
          blocker = "codebook entries not a multiple of 8";
        else
          blocker = commonBlocker(op);
        if (blocker.empty() &&
            !op.getCodebook().getDefiningOp<arith::ConstantOp>())
          blocker = "weights are not constants";
        if (blocker.empty())
          kernel = KernelAttr::get(ctx, KernelKind::codegemm, isa, 1, 0);
      } else if (auto bcq = dyn_cast<BCQAttr>(op.getScheme())) {
        blocker = lutBlocker(op, bcq, kt);
        if (blocker.empty())
          // Tokens run one at a time: a 32-column tile already holds a
          // token's accumulators for every plane in registers.
          kernel = KernelAttr::get(ctx, KernelKind::lut_bcq, isa, 1,
                                   actBlockFor(bcq.getGroup()));
      } else {
        blocker = dequantI8Blocker(op, kt);
        auto uniform = dyn_cast<UniformAttr>(op.getScheme());
        int64_t group = blocker.empty() ? uniform.getGroup() : 0;
        if (blocker.empty() && uniformLut && kt.hasByteLookup() &&
            uniform.getBits() <= 4)
          kernel = KernelAttr::get(ctx, KernelKind::lut_bcq, isa, 1,
                                   actBlockFor(group));
        else if (blocker.empty())
          kernel = KernelAttr::get(
              ctx, KernelKind::dequant_i8, isa,
              std::clamp<int64_t>(m, 1, tokenTile), actBlockFor(group));
      }
      if (!kernel) {
        kernel = KernelAttr::get(ctx, KernelKind::reference, "generic", 1, 0);
      }
      op.setKernelAttr(kernel);
      if (remarks) {
        InFlightDiagnostic diag = op.emitRemark()
                                  << "layer '" << op.getLayer() << "': "
                                  << stringifyKernelKind(kernel.getKind());
        if (kernel.getKind() != KernelKind::reference)
          diag << " (" << kernel.getIsa() << ", m_tile "
               << kernel.getMTile() << ", act_block " << kernel.getActBlock()
               << ")";
        else
          diag << ": " << blocker;
      }
    });
  }
};

} // namespace
