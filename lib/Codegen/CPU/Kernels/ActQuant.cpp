//===- ActQuant.cpp - activations of dequant_i8 / _f32 and LUT-GEMM -------===//
//===----------------------------------------------------------------------===//

#include "Emitter.h"
#include "qc/Codegen/DynamicQuant.h"
#include "qc/Codegen/Microscaling.h"

#include <functional>

namespace qc {
namespace kernels {
namespace cpu {

//===----------------------------------------------------------------------===//
// Activation quantization
//===----------------------------------------------------------------------===//

namespace {
/// mxfp4 from the lane-wise max |x| of a block: 2^-p and the codes' scale
/// 2^p / 2 (mxfp4BlockScale).
std::pair<Value, Value> microScale(Emitter &e, Value maxLanes) {
  Value maxAbs = vector::ReductionOp::create(
      e.b, e.loc, vector::CombiningKind::MAXIMUMF, maxLanes);
  auto [inv, scale] = mxfp4BlockScale(e.b, e.loc, maxAbs);
  return {inv, arith::MulFOp::create(e.b, e.loc, scale, e.f32(0.5f))};
}

/// A vector of v's type holding `c` in every lane.
Value splatLike(Emitter &e, Value v, float c) {
  return vector::BroadcastOp::create(e.b, e.loc, v.getType(), e.f32(c))
      .getResult();
}

/// min(|v|, limit), lane by lane.
Value clampedMagnitude(Emitter &e, Value v, float limit) {
  return arith::MinimumFOp::create(e.b, e.loc,
                                   math::AbsFOp::create(e.b, e.loc, v),
                                   splatLike(e, v, limit));
}

/// Twice the E2M1 value nearest to v (= x / 2^p; ties to an even mantissa,
/// saturating at 6): the integer codes -12 .. 12 of mxfp4 activations.
Value microCodes(Emitter &e, Value v) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto splat = [&](float c) { return splatLike(e, v, c); };
  Value a = clampedMagnitude(e, v, 6.0f);
  // Steps of 0.5 below 2, 1 below 4, 2 up to 6: codes 2a, 2 round(a),
  // 4 round(a / 2).
  auto rounded = [&](float in, float out) {
    return arith::MulFOp::create(
        b, loc,
        math::RoundEvenOp::create(b, loc,
                                  arith::MulFOp::create(b, loc, a, splat(in))),
        splat(out));
  };
  auto below = [&](float bound) {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a,
                                 splat(bound));
  };
  Value r = arith::SelectOp::create(
      b, loc, below(2.0f), rounded(2.0f, 1.0f),
      arith::SelectOp::create(b, loc, below(4.0f), rounded(1.0f, 2.0f),
                              rounded(0.5f, 4.0f)));
  return math::CopySignOp::create(b, loc, r, v);
}

/// Twice the 4-bit dINT level nearest to v (= x * 12 / max|x|; the level of
/// a = |v| / 2 is 0 up to 1/4, 1/2 up to 3/4, else ceil(a - 1/2), at most
/// 6): the integer codes -12 .. 12 of dint4 activations.
Value dintCodes(Emitter &e, Value v) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto splat = [&](float c) { return splatLike(e, v, c); };
  Value a2 = clampedMagnitude(e, v, 12.0f);
  auto atMost = [&](float bound) {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, a2,
                                 splat(bound));
  };
  Value whole = arith::MulFOp::create(
      b, loc,
      math::CeilOp::create(
          b, loc,
          arith::SubFOp::create(
              b, loc, arith::MulFOp::create(b, loc, a2, splat(0.5f)),
              splat(0.5f))),
      splat(2.0f));
  Value r = arith::SelectOp::create(
      b, loc, atMost(0.5f), splat(0.0f),
      arith::SelectOp::create(b, loc, atMost(1.5f), splat(1.0f), whole));
  return math::CopySignOp::create(b, loc, r, v);
}

/// What the activation function makes of the input.
enum class ActMode {
  Dynamic, // int8 codes, a scale per block from its max |x|
  Static,  // int8 codes on a given scale and zero point
  Float    // the f32 input, zero-padded
};
} // namespace

/// Body of @qc_actq_*(x: [M, K] f32, xq: [M, Kp] i8, xs: [M, Ablocks] f32,
///                     xsum: [M, G'] f32) (with s.rowScale every block of a
/// row takes the row's scale); of @qc_actqs_*(x, xq, xs, xsum,
/// params: [2] f32), whose codes are clamp(roundeven(x / scale) + zp,
/// -128, 127) for params = {scale, zp} (the padding's codes 0), every xs
/// the scale; or of @qc_actf_*(x, xf: [M, Kp] f32, xsum): the input copied,
/// zero-padded, and its group sums. Rows [lo, hi) when the kernel takes a
/// range (two more arguments: it runs on the runtime's threads), else all.
static void buildActivations(OpBuilder &b, Location loc, ValueRange args,
                             const KernelShape &s, ActMode mode) {
  MLIRContext *ctx = b.getContext();
  Type f32 = Float32Type::get(ctx), i8 = IntegerType::get(ctx, 8),
       i32 = IntegerType::get(ctx, 32);
  Emitter e(b, loc);
  bool floatAct = mode == ActMode::Float;
  unsigned buffers = floatAct ? 3 : mode == ActMode::Static ? 5 : 4;
  bool ranged = args.size() == buffers + 2;
  Value x = args[0], xq = args[1], xs = floatAct ? Value() : args[2],
        xsum = args[floatAct ? 2 : 3];
  Value staticScale, staticZero;
  if (mode == ActMode::Static) {
    staticScale = memref::LoadOp::create(b, loc, args[4], e.idx(0));
    staticZero = memref::LoadOp::create(b, loc, args[4], e.idx(1));
  }
  constexpr int64_t kLanes = 8;
  auto vf = VectorType::get({kLanes}, f32);
  auto vi32 = VectorType::get({kLanes}, i32);
  auto vi8 = VectorType::get({kLanes}, i8);
  Value zero = e.f32(0.0f);

  scf::ForOp rows = scf::ForOp::create(
      b, loc, ranged ? args[buffers] : e.idx(0),
      ranged ? args[buffers + 1] : e.idx(s.m), e.idx(1));
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
  // Reads past K give 0 (the padded rows of the last superblock).
  auto read = [&](Value k) {
    return vector::TransferReadOp::create(b, loc, vf, x, ValueRange{m, k},
                                          zero)
        .getResult();
  };
  // A loop over inputs [k0, k0 + count), kLanes at a time.
  auto laneLoop = [&](Value k0, int64_t count, ValueRange init,
                      function_ref<SmallVector<Value>(Value, ValueRange)>
                          body) {
    auto loop = scf::ForOp::create(
        b, loc, e.idx(0), e.idx(count), e.idx(kLanes), init,
        [&](OpBuilder &nested, Location, Value j, ValueRange iter) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPointToStart(nested.getInsertionBlock());
          SmallVector<Value> next = body(arith::AddIOp::create(b, loc, k0, j),
                                         iter);
          scf::YieldOp::create(b, loc, next);
        });
    return loop.getResults();
  };
  // max |x| over [k0, k0 + count), lane-wise.
  auto maxAbsOver = [&](Value k0, int64_t count) {
    return laneLoop(k0, count, ValueRange{e.zeros(vf)},
                    [&](Value k, ValueRange iter) {
                      Value v = math::AbsFOp::create(b, loc, read(k));
                      return SmallVector<Value>{
                          arith::MaximumFOp::create(b, loc, iter[0], v)};
                    })[0];
  };
  // Integer codes on max / levels: int8's 127, int4's 7, dint4's 12 (twice
  // its levels).
  float levels = s.act == ActKind::int4    ? 7.0f
                 : s.act == ActKind::dint4 ? 12.0f
                                           : 127.0f;
  bool micro = mode == ActMode::Dynamic && s.act == ActKind::mxfp4;
  // A scale per token: the row's, shared by every block.
  std::pair<Value, Value> rowScale;
  if (s.rowScale && mode == ActMode::Dynamic)
    rowScale = e.blockScale(maxAbsOver(e.idx(0), s.activationK()), levels);
  scf::ForOp blocks =
      scf::ForOp::create(b, loc, e.idx(0), e.idx(s.actBlocks()), e.idx(1));
  b.setInsertionPointToStart(blocks.getBody());
  Value a = blocks.getInductionVar();
  Value k0 = arith::MulIOp::create(b, loc, a, e.idx(s.actBlock));
  Value gIdx = arith::DivUIOp::create(b, loc, k0, e.idx(s.group));
  Value old = memref::LoadOp::create(b, loc, xsum, ValueRange{m, gIdx});
  if (floatAct) {
    // amxfp4: each 32 inputs rounded on their sign's scale, else copied.
    bool asymmetric = s.act == ActKind::amxfp4;
    int64_t span = asymmetric ? 32 : s.actBlock;
    auto sub = scf::ForOp::create(b, loc, e.idx(0), e.idx(s.actBlock),
                                  e.idx(span), ValueRange{e.zeros(vf)});
    b.setInsertionPointToStart(sub.getBody());
    Value k1 = arith::AddIOp::create(b, loc, k0, sub.getInductionVar());
    std::function<Value(Value)> value = [](Value v) { return v; };
    if (asymmetric) {
      // The largest positive value and negative magnitude of the 32.
      ResultRange maxes = laneLoop(
          k1, span, ValueRange{e.zeros(vf), e.zeros(vf)},
          [&](Value k, ValueRange iter) {
            Value v = read(k);
            return SmallVector<Value>{
                arith::MaximumFOp::create(b, loc, iter[0], v),
                arith::MaximumFOp::create(b, loc, iter[1],
                                          arith::NegFOp::create(b, loc, v))};
          });
      auto [invPos, halfPos] = microScale(e, maxes[0]);
      auto [invNeg, halfNeg] = microScale(e, maxes[1]);
      value = [&, invPos = invPos, halfPos = halfPos, invNeg = invNeg,
               halfNeg = halfNeg](Value v) -> Value {
        auto pick = [&](Value neg, Value pos) {
          Value negative = arith::CmpFOp::create(
              b, loc, arith::CmpFPredicate::OLT, v, e.zeros(vf));
          return arith::SelectOp::create(
                     b, loc, negative,
                     vector::BroadcastOp::create(b, loc, vf, neg),
                     vector::BroadcastOp::create(b, loc, vf, pos))
              .getResult();
        };
        Value codes = microCodes(
            e, arith::MulFOp::create(b, loc, v, pick(invNeg, invPos)));
        return arith::MulFOp::create(b, loc, codes, pick(halfNeg, halfPos));
      };
    }
    Value part = laneLoop(
        k1, span, ValueRange{e.zeros(vf)}, [&](Value k, ValueRange iter) {
          Value v = value(read(k));
          vector::StoreOp::create(b, loc, v, xq, ValueRange{m, k});
          return SmallVector<Value>{arith::AddFOp::create(b, loc, iter[0], v)};
        })[0];
    scf::YieldOp::create(
        b, loc,
        ValueRange{arith::AddFOp::create(b, loc, sub.getRegionIterArgs()[0],
                                         part)});
    b.setInsertionPointAfter(sub);
    Value sum = sub.getResult(0);
    sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, sum);
    memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, old, sum),
                            xsum, ValueRange{m, gIdx});
    return;
  }
  // The block's scale: given, its power of two (mxfp4), from its max |x|,
  // or the row's.
  std::pair<Value, Value> blockScale;
  if (mode == ActMode::Static)
    blockScale = {Value(), staticScale};
  else if (micro)
    blockScale = microScale(e, maxAbsOver(k0, s.actBlock));
  else
    blockScale = s.rowScale ? rowScale
                            : e.blockScale(maxAbsOver(k0, s.actBlock), levels);
  // (Named values, not a structured binding: lambdas below capture them.)
  Value inv = blockScale.first, scale = blockScale.second;
  memref::StoreOp::create(b, loc, scale, xs, ValueRange{m, a});
  auto splat = [&](Value v) {
    return vector::BroadcastOp::create(b, loc, vf, v).getResult();
  };
  // The codes of 8 inputs from k: roundeven(x * inv), or static ones.
  auto codes = [&](Value k) -> Value {
    if (micro)
      return microCodes(e, arith::MulFOp::create(b, loc, read(k), splat(inv)));
    if (mode == ActMode::Dynamic && s.act == ActKind::dint4)
      return dintCodes(e, arith::MulFOp::create(b, loc, read(k), splat(inv)));
    if (mode == ActMode::Dynamic)
      return math::RoundEvenOp::create(
          b, loc, arith::MulFOp::create(b, loc, read(k), splat(inv)));
    Value r = buildStaticCode(b, loc, read(k), splat(scale), splat(staticZero),
                              splat(e.f32(-128.0f)), splat(e.f32(127.0f)));
    if (s.activationK() == s.k)
      return r;
    // The padding rows' codes are 0, not the zero point: their weights
    // need not be zero.
    Value inRange = vector::CreateMaskOp::create(
        b, loc, VectorType::get({kLanes}, b.getI1Type()),
        ValueRange{arith::SubIOp::create(b, loc, e.idx(s.k), k)});
    return arith::SelectOp::create(b, loc, inRange, r, e.zeros(vf));
  };
  // xq = the codes, and the block's integer sum.
  Value isum = laneLoop(
      k0, s.actBlock, ValueRange{e.zeros(vi32)}, [&](Value k, ValueRange iter) {
        Value q = arith::FPToSIOp::create(b, loc, vi32, codes(k));
        vector::StoreOp::create(b, loc, arith::TruncIOp::create(b, loc, vi8, q),
                                xq, ValueRange{m, k});
        return SmallVector<Value>{arith::AddIOp::create(b, loc, iter[0], q)};
      })[0];
  isum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, isum);
  Value blockSum = arith::MulFOp::create(
      b, loc, scale, arith::SIToFPOp::create(b, loc, f32, isum));
  memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, old, blockSum),
                          xsum, ValueRange{m, gIdx});
}

void buildActQuant(OpBuilder &b, Location loc, ValueRange args,
                   const KernelShape &s) {
  buildActivations(b, loc, args, s, ActMode::Dynamic);
}

void buildActQuantStatic(OpBuilder &b, Location loc, ValueRange args,
                         const KernelShape &s) {
  buildActivations(b, loc, args, s, ActMode::Static);
}

/// Body of @qc_actr_*(x: [M, K] f32, range: [M, 2] f32): row m's
/// {max(0, max x[m]), min(0, min x[m])} (uint8 activations' range, see
/// buildTensorRange), rows [lo, hi) when the function takes a range.
void buildActRange(OpBuilder &b, Location loc, ValueRange args,
                   const KernelShape &s) {
  Emitter e(b, loc);
  constexpr int64_t kLanes = 16;
  auto vf = VectorType::get({kLanes}, b.getF32Type());
  bool ranged = args.size() == 4;
  Value x = args[0], range = args[1];
  scf::ForOp rows = scf::ForOp::create(b, loc, ranged ? args[2] : e.idx(0),
                                       ranged ? args[3] : e.idx(s.m),
                                       e.idx(1));
  b.setInsertionPointToStart(rows.getBody());
  Value m = rows.getInductionVar();
  // Reads past K give 0, which the range includes anyway.
  auto lanes = scf::ForOp::create(
      b, loc, e.idx(0), e.idx(s.k), e.idx(kLanes),
      ValueRange{e.zeros(vf), e.zeros(vf)},
      [&](OpBuilder &nested, Location, Value k, ValueRange iter) {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(nested.getInsertionBlock());
        Value v = vector::TransferReadOp::create(b, loc, vf, x,
                                                 ValueRange{m, k}, e.f32(0.0f));
        scf::YieldOp::create(
            b, loc,
            ValueRange{arith::MaximumFOp::create(b, loc, iter[0], v),
                       arith::MinimumFOp::create(b, loc, iter[1], v)});
      });
  Value hi = vector::ReductionOp::create(
      b, loc, vector::CombiningKind::MAXIMUMF, lanes.getResult(0));
  Value lo = vector::ReductionOp::create(
      b, loc, vector::CombiningKind::MINIMUMF, lanes.getResult(1));
  memref::StoreOp::create(b, loc, hi, range, ValueRange{m, e.idx(0)});
  memref::StoreOp::create(b, loc, lo, range, ValueRange{m, e.idx(1)});
}

void buildActFloat(OpBuilder &b, Location loc, ValueRange args,
                   const KernelShape &s) {
  buildActivations(b, loc, args, s, ActMode::Float);
}

} // namespace cpu
} // namespace kernels
} // namespace qc
