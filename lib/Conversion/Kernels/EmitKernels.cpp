//===- EmitKernels.cpp - bodies of the generated kernels ------------------===//
//
// Gives the functions qc-gen-dequant-gemm, qc-gen-lut-gemm and
// qc-gen-codegemm declared their bodies (the LUT-GEMM and CodeGEMM ones are
// described at their builders below). For dequant_i8:
//
//   @qc_actq_*  quantizes the [M, K] input to int8 in blocks of A inputs:
//               xs[m, a] = max|x| / 127 of the block, xq = roundeven(x *
//               127 / max|x|), and xsum[m, g] = sum over the blocks of
//               weight group g of xs * sum(xq) (for the zero points);
//   @qc_dqi8_*  computes the panels of 8 output columns [begin, end): per
//               block of 32 rows, the `bits` code vectors of the panel are
//               loaded; per 4 rows one shift and one mask per code piece put
//               the codes of the 8 columns in the bytes of 8 32-bit lanes,
//               and the target's 4-byte u8 x s8 dot product per lane with
//               4 broadcast int8 activations of each of up to m_tile tokens
//               accumulates the exact integer sums of the 8 columns; each
//               A-block's sums are scaled once by xs * scale (8 columns per
//               vector, no horizontal sums):
//                 y[m, n] = sum_a xs[m,a] s[g(a),n] sum_k q[k,n] xq[m,k]
//                           - sum_g s[g,n] z[g,n] xsum[m,g] + bias[n].
//
// Runs after buffer deallocation: the dot products are LLVM intrinsics
// (llvm.call_intrinsic), whose memory effects that analysis cannot see.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "qc/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/StringSwitch.h"

namespace qc {
#define GEN_PASS_DEF_EMITKERNELS
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;
using namespace qc::kernels;

namespace {

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

/// LLVM target features the kernels of `target` need: set on the generated
/// functions so that they compile whatever CPU the module targets.
void setTargetFeatures(func::FuncOp fn, const KernelTarget &target) {
  if (target.llvmFeatures().empty())
    return;
  fn->setAttr("target_features", LLVM::TargetFeaturesAttr::get(
                                     fn.getContext(), target.llvmFeatures()));
}

//===----------------------------------------------------------------------===//
// Activation quantization
//===----------------------------------------------------------------------===//

/// Body of @qc_actq_*(x: [M, K] f32, xq: [M, Kp] i8, xs: [M, Ablocks] f32,
///                     xsum: [M, G'] f32).
void buildActQuant(OpBuilder &b, Location loc, ValueRange args,
                   const KernelShape &s) {
  MLIRContext *ctx = b.getContext();
  Type f32 = Float32Type::get(ctx), i8 = IntegerType::get(ctx, 8),
       i32 = IntegerType::get(ctx, 32);
  Emitter e(b, loc);
  Value x = args[0], xq = args[1], xs = args[2], xsum = args[3];
  constexpr int64_t kLanes = 8;
  auto vf = VectorType::get({kLanes}, f32);
  auto vi32 = VectorType::get({kLanes}, i32);
  auto vi8 = VectorType::get({kLanes}, i8);
  Value zero = e.f32(0.0f);

  scf::ForOp rows = scf::ForOp::create(b, loc, e.idx(0), e.idx(s.m), e.idx(1));
  b.setInsertionPointToStart(rows.getBody());
  Value m = rows.getInductionVar();
  scf::ForOp clear =
      scf::ForOp::create(b, loc, e.idx(0), e.idx(s.groups()), e.idx(1));
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(clear.getBody());
    memref::StoreOp::create(b, loc, zero, xsum,
                            ValueRange{m, clear.getInductionVar()});
  }
  scf::ForOp blocks =
      scf::ForOp::create(b, loc, e.idx(0), e.idx(s.actBlocks()), e.idx(1));
  b.setInsertionPointToStart(blocks.getBody());
  Value a = blocks.getInductionVar();
  Value k0 = arith::MulIOp::create(b, loc, a, e.idx(s.actBlock));
  // Reads past K give 0 (the padded rows of the last superblock).
  auto read = [&](Value k) {
    return vector::TransferReadOp::create(b, loc, vf, x, ValueRange{m, k},
                                          zero)
        .getResult();
  };
  auto laneLoop = [&](ValueRange init,
                      function_ref<SmallVector<Value>(Value, ValueRange)>
                          body) {
    auto loop = scf::ForOp::create(
        b, loc, e.idx(0), e.idx(s.actBlock), e.idx(kLanes), init,
        [&](OpBuilder &nested, Location, Value j, ValueRange iter) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPointToStart(nested.getInsertionBlock());
          SmallVector<Value> next = body(arith::AddIOp::create(b, loc, k0, j),
                                         iter);
          scf::YieldOp::create(b, loc, next);
        });
    return loop.getResults();
  };
  // max |x| over the block.
  Value maxAbs =
      laneLoop(ValueRange{e.zeros(vf)}, [&](Value k, ValueRange iter) {
        Value v = math::AbsFOp::create(b, loc, read(k));
        return SmallVector<Value>{
            arith::MaximumFOp::create(b, loc, iter[0], v)};
      })[0];
  auto [inv, scale] = e.blockScale(maxAbs, 127.0f);
  memref::StoreOp::create(b, loc, scale, xs, ValueRange{m, a});
  Value invSplat = vector::BroadcastOp::create(b, loc, vf, inv);
  // xq = roundeven(x * inv), and the block's integer sum.
  Value isum =
      laneLoop(ValueRange{e.zeros(vi32)}, [&](Value k, ValueRange iter) {
        Value r = math::RoundEvenOp::create(
            b, loc, arith::MulFOp::create(b, loc, read(k), invSplat));
        Value q = arith::FPToSIOp::create(b, loc, vi32, r);
        vector::StoreOp::create(b, loc, arith::TruncIOp::create(b, loc, vi8, q),
                                xq, ValueRange{m, k});
        return SmallVector<Value>{arith::AddIOp::create(b, loc, iter[0], q)};
      })[0];
  isum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, isum);
  Value gIdx = arith::DivUIOp::create(b, loc, k0, e.idx(s.group));
  Value old = memref::LoadOp::create(b, loc, xsum, ValueRange{m, gIdx});
  Value blockSum = arith::MulFOp::create(
      b, loc, scale, arith::SIToFPOp::create(b, loc, f32, isum));
  memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, old, blockSum),
                          xsum, ValueRange{m, gIdx});
}

//===----------------------------------------------------------------------===//
// Column kernel
//===----------------------------------------------------------------------===//

/// The u8 x s8 dot product of the kernel's target, 4 bytes per 32-bit
/// lane, on 8 lanes (one panel) or 16 (two panels, where the target's
/// panelStep() is 2). `partial` accumulates the products of one 32-row
/// block; flush() turns it into i32 lanes.
class DotProduct {
public:
  DotProduct(Emitter &e, const KernelTarget &target, int64_t lanes = 8)
      : e(e), target(target),
        partial(target.dotPartialType(e.b.getContext(), lanes)) {
    assert((lanes == 8 || lanes == 8 * target.panelStep()) &&
           "16 lanes need a target with two panels per step");
  }

  /// Type of the running partial sum.
  VectorType partialType() const { return partial; }
  /// partial + dot(codes (u8), x (s8)).
  Value accumulate(Value sum, Value codes, Value x) {
    return target.dotAccumulate(e.b, e.loc, sum, codes, x);
  }
  /// The partial sum as i32 lanes.
  Value flush(Value sum) { return target.dotFlush(e.b, e.loc, sum); }

private:
  Emitter &e;
  const KernelTarget &target;
  VectorType partial;
};

/// The code pieces of each width, low bits first (see packKernelPanels).
ArrayRef<int> pieces(unsigned bits) {
  static const int two[] = {2}, three[] = {2, 1}, four[] = {4};
  return bits == 2 ? ArrayRef<int>(two)
                   : bits == 3 ? ArrayRef<int>(three) : ArrayRef<int>(four);
}

/// Emits, at the builder's position inside the panel loop, the loop over
/// activation blocks and the epilogue for `count` tokens starting at `m0`,
/// on `step` panels from `panel` (1, or 2 for AVX-512 VNNI: the two panels'
/// 32-byte vectors side by side in one 64-byte vector, 16 columns per dot
/// product, so that the unpacking and the dot products take half the
/// instructions of one panel at a time).
void emitTokenTile(Emitter &e, const KernelShape &s, Value panel,
                   int64_t step, Value m0, int64_t count, ValueRange args) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  MLIRContext *ctx = b.getContext();
  Value xq = args[0], xs = args[1], xsum = args[2], w = args[3],
        ws = args[4], zc = args[5], bias = args[6], y = args[7];
  Type f32 = Float32Type::get(ctx), i8 = IntegerType::get(ctx, 8),
       i32 = IntegerType::get(ctx, 32);
  int64_t lanes = 8 * step; // columns of the step
  auto vcodes = VectorType::get({32 * step}, i8),
       v4i8 = VectorType::get({4}, i8);
  auto vf = VectorType::get({lanes}, f32),
       vi = VectorType::get({lanes}, i32);
  auto v1i32 = VectorType::get({1}, i32);
  Type scaleType = cast<MemRefType>(ws.getType()).getElementType();
  DotProduct dot(e, *s.target, lanes);
  VectorType partialType = dot.partialType();
  bool wideSums = partialType == vi; // the dot product gives i32 lanes
  // Independent i32 sums per token: about 8 dot products in flight.
  int64_t splits = wideSums ? std::clamp<int64_t>(8 / count, 1, 8) : 1;

  SmallVector<Value> tokens;
  for (int64_t i = 0; i < count; ++i)
    tokens.push_back(arith::AddIOp::create(b, loc, m0, e.idx(i)));
  SmallVector<Value> stepPanels = {panel};
  if (step == 2)
    stepPanels.push_back(arith::AddIOp::create(b, loc, panel, e.idx(1)));
  // `width` elements at `at` of each panel's row of `buf`, side by side.
  auto panelLoad = [&](Value buf, int64_t width, Value at) -> Value {
    auto type = VectorType::get(
        {width}, cast<MemRefType>(buf.getType()).getElementType());
    Value v = vector::LoadOp::create(b, loc, type, buf, ValueRange{panel, at});
    if (step == 1)
      return v;
    Value next = vector::LoadOp::create(b, loc, type, buf,
                                        ValueRange{stepPanels[1], at});
    return vector::ShuffleOp::create(
        b, loc, v, next, llvm::to_vector(llvm::seq<int64_t>(0, 2 * width)));
  };
  // The scales (f32) of group g of the step's columns.
  auto scalesOf = [&](Value g) -> Value {
    Value v = panelLoad(ws, 8, arith::MulIOp::create(b, loc, g, e.idx(8)));
    return scaleType.isF32() ? v : arith::ExtFOp::create(b, loc, vf, v);
  };
  // 4 activations of token m from input k, in each of the 8 lanes.
  auto broadcast4 = [&](Value m, Value k) -> Value {
    Value four = vector::LoadOp::create(b, loc, v4i8, xq, ValueRange{m, k});
    Value word = vector::ExtractOp::create(
        b, loc, vector::BitCastOp::create(b, loc, v1i32, four),
        ArrayRef<int64_t>{0});
    return vector::BitCastOp::create(
        b, loc, vcodes, vector::BroadcastOp::create(b, loc, vi, word));
  };
  int64_t rowBlocks = s.actBlock / 32;
  SmallVector<Value> init(count, e.zeros(vf));
  auto loop = scf::ForOp::create(
      b, loc, e.idx(0), e.idx(s.actBlocks()), e.idx(1), init,
      [&](OpBuilder &nested, Location, Value a, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(nested.getInsertionBlock());
        // The row blocks of the activation block: a loop, so that only one
        // block's unpacked codes are live at a time. Targets whose dot
        // product accumulates in i32 (VNNI, NEON, generic) carry `splits`
        // independent sums per token, so that a short token tile is not
        // bound by the latency of one chain of dot products.
        auto blocks = scf::ForOp::create(
            b, loc, e.idx(0), e.idx(rowBlocks), e.idx(1),
            SmallVector<Value>(count * splits, e.zeros(vi)));
        {
          OpBuilder::InsertionGuard rbGuard(b);
          b.setInsertionPointToStart(blocks.getBody());
          SmallVector<Value> sums(blocks.getRegionIterArgs());
          // Row block a * rowBlocks + rb: its code vectors, piece by piece.
          Value block = arith::AddIOp::create(
              b, loc, arith::MulIOp::create(b, loc, a, e.idx(rowBlocks)),
              blocks.getInductionVar());
          Value base = arith::MulIOp::create(b, loc, block, e.idx(s.bits * 32));
          Value k0 = arith::MulIOp::create(b, loc, block, e.idx(32));
          for (Value p : stepPanels)
            e.prefetchAhead(w, p, base, s.bits * 32);
          SmallVector<SmallVector<Value>> vectors;
          int64_t offset = 0;
          for (int width : pieces(s.bits)) {
            SmallVector<Value> &vs = vectors.emplace_back();
            for (int v = 0; v < width; ++v, offset += 32)
              vs.push_back(panelLoad(
                  w, 32, arith::AddIOp::create(b, loc, base, e.idx(offset))));
          }
          // partial[i * splits + q % splits] takes step q of token i.
          SmallVector<Value> partial =
              wideSums ? sums
                       : SmallVector<Value>(count * splits,
                                            e.zeros(partialType));
          for (int64_t q = 0; q < 8; ++q) {
            // Rows k0 + 4q .. k0 + 4q + 3 of the 8 columns, in byte lanes.
            Value codes;
            int codeShift = 0;
            for (auto [pi, width] : llvm::enumerate(pieces(s.bits))) {
              int64_t perVector = 8 / width;
              Value v = vectors[pi][q / perVector];
              int64_t shift = (q % perVector) * width;
              if (shift)
                v = arith::ShRUIOp::create(
                    b, loc, v, e.splat(vcodes, b.getI8IntegerAttr(shift)));
              if (shift + width < 8)
                v = arith::AndIOp::create(
                    b, loc, v,
                    e.splat(vcodes, b.getI8IntegerAttr((1 << width) - 1)));
              if (codeShift)
                v = arith::ShLIOp::create(
                    b, loc, v, e.splat(vcodes, b.getI8IntegerAttr(codeShift)));
              codes = codes ? arith::OrIOp::create(b, loc, codes, v).getResult()
                            : v;
              codeShift += width;
            }
            Value k = arith::AddIOp::create(b, loc, k0, e.idx(4 * q));
            for (int64_t i = 0; i < count; ++i) {
              Value &acc = partial[i * splits + q % splits];
              acc = dot.accumulate(acc, codes, broadcast4(tokens[i], k));
            }
          }
          for (int64_t i = 0; i < count * splits; ++i)
            sums[i] = wideSums ? partial[i]
                               : e.add(sums[i], dot.flush(partial[i]));
          scf::YieldOp::create(b, loc, sums);
        }
        SmallVector<Value> sums;
        for (int64_t i = 0; i < count; ++i) {
          Value total = blocks.getResult(i * splits);
          for (int64_t j = 1; j < splits; ++j)
            total = e.add(total, blocks.getResult(i * splits + j));
          sums.push_back(total);
        }
        // The block's integer sums, scaled once: the step's columns per
        // vector.
        Value g = arith::DivUIOp::create(
            b, loc, arith::MulIOp::create(b, loc, a, e.idx(s.actBlock)),
            e.idx(s.group));
        Value wScale = scalesOf(g);
        SmallVector<Value> facc(acc.begin(), acc.end());
        for (int64_t i = 0; i < count; ++i) {
          Value xScale = vector::BroadcastOp::create(
              b, loc, vf,
              memref::LoadOp::create(b, loc, xs, ValueRange{tokens[i], a}));
          facc[i] = vector::FMAOp::create(
              b, loc, arith::SIToFPOp::create(b, loc, vf, sums[i]),
              arith::MulFOp::create(b, loc, wScale, xScale), facc[i]);
        }
        scf::YieldOp::create(b, loc, facc);
      });
  // Epilogue: minus scale * zero point times the token's group sums, per
  // group for the step's columns at once, then the bias.
  Value col0 = arith::MulIOp::create(b, loc, panel, e.idx(8));
  Value biasV = vector::LoadOp::create(b, loc, vf, bias, ValueRange{col0});
  auto corr = scf::ForOp::create(
      b, loc, e.idx(0), e.idx(s.groups()), e.idx(1), loop.getResults(),
      [&](OpBuilder &nested, Location, Value g, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(nested.getInsertionBlock());
        Value zp = arith::UIToFPOp::create(
            b, loc, vf,
            panelLoad(zc, 8, arith::MulIOp::create(b, loc, g, e.idx(8))));
        Value negZ = arith::NegFOp::create(
            b, loc, arith::MulFOp::create(b, loc, scalesOf(g), zp));
        SmallVector<Value> next;
        for (int64_t i = 0; i < count; ++i) {
          Value sum = vector::BroadcastOp::create(
              b, loc, vf,
              memref::LoadOp::create(b, loc, xsum, ValueRange{tokens[i], g}));
          next.push_back(vector::FMAOp::create(b, loc, negZ, sum, acc[i]));
        }
        scf::YieldOp::create(b, loc, next);
      });
  for (int64_t i = 0; i < count; ++i)
    vector::StoreOp::create(
        b, loc, arith::AddFOp::create(b, loc, corr.getResult(i), biasV), y,
        ValueRange{tokens[i], col0});
}

/// Body of @qc_dqi8_*(xq, xs, xsum, codes [panels, panel bytes] i8, scales
/// [panels, G' * 8] f16 / f32, zero points [panels, G' * 8] i8, bias [N8]
/// f32, y [M, N8] f32, begin, end): the panels [begin, end).
void buildColumnKernel(OpBuilder &b, Location loc, ValueRange args,
                       const KernelShape &s) {
  Emitter e(b, loc);
  int64_t full = s.m / s.mTile, rest = s.m % s.mTile;
  // The token tiles of the panels [panel, panel + step).
  auto tokenTiles = [&](Value panel, int64_t step) {
    if (full > 0) {
      auto tiles = scf::ForOp::create(b, loc, e.idx(0), e.idx(full * s.mTile),
                                      e.idx(s.mTile));
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(tiles.getBody());
      emitTokenTile(e, s, panel, step, tiles.getInductionVar(), s.mTile, args);
    }
    if (rest > 0)
      emitTokenTile(e, s, panel, step, e.idx(full * s.mTile), rest, args);
  };
  Value begin = args[8], end = args[9];
  int64_t step = panelStep(s);
  Value pairsEnd = begin;
  if (step == 2) {
    // Pairs of panels, then the odd one out.
    Value pairs = arith::DivUIOp::create(
        b, loc, arith::SubIOp::create(b, loc, end, begin), e.idx(2));
    pairsEnd = arith::AddIOp::create(
        b, loc, begin, arith::MulIOp::create(b, loc, pairs, e.idx(2)));
    e.forRange(
        begin, pairsEnd, [&](Value panel) { tokenTiles(panel, 2); }, 2);
  }
  e.forRange(pairsEnd, end, [&](Value panel) { tokenTiles(panel, 1); });
}

//===----------------------------------------------------------------------===//
// LUT-GEMM (lut_bcq)
//===----------------------------------------------------------------------===//

/// Body of @qc_lutt_*(xq: [M, Kp] i8, tables: [M, Kp / 4, 32] i8): for
/// every token and 4 inputs, T[idx] = sum_j bit_j(idx) * xq[4c + j] for the
/// 16 indices, as i16; bytes 0-15 hold the low bytes, 16-31 the high bytes.
void buildLutTables(OpBuilder &b, Location loc, ValueRange args,
                    const KernelShape &s) {
  Emitter e(b, loc);
  MLIRContext *ctx = b.getContext();
  Value xq = args[0], tables = args[1];
  Type i16 = IntegerType::get(ctx, 16);
  auto v16i16 = VectorType::get({16}, i16);
  // Bit j of each of the 16 indices.
  SmallVector<Value> masks;
  for (int j = 0; j < 4; ++j) {
    SmallVector<int16_t> bits;
    for (int idx = 0; idx < 16; ++idx)
      bits.push_back(static_cast<int16_t>(idx >> j & 1));
    masks.push_back(arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(v16i16, ArrayRef<int16_t>(bits))));
  }
  auto rows = scf::ForOp::create(b, loc, e.idx(0), e.idx(s.m), e.idx(1));
  b.setInsertionPointToStart(rows.getBody());
  Value m = rows.getInductionVar();
  auto chunks =
      scf::ForOp::create(b, loc, e.idx(0), e.idx(s.paddedK() / 4), e.idx(1));
  b.setInsertionPointToStart(chunks.getBody());
  Value c = chunks.getInductionVar();
  Value k0 = arith::MulIOp::create(b, loc, c, e.idx(4));
  Value table;
  for (int j = 0; j < 4; ++j) {
    Value k = arith::AddIOp::create(b, loc, k0, e.idx(j));
    Value x = memref::LoadOp::create(b, loc, xq, ValueRange{m, k});
    Value wide = vector::BroadcastOp::create(
        b, loc, v16i16, arith::ExtSIOp::create(b, loc, i16, x));
    Value term = arith::MulIOp::create(b, loc, wide, masks[j]);
    table = table ? arith::AddIOp::create(b, loc, table, term).getResult()
                  : term;
  }
  e.storeLowHighBytes(table, tables, ValueRange{m, c, e.idx(0)},
                      ValueRange{m, c, e.idx(16)});
}

/// Body of @qc_lutgemm_*(xs, xsum, tables, planes [tiles, chunks * P * 32]
/// i8, 2 alpha [tiles, G * P * 32] f32, offset - sum alpha [tiles, G * 32]
/// f32 (each tile's metadata contiguous, read in order), bias [N'],
/// y [M, N'], begin, end): the 32-column tiles [begin, end).
void buildLutTiles(OpBuilder &b, Location loc, ValueRange args,
                   const KernelShape &s) {
  Emitter e(b, loc);
  MLIRContext *ctx = b.getContext();
  Value xs = args[0], xsum = args[1], tables = args[2], w = args[3],
        alpha = args[4], corr = args[5], bias = args[6], y = args[7];
  Type f32 = Float32Type::get(ctx), i8 = IntegerType::get(ctx, 8),
       i16 = IntegerType::get(ctx, 16), i32 = IntegerType::get(ctx, 32);
  auto v32i8 = VectorType::get({32}, i8), v16i8 = VectorType::get({16}, i8);
  auto v16i16 = VectorType::get({16}, i16);
  auto v8i32 = VectorType::get({8}, i32), v8f32 = VectorType::get({8}, f32);
  int64_t planes = s.bits;
  int64_t pairsPerBlock = s.actBlock / 8;
  Value nibble = e.splat(v32i8, b.getI8IntegerAttr(15));
  Value four = e.splat(v32i8, b.getI8IntegerAttr(4));
  // The lookups' low and high bytes, taken as int16 words: the even bytes
  // are columns 0-15 of the tile, the odd bytes columns 16-31 (the packing's
  // lane order), so masks and shifts rebuild the int16 table values without
  // byte shuffles: even = (lo & 0xff) + (hi << 8), odd = (lo >> 8) +
  // (hi & 0xff00).
  Value lowByte = e.splat(v16i16, b.getI16IntegerAttr(0x00ff));
  Value highByte =
      e.splat(v16i16, b.getI16IntegerAttr(static_cast<int16_t>(0xff00)));
  Value eightBits = e.splat(v16i16, b.getI16IntegerAttr(8));
  SmallVector<int64_t> twice;
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t j = 0; j < 16; ++j)
      twice.push_back(j);
  // 32 byte lookups of a 16-byte table (in both halves of `table`) at
  // indices 0-15: one vpshufb on x86, a tbl per 16-byte half on NEON.
  auto lookup = [&](Value table, Value idx) -> Value {
    return s.target->lookup16(b, loc, table, idx);
  };

  auto tilesLoop = scf::ForOp::create(b, loc, args[8], args[9], e.idx(1));
  b.setInsertionPointToStart(tilesLoop.getBody());
  Value tile = tilesLoop.getInductionVar();
  Value col0 = arith::MulIOp::create(b, loc, tile, e.idx(32));
  auto tokens = scf::ForOp::create(b, loc, e.idx(0), e.idx(s.m), e.idx(1));
  b.setInsertionPointToStart(tokens.getBody());
  Value m = tokens.getInductionVar();
  SmallVector<Value> zeroF(4, e.zeros(v8f32));
  auto blocks = scf::ForOp::create(
      b, loc, e.idx(0), e.idx(s.actBlocks()), e.idx(1), zeroF,
      [&](OpBuilder &nb, Location, Value a, ValueRange facc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(nb.getInsertionBlock());
        SmallVector<Value> zeroAcc(2 * planes, e.zeros(v16i16));
        Value pair0 = arith::MulIOp::create(b, loc, a, e.idx(pairsPerBlock));
        auto pairs = scf::ForOp::create(
            b, loc, e.idx(0), e.idx(pairsPerBlock), e.idx(1), zeroAcc,
            [&](OpBuilder &pb, Location, Value p, ValueRange acc) {
              OpBuilder::InsertionGuard g2(b);
              b.setInsertionPointToStart(pb.getInsertionBlock());
              Value pair = arith::AddIOp::create(b, loc, pair0, p);
              SmallVector<Value> next(acc.begin(), acc.end());
              SmallVector<Value> codes;
              e.prefetchAhead(
                  w, tile,
                  arith::MulIOp::create(b, loc, pair, e.idx(planes * 32)),
                  planes * 32);
              for (int64_t i = 0; i < planes; ++i) {
                Value off = arith::AddIOp::create(
                    b, loc, arith::MulIOp::create(b, loc, pair,
                                                  e.idx(planes * 32)),
                    e.idx(i * 32));
                codes.push_back(vector::LoadOp::create(
                    b, loc, v32i8, w, ValueRange{tile, off}));
              }
              for (int64_t parity = 0; parity < 2; ++parity) {
                Value chunk = arith::AddIOp::create(
                    b, loc, arith::MulIOp::create(b, loc, pair, e.idx(2)),
                    e.idx(parity));
                auto table = [&](int64_t half) {
                  Value t = vector::LoadOp::create(
                      b, loc, v16i8, tables,
                      ValueRange{m, chunk, e.idx(16 * half)});
                  return vector::ShuffleOp::create(b, loc, t, t, twice)
                      .getResult();
                };
                Value tlo = table(0), thi = table(1);
                for (int64_t i = 0; i < planes; ++i) {
                  Value idx = parity ? arith::ShRUIOp::create(b, loc,
                                                              codes[i], four)
                                           .getResult()
                                     : codes[i];
                  idx = arith::AndIOp::create(b, loc, idx, nibble);
                  Value lo = lookup(tlo, idx), hi = lookup(thi, idx);
                  Value wl = vector::BitCastOp::create(b, loc, v16i16, lo);
                  Value wh = vector::BitCastOp::create(b, loc, v16i16, hi);
                  Value even = e.add(
                      arith::AndIOp::create(b, loc, wl, lowByte),
                      arith::ShLIOp::create(b, loc, wh, eightBits));
                  Value odd = e.add(
                      arith::ShRUIOp::create(b, loc, wl, eightBits),
                      arith::AndIOp::create(b, loc, wh, highByte));
                  next[2 * i] = e.add(next[2 * i], even);
                  next[2 * i + 1] = e.add(next[2 * i + 1], odd);
                }
              }
              scf::YieldOp::create(b, loc, next);
            });
        // Scale the block: int16 lane q of half h (even / odd) holds
        // column 16 h + q of the tile.
        Value xScale = vector::BroadcastOp::create(
            b, loc, v8f32,
            memref::LoadOp::create(b, loc, xs, ValueRange{m, a}));
        Value g = arith::DivUIOp::create(
            b, loc, arith::MulIOp::create(b, loc, a, e.idx(s.actBlock)),
            e.idx(s.group));
        SmallVector<Value> out(facc.begin(), facc.end());
        for (int64_t i = 0; i < planes; ++i)
          for (int64_t h = 0; h < 2; ++h)
            for (int64_t lane = 0; lane < 2; ++lane) {
              int64_t rg = h * 2 + lane; // columns 8 rg .. 8 rg + 7
              Value part = vector::ExtractStridedSliceOp::create(
                  b, loc, pairs.getResult(2 * i + h),
                  ArrayRef<int64_t>{lane * 8}, ArrayRef<int64_t>{8},
                  ArrayRef<int64_t>{1});
              Value sums = arith::SIToFPOp::create(
                  b, loc, v8f32, arith::ExtSIOp::create(b, loc, v8i32, part));
              // 2 alpha of the tile: [group][plane][32 columns].
              Value at = arith::AddIOp::create(
                  b, loc,
                  arith::MulIOp::create(b, loc, g, e.idx(planes * 32)),
                  e.idx(i * 32 + 8 * rg));
              Value a2 = vector::LoadOp::create(b, loc, v8f32, alpha,
                                                ValueRange{tile, at});
              out[rg] = vector::FMAOp::create(
                  b, loc, sums, arith::MulFOp::create(b, loc, a2, xScale),
                  out[rg]);
            }
        scf::YieldOp::create(b, loc, out);
      });
  // Offsets and -sum alpha times the group sums, then the bias.
  for (int64_t rg = 0; rg < 4; ++rg) {
    Value col = arith::AddIOp::create(b, loc, col0, e.idx(8 * rg));
    auto groups = scf::ForOp::create(
        b, loc, e.idx(0), e.idx(s.groups()), e.idx(1),
        ValueRange{blocks.getResult(rg)},
        [&](OpBuilder &gb, Location, Value g, ValueRange acc) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(gb.getInsertionBlock());
          Value at = arith::AddIOp::create(
              b, loc, arith::MulIOp::create(b, loc, g, e.idx(32)),
              e.idx(8 * rg));
          Value c = vector::LoadOp::create(b, loc, v8f32, corr,
                                           ValueRange{tile, at});
          Value sum = vector::BroadcastOp::create(
              b, loc, v8f32,
              memref::LoadOp::create(b, loc, xsum, ValueRange{m, g}));
          scf::YieldOp::create(
              b, loc, ValueRange{vector::FMAOp::create(b, loc, c, sum,
                                                       acc[0])});
        });
    Value biasV = vector::LoadOp::create(b, loc, v8f32, bias, ValueRange{col});
    vector::StoreOp::create(
        b, loc, arith::AddFOp::create(b, loc, groups.getResult(0), biasV), y,
        ValueRange{m, col});
  }
}

//===----------------------------------------------------------------------===//
// CodeGEMM (codegemm)
//===----------------------------------------------------------------------===//

/// The v activations of vector slot j of token m, x[m, j v + t], each
/// broadcast to `lanes` lanes.
SmallVector<Value> slotActivations(Emitter &e, Value x, Value m, Value j,
                                   int64_t v, int64_t lanes = 8) {
  auto v8f32 = VectorType::get({lanes}, e.b.getF32Type());
  SmallVector<Value> xs;
  for (int64_t t = 0; t < v; ++t) {
    Value k = arith::AddIOp::create(
        e.b, e.loc, arith::MulIOp::create(e.b, e.loc, j, e.idx(v)), e.idx(t));
    xs.push_back(vector::BroadcastOp::create(
        e.b, e.loc, v8f32,
        memref::LoadOp::create(e.b, e.loc, x, ValueRange{m, k})));
  }
  return xs;
}

/// Psumbook entries [en, en + L) of book bk for one slot: sum_t bookT[bk v +
/// t][en ..] * xs[t] (bookT: each book transposed, entry-minor; L the lanes
/// of xs).
Value psumEntries(Emitter &e, Value bookT, Value bk, ArrayRef<Value> xs,
                  Value en) {
  auto v8f32 = cast<VectorType>(xs.front().getType());
  int64_t v = xs.size();
  Value acc = e.zeros(v8f32);
  for (int64_t t = 0; t < v; ++t) {
    Value r = arith::AddIOp::create(
        e.b, e.loc, arith::MulIOp::create(e.b, e.loc, bk, e.idx(v)), e.idx(t));
    Value c = vector::LoadOp::create(e.b, e.loc, v8f32, bookT,
                                     ValueRange{r, en});
    acc = vector::FMAOp::create(e.b, e.loc, c, xs[t], acc);
  }
  return acc;
}

/// Body of @qc_psumbook_*(x: [M, K] f32, bookT: [B * v, E] f32 (each book
/// transposed: entry-minor), P: [R' / R, M, R, E] f32): with row = b K / v
/// + j, P[row / R][m][row % R][e] = sum_t bookT[b v + t][e] * x[m, j v + t],
/// 8 entries per vector; the rows from B K / v to R' (codeRowsPadded) are
/// zero. Chunk-major, so that a chunk's rows of all tokens are contiguous
/// (token-major rows 1 MiB apart would share L1 sets).
void buildPsumbook(OpBuilder &b, Location loc, ValueRange args,
                   const KernelShape &s) {
  Emitter e(b, loc);
  Value x = args[0], book = args[1], psum = args[2];
  int64_t books = s.bits, v = s.group, entries = s.actBlock, slots = s.k / v;
  auto rows = scf::ForOp::create(b, loc, e.idx(0), e.idx(s.m), e.idx(1));
  b.setInsertionPointToStart(rows.getBody());
  Value m = rows.getInductionVar();
  auto bookLoop = scf::ForOp::create(b, loc, e.idx(0), e.idx(books), e.idx(1));
  b.setInsertionPointToStart(bookLoop.getBody());
  Value bk = bookLoop.getInductionVar();
  auto slotLoop = scf::ForOp::create(b, loc, e.idx(0), e.idx(slots), e.idx(1));
  b.setInsertionPointToStart(slotLoop.getBody());
  Value j = slotLoop.getInductionVar();
  Value row = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, bk, e.idx(slots)), j);
  SmallVector<Value> xs = slotActivations(e, x, m, j, v);
  auto entryLoop =
      scf::ForOp::create(b, loc, e.idx(0), e.idx(entries), e.idx(8));
  b.setInsertionPointToStart(entryLoop.getBody());
  Value en = entryLoop.getInductionVar();
  int64_t chunkRows = codeChunkRows(s);
  auto at = [&](Value row, Value en) -> SmallVector<Value> {
    return {arith::DivUIOp::create(b, loc, row, e.idx(chunkRows)), m,
            arith::RemUIOp::create(b, loc, row, e.idx(chunkRows)), en};
  };
  vector::StoreOp::create(b, loc, psumEntries(e, book, bk, xs, en), psum,
                          at(row, en));
  // The padding rows of the last chunk.
  b.setInsertionPointAfter(bookLoop);
  auto padRows = scf::ForOp::create(b, loc, e.idx(books * slots),
                                    e.idx(codeRowsPadded(s)), e.idx(1));
  b.setInsertionPointToStart(padRows.getBody());
  auto padEntries =
      scf::ForOp::create(b, loc, e.idx(0), e.idx(entries), e.idx(8));
  b.setInsertionPointToStart(padEntries.getBody());
  vector::StoreOp::create(
      b, loc, e.zeros(VectorType::get({8}, b.getF32Type())), psum,
      at(padRows.getInductionVar(), padEntries.getInductionVar()));
}

/// Body of @qc_psumlanes_*(x: [M, K] f32, bookT: [B * v, E] f32, P: [R' /
/// R, G, R, E, L] f32, begin, end) for M > 1 (L = codeLanes, G =
/// codeTokenGroups): for the chunks [begin, end), with row = b K / v + j,
/// P[row / R][g][row % R][e][l] = sum_t bookT[b v + t][e] * x[g L + l, j v +
/// t], a vector of the L tokens per entry; tokens past M and rows past B K /
/// v are zero.
void buildPsumbookLanes(OpBuilder &b, Location loc, ValueRange args,
                        const KernelShape &s) {
  Emitter e(b, loc);
  Value x = args[0], book = args[1], psum = args[2];
  int64_t v = s.group, entries = s.actBlock, slots = s.k / v;
  int64_t rows = s.bits * slots, chunkRows = codeChunkRows(s);
  int64_t lanes = codeLanes(s);
  auto laneType = VectorType::get({lanes}, b.getF32Type());
  auto chunkLoop = scf::ForOp::create(b, loc, args[3], args[4], e.idx(1));
  b.setInsertionPointToStart(chunkLoop.getBody());
  Value c = chunkLoop.getInductionVar();
  for (int64_t g = 0; g < codeTokenGroups(s); ++g) {
    int64_t count = std::min<int64_t>(lanes, s.m - g * lanes);
    auto rowLoop =
        scf::ForOp::create(b, loc, e.idx(0), e.idx(chunkRows), e.idx(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rowLoop.getBody());
    Value r = rowLoop.getInductionVar();
    Value row = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, c, e.idx(chunkRows)), r);
    auto entryLoop = [&](function_ref<Value(Value)> value) {
      auto loop =
          scf::ForOp::create(b, loc, e.idx(0), e.idx(entries), e.idx(1));
      OpBuilder::InsertionGuard entryGuard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value en = loop.getInductionVar();
      vector::StoreOp::create(b, loc, value(en), psum,
                              ValueRange{c, e.idx(g), r, en, e.idx(0)});
    };
    Value real = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row,
                                       e.idx(rows));
    auto branch = scf::IfOp::create(b, loc, real, /*withElseRegion=*/true);
    b.setInsertionPointToStart(&branch.getThenRegion().front());
    Value bk = arith::DivUIOp::create(b, loc, row, e.idx(slots));
    Value j = arith::RemUIOp::create(b, loc, row, e.idx(slots));
    // xs[t]: input j v + t of the group's tokens, one per lane.
    SmallVector<Value> xs;
    for (int64_t t = 0; t < v; ++t) {
      Value k = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, j, e.idx(v)), e.idx(t));
      Value lanesOf = e.zeros(laneType);
      for (int64_t l = 0; l < count; ++l)
        lanesOf = vector::InsertOp::create(
            b, loc,
            memref::LoadOp::create(b, loc, x,
                                   ValueRange{e.idx(g * lanes + l), k}),
            lanesOf, l);
      xs.push_back(lanesOf);
    }
    entryLoop([&](Value en) {
      Value acc = e.zeros(laneType);
      for (int64_t t = 0; t < v; ++t) {
        Value at = arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, bk, e.idx(v)), e.idx(t));
        Value centroid = vector::BroadcastOp::create(
            b, loc, laneType,
            memref::LoadOp::create(b, loc, book, ValueRange{at, en}));
        acc = vector::FMAOp::create(b, loc, centroid, xs[t], acc);
      }
      return acc;
    });
    b.setInsertionPointToStart(&branch.getElseRegion().front());
    entryLoop([&](Value) { return e.zeros(laneType); });
  }
}

/// Body of @qc_cgtables_*(x: [M, K] f32, book16: [B * v, 16] f32, tables:
/// [M, C', 32] i8, ps: [M, C' / 32] f32, xsum: [M, G'] f32) for codebooks of
/// at most 16 entries: per token and block of 32 (book, slot) chunks c, the
/// psumbook rows P[c][e] = sum_t book16[b v + t][e] x[j v + t] (c = b K / v
/// + j) as int16 round(P / ps), ps = max |P| / 1023 over the block, low
/// bytes then high bytes (the lut_tiles table format); chunks past B K / v
/// and xsum (no offsets) are zero.
void buildCodeTables(OpBuilder &b, Location loc, ValueRange args,
                     const KernelShape &s) {
  Emitter e(b, loc);
  MLIRContext *ctx = b.getContext();
  Value x = args[0], book = args[1], tables = args[2], ps = args[3],
        xsum = args[4];
  int64_t v = s.group, slots = s.k / v, chunks = s.bits * slots;
  auto tablesType = cast<MemRefType>(tables.getType());
  int64_t paddedChunks = tablesType.getDimSize(1);
  int64_t groups = cast<MemRefType>(xsum.getType()).getDimSize(1);
  Type f32 = Float32Type::get(ctx), i8 = IntegerType::get(ctx, 8),
       i32 = IntegerType::get(ctx, 32);
  auto v8f32 = VectorType::get({8}, f32);
  auto v16i8 = VectorType::get({16}, i8);
  Value zero = e.f32(0.0f);
  SmallVector<int64_t> concat;
  for (int64_t i = 0; i < 16; ++i)
    concat.push_back(i);

  auto loop = [&](Value lo, Value hi, ValueRange init,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto op = scf::ForOp::create(
        b, loc, lo, hi, e.idx(1), init,
        [&](OpBuilder &nested, Location, Value i, ValueRange iter) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPointToStart(nested.getInsertionBlock());
          scf::YieldOp::create(b, loc, body(i, iter));
        });
    return op.getResults();
  };
  auto rows = scf::ForOp::create(b, loc, e.idx(0), e.idx(s.m), e.idx(1));
  b.setInsertionPointToStart(rows.getBody());
  Value m = rows.getInductionVar();
  loop(e.idx(0), e.idx(groups), {}, [&](Value g, ValueRange) {
    memref::StoreOp::create(b, loc, zero, xsum, ValueRange{m, g});
    return SmallVector<Value>{};
  });
  Value zeroBytes = e.zeros(v16i8);
  loop(e.idx(chunks), e.idx(paddedChunks), {}, [&](Value c, ValueRange) {
    for (int64_t h = 0; h < 2; ++h)
      vector::StoreOp::create(b, loc, zeroBytes, tables,
                              ValueRange{m, c, e.idx(16 * h)});
    return SmallVector<Value>{};
  });
  // The 16 entries of chunk c, as two vectors of 8.
  auto psum = [&](Value c) {
    Value bk = arith::DivUIOp::create(b, loc, c, e.idx(slots));
    Value j = arith::RemUIOp::create(b, loc, c, e.idx(slots));
    SmallVector<Value> xs = slotActivations(e, x, m, j, v);
    return SmallVector<Value>{psumEntries(e, book, bk, xs, e.idx(0)),
                              psumEntries(e, book, bk, xs, e.idx(8))};
  };
  auto blocks = scf::ForOp::create(b, loc, e.idx(0),
                                   e.idx(paddedChunks / 32), e.idx(1));
  b.setInsertionPointToStart(blocks.getBody());
  Value a = blocks.getInductionVar();
  Value c0 = arith::MulIOp::create(b, loc, a, e.idx(32));
  Value c1 = arith::MinSIOp::create(
      b, loc, arith::AddIOp::create(b, loc, c0, e.idx(32)), e.idx(chunks));
  Value maxAbs = loop(c0, c1, ValueRange{e.zeros(v8f32)},
                      [&](Value c, ValueRange iter) {
                        Value acc = iter[0];
                        for (Value half : psum(c))
                          acc = arith::MaximumFOp::create(
                              b, loc, acc, math::AbsFOp::create(b, loc, half));
                        return SmallVector<Value>{acc};
                      })[0];
  auto [inv, scale] = e.blockScale(maxAbs, 1023.0f);
  memref::StoreOp::create(b, loc, scale, ps, ValueRange{m, a});
  Value invSplat = vector::BroadcastOp::create(b, loc, v8f32, inv);
  loop(c0, c1, {}, [&](Value c, ValueRange) {
    SmallVector<Value> q;
    for (Value half : psum(c))
      q.push_back(arith::FPToSIOp::create(
          b, loc, VectorType::get({8}, i32),
          math::RoundEvenOp::create(
              b, loc, arith::MulFOp::create(b, loc, half, invSplat))));
    Value all = vector::ShuffleOp::create(b, loc, q[0], q[1], concat);
    e.storeLowHighBytes(all, tables, ValueRange{m, c, e.idx(0)},
                        ValueRange{m, c, e.idx(16)});
    return SmallVector<Value>{};
  });
}

/// Body of @qc_cgptables_*(x: [M, K] f32, bookT: [B * v, E'] f32, tables:
/// [M, R', 2 E'] i8, ps: [M, R' / 32] f32, begin, end) for AVX-512 VBMI
/// (E' = permEntries): per block a of kPermBlockRows (book, slot) rows in
/// [begin, end) and token, the psumbook rows P[r][e] = sum_t bookT[b v +
/// t][e] x[j v + t] (r = b K / v + j) as int16 round(P / ps), ps = max |P| /
/// 1023 over the block: low bytes at [0, E'), high bytes at [E', 2 E');
/// rows past B K / v are zero.
void buildPermTables(OpBuilder &b, Location loc, ValueRange args,
                     const KernelShape &s) {
  Emitter e(b, loc);
  MLIRContext *ctx = b.getContext();
  Value x = args[0], book = args[1], tables = args[2], ps = args[3];
  int64_t v = s.group, slots = s.k / v, rows = s.bits * slots;
  int64_t entries = permEntries(s);
  Type f32 = Float32Type::get(ctx), i8 = IntegerType::get(ctx, 8),
       i32 = IntegerType::get(ctx, 32);
  auto v16f32 = VectorType::get({16}, f32), v16i32 = VectorType::get({16}, i32);
  auto v16i8 = VectorType::get({16}, i8);
  // One token's f32 psums of one block, kept for the second pass.
  Value scratch = memref::AllocaOp::create(
      b, loc, MemRefType::get({kPermBlockRows, entries}, f32));
  e.forRange(args[4], args[5], [&](Value a) {
    Value r0 = arith::MulIOp::create(b, loc, a, e.idx(kPermBlockRows));
    Value rEnd = arith::AddIOp::create(b, loc, r0, e.idx(kPermBlockRows));
    Value r1 = arith::MinSIOp::create(b, loc, rEnd, e.idx(rows));
    e.forRange(e.idx(0), e.idx(s.m), [&](Value m) {
      auto rowLoop = scf::ForOp::create(
          b, loc, r0, r1, e.idx(1), ValueRange{e.zeros(v16f32)},
          [&](OpBuilder &nb, Location, Value r, ValueRange iter) {
            OpBuilder::InsertionGuard g(b);
            b.setInsertionPointToStart(nb.getInsertionBlock());
            Value bk = arith::DivUIOp::create(b, loc, r, e.idx(slots));
            Value j = arith::RemUIOp::create(b, loc, r, e.idx(slots));
            SmallVector<Value> xs = slotActivations(e, x, m, j, v, 16);
            Value local = arith::SubIOp::create(b, loc, r, r0);
            auto entryLoop = scf::ForOp::create(
                b, loc, e.idx(0), e.idx(entries), e.idx(16), iter,
                [&](OpBuilder &eb, Location, Value en, ValueRange acc) {
                  OpBuilder::InsertionGuard g2(b);
                  b.setInsertionPointToStart(eb.getInsertionBlock());
                  Value p = psumEntries(e, book, bk, xs, en);
                  vector::StoreOp::create(b, loc, p, scratch,
                                          ValueRange{local, en});
                  scf::YieldOp::create(
                      b, loc,
                      ValueRange{arith::MaximumFOp::create(
                          b, loc, acc[0], math::AbsFOp::create(b, loc, p))});
                });
            scf::YieldOp::create(b, loc, entryLoop.getResults());
          });
      auto [inv, scale] = e.blockScale(rowLoop.getResult(0), 1023.0f);
      memref::StoreOp::create(b, loc, scale, ps, ValueRange{m, a});
      Value invSplat = vector::BroadcastOp::create(b, loc, v16f32, inv);
      e.forRange(r0, r1, [&](Value r) {
        Value local = arith::SubIOp::create(b, loc, r, r0);
        e.forRange(
            e.idx(0), e.idx(entries),
            [&](Value en) {
              Value p = vector::LoadOp::create(b, loc, v16f32, scratch,
                                               ValueRange{local, en});
              Value q = arith::FPToSIOp::create(
                  b, loc, v16i32,
                  math::RoundEvenOp::create(
                      b, loc, arith::MulFOp::create(b, loc, p, invSplat)));
              Value hiAt = arith::AddIOp::create(b, loc, en, e.idx(entries));
              e.storeLowHighBytes(q, tables, ValueRange{m, r, en},
                                  ValueRange{m, r, hiAt});
            },
            16);
      });
      Value zeroBytes = e.zeros(v16i8);
      e.forRange(r1, rEnd, [&](Value r) {
        e.forRange(
            e.idx(0), e.idx(2 * entries),
            [&](Value at) {
              vector::StoreOp::create(b, loc, zeroBytes, tables,
                                      ValueRange{m, r, at});
            },
            16);
      });
    });
  });
}

/// Body of @qc_cgperm_*(tables: [M, R', 2 E'] i8, ps: [M, R' / 32] f32,
/// codes: [R' * N'] i8 (permCodeOffset), scale [N'], bias [N'], y [M, N'],
/// begin, end) for AVX-512 VBMI: the 64-column tiles [begin, end). Block by
/// block (a token's 32 table rows, 16 or 32 KiB, stay in L1 while every tile
/// of the range looks up in them), token by token and tile by tile: per row,
/// the 64 code bytes index the row's low-byte and high-byte tables with
/// vpermi2b (128 entries each; for 256, a second pair over entries 128-255
/// and a select on the code's top bit), the two byte vectors interleave into
/// int16 columns 0-31 and 32-63, summed over the block's rows and then
/// scaled by the block's ps into y; a last pass applies the column scales
/// and the bias.
void buildPermTiles(OpBuilder &b, Location loc, ValueRange args,
                    const KernelShape &s) {
  Emitter e(b, loc);
  MLIRContext *ctx = b.getContext();
  Value tables = args[0], ps = args[1], codes = args[2], scale = args[3],
        bias = args[4], y = args[5], begin = args[6], end = args[7];
  int64_t entries = permEntries(s), blocks = permRowsPadded(s) / kPermBlockRows;
  int64_t tiles = cast<MemRefType>(y.getType()).getDimSize(1) / 64;
  int64_t codeBytes = cast<MemRefType>(codes.getType()).getDimSize(0);
  Type f32 = Float32Type::get(ctx), i8 = IntegerType::get(ctx, 8),
       i16 = IntegerType::get(ctx, 16), i32 = IntegerType::get(ctx, 32);
  auto v64i8 = VectorType::get({64}, i8), v32i16 = VectorType::get({32}, i16);
  auto v16i32 = VectorType::get({16}, i32), v16f32 = VectorType::get({16}, f32);
  // vpunpcklbw / vpunpckhbw of (low bytes, high bytes): per 128-bit lane L,
  // the int16 words of bytes 16 L + [0, 8) and 16 L + [8, 16).
  SmallVector<int64_t> unpackLo, unpackHi;
  for (int64_t lane = 0; lane < 4; ++lane)
    for (int64_t j = 0; j < 8; ++j) {
      for (int64_t half = 0; half < 2; ++half)
        unpackLo.push_back(64 * half + 16 * lane + j);
      for (int64_t half = 0; half < 2; ++half)
        unpackHi.push_back(64 * half + 16 * lane + 8 + j);
    }
  auto column = [&](Value t, int64_t off) {
    return arith::AddIOp::create(
               b, loc, arith::MulIOp::create(b, loc, t, e.idx(64)),
               e.idx(off))
        .getResult();
  };
  auto forTokens = [&](function_ref<void(Value)> body) {
    e.forRange(e.idx(0), e.idx(s.m), body);
  };
  Value zeroF = e.zeros(v16f32), zeroB = e.zeros(v64i8);
  e.forRange(begin, end, [&](Value t) {
    forTokens([&](Value m) {
      for (int64_t h = 0; h < 4; ++h)
        vector::StoreOp::create(b, loc, zeroF, y,
                                ValueRange{m, column(t, 16 * h)});
    });
  });
  e.forRange(e.idx(0), e.idx(blocks), [&](Value a) {
    forTokens([&](Value m) {
      Value blockScale = vector::BroadcastOp::create(
          b, loc, v16f32, memref::LoadOp::create(b, loc, ps, ValueRange{m, a}));
      e.forRange(begin, end, [&](Value t) {
        Value base = arith::MulIOp::create(
            b, loc,
            arith::AddIOp::create(
                b, loc, arith::MulIOp::create(b, loc, a, e.idx(tiles)), t),
            e.idx(kPermBlockRows * 64));
        Value row0 = arith::MulIOp::create(b, loc, a, e.idx(kPermBlockRows));
        SmallVector<Value> zeroAcc(2, e.zeros(v32i16));
        auto rowLoop = scf::ForOp::create(
            b, loc, e.idx(0), e.idx(kPermBlockRows), e.idx(1), zeroAcc,
            [&](OpBuilder &nb, Location, Value r, ValueRange acc) {
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPointToStart(nb.getInsertionBlock());
              Value at = arith::AddIOp::create(
                  b, loc, base, arith::MulIOp::create(b, loc, r, e.idx(64)));
              // The codes stream from memory once (one token) or from L2:
              // a software prefetch kPrefetchAhead bytes ahead, as the
              // dequant_i8 and lut_bcq kernels do.
              memref::PrefetchOp::create(
                  b, loc, codes,
                  ValueRange{arith::MinUIOp::create(
                      b, loc,
                      arith::AddIOp::create(b, loc, at,
                                            e.idx(kPrefetchAhead)),
                      e.idx(codeBytes - 1))},
                  /*isWrite=*/false, /*localityHint=*/3,
                  /*isDataCache=*/true);
              Value idx =
                  vector::LoadOp::create(b, loc, v64i8, codes, ValueRange{at});
              Value row = arith::AddIOp::create(b, loc, row0, r);
              Value upper =
                  entries > 128
                      ? arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                              idx, zeroB)
                            .getResult()
                      : Value();
              // The looked-up bytes of table half `at` (0: low bytes, E':
              // high bytes).
              auto lookup = [&](int64_t at) {
                auto part = [&](int64_t first) {
                  auto table = [&](int64_t off) {
                    return vector::LoadOp::create(
                               b, loc, v64i8, tables,
                               ValueRange{m, row, e.idx(at + first + off)})
                        .getResult();
                  };
                  Value low = table(0), high = table(64);
                  return s.target->lookup128(b, loc, low, idx, high);
                };
                Value low = part(0);
                if (!upper)
                  return low;
                return arith::SelectOp::create(b, loc, upper, part(128), low)
                    .getResult();
              };
              Value lo = lookup(0), hi = lookup(entries);
              SmallVector<Value> next;
              for (int64_t i = 0; i < 2; ++i) {
                Value words = vector::BitCastOp::create(
                    b, loc, v32i16,
                    vector::ShuffleOp::create(b, loc, lo, hi,
                                              i ? unpackHi : unpackLo));
                next.push_back(e.add(acc[i], words));
              }
              scf::YieldOp::create(b, loc, next);
            });
        for (int64_t h = 0; h < 4; ++h) {
          Value part = vector::ExtractStridedSliceOp::create(
              b, loc, rowLoop.getResult(h / 2), ArrayRef<int64_t>{16 * (h % 2)},
              ArrayRef<int64_t>{16}, ArrayRef<int64_t>{1});
          Value sums = arith::SIToFPOp::create(
              b, loc, v16f32, arith::ExtSIOp::create(b, loc, v16i32, part));
          Value col = column(t, 16 * h);
          Value old = vector::LoadOp::create(b, loc, v16f32, y,
                                             ValueRange{m, col});
          vector::StoreOp::create(
              b, loc, vector::FMAOp::create(b, loc, sums, blockScale, old), y,
              ValueRange{m, col});
        }
      });
    });
  });
  e.forRange(begin, end, [&](Value t) {
    for (int64_t h = 0; h < 4; ++h) {
      Value col = column(t, 16 * h);
      Value sc = vector::LoadOp::create(b, loc, v16f32, scale, ValueRange{col});
      Value bi = vector::LoadOp::create(b, loc, v16f32, bias, ValueRange{col});
      forTokens([&](Value m) {
        Value acc = vector::LoadOp::create(b, loc, v16f32, y, ValueRange{m, col});
        vector::StoreOp::create(b, loc, vector::FMAOp::create(b, loc, acc, sc, bi),
                                y, ValueRange{m, col});
      });
    }
  });
}

/// The codegemm tile kernels' walk: for each psumbook chunk c (the outer
/// loop, so that the chunk stays in cache) and each 8-column tile of [begin,
/// end), body(c, first column, offset of the tile's codes in the chunked
/// code buffer: codeByteOffset of the chunk's row 0 and the tile's column 0).
void forChunkTiles(Emitter &e, const KernelShape &s, Value begin, Value end,
                   function_ref<void(Value, Value, Value)> body) {
  int64_t chunkRows = codeChunkRows(s), chunks = codeRowsPadded(s) / chunkRows;
  int64_t np = (s.n + 7) / 8 * 8;
  e.forRange(e.idx(0), e.idx(chunks), [&](Value c) {
    Value chunkBase =
        arith::MulIOp::create(e.b, e.loc, c, e.idx(chunkRows * np));
    e.forTiles(begin, end, [&](Value t, Value n0) {
      body(c, n0,
           arith::AddIOp::create(
               e.b, e.loc, chunkBase,
               arith::MulIOp::create(e.b, e.loc, t, e.idx(8 * chunkRows))));
    });
  });
}

/// Body of @qc_codegemm_*(P: [R' / R, 1, R, E] f32, codes: [R' * N'] i8
/// (chunks of R rows, codeByteOffset), scale [N'], bias [N'], y [1, N'],
/// begin, end) for one token (more take @qc_codelanes_*): the 8-column tiles
/// [begin, end), 8 psumbook entries looked up per tile and (book, slot)
/// row.
void buildCodeTiles(OpBuilder &b, Location loc, ValueRange args,
                    const KernelShape &s) {
  Emitter e(b, loc);
  MLIRContext *ctx = b.getContext();
  Value psum = args[0], codes = args[1], scale = args[2], bias = args[3],
        y = args[4], begin = args[5], end = args[6];
  int64_t chunkRows = codeChunkRows(s);
  Type i8 = IntegerType::get(ctx, 8), i32 = IntegerType::get(ctx, 32);
  auto v8f32 = VectorType::get({8}, Float32Type::get(ctx));
  auto v8i8 = VectorType::get({8}, i8), v8i32 = VectorType::get({8}, i32);
  auto v8i1 = VectorType::get({8}, IntegerType::get(ctx, 1));
  Value all = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(v8i1, true));
  Value zero = e.zeros(v8f32);
  Value m = e.idx(0);
  e.forTiles(begin, end, [&](Value, Value n0) {
    vector::StoreOp::create(b, loc, zero, y, ValueRange{m, n0});
  });
  // Chunk-major: the R psumbook rows of a chunk stay in L1 while all tiles
  // of the range look up in them. A tile reads the chunk's codes as 8 R
  // consecutive bytes; its sums stay in a register over the R rows before
  // one update of y. Off `generic`, a lookup is one scalar load per lane
  // addressed by its code byte: on the CPUs measured this beats the hardware
  // gather (docs/kernels.md).
  forChunkTiles(e, s, begin, end, [&](Value c, Value n0, Value tileBase) {
    Value acc = vector::LoadOp::create(b, loc, v8f32, y, ValueRange{m, n0});
    for (int64_t r = 0; r < chunkRows; ++r) {
      Value at = arith::AddIOp::create(b, loc, tileBase, e.idx(8 * r));
      Value vals = zero;
      if (s.target->prefersGather()) {
        Value idx = arith::ExtUIOp::create(
            b, loc, v8i32,
            vector::LoadOp::create(b, loc, v8i8, codes, ValueRange{at}));
        vals = vector::GatherOp::create(
            b, loc, v8f32, psum, ValueRange{c, m, e.idx(r), e.idx(0)}, idx,
            all, zero);
      } else {
        SmallVector<Value> entries = e.codeIndices(codes, at);
        for (int64_t l = 0; l < 8; ++l)
          vals = vector::InsertOp::create(
              b, loc,
              memref::LoadOp::create(b, loc, psum,
                                     ValueRange{c, m, e.idx(r), entries[l]}),
              vals, l);
      }
      acc = e.add(acc, vals);
    }
    vector::StoreOp::create(b, loc, acc, y, ValueRange{m, n0});
  });
  e.forTiles(begin, end, [&](Value, Value n0) {
    Value sc = vector::LoadOp::create(b, loc, v8f32, scale, ValueRange{n0});
    Value bi = vector::LoadOp::create(b, loc, v8f32, bias, ValueRange{n0});
    Value acc = vector::LoadOp::create(b, loc, v8f32, y, ValueRange{m, n0});
    vector::StoreOp::create(b, loc, vector::FMAOp::create(b, loc, acc, sc, bi),
                            y, ValueRange{m, n0});
  });
}

/// Body of @qc_codelanes_*(P: [R' / R, G, R, E, L] f32, codes: [R' * N'] i8
/// (codeByteOffset), scale [N'], bias [N'], yT: [G, N', L] f32, y [M, N'],
/// begin, end) for M > 1: the 8-column tiles [begin, end). Per chunk, tile
/// and (book, slot) row, each column's code selects one vector of L tokens'
/// psumbook entries: one load per column for L tokens, summed into yT (token
/// lanes per column); a last pass transposes yT into y with the column
/// scales and the bias.
void buildCodeLaneTiles(OpBuilder &b, Location loc, ValueRange args,
                        const KernelShape &s) {
  Emitter e(b, loc);
  Value psum = args[0], codes = args[1], scale = args[2], bias = args[3],
        yT = args[4], y = args[5], begin = args[6], end = args[7];
  int64_t chunkRows = codeChunkRows(s), lanes = codeLanes(s);
  int64_t groups = codeTokenGroups(s);
  auto laneType = VectorType::get({lanes}, b.getF32Type());
  auto column = [&](Value n0, int64_t i) {
    return arith::AddIOp::create(b, loc, n0, e.idx(i)).getResult();
  };
  e.forTiles(begin, end, [&](Value, Value n0) {
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t i = 0; i < 8; ++i)
        vector::StoreOp::create(b, loc, e.zeros(laneType), yT,
                                ValueRange{e.idx(g), column(n0, i), e.idx(0)});
  });
  // Two token groups at a time share the code loads: 16 accumulators.
  forChunkTiles(e, s, begin, end, [&](Value c, Value n0, Value tileBase) {
    for (int64_t g0 = 0; g0 < groups; g0 += 2) {
      int64_t g1 = std::min<int64_t>(groups, g0 + 2);
      SmallVector<Value> acc;
      for (int64_t g = g0; g < g1; ++g)
        for (int64_t i = 0; i < 8; ++i)
          acc.push_back(vector::LoadOp::create(
              b, loc, laneType, yT,
              ValueRange{e.idx(g), column(n0, i), e.idx(0)}));
      for (int64_t r = 0; r < chunkRows; ++r) {
        Value at = arith::AddIOp::create(b, loc, tileBase, e.idx(8 * r));
        SmallVector<Value> entries = e.codeIndices(codes, at);
        for (int64_t g = g0; g < g1; ++g)
          for (int64_t i = 0; i < 8; ++i) {
            Value &sum = acc[(g - g0) * 8 + i];
            sum = e.add(sum, vector::LoadOp::create(
                                 b, loc, laneType, psum,
                                 ValueRange{c, e.idx(g), e.idx(r),
                                            entries[i], e.idx(0)}));
          }
      }
      for (int64_t g = g0; g < g1; ++g)
        for (int64_t i = 0; i < 8; ++i)
          vector::StoreOp::create(
              b, loc, acc[(g - g0) * 8 + i], yT,
              ValueRange{e.idx(g), column(n0, i), e.idx(0)});
    }
  });
  e.forTiles(begin, end, [&](Value, Value n0) {
    for (int64_t i = 0; i < 8; ++i) {
      Value n = column(n0, i);
      Value sc = vector::BroadcastOp::create(
          b, loc, laneType, memref::LoadOp::create(b, loc, scale, n));
      Value bi = vector::BroadcastOp::create(
          b, loc, laneType, memref::LoadOp::create(b, loc, bias, n));
      for (int64_t g = 0; g < groups; ++g) {
        Value sums = vector::LoadOp::create(
            b, loc, laneType, yT, ValueRange{e.idx(g), n, e.idx(0)});
        Value out = vector::FMAOp::create(b, loc, sums, sc, bi);
        for (int64_t l = 0; l < std::min<int64_t>(lanes, s.m - g * lanes); ++l)
          memref::StoreOp::create(
              b, loc,
              vector::ExtractOp::create(b, loc, out, ArrayRef<int64_t>{l}), y,
              ValueRange{e.idx(g * lanes + l), n});
      }
    }
  });
}

struct EmitKernelsPass
    : qc::impl::EmitKernelsBase<EmitKernelsPass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      auto role = fn->getAttrOfType<StringAttr>(kRoleAttr);
      if (!role || !fn.isExternal())
        continue;
      std::optional<KernelShape> shape = KernelShape::of(fn);
      if (!shape) {
        fn.emitError("qc-emit-kernels: malformed ") << kShapeAttr;
        return signalPassFailure();
      }
      using Builder = void (*)(OpBuilder &, Location, ValueRange,
                               const KernelShape &);
      Builder build = llvm::StringSwitch<Builder>(role.getValue())
                          .Case(kRoleActQuant, buildActQuant)
                          .Case(kRoleColumns, buildColumnKernel)
                          .Case(kRoleLutTables, buildLutTables)
                          .Case(kRoleLutTiles, buildLutTiles)
                          .Case(kRolePsumbook, buildPsumbook)
                          .Case(kRoleCodeTables, buildCodeTables)
                          .Case(kRoleCodeTiles, buildCodeTiles)
                          .Case(kRolePsumbookLanes, buildPsumbookLanes)
                          .Case(kRoleCodeLanes, buildCodeLaneTiles)
                          .Case(kRolePermTables, buildPermTables)
                          .Case(kRolePermTiles, buildPermTiles)
                          .Default(nullptr);
      if (!build) {
        fn.emitError("qc-emit-kernels: unknown role ") << role;
        return signalPassFailure();
      }
      // Every body: the entry block, a return and, for the functions with
      // ISA-specific code, the ISA's target features (the activation
      // quantizer and the LUT table builder are plain vector code for the
      // module's CPU).
      if (role.getValue() != kRoleActQuant &&
          role.getValue() != kRoleLutTables)
        setTargetFeatures(fn, *shape->target);
      Block *entry = fn.addEntryBlock();
      OpBuilder b = OpBuilder::atBlockEnd(entry);
      build(b, fn.getLoc(), entry->getArguments(), *shape);
      b.setInsertionPointToEnd(entry);
      func::ReturnOp::create(b, fn.getLoc());
      fn->removeAttr(kRoleAttr);
      fn->removeAttr(kShapeAttr);
    }
  }
};

} // namespace
