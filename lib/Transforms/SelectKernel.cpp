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
  if (bcq.getPlanesInCodes() > 4)
    return "more than 4 bit-planes";
  if (bcq.getGroup() != -1 && bcq.getGroup() % 32 != 0)
    return "group is not a multiple of 32";
  return commonBlocker(op);
}

/// Why a uniform layer cannot take a panel kernel (dequant_i8 on int8
/// activations, dequant_f32 on float ones), or "" when it can.
std::string panelBlocker(QLinearOp op, const KernelTarget &target,
                         bool intActivations) {
  auto uniform = dyn_cast<UniformAttr>(op.getScheme());
  if (!uniform)
    return "no generated kernel for this scheme yet";
  if (uniform.getPerIc())
    return "per-input-channel groups";
  if (intActivations && uniform.getBits() == 8 && !target.hasWideCodeDot())
    return "8-bit codes need a u8 x s8 dot product into 32-bit lanes "
           "(AVX-512 VNNI or the generic target)";
  if (!qc::quant::isKernelPanelBits(uniform.getBits()))
    return "code width is not 2, 3, 4 or 8 bits";
  if (uniform.getGroup() != -1 && uniform.getGroup() % 32 != 0)
    return "group is not a multiple of 32";
  return commonBlocker(op);
}

/// The activation block a kernel uses for weight groups of `group` rows:
/// the largest divisor of the group up to 128 (128 for whole columns).
int64_t actBlockFor(int64_t group) {
  return group == -1 ? 128 : std::gcd<int64_t>(group, 128);
}

/// The block of activations `act` (int8, int4, dint4 or mxfp4: all int8
/// codes)
/// gives the dequant_i8 kernel of a layer (K inputs, weight groups of
/// `group` rows), or 0 where the kernel cannot compute that scheme: its
/// blocks are whole 32-row blocks inside one weight group that tile the K
/// padded to superblocks. A scale per token takes one block of the padded K
/// for whole-column groups, else the group's blocks sharing the row's scale
/// (the generator's row_scale).
int64_t int8KernelBlock(ActivationAttr act, int64_t group, int64_t k) {
  if (!act)
    return 0;
  int64_t padded = (k + quant::kSuperblockRows - 1) / quant::kSuperblockRows *
                   quant::kSuperblockRows;
  int64_t block = act.getBlock();
  // mxfp4's blocks of 32 are never the whole row.
  if (act.getKind() == ActKind::mxfp4)
    return group == -1 || group % block == 0 ? block : 0;
  if (block == -1 || block >= k) {
    // One block over a whole column: K in the kernel's 32-row blocks (the
    // activations are not padded to the codes' superblocks).
    if (group == -1)
      return (k + 31) / 32 * 32;
    block = actBlockFor(group);
  }
  if (block % 32 != 0 || padded % block != 0 ||
      (group != -1 && group % block != 0))
    return 0;
  return block;
}

std::string actName(ActivationAttr act) {
  return act ? act.getShortName() : "f32";
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
      ActivationAttr act = op.getActAttr();
      if (auto book = dyn_cast<CodebookAttr>(op.getScheme())) {
        if (book.getEntries() > 256)
          blocker = "codebooks of more than 256 entries";
        else if (book.getEntries() % 8 != 0)
          blocker = "codebook entries not a multiple of 8";
        else if (act)
          blocker = "CodeGEMM takes float activations, the layer's are " +
                    actName(act);
        else
          blocker = commonBlocker(op);
        if (blocker.empty() &&
            !op.getCodebook().getDefiningOp<arith::ConstantOp>())
          blocker = "weights are not constants";
        if (blocker.empty())
          kernel = KernelAttr::get(ctx, KernelKind::codegemm, isa, 1, 0);
      } else if (auto bcq = dyn_cast<BCQAttr>(op.getScheme())) {
        blocker = lutBlocker(op, bcq, kt);
        int64_t block = actBlockFor(bcq.getGroup());
        if (blocker.empty() && act &&
            (act.isStatic() || act.getKind() != ActKind::int8))
          blocker = "LUT-GEMM takes dynamic int8 activations, the layer's "
                    "are " + actName(act);
        else if (blocker.empty() &&
                 int8KernelBlock(act, bcq.getGroup(), k) != block)
          blocker = "LUT-GEMM takes int8 activations in blocks of " +
                    std::to_string(block) + ", the layer's are " +
                    actName(act);
        if (blocker.empty())
          // Tokens run one at a time: a 32-column tile already holds a
          // token's accumulators for every plane in registers.
          kernel = KernelAttr::get(ctx, KernelKind::lut_bcq, isa, 1, block);
      } else if (!act || act.getKind() == ActKind::amxfp4) {
        // amxfp4 values are not int8 codes on one scale: the float kernel,
        // its quantizer rounding them.
        blocker = panelBlocker(op, kt, /*intActivations=*/false);
        if (blocker.empty())
          kernel = KernelAttr::get(
              ctx, KernelKind::dequant_f32, isa,
              std::clamp<int64_t>(m, 1, tokenTile),
              actBlockFor(cast<UniformAttr>(op.getScheme()).getGroup()));
      } else {
        blocker = panelBlocker(op, kt, /*intActivations=*/true);
        auto uniform = dyn_cast<UniformAttr>(op.getScheme());
        int64_t group = blocker.empty() ? uniform.getGroup() : 0;
        int64_t block = blocker.empty() ? int8KernelBlock(act, group, k) : 0;
        if (blocker.empty() && block == 0)
          blocker = "no kernel for " + actName(act) +
                    " activations with this weight group";
        if (blocker.empty() && uniformLut && kt.hasByteLookup() &&
            !act.isStatic() && act.getKind() == ActKind::int8 &&
            uniform.getBits() <= 4 && block == actBlockFor(group))
          kernel = KernelAttr::get(ctx, KernelKind::lut_bcq, isa, 1, block);
        else if (blocker.empty())
          kernel = KernelAttr::get(ctx, KernelKind::dequant_i8, isa,
                                   std::clamp<int64_t>(m, 1, tokenTile),
                                   block);
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
