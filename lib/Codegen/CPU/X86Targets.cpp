//===- X86Targets.cpp - AVX2 and AVX-512 kernel targets -------------------===//

#include "qc/Codegen/CPUTargets.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace qc;

namespace {
bool hasAll(const llvm::StringMap<bool> &features,
            std::initializer_list<StringRef> names) {
  return llvm::all_of(names, [&](StringRef f) { return features.lookup(f); });
}

VectorType i16x16(MLIRContext *ctx) {
  return VectorType::get({16}, IntegerType::get(ctx, 16));
}
} // namespace

//===----------------------------------------------------------------------===//
// AVX2
//===----------------------------------------------------------------------===//

ArrayRef<StringRef> AVX2Target::flags() const {
  static const StringRef names[] = {"x86-64-v3", "x86-64-v4"};
  return names;
}

int AVX2Target::hostRank(const llvm::Triple &triple,
                         const llvm::StringMap<bool> &features) const {
  return triple.isX86() && features.lookup("avx2") ? 20 : 0;
}

VectorType AVX2Target::dotPartialType(MLIRContext *ctx, int64_t lanes) const {
  assert(lanes == 8 && "AVX2 dot products have 8 lanes");
  return i16x16(ctx);
}

Value AVX2Target::dotAccumulate(OpBuilder &b, Location loc, Value partial,
                                Value codes, Value x) const {
  // vpmaddubsw: pairs of u8 * s8 summed into i16 lanes. Codes are at most 15
  // and |x| at most 127, so a pair is at most 3810 and the 8 steps of a
  // 32-row block stay below 2^15.
  Value pairs = callIntrinsic(b, loc, "llvm.x86.avx2.pmadd.ub.sw",
                              i16x16(b.getContext()), {codes, x});
  return arith::AddIOp::create(b, loc, partial, pairs);
}

Value AVX2Target::dotFlush(OpBuilder &b, Location loc, Value partial) const {
  MLIRContext *ctx = b.getContext();
  Value ones = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(i16x16(ctx), b.getI16IntegerAttr(1)));
  return callIntrinsic(b, loc, "llvm.x86.avx2.pmadd.wd",
                       VectorType::get({8}, IntegerType::get(ctx, 32)),
                       {partial, ones});
}

Value AVX2Target::lookup16(OpBuilder &b, Location loc, Value table,
                           Value idx) const {
  return callIntrinsic(b, loc, "llvm.x86.avx2.pshuf.b", idx.getType(),
                       {table, idx});
}

//===----------------------------------------------------------------------===//
// AVX-512 VNNI
//===----------------------------------------------------------------------===//

ArrayRef<StringRef> AVX512VNNITarget::flags() const {
  static const StringRef names[] = {"x86-64-v4-vnni"};
  return names;
}

int AVX512VNNITarget::hostRank(const llvm::Triple &triple,
                               const llvm::StringMap<bool> &features) const {
  return triple.isX86() &&
                 hasAll(features, {"avx512vnni", "avx512vl", "avx512bw"})
             ? 30
             : 0;
}

VectorType AVX512VNNITarget::dotPartialType(MLIRContext *ctx,
                                            int64_t lanes) const {
  assert((lanes == 8 || lanes == 16) && "vpdpbusd has 8 or 16 lanes");
  return KernelTarget::dotPartialType(ctx, lanes);
}

Value AVX512VNNITarget::dotAccumulate(OpBuilder &b, Location loc, Value partial,
                                      Value codes, Value x) const {
  auto type = cast<VectorType>(partial.getType());
  return callIntrinsic(b, loc,
                       type.getNumElements() == 16
                           ? "llvm.x86.avx512.vpdpbusd.512"
                           : "llvm.x86.avx512.vpdpbusd.256",
                       type, {partial, codes, x});
}

//===----------------------------------------------------------------------===//
// AVX-512 VBMI
//===----------------------------------------------------------------------===//

ArrayRef<StringRef> AVX512VBMITarget::flags() const {
  static const StringRef names[] = {"x86-64-v4-vbmi"};
  return names;
}

int AVX512VBMITarget::hostRank(const llvm::Triple &triple,
                               const llvm::StringMap<bool> &features) const {
  return AVX512VNNITarget::hostRank(triple, features) &&
                 features.lookup("avx512vbmi")
             ? 40
             : 0;
}

Value AVX512VBMITarget::lookup128(OpBuilder &b, Location loc, Value low,
                                  Value idx, Value high) const {
  return callIntrinsic(b, loc, "llvm.x86.avx512.vpermi2var.qi.512",
                       idx.getType(), {low, idx, high});
}
