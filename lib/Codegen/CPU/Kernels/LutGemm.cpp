//===- LutGemm.cpp - LUT-GEMM tables and tile kernel ----------------------===//
//===----------------------------------------------------------------------===//

#include "Emitter.h"

namespace qc {
namespace kernels {
namespace cpu {

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

/// The lookups' low and high bytes, taken as int16 words: the even bytes are
/// columns 0-15 of the tile, the odd bytes columns 16-31 (the packing's lane
/// order), so masks and shifts rebuild the int16 table values without byte
/// shuffles: even = (lo & 0xff) + (hi << 8), odd = (lo >> 8) + (hi & 0xff00).
struct WordMasks {
  Value lowByte, highByte, eightBits;

  static WordMasks make(Emitter &e) {
    auto v16i16 = VectorType::get({16}, e.b.getI16Type());
    return {e.splat(v16i16, e.b.getI16IntegerAttr(0x00ff)),
            e.splat(v16i16,
                    e.b.getI16IntegerAttr(static_cast<int16_t>(0xff00))),
            e.splat(v16i16, e.b.getI16IntegerAttr(8))};
  }
  /// The (even, odd) words of 32 looked-up low bytes `lo` and high bytes
  /// `hi`.
  std::pair<Value, Value> words(Emitter &e, Value lo, Value hi) const {
    OpBuilder &b = e.b;
    Location loc = e.loc;
    auto v16i16 = VectorType::get({16}, b.getI16Type());
    Value wl = vector::BitCastOp::create(b, loc, v16i16, lo);
    Value wh = vector::BitCastOp::create(b, loc, v16i16, hi);
    Value even = e.add(arith::AndIOp::create(b, loc, wl, lowByte),
                       arith::ShLIOp::create(b, loc, wh, eightBits));
    Value odd = e.add(arith::ShRUIOp::create(b, loc, wl, eightBits),
                      arith::AndIOp::create(b, loc, wh, highByte));
    return {even, odd};
  }
};

/// Body of @qc_lutgemm_*(xs, xsum, tables, planes [tiles, chunks * S * 32]
/// i8 (S = planeStride() stored, the first P = bits read), 2 alpha [tiles, G * P * 32] f32, offset - sum alpha [tiles, G * 32]
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
  // The first `planes` of `stride` planes stored per chunk pair.
  int64_t planes = s.bits, stride = s.planeStride();
  int64_t pairsPerBlock = s.actBlock / 8;
  Value nibble = e.splat(v32i8, b.getI8IntegerAttr(15));
  Value four = e.splat(v32i8, b.getI8IntegerAttr(4));
  WordMasks masks = WordMasks::make(e);
  SmallVector<int64_t> twice;
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t j = 0; j < 16; ++j)
      twice.push_back(j);

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
                  arith::MulIOp::create(b, loc, pair, e.idx(stride * 32)),
                  stride * 32);
              for (int64_t i = 0; i < planes; ++i) {
                Value off = arith::AddIOp::create(
                    b, loc, arith::MulIOp::create(b, loc, pair,
                                                  e.idx(stride * 32)),
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
                  // 32 byte lookups of a 16-byte table (in both halves)
                  // at indices 0-15: vpshufb on x86, tbl by halves on NEON.
                  Value lo = s.target->lookup16(b, loc, tlo, idx);
                  Value hi = s.target->lookup16(b, loc, thi, idx);
                  auto [even, odd] = masks.words(e, lo, hi);
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

} // namespace cpu
} // namespace kernels
} // namespace qc
