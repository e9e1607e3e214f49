//===- KernelTarget.h - what the kernel generators ask a target -*- C++ -*-===//
//
// The codegen seam. A kernel target is an instruction set the generated
// low-bit kernels are emitted for (AVX2, AVX-512 VNNI / VBMI, NEON, plain
// vector code). qc-select-kernel records the chosen target by name in
// `#qc.kernel<isa = NAME, ...>`; qc-select-kernel, the kernel generators and
// qc-emit-kernels look it up and ask it for its choices (token tile, panel
// step, capabilities) and for the few operations that differ between
// instruction sets (integer dot products, byte table lookups), instead of
// switching on an enum. A new target is one more implementation of this
// class, registered by name (lib/Codegen/CPU holds qc's CPU targets,
// lib/Codegen/Test a test-only one).
//
//===----------------------------------------------------------------------===//

#ifndef QC_CODEGEN_KERNELTARGET_H
#define QC_CODEGEN_KERNELTARGET_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Triple.h"

#include <memory>
#include <string>

namespace qc {

class KernelTarget {
public:
  virtual ~KernelTarget();

  //===--------------------------------------------------------------------===//
  // Identity
  //===--------------------------------------------------------------------===//

  /// The name in `#qc.kernel<isa = ...>` and in the generated functions'
  /// names (a bare MLIR keyword: letters, digits, `_`).
  virtual llvm::StringRef name() const = 0;
  /// The `--target` values (qc-compile, qc-select-kernel) that choose it.
  virtual llvm::ArrayRef<llvm::StringRef> flags() const = 0;
  /// Whether error messages list its flags (test targets are not listed).
  virtual bool listed() const { return true; }
  /// How well the host described by `triple` and `features` runs this
  /// target: 0 when it cannot, otherwise `--target=host` picks the
  /// registered target with the highest rank.
  virtual int hostRank(const llvm::Triple &triple,
                       const llvm::StringMap<bool> &features) const = 0;
  /// LLVM target features set on the generated functions ("" for the
  /// module's own CPU).
  virtual llvm::StringRef llvmFeatures() const { return ""; }
  /// The widest vector the kernels use, bits.
  virtual int64_t vectorBits() const { return 256; }

  //===--------------------------------------------------------------------===//
  // Choices and capabilities
  //===--------------------------------------------------------------------===//

  /// dequant_i8: tokens that share each unpacked weight vector when
  /// qc-select-kernel's m-tile is 0.
  virtual int64_t defaultTokenTile() const { return 4; }
  /// dequant_i8: 8-column panels per step of the column kernel (2 where two
  /// panels' code vectors share one 512-bit register).
  virtual int64_t panelStep() const { return 1; }
  /// 32 lookups of a 16-byte table per instruction (LUT-GEMM, the int16
  /// tables of codebooks of at most 16 entries).
  virtual bool hasByteLookup() const { return false; }
  /// 64 lookups of a 128-byte table per instruction (CodeGEMM's int16
  /// tables of 17 to 256 entries for a few tokens).
  virtual bool hasWideByteLookup() const { return false; }
  /// Whether f16 converts in hardware (kernels keep f16 scales).
  virtual bool hasF16Conversion() const { return false; }
  /// Whether 8 scattered f32 loads are best one gather (else scalar loads).
  virtual bool prefersGather() const { return false; }
  /// Whether dotAccumulate is exact for any u8 code (8-bit dequant_i8
  /// layers), not only for codes of at most 15.
  virtual bool hasWideCodeDot() const { return false; }

  //===--------------------------------------------------------------------===//
  // Operations
  //===--------------------------------------------------------------------===//

  /// The running partial sum of the u8 x s8 dot product on `lanes` i32
  /// lanes (8, or 16 where panelStep() is 2).
  virtual mlir::VectorType dotPartialType(mlir::MLIRContext *ctx,
                                          int64_t lanes) const;
  /// partial + the dot product of `codes` (u8, at most 15, or any where
  /// hasWideCodeDot()) and `x` (s8),
  /// both vector<4 lanes x i8>: bytes 4l .. 4l + 3 go to lane l.
  virtual mlir::Value dotAccumulate(mlir::OpBuilder &b, mlir::Location loc,
                                    mlir::Value partial, mlir::Value codes,
                                    mlir::Value x) const = 0;
  /// The partial sum as i32 lanes.
  virtual mlir::Value dotFlush(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::Value partial) const {
    return partial;
  }
  /// 32 lookups (vector<32xi8>) of `table`, whose two 16-byte halves are
  /// the same table, at `idx` (0-15). Only where hasByteLookup().
  virtual mlir::Value lookup16(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::Value table, mlir::Value idx) const;
  /// 64 lookups (vector<64xi8>) of the 128-byte table `low` ++ `high` at
  /// `idx` (bit 7 ignored). Only where hasWideByteLookup().
  virtual mlir::Value lookup128(mlir::OpBuilder &b, mlir::Location loc,
                                mlir::Value low, mlir::Value idx,
                                mlir::Value high) const;
};

/// llvm.call_intrinsic `name`(args) -> result.
mlir::Value callIntrinsic(mlir::OpBuilder &b, mlir::Location loc,
                          llvm::StringRef name, mlir::Type result,
                          mlir::ValueRange args);

/// Registers `target` under its name and flags; a second target of the
/// same name is ignored (registration is idempotent).
void registerKernelTarget(std::unique_ptr<KernelTarget> target);
/// qc's CPU targets: avx2, avx512vnni, avx512vbmi, neon, generic (once;
/// lookupKernelTarget and resolveKernelTarget call it).
void registerCPUKernelTargets();
/// A target for tests only (lib/Codegen/Test, library
/// QCCodegenTestTargets): generic code with a token tile of 2.
void registerTestKernelTargets();
/// The target named `name` (as in `#qc.kernel<isa = ...>`), or null.
const KernelTarget *lookupKernelTarget(llvm::StringRef name);
/// A `--target` value: `host` (the best registered target this process's
/// CPU runs) or a target's flag. On failure, `error` lists the flags.
mlir::FailureOr<const KernelTarget *> resolveKernelTarget(llvm::StringRef flag,
                                                          std::string &error);

} // namespace qc

#endif // QC_CODEGEN_KERNELTARGET_H
