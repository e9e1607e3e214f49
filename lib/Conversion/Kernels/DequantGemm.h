//===- DequantGemm.h - shape of a generated dequant_i8 kernel ---*- C++ -*-===//
//
// qc-gen-dequant-gemm (on tensors) declares the two functions of a
// dequant_i8 layer and calls them; qc-emit-dequant-gemm (after buffer
// deallocation, which cannot see through LLVM intrinsics) gives them their
// bodies. The declarations carry the kernel's shape as attributes.
//
//===----------------------------------------------------------------------===//

#ifndef QC_LIB_CONVERSION_KERNELS_DEQUANTGEMM_H
#define QC_LIB_CONVERSION_KERNELS_DEQUANTGEMM_H

#include "QC/QCAttrs.h"
#include "qc/Quant/Packing.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"

namespace qc {
namespace kernels {

/// Attribute names on the declarations.
constexpr llvm::StringLiteral kShapeAttr = "qc.dequant_i8.shape";
constexpr llvm::StringLiteral kRoleAttr = "qc.dequant_i8.role";
constexpr llvm::StringLiteral kRoleActQuant = "act_quant";
constexpr llvm::StringLiteral kRoleColumns = "columns";

/// Everything a generated function depends on.
struct KernelShape {
  int64_t m = 0, k = 0, n = 0;
  int64_t bits = 0;
  int64_t group = 0; // rows per weight group (the padded K for one group)
  int64_t actBlock = 0;
  int64_t mTile = 1;
  KernelISA isa = KernelISA::generic;

  int64_t superblocks() const { return (k + 255) / 256; }
  int64_t paddedK() const { return superblocks() * 256; }
  int64_t actBlocks() const { return paddedK() / actBlock; }
  /// Weight groups, padded to cover paddedK() and to a multiple of 8 (the
  /// zero-point correction is an 8-lane dot product).
  int64_t groups() const {
    return ((paddedK() + group - 1) / group + 7) / 8 * 8;
  }
  int64_t columnBytes() const {
    return quant::kernelBlocksColumnBytes(k, static_cast<int>(bits));
  }
  std::string suffix() const {
    return llvm::formatv("b{0}_g{1}_a{2}_m{3}_k{4}_n{5}_t{6}_{7}", bits,
                         group, actBlock, m, k, n, mTile,
                         stringifyKernelISA(isa))
        .str();
  }

  /// Stores the shape on `fn`.
  void attach(mlir::func::FuncOp fn) const {
    mlir::Builder b(fn.getContext());
    fn->setAttr(kShapeAttr,
                b.getDenseI64ArrayAttr({m, k, n, bits, group, actBlock, mTile,
                                        static_cast<int64_t>(isa)}));
  }
  /// The shape stored on `fn`, if any.
  static std::optional<KernelShape> of(mlir::func::FuncOp fn) {
    auto attr = fn->getAttrOfType<mlir::DenseI64ArrayAttr>(kShapeAttr);
    if (!attr || attr.size() != 8)
      return std::nullopt;
    llvm::ArrayRef<int64_t> v = attr.asArrayRef();
    std::optional<KernelISA> isa =
        symbolizeKernelISA(static_cast<uint32_t>(v[7]));
    if (!isa || v[3] < 2 || v[3] > 4 || v[5] <= 0 || v[6] < 1 || v[4] <= 0)
      return std::nullopt;
    return KernelShape{v[0], v[1], v[2], v[3], v[4], v[5], v[6], *isa};
  }
};

} // namespace kernels
} // namespace qc

#endif // QC_LIB_CONVERSION_KERNELS_DEQUANTGEMM_H
