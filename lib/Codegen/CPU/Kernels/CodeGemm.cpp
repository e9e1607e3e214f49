//===- CodeGemm.cpp - CodeGEMM psumbooks and tile kernels -----------------===//
//===----------------------------------------------------------------------===//

#include "Emitter.h"

namespace qc {
namespace kernels {
namespace cpu {

//===----------------------------------------------------------------------===//
// CodeGEMM (codegemm)
//===----------------------------------------------------------------------===//

SmallVector<Value> slotActivations(Emitter &e, Value x, Value m,
                                        Value j, int64_t v, int64_t lanes) {
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

} // namespace cpu
} // namespace kernels
} // namespace qc
