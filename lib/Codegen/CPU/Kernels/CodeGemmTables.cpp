//===- CodeGemmTables.cpp - CodeGEMM through int16 tables -----------------===//
//===----------------------------------------------------------------------===//

#include "Emitter.h"

namespace qc {
namespace kernels {
namespace cpu {

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
    return e.forCarrying(lo, hi, init, body);
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

} // namespace cpu
} // namespace kernels
} // namespace qc
