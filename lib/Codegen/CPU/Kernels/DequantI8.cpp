//===- DequantI8.cpp - the dequant_i8 column kernel -----------------------===//
//
// The body of the dequant_i8 kernel's functions:
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
// The dequant_f32 kernel (@qc_dqf32_*) is the same over float activations:
// @qc_actf_* copies the input into [M, Kp] (zero-padded) and sums its
// groups, and per 4 rows the panel's code bytes are taken out of their
// 32-bit lanes one row at a time, converted to f32 and multiplied with the
// broadcast input by FMAs:
//                 y[m, n] = sum_a s[g(a),n] sum_k q[k,n] x[m,k]
//                           - sum_g s[g,n] z[g,n] xsum[m,g] + bias[n].
//
// Runs after buffer deallocation: the dot products are LLVM intrinsics
// (llvm.call_intrinsic), whose memory effects that analysis cannot see.
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"

namespace qc {
namespace kernels {
namespace cpu {

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
  static const int two[] = {2}, three[] = {2, 1}, four[] = {4}, eight[] = {8};
  switch (bits) {
  case 2:
    return two;
  case 3:
    return three;
  case 8:
    return eight;
  default:
    return four;
  }
}

/// Rows 4q .. 4q + 3 of a row block's 8 (or 16) columns as byte lanes: the
/// `bits`-wide codes put together from their pieces (`vectors[piece]`, the
/// piece's code vectors of the block, see packKernelPanels).
Value unpackCodes(Emitter &e, ArrayRef<SmallVector<Value>> vectors,
                  int64_t bits, int64_t q) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto vcodes = cast<VectorType>(vectors.front().front().getType());
  Value codes;
  int codeShift = 0;
  for (auto [pi, width] : llvm::enumerate(pieces(bits))) {
    int64_t perVector = 8 / width;
    Value v = vectors[pi][q / perVector];
    int64_t shift = (q % perVector) * width;
    if (shift)
      v = arith::ShRUIOp::create(b, loc, v,
                                 e.splat(vcodes, b.getI8IntegerAttr(shift)));
    if (shift + width < 8)
      v = arith::AndIOp::create(
          b, loc, v, e.splat(vcodes, b.getI8IntegerAttr((1 << width) - 1)));
    if (codeShift)
      v = arith::ShLIOp::create(
          b, loc, v, e.splat(vcodes, b.getI8IntegerAttr(codeShift)));
    codes = codes ? arith::OrIOp::create(b, loc, codes, v).getResult() : v;
    codeShift += width;
  }
  return codes;
}

/// The buffers of a column kernel: the activations `x` (int8 codes with
/// their block scales `xs`, or f32 with `xs` null), the group sums, the
/// panels' codes, scales and zero points, the bias and the output. A
/// gathered kernel's `x` is an int8 image, row m's 32-row block b at
/// rowBase[m] + blockOff[b] (KernelShape::gathered).
struct ColumnArgs {
  Value x, xs, xsum, w, ws, zeros, bias, y;
  Value rowBase, blockOff;
};

/// The buffers the epilogue of a token tile writes and reads.
struct EpilogueBuffers {
  Value zeros, xsum, bias, y;
};

/// The end of a token tile: minus scale * zero point times the token's group
/// sums, per group for the step's columns at once, then the bias; stores
/// the tokens' outputs. `acc` holds the tokens' sums, `panelLoad` and
/// `scalesOf` read the step's panels as emitTokenTile does.
void emitEpilogue(Emitter &e, const KernelShape &s, Value panel,
                  ArrayRef<Value> tokens, ValueRange acc,
                  function_ref<Value(Value, int64_t, Value)> panelLoad,
                  function_ref<Value(Value)> scalesOf,
                  const EpilogueBuffers &bufs) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto vf = cast<VectorType>(acc.front().getType());
  int64_t count = tokens.size();
  Value col0 = arith::MulIOp::create(b, loc, panel, e.idx(8));
  Value biasV =
      vector::LoadOp::create(b, loc, vf, bufs.bias, ValueRange{col0});
  // The groups holding rows of K (the padding groups' scales are 0: a
  // whole column's one group, not the 8 its scales are stored in).
  auto corr = scf::ForOp::create(
      b, loc, e.idx(0), e.idx(weightGroups(s.k, s.group)), e.idx(1), acc,
      [&](OpBuilder &nested, Location, Value g, ValueRange sums) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(nested.getInsertionBlock());
        // Byte zero points (codes) or f32 ones.
        Value zp = panelLoad(bufs.zeros, 8,
                             arith::MulIOp::create(b, loc, g, e.idx(8)));
        if (!isa<FloatType>(getElementTypeOrSelf(zp)))
          zp = arith::UIToFPOp::create(b, loc, vf, zp);
        Value negZ = arith::NegFOp::create(
            b, loc, arith::MulFOp::create(b, loc, scalesOf(g), zp));
        SmallVector<Value> next;
        for (int64_t i = 0; i < count; ++i) {
          Value sum = vector::BroadcastOp::create(
              b, loc, vf,
              memref::LoadOp::create(b, loc, bufs.xsum,
                                     ValueRange{tokens[i], g}));
          next.push_back(vector::FMAOp::create(b, loc, negZ, sum, sums[i]));
        }
        scf::YieldOp::create(b, loc, next);
      });
  for (int64_t i = 0; i < count; ++i)
    vector::StoreOp::create(
        b, loc, arith::AddFOp::create(b, loc, corr.getResult(i), biasV),
        bufs.y, ValueRange{tokens[i], col0});
}

/// dequant_f32: rows 4q .. 4q + 3 of the step's columns (`codes`, their
/// bytes in 32-bit lanes, row k + j in byte j) times the float inputs
/// x[token, k + j], by FMAs into `partial` (`splits` chains per token).
void accumulateFloatRows(Emitter &e, Value codes, VectorType vf, Value k,
                         ArrayRef<Value> tokens, Value x,
                         MutableArrayRef<Value> partial, int64_t splits,
                         int64_t q) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  auto vi = VectorType::get(vf.getShape(), b.getI32Type());
  Value words = vector::BitCastOp::create(b, loc, vi, codes);
  for (int64_t j = 0; j < 4; ++j) {
    Value row = words;
    if (j > 0)
      row = arith::ShRUIOp::create(
          b, loc, row, e.splat(vi, b.getI32IntegerAttr(8 * j)));
    if (j < 3)
      row = arith::AndIOp::create(b, loc, row,
                                  e.splat(vi, b.getI32IntegerAttr(0xff)));
    Value w = arith::UIToFPOp::create(b, loc, vf, row);
    Value kj = arith::AddIOp::create(b, loc, k, e.idx(j));
    for (auto [i, token] : llvm::enumerate(tokens)) {
      Value xv = vector::BroadcastOp::create(
          b, loc, vf, memref::LoadOp::create(b, loc, x, ValueRange{token, kj}));
      Value &acc = partial[i * splits + (4 * q + j) % splits];
      acc = vector::FMAOp::create(b, loc, w, xv, acc);
    }
  }
}

/// Emits, at the builder's position inside the panel loop, the loop over
/// activation blocks and the epilogue for `count` tokens starting at `m0`,
/// on `step` panels from `panel` (1, or 2 for AVX-512 VNNI: the two panels'
/// 32-byte vectors side by side in one 64-byte vector, 16 columns per dot
/// product, so that the unpacking and the dot products take half the
/// instructions of one panel at a time).
void emitTokenTile(Emitter &e, const KernelShape &s, Value panel,
                   int64_t step, Value m0, int64_t count,
                   const ColumnArgs &args) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  MLIRContext *ctx = b.getContext();
  Value xq = args.x, xs = args.xs, xsum = args.xsum, w = args.w, ws = args.ws,
        zc = args.zeros, bias = args.bias, y = args.y;
  bool floatAct = !xs;
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
  VectorType partialType = floatAct ? vf : dot.partialType();
  // Sums that need no flushing: the dot product gives i32 lanes, or FMAs
  // on float activations.
  bool wideSums = floatAct || partialType == vi;
  // Independent sums per token: about 8 dot products (4 FMA chains) in
  // flight.
  int64_t splits = floatAct   ? std::clamp<int64_t>(4 / count, 1, 4)
                   : wideSums ? std::clamp<int64_t>(8 / count, 1, 8)
                              : 1;
  VectorType sumType = floatAct ? vf : vi;

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
  // 4 activations at `at` of xq (2-D rows or the gathered 1-D image), in
  // each of the 8 lanes.
  auto broadcast4 = [&](ValueRange at) -> Value {
    Value four = vector::LoadOp::create(b, loc, v4i8, xq, at);
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
            SmallVector<Value>(count * splits, e.zeros(sumType)));
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
          // Where token i's rows of the block start: (token, k0), or in the
          // gathered image rowBase[token] + blockOff[block].
          SmallVector<Value> rowStart;
          for (Value token : tokens) {
            if (!args.rowBase) {
              rowStart.push_back(token);
              continue;
            }
            auto at = [&](Value table, Value i) -> Value {
              return arith::IndexCastOp::create(
                  b, loc, b.getIndexType(),
                  memref::LoadOp::create(b, loc, table, ValueRange{i}));
            };
            rowStart.push_back(arith::AddIOp::create(
                b, loc, at(args.rowBase, token), at(args.blockOff, block)));
          }
          // partial[i * splits + q % splits] takes step q of token i.
          SmallVector<Value> partial =
              wideSums ? sums
                       : SmallVector<Value>(count * splits,
                                            e.zeros(partialType));
          for (int64_t q = 0; q < 8; ++q) {
            Value codes = unpackCodes(e, vectors, s.bits, q);
            Value k = arith::AddIOp::create(b, loc, k0, e.idx(4 * q));
            if (floatAct) {
              accumulateFloatRows(e, codes, vf, k, tokens, xq, partial,
                                  splits, q);
              continue;
            }
            for (int64_t i = 0; i < count; ++i) {
              Value &acc = partial[i * splits + q % splits];
              Value x = args.rowBase
                            ? broadcast4(arith::AddIOp::create(
                                             b, loc, rowStart[i], e.idx(4 * q))
                                             .getResult())
                            : broadcast4({rowStart[i], k});
              acc = dot.accumulate(acc, codes, x);
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
        for (int64_t i = 0; i < count && floatAct; ++i)
          facc[i] = vector::FMAOp::create(b, loc, sums[i], wScale, facc[i]);
        for (int64_t i = 0; i < count && !floatAct; ++i) {
          Value xScale = vector::BroadcastOp::create(
              b, loc, vf,
              memref::LoadOp::create(b, loc, xs, ValueRange{tokens[i], a}));
          facc[i] = vector::FMAOp::create(
              b, loc, arith::SIToFPOp::create(b, loc, vf, sums[i]),
              arith::MulFOp::create(b, loc, wScale, xScale), facc[i]);
        }
        scf::YieldOp::create(b, loc, facc);
      });
  emitEpilogue(e, s, panel, tokens, loop.getResults(), panelLoad, scalesOf,
               {zc, xsum, bias, y});
}

/// The panels [begin, end) of a column kernel.
void buildColumns(OpBuilder &b, Location loc, const ColumnArgs &args,
                  Value begin, Value end, const KernelShape &s) {
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

/// Body of @qc_dqi8_*(xq, xs, xsum, codes [panels, panel bytes] i8, scales
/// [panels, G' * 8] f16 / f32, zero points [panels, G' * 8] i8 (f32 for
/// @qc_dqi8f_*), bias [N8] f32, y [M, N8] f32, begin, end): the panels
/// [begin, end). A gathered kernel (@qc_dqi8_b8x_*) takes the int8 image, its
/// row bases [M] i32 and block offsets [K / 32] i32 for xq.
void buildColumnKernel(OpBuilder &b, Location loc, ValueRange args,
                       const KernelShape &s) {
  if (s.gathered) {
    ColumnArgs c{args[0], args[3], args[4], args[5], args[6],
                 args[7], args[8], args[9], args[1], args[2]};
    buildColumns(b, loc, c, args[10], args[11], s);
    return;
  }
  buildColumns(b, loc,
               {args[0], args[1], args[2], args[3], args[4], args[5], args[6],
                args[7]},
               args[8], args[9], s);
}

/// Body of @qc_dqf32_*(x [M, Kp] f32, xsum, codes, scales, zero points,
/// bias, y, begin, end): as @qc_dqi8_* on float activations.
void buildColumnKernelF32(OpBuilder &b, Location loc, ValueRange args,
                          const KernelShape &s) {
  buildColumns(b, loc,
               {args[0], Value(), args[1], args[2], args[3], args[4], args[5],
                args[6]},
               args[7], args[8], s);
}

} // namespace cpu
} // namespace kernels
} // namespace qc
