//===- CPUTargets.h - qc's CPU kernel targets -------------------*- C++ -*-===//
//
// The instruction sets qc generates CPU kernels for (see KernelTarget.h).
// Declared here so that a target can derive from another (AVX-512 VBMI
// from VNNI, a test target from the generic one).
//
//===----------------------------------------------------------------------===//

#ifndef QC_CODEGEN_CPUTARGETS_H
#define QC_CODEGEN_CPUTARGETS_H

#include "qc/Codegen/KernelTarget.h"

namespace qc {

/// x86-64-v3 (and v4, whose int8 dot products are AVX2's): vpmaddubsw into
/// i16 pairs, vpmaddwd to i32; vpshufb lookups.
class AVX2Target : public KernelTarget {
public:
  llvm::StringRef name() const override { return "avx2"; }
  llvm::ArrayRef<llvm::StringRef> flags() const override;
  int hostRank(const llvm::Triple &triple,
               const llvm::StringMap<bool> &features) const override;
  llvm::StringRef llvmFeatures() const override { return "+avx2,+fma"; }
  bool hasByteLookup() const override { return true; }
  bool hasF16Conversion() const override { return true; }
  mlir::VectorType dotPartialType(mlir::MLIRContext *ctx,
                                  int64_t lanes) const override;
  mlir::Value dotAccumulate(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value partial, mlir::Value codes,
                            mlir::Value x) const override;
  mlir::Value dotFlush(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value partial) const override;
  mlir::Value lookup16(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value table, mlir::Value idx) const override;
};

/// AVX-512 with VNNI (F, BW, VL): vpdpbusd on 256- or 512-bit vectors, two
/// dequant_i8 panels per step, 8 tokens per tile (32 vector registers).
class AVX512VNNITarget : public AVX2Target {
public:
  llvm::StringRef name() const override { return "avx512vnni"; }
  llvm::ArrayRef<llvm::StringRef> flags() const override;
  int hostRank(const llvm::Triple &triple,
               const llvm::StringMap<bool> &features) const override;
  llvm::StringRef llvmFeatures() const override {
    return "+avx2,+fma,+avx512f,+avx512vl,+avx512bw,+avx512vnni";
  }
  /// 32 vector registers hold the accumulators of 8 tokens and a 512-bit
  /// code vector (2 threads, 4096 x 4096, 8 tokens on a Xeon with AVX-512
  /// VNNI: 580 us per layer against 800 us with 4).
  int64_t defaultTokenTile() const override { return 8; }
  int64_t vectorBits() const override { return 512; }
  int64_t panelStep() const override { return 2; }
  /// vpdpbusd sums u8 x s8 products into i32 lanes without saturation.
  bool hasWideCodeDot() const override { return true; }
  mlir::VectorType dotPartialType(mlir::MLIRContext *ctx,
                                  int64_t lanes) const override;
  mlir::Value dotAccumulate(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value partial, mlir::Value codes,
                            mlir::Value x) const override;
  mlir::Value dotFlush(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value partial) const override {
    return partial;
  }
};

/// AVX-512 VNNI and VBMI: adds vpermi2b, 64 lookups of a 128-byte table.
class AVX512VBMITarget : public AVX512VNNITarget {
public:
  llvm::StringRef name() const override { return "avx512vbmi"; }
  llvm::ArrayRef<llvm::StringRef> flags() const override;
  int hostRank(const llvm::Triple &triple,
               const llvm::StringMap<bool> &features) const override;
  llvm::StringRef llvmFeatures() const override {
    return "+avx2,+fma,+avx512f,+avx512vl,+avx512bw,+avx512vnni,+avx512vbmi";
  }
  bool hasWideByteLookup() const override { return true; }
  mlir::Value lookup128(mlir::OpBuilder &b, mlir::Location loc, mlir::Value low,
                        mlir::Value idx, mlir::Value high) const override;
};

/// AArch64 with the dot product extension: sdot by 16-byte halves, tbl.
class NeonTarget : public KernelTarget {
public:
  llvm::StringRef name() const override { return "neon"; }
  llvm::ArrayRef<llvm::StringRef> flags() const override;
  int hostRank(const llvm::Triple &triple,
               const llvm::StringMap<bool> &features) const override;
  llvm::StringRef llvmFeatures() const override { return "+neon,+dotprod"; }
  int64_t vectorBits() const override { return 128; }
  bool hasByteLookup() const override { return true; }
  bool hasF16Conversion() const override { return true; }
  mlir::Value dotAccumulate(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value partial, mlir::Value codes,
                            mlir::Value x) const override;
  mlir::Value lookup16(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value table, mlir::Value idx) const override;
};

/// Plain vector code for any CPU: widened multiplies and shuffles, gathers,
/// no byte lookups (LUT-GEMM is not offered), f16 scales widened at compile
/// time.
class GenericTarget : public KernelTarget {
public:
  llvm::StringRef name() const override { return "generic"; }
  llvm::ArrayRef<llvm::StringRef> flags() const override;
  int hostRank(const llvm::Triple &,
               const llvm::StringMap<bool> &) const override {
    return 1;
  }
  bool prefersGather() const override { return true; }
  bool hasWideCodeDot() const override { return true; }
  mlir::Value dotAccumulate(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value partial, mlir::Value codes,
                            mlir::Value x) const override;
};

} // namespace qc

#endif // QC_CODEGEN_CPUTARGETS_H
