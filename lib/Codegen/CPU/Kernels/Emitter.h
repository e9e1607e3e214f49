//===- Emitter.h - helpers of the CPU kernel bodies -------------*- C++ -*-===//
//
// Shared by the bodies of the generated CPU kernels (one file per kernel
// family): small builder helpers, and the declarations of every body
// builder (KernelBodies.cpp dispatches on the function's role).
//
//===----------------------------------------------------------------------===//

#ifndef QC_LIB_CODEGEN_CPU_KERNELS_EMITTER_H
#define QC_LIB_CODEGEN_CPU_KERNELS_EMITTER_H

#include "qc/Codegen/KernelShape.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

namespace qc {
namespace kernels {
namespace cpu {

// The bodies are written in these namespaces, against MLIR's.
using namespace mlir;

/// Activation / psumbook blocks whose max |x| is at most this quantize to
/// zero: 127 / max and 1023 / max overflow f32 below about 4e-36.
constexpr float kTinyBlock = 1e-30f;

/// How far ahead of its reads a weight-streaming kernel prefetches, bytes:
/// the best of 512 / 1024 / 2048 / 4096 for batch-1 dequant_i8 on Zen 3.
constexpr int64_t kPrefetchAhead = 1024;

/// Small builder helpers shared by the generated functions.
class Emitter {
public:
  Emitter(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value splat(VectorType type, Attribute scalar) {
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, scalar));
  }
  Value zeros(VectorType type) {
    return arith::ConstantOp::create(b, loc, b.getZeroAttr(type));
  }
  Value add(Value x, Value y) {
    return isa<FloatType>(getElementTypeOrSelf(x))
               ? arith::AddFOp::create(b, loc, x, y).getResult()
               : arith::AddIOp::create(b, loc, x, y).getResult();
  }
  Value mul(Value x, Value y) {
    return isa<FloatType>(getElementTypeOrSelf(x))
               ? arith::MulFOp::create(b, loc, x, y).getResult()
               : arith::MulIOp::create(b, loc, x, y).getResult();
  }
  /// For the lane-wise max |x| of a block: levels / max (0 for blocks of
  /// at most kTinyBlock, whose reciprocal would overflow) and the block's
  /// scale max / levels.
  std::pair<Value, Value> blockScale(Value maxLanes, float levels) {
    Value maxAbs = vector::ReductionOp::create(
        b, loc, vector::CombiningKind::MAXIMUMF, maxLanes);
    Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                           maxAbs, f32(kTinyBlock));
    Value inv = arith::SelectOp::create(
        b, loc, positive, arith::DivFOp::create(b, loc, f32(levels), maxAbs),
        f32(0.0f));
    return {inv, arith::DivFOp::create(b, loc, maxAbs, f32(levels))};
  }
  /// Software prefetch of the cache lines `kPrefetchAhead` bytes past
  /// [at, at + bytes) of row `row` of the 2-D byte buffer `buf` (the packed
  /// weights of a panel or tile), clamped to the row's last byte. The
  /// kernels read each row once, front to back; on the Zen 3 measured, the
  /// prefetch raised batch-1 weight streaming by about 10% on top of the
  /// hardware prefetchers (docs/kernels.md).
  void prefetchAhead(Value buf, Value row, Value at, int64_t bytes) {
    int64_t rowBytes = cast<MemRefType>(buf.getType()).getDimSize(1);
    for (int64_t off = 0; off < bytes; off += 64) {
      Value ahead = arith::MinUIOp::create(
          b, loc, arith::AddIOp::create(b, loc, at, idx(kPrefetchAhead + off)),
          idx(rowBytes - 1));
      memref::PrefetchOp::create(b, loc, buf, ValueRange{row, ahead},
                                 /*isWrite=*/false, /*localityHint=*/3,
                                 /*isDataCache=*/true);
    }
  }
  /// An scf.for over [lo, hi) by `step` whose body `body` builds from the
  /// induction variable; the insertion point stays after the loop.
  void forRange(Value lo, Value hi, function_ref<void(Value)> body,
                int64_t step = 1) {
    auto op = scf::ForOp::create(b, loc, lo, hi, idx(step));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(op.getBody());
    body(op.getInductionVar());
  }
  /// An scf.for over [lo, hi) carrying `init`; `body` returns the next
  /// values from the induction variable and the carried ones. Returns the
  /// loop's results; the insertion point stays after the loop.
  ValueRange forCarrying(
      Value lo, Value hi, ValueRange init,
      function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto op = scf::ForOp::create(
        b, loc, lo, hi, idx(1), init,
        [&](OpBuilder &nested, Location, Value i, ValueRange iter) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPointToStart(nested.getInsertionBlock());
          scf::YieldOp::create(b, loc, body(i, iter));
        });
    return op.getResults();
  }
  /// forRange over the 8-column tiles [begin, end): body(tile, 8 * tile).
  void forTiles(Value begin, Value end, function_ref<void(Value, Value)> body) {
    forRange(begin, end, [&](Value t) {
      body(t, arith::MulIOp::create(b, loc, t, idx(8)));
    });
  }
  /// The 8 code bytes [at, at + 8) of the 1-D i8 buffer `codes`, as indices.
  SmallVector<Value> codeIndices(Value codes, Value at) {
    SmallVector<Value> out;
    for (int64_t l = 0; l < 8; ++l)
      out.push_back(arith::IndexCastUIOp::create(
          b, loc, b.getIndexType(),
          memref::LoadOp::create(
              b, loc, codes,
              ValueRange{arith::AddIOp::create(b, loc, at, idx(l))})));
    return out;
  }
  /// Stores the 16 integer lanes of `words` (int16 values, any integer
  /// type) as their low bytes at `buf[lo]` and high bytes at `buf[hi]`: the
  /// int16 table format of the lut_tiles and vpermi2b kernels.
  void storeLowHighBytes(Value words, Value buf, ValueRange lo, ValueRange hi) {
    auto v16i8 = VectorType::get({16}, b.getI8Type());
    auto type = cast<VectorType>(words.getType());
    Value eight = splat(type, b.getIntegerAttr(type.getElementType(), 8));
    vector::StoreOp::create(b, loc, arith::TruncIOp::create(b, loc, v16i8, words),
                            buf, lo);
    vector::StoreOp::create(
        b, loc,
        arith::TruncIOp::create(b, loc, v16i8,
                                arith::ShRSIOp::create(b, loc, words, eight)),
        buf, hi);
  }
  Value intrinsic(StringRef name, Type result, ValueRange args) {
    return callIntrinsic(b, loc, name, result, args);
  }

  OpBuilder &b;
  Location loc;
};

/// A body builder: fills the entry block of a kernel function of shape `s`
/// from its arguments `args` (the return is added by the caller).
using BodyBuilder = void (*)(OpBuilder &b, Location loc, ValueRange args,
                             const KernelShape &s);

// ActQuant.cpp
void buildActQuant(OpBuilder &b, Location loc, ValueRange args,
                   const KernelShape &s);
void buildActQuantStatic(OpBuilder &b, Location loc, ValueRange args,
                         const KernelShape &s);
void buildActRange(OpBuilder &b, Location loc, ValueRange args,
                   const KernelShape &s);
void buildActFloat(OpBuilder &b, Location loc, ValueRange args,
                   const KernelShape &s);
// DequantI8.cpp
void buildColumnKernel(OpBuilder &b, Location loc, ValueRange args,
                       const KernelShape &s);
void buildColumnKernelF32(OpBuilder &b, Location loc, ValueRange args,
                          const KernelShape &s);
// LutGemm.cpp
void buildLutTables(OpBuilder &b, Location loc, ValueRange args,
                    const KernelShape &s);
void buildLutTiles(OpBuilder &b, Location loc, ValueRange args,
                   const KernelShape &s);
// CodeGemm.cpp
void buildPsumbook(OpBuilder &b, Location loc, ValueRange args,
                   const KernelShape &s);
void buildPsumbookLanes(OpBuilder &b, Location loc, ValueRange args,
                        const KernelShape &s);
void buildCodeTiles(OpBuilder &b, Location loc, ValueRange args,
                    const KernelShape &s);
void buildCodeLaneTiles(OpBuilder &b, Location loc, ValueRange args,
                        const KernelShape &s);
/// The v activations of vector slot j of token m, x[m, j v + t], each
/// broadcast to `lanes` lanes.
SmallVector<Value> slotActivations(Emitter &e, Value x, Value m, Value j,
                                   int64_t v, int64_t lanes = 8);
/// Psumbook entries [en, en + L) of book bk for one slot: sum_t bookT[bk v +
/// t][en ..] * xs[t] (bookT: each book transposed, entry-minor; L the lanes
/// of xs).
Value psumEntries(Emitter &e, Value bookT, Value bk, ArrayRef<Value> xs,
                  Value en);
// CodeGemmTables.cpp
void buildCodeTables(OpBuilder &b, Location loc, ValueRange args,
                     const KernelShape &s);
void buildPermTables(OpBuilder &b, Location loc, ValueRange args,
                     const KernelShape &s);
void buildPermTiles(OpBuilder &b, Location loc, ValueRange args,
                    const KernelShape &s);

} // namespace cpu
} // namespace kernels
} // namespace qc

#endif // QC_LIB_CODEGEN_CPU_KERNELS_EMITTER_H
