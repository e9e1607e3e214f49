//===- Kernels.h - call sites of the generated kernels ----------*- C++ -*-===//
//
// qc-gen-dequant-gemm, qc-gen-lut-gemm and qc-gen-codegemm (on tensors)
// declare the functions of a layer's kernel and call them; qc-emit-kernels
// (after buffer deallocation, which cannot see through LLVM intrinsics)
// gives them their bodies (lib/Codegen/CPU/Kernels). The declarations carry
// the kernel's role and shape (qc/Codegen/KernelShape.h).
//
//===----------------------------------------------------------------------===//

#ifndef QC_LIB_CONVERSION_KERNELS_KERNELS_H
#define QC_LIB_CONVERSION_KERNELS_KERNELS_H

#include "QC/IR/QCAttrs.h"
#include "QC/IR/QCOps.h"
#include "qc/Codegen/KernelShape.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

namespace qc {
namespace kernels {

//===----------------------------------------------------------------------===//
// Call sites (CallSite.cpp)
//===----------------------------------------------------------------------===//

/// An arith.constant holding `bytes` as a dense_resource blob named `key`.
mlir::Value resourceConstant(mlir::OpBuilder &b, mlir::Location loc,
                             llvm::ArrayRef<int64_t> shape, mlir::Type elt,
                             llvm::ArrayRef<char> bytes, llvm::StringRef key);
template <typename T>
mlir::Value resourceConstant(mlir::OpBuilder &b, mlir::Location loc,
                             llvm::ArrayRef<int64_t> shape, mlir::Type elt,
                             const std::vector<T> &data, llvm::StringRef key) {
  return resourceConstant(
      b, loc, shape, elt,
      llvm::ArrayRef<char>(reinterpret_cast<const char *>(data.data()),
                           data.size() * sizeof(T)),
      key);
}
/// A read-only identity-layout buffer of a tensor.
mlir::Value readOnlyBuffer(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value tensor);
/// A read-only buffer of a new dense_resource constant holding `data`.
template <typename T>
mlir::Value constantBuffer(mlir::OpBuilder &b, mlir::Location loc,
                           llvm::ArrayRef<int64_t> shape, mlir::Type elt,
                           const std::vector<T> &data, llvm::StringRef key) {
  return readOnlyBuffer(b, loc,
                        resourceConstant(b, loc, shape, elt, data, key));
}
/// The activations of `layer`, `input` [..., K] flattened to [M, K], as a
/// read-only buffer for its kernel calls. The buffer escapes one-shot
/// bufferization's analysis (the kernels are calls on memrefs): it is valid
/// only up to the calls right after it, since once the tensor has no later
/// tensor use bufferization may write another value into its buffer. The
/// op is tagged with the layer so that CSE does not merge it with another
/// layer's read of the same tensor, which would carry it past such writes.
mlir::Value activationBuffer(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Value input, int64_t m, int64_t k,
                             llvm::StringRef layer);
/// A 64-byte aligned memref.alloc (freed by buffer deallocation).
mlir::Value allocBuffer(mlir::OpBuilder &b, mlir::Location loc,
                        llvm::ArrayRef<int64_t> shape, mlir::Type elt);
/// The [..., K] input as [M, K].
mlir::Value flattenInput(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                         int64_t m, int64_t k);
/// The [M, N'] output buffer as the layer's [..., N] tensor (N' >= N: the
/// padding columns are dropped).
mlir::Value outputTensor(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value buffer, int64_t m, int64_t n,
                         mlir::RankedTensorType outType);
/// Declares `<prefix><shape suffix>` once per module, with its role and
/// shape (and, when `parallel`, qc.parallel = `align`: threads get ranges
/// that start at multiples of it).
mlir::func::FuncOp declareKernel(mlir::ModuleOp module, mlir::Location loc,
                                 const KernelShape &s, llvm::StringRef role,
                                 llvm::StringRef prefix, mlir::TypeRange types,
                                 bool parallel, int64_t align = 1);

/// Calls the parallel kernel `<prefix><shape suffix>` of `role` (declared
/// on first use, threads' ranges aligned to `align`) with `args` and the
/// range [0, ranges), then replaces the layer by the [M, N] part of its
/// [M, N'] output buffer `y`.
void callRangeKernel(mlir::OpBuilder &b, mlir::Location loc, QLinearOp op,
                     const KernelShape &s, llvm::StringRef role,
                     llvm::StringRef prefix,
                     llvm::SmallVector<mlir::Value> args, int64_t ranges,
                     mlir::Value y, int64_t align = 1);

/// op.emitError() starting "<what>: layer '<layer>': ".
mlir::InFlightDiagnostic layerError(QLinearOp op, llvm::StringRef what);

/// Calls the activation kernel `<prefix><shape suffix>` of `role` (declared
/// on first use) on `args`; with many rows (a prefill, a convolution's
/// im2col view), on the runtime's threads over ranges of rows, the range
/// appended to `args`.
void callActivationKernel(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::ModuleOp module, const KernelShape &s,
                          llvm::StringRef role, llvm::StringRef prefix,
                          llvm::SmallVector<mlir::Value> args);

/// The int8 activations of a layer: [M, Kp] codes, [M, blocks] scales,
/// [M, groups] group sums.
struct ActivationBuffers {
  mlir::Value xq, xs, xsum;
  /// uint8 activations (one dynamic scale and zero point per tensor): the
  /// scale and the int8 codes' zero point (uint8's - 128), f32 scalars.
  mlir::Value scale, zeroPoint;
  /// Rows the kernel gathers itself (KernelShape::gathered): `xq` is the
  /// int8 image, these its row bases [M] and block offsets [K / 32] (i32).
  mlir::Value rowBase, blockOff;
};
/// Flattens `input`, allocates the buffers and calls the activation
/// quantizer (declared on first use).
ActivationBuffers quantizeActivations(mlir::OpBuilder &b, mlir::Location loc,
                                      mlir::ModuleOp module, QLinearOp op,
                                      const KernelShape &s);
/// The kernel shape of a layer (its kernel attribute, shapes; `group` -1
/// for whole columns); an error naming `what` and the layer otherwise.
mlir::FailureOr<KernelShape> kernelShapeOf(QLinearOp op, int64_t group,
                                           int64_t bits, llvm::StringRef what);

/// What a kernel's activation function hands its product.
enum class KernelInput {
  Int8Codes,  // int8 codes with block scales (dequant_i8, LUT-GEMM)
  Float,      // the float input as it is (CodeGEMM)
  RoundedFloat // floats, rounded first by the schemes the codes cannot hold
               // (dequant_f32: amxfp4)
};

/// Checks that the kernel `what` of shape `s` computes the layer's
/// activation scheme: int8 codes in blocks of s.actBlock, or one scale per
/// token over those blocks (then sets s.rowScale); float activations (no
/// scheme); or those and amxfp4 (sets s.act) for RoundedFloat. An error of
/// `pass` naming both otherwise.
mlir::LogicalResult checkActivations(QLinearOp op, KernelShape &s,
                                     KernelInput input, llvm::StringRef pass,
                                     llvm::StringRef what);

/// The layer's bias as N floats (zeros without one); an error naming `what`
/// and the layer when it is not a constant of N elements.
mlir::FailureOr<std::vector<float>> readBias(QLinearOp op,
                                             llvm::StringRef what);

/// The layer's constant operands: codes (one byte each), scales, zero
/// points / offsets (empty when absent) and bias (zeros when absent).
struct LayerConstants {
  std::vector<char> codes;
  std::vector<float> scales, zeros, bias;
};
mlir::FailureOr<LayerConstants> readConstants(QLinearOp op,
                                              llvm::StringRef what);

/// The layers of `module` whose kernel attribute has `kind`, in order.
llvm::SmallVector<QLinearOp> layersWithKernel(mlir::ModuleOp module,
                                              KernelKind kind);

/// Replaces the layer's result and erases it with its now dead constants.
void replaceLayer(mlir::Operation *op, mlir::Value result);

} // namespace kernels
} // namespace qc

#endif // QC_LIB_CONVERSION_KERNELS_KERNELS_H
