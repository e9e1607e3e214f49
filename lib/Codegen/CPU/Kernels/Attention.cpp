//===- Attention.cpp - causal attention over a key-value cache ------------===//
//
// The kernel of qc.cached_attention: one thread's range of query rows, each
// attending to the first `past + i + 1` positions of its cache head. Per row
// it computes the scores (head-dim vectors, one reduction per position),
// their max, exponentials and sum a vector of positions at a time, then the
// weighted sum of the values (one broadcast FMA per head-dim vector and
// position). The work is proportional to the current length, not to the
// cache's capacity.
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"
#include "qc/Codegen/CPUKernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace qc;
using namespace qc::kernels::cpu;

std::string AttentionShape::name() const {
  uint32_t bits;
  std::memcpy(&bits, &scale, sizeof(bits));
  std::string format = cache == KVCacheFormat::F32
                           ? ""
                           : "_" + kvCacheFormatName(cache).str();
  return llvm::formatv(
             "qc_attention_b{0}_h{1}_kv{2}_s{3}_t{4}_d{5}_v{6}_sc{7:x}{8}",
             batch, heads, kvHeads, seq, cacheLen, headDim, vectorLanes(),
             bits, format)
      .str();
}

int64_t AttentionShape::headsPerRow() const {
  if (cache == KVCacheFormat::MiKV)
    return heads / kvHeads;
  // The most heads of a group whose accumulators fit in 16 vector registers
  // while the kernel keeps at least 2 rows for the threads. Reading (and
  // decoding) a cache row once for all heads of its group beats more rows:
  // SmolLM2's decode step at length 2048 (3 groups of 3 heads) took 130 us
  // a layer in 3 rows against 199 us in 9 on 1 thread, 80 against 91 us on
  // 2 (int4 caches: 116 against 222 us, 85 against 129 us).
  int64_t group = heads / kvHeads, chunks = headDim / vectorLanes();
  for (int64_t h = group; h > 1; --h)
    if (group % h == 0 && h * chunks <= 16 &&
        batch * kvHeads * seq * (group / h) >= 2)
      return h;
  return 1;
}

int64_t AttentionShape::rows() const {
  if (cache == KVCacheFormat::MiKV)
    return batch * kvHeads;
  return batch * kvHeads * seq * (heads / kvHeads / headsPerRow());
}

int64_t AttentionShape::vectorLanes() const {
  // A vector of an int8 / int4 cache row lies in one group: in its 32 code
  // bytes, or in one nibble of its 16.
  // MiKV: also inside one pool piece.
  int64_t span = cache == KVCacheFormat::Int8   ? kKVCacheGroup
                 : cache == KVCacheFormat::Int4 ? kKVCacheGroup / 2
                 : cache == KVCacheFormat::MiKV
                     ? std::gcd(kKVCacheGroup / 2, headDim / kMiKVShare)
                     : headDim;
  if (lanes > 1 && headDim % lanes == 0 && span % lanes == 0)
    return lanes;
  for (int64_t v : {8, 4, 2})
    if (headDim % v == 0)
      return v;
  return 1;
}

namespace {

/// Builds the body of the kernel; `args` are (q, key_cache, value_cache,
/// past, out, begin, end), MiKV's with (key, value) before begin. A row is
/// `heads` query heads of one cache group at one position: they read each
/// key and value vector once. MiKV's row is a whole group, its positions
/// one after the other: each enters the pool, then attends.
class AttentionBody {
public:
  AttentionBody(OpBuilder &b, Location loc, const AttentionShape &s)
      : b(b), loc(loc), e(b, loc), s(s), v(s.vectorLanes()),
        chunks(s.headDim / v), heads(s.headsPerRow()),
        vf(VectorType::get({v}, b.getF32Type())) {}

  void build(ValueRange args) {
    q = args[0];
    kc = args[1];
    vc = args[2];
    out = args[4];
    Value past = args[3];
    // Scores of the row's heads, each padded to whole vectors.
    padded = (s.cacheLen + v - 1) / v * v;
    scores = memref::AllocaOp::create(
        b, loc, MemRefType::get({heads, padded}, b.getF32Type()),
        b.getI64IntegerAttr(64));
    if (!s.cacheLayout().mixed()) {
      e.forRange(args[5], args[6], [&](Value row) { buildRow(row, past); });
      return;
    }
    newKey = args[5];
    newValue = args[6];
    e.forRange(args[7], args[8],
               [&](Value row) { buildMixedRow(row, past); });
  }

private:
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mulIdx(Value x, int64_t c) {
    return arith::MulIOp::create(b, loc, x, e.idx(c));
  }
  Value divIdx(Value x, int64_t c) {
    return arith::DivUIOp::create(b, loc, x, e.idx(c));
  }
  Value remIdx(Value x, int64_t c) {
    return arith::RemUIOp::create(b, loc, x, e.idx(c));
  }
  Value splat(float x) { return e.splat(vf, b.getF32FloatAttr(x)); }
  Value fma(Value x, Value y, Value acc) {
    return vector::FMAOp::create(b, loc, x, y, acc);
  }
  Value load(Value buf, ValueRange at) {
    return vector::LoadOp::create(b, loc, vf, buf, at);
  }
  /// A horizontal reduction in any order (a tree of shuffles, not 16
  /// dependent adds).
  Value reduce(vector::CombiningKind kind, Value x) {
    auto op = vector::ReductionOp::create(b, loc, kind, x);
    op.setFastmathAttr(arith::FastMathFlagsAttr::get(
        b.getContext(), arith::FastMathFlags::reassoc));
    return op;
  }
  ValueRange loop(Value lo, Value hi, ValueRange init,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    return e.forCarrying(lo, hi, init, body);
  }
  /// The head-size row `t` of cache `buf` as f32 vectors, decoded from the
  /// cache's format (KVCache.h).
  SmallVector<Value> cacheRow(Value buf, Value t) {
    KVCacheLayout layout = s.cacheLayout();
    if (layout.mixed())
      return mixedRow(buf, t);
    auto at = [&](int64_t offset) -> SmallVector<Value> {
      return {batch, group, t, e.idx(offset)};
    };
    SmallVector<Value> row;
    if (layout.quantized()) {
      for (int64_t g = 0; g < layout.groups(); ++g)
        appendGroup(buf, g, at, row);
      return row;
    }
    auto halves = VectorType::get({v}, b.getF16Type());
    for (int64_t j = 0; j < chunks; ++j) {
      if (layout.format == KVCacheFormat::F32) {
        row.push_back(load(buf, at(j * v)));
        continue;
      }
      Value h = vector::LoadOp::create(b, loc, halves, buf, at(j * v));
      row.push_back(arith::ExtFOp::create(b, loc, vf, h));
    }
    return row;
  }

  /// Appends group g of an int8 / int4 row (its bytes at `at(offset)`):
  /// code * scale + min, a vector at a time (vectorLanes() keeps a vector
  /// inside the group).
  void appendGroup(Value buf, int64_t g,
                   function_ref<SmallVector<Value>(int64_t)> at,
                   SmallVectorImpl<Value> &row) {
    auto bytes = [&](int64_t n) { return VectorType::get({n}, b.getI8Type()); };
    int64_t codes = 8 * s.cacheLayout().groups();
    Value params = vector::BitCastOp::create(
        b, loc, VectorType::get({2}, b.getF32Type()),
        vector::LoadOp::create(b, loc, bytes(8), buf, at(8 * g)));
    Value scale = vector::BroadcastOp::create(
        b, loc, vf, vector::ExtractOp::create(b, loc, params, 0));
    Value min = vector::BroadcastOp::create(
        b, loc, vf, vector::ExtractOp::create(b, loc, params, 1));
    for (int64_t e0 = 0; e0 < kKVCacheGroup; e0 += v) {
      Value code;
      if (s.cache == KVCacheFormat::Int8) {
        code = vector::LoadOp::create(b, loc, bytes(v), buf,
                                      at(codes + g * kKVCacheGroup + e0));
      } else {
        // Values 0-15 of a group: low nibbles; 16-31: high ones.
        Value packed = vector::LoadOp::create(
            b, loc, bytes(v), buf, at(codes + g * 16 + e0 % 16));
        if (e0 < 16)
          code = arith::AndIOp::create(
              b, loc, packed, e.splat(bytes(v), b.getI8IntegerAttr(15)));
        else
          code = arith::ShRUIOp::create(
              b, loc, packed, e.splat(bytes(v), b.getI8IntegerAttr(4)));
      }
      row.push_back(
          fma(arith::UIToFPOp::create(b, loc, vf, code), scale, min));
    }
  }

  /// Row `row` = (batch, cache group, position in the step, head pass).
  void buildRow(Value row, Value past) {
    int64_t passes = s.heads / s.kvHeads / heads;
    Value pass = remIdx(row, passes);
    Value rest = divIdx(row, passes);
    i = remIdx(rest, s.seq);
    group = remIdx(divIdx(rest, s.seq), s.kvHeads);
    batch = divIdx(rest, s.kvHeads * s.seq);
    firstHead = add(mulIdx(group, s.heads / s.kvHeads), mulIdx(pass, heads));
    attend(add(add(past, i), e.idx(1)), /*weighImportance=*/false);
  }

  /// The row's heads at position i attend to the first `len` positions;
  /// MiKV adds their probabilities to the positions' importance.
  void attend(Value len, bool weighImportance) {
    storeScores(len);
    Value blocks = divIdx(add(len, e.idx(v - 1)), v);
    SmallVector<Value> sums;
    for (int64_t h = 0; h < heads; ++h)
      sums.push_back(softmaxNumerators(h, blocks));
    if (weighImportance)
      addImportance(len, sums);
    accumulateValues(len, sums);
  }

  /// MiKV's row = (batch, cache group): positions past .. past + S - 1
  /// in order, each entering the pool, then attending (its probabilities
  /// added to the importance of what it attended to).
  void buildMixedRow(Value row, Value past) {
    batch = divIdx(row, s.kvHeads);
    group = remIdx(row, s.kvHeads);
    firstHead = mulIdx(group, s.heads / s.kvHeads);
    e.forRange(e.idx(0), e.idx(s.seq), [&](Value pos) {
      i = pos;
      Value p = add(past, i);
      admit(p);
      attend(add(p, e.idx(1)), /*weighImportance=*/true);
    });
  }

  /// The f32 / i32 at byte `offset` of row t of this group in `buf`.
  Value loadWord(Value buf, Value t, int64_t offset, Type type) {
    Value bytes = vector::LoadOp::create(
        b, loc, VectorType::get({4}, b.getI8Type()), buf,
        ValueRange{batch, group, t, e.idx(offset)});
    Value word = vector::BitCastOp::create(b, loc, VectorType::get({1}, type),
                                           bytes);
    return vector::ExtractOp::create(b, loc, word, 0);
  }
  void storeWord(Value x, Value buf, Value t, int64_t offset) {
    Value word = vector::BroadcastOp::create(
        b, loc, VectorType::get({1}, x.getType()), x);
    vector::StoreOp::create(
        b, loc,
        vector::BitCastOp::create(b, loc, VectorType::get({4}, b.getI8Type()),
                                  word),
        buf, ValueRange{batch, group, t, e.idx(offset)});
  }
  Value slotOf(Value t) {
    return loadWord(kc, t, s.cacheLayout().slotOffset(), b.getI32Type());
  }
  Value i32(int64_t x) { return arith::ConstantIntOp::create(b, loc, x, 32); }
  Value cmpI(arith::CmpIPredicate pred, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, pred, x, y);
  }

  /// Gives position p (this step's position i) a pool slot unless it has
  /// one (a padded step's position, fed again), with its importance reset,
  /// and stores its f16 key and value there.
  void admit(Value p) {
    KVCacheLayout layout = s.cacheLayout();
    Value slot = slotFor(p);
    storeWord(slot, kc, p, layout.slotOffset());
    storeWord(e.f32(0.0f), kc, p, layout.importanceOffset());
    auto write = scf::IfOp::create(
        b, loc, cmpI(arith::CmpIPredicate::ne, slot, i32(0)), false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&write.getThenRegion().front());
    Value m = arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        arith::SubIOp::create(b, loc, slot, i32(1)));
    storePooled(newKey, kc, m);
    storePooled(newValue, vc, m);
  }

  /// The slot (+ 1) of position p: the one it holds, else slot p while the
  /// pool has free ones (positions enter in order), else an evicted one.
  Value slotFor(Value p) {
    Value held = slotOf(p);
    auto holds = scf::IfOp::create(
        b, loc, b.getI32Type(), cmpI(arith::CmpIPredicate::ne, held, i32(0)),
        /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&holds.getThenRegion().front());
    scf::YieldOp::create(b, loc, held);
    b.setInsertionPointToStart(&holds.getElseRegion().front());
    Value free = cmpI(arith::CmpIPredicate::ult, p,
                      e.idx(KVCacheLayout::poolSlots(s.cacheLen)));
    auto fresh = scf::IfOp::create(b, loc, b.getI32Type(), free, true);
    b.setInsertionPointToStart(&fresh.getThenRegion().front());
    Value next =
        arith::IndexCastOp::create(b, loc, b.getI32Type(), add(p, e.idx(1)));
    scf::YieldOp::create(b, loc, next);
    b.setInsertionPointToStart(&fresh.getElseRegion().front());
    scf::YieldOp::create(b, loc, evict(p));
    b.setInsertionPointAfter(fresh);
    scf::YieldOp::create(b, loc, fresh.getResult(0));
    return holds.getResult(0);
  }

  /// Takes the slot of the pooled position before p - recentWindow with
  /// the least importance (the earliest of equals) and returns it; 0 when
  /// there is none (importances that are all NaN).
  Value evict(Value p) {
    KVCacheLayout layout = s.cacheLayout();
    Value end = arith::SubIOp::create(
        b, loc, p, e.idx(KVCacheLayout::recentWindow(s.cacheLen)));
    float inf = std::numeric_limits<float>::infinity();
    ValueRange best = e.forCarrying(
        e.idx(0), end, {e.f32(inf), e.idx(0), i32(0)},
        [&](Value t, ValueRange it) -> SmallVector<Value> {
          Value imp = loadWord(kc, t, layout.importanceOffset(),
                               b.getF32Type());
          Value better = arith::AndIOp::create(
              b, loc, cmpI(arith::CmpIPredicate::ne, slotOf(t), i32(0)),
              arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, imp,
                                    it[0]));
          auto pick = [&](Value x, Value y) {
            return arith::SelectOp::create(b, loc, better, x, y).getResult();
          };
          return {pick(imp, it[0]), pick(t, it[1]), pick(i32(1), it[2])};
        });
    Value victim = best[1], held = slotOf(victim);
    Value found = cmpI(arith::CmpIPredicate::ne, best[2], i32(0));
    storeWord(arith::SelectOp::create(b, loc, found, i32(0), held), kc,
              victim, layout.slotOffset());
    return arith::SelectOp::create(b, loc, found, held, i32(0));
  }

  /// Stores this step's position i of `values` ([B, KV, S, D] f32) as f16
  /// in pool slot m of `buf`: piece j in row kMiKVShare m + j.
  void storePooled(Value values, Value buf, Value m) {
    KVCacheLayout layout = s.cacheLayout();
    int64_t pv = layout.pieceValues();
    auto wide = VectorType::get({pv}, b.getF32Type());
    for (int64_t j = 0; j < kMiKVShare; ++j) {
      Value x = vector::LoadOp::create(b, loc, wide, values,
                                       ValueRange{batch, group, i,
                                                  e.idx(j * pv)});
      Value h = arith::TruncFOp::create(
          b, loc, VectorType::get({pv}, b.getF16Type()), x);
      Value bytes = vector::BitCastOp::create(
          b, loc, VectorType::get({2 * pv}, b.getI8Type()), h);
      vector::StoreOp::create(
          b, loc, bytes, buf,
          ValueRange{batch, group, add(mulIdx(m, kMiKVShare), e.idx(j)),
                     e.idx(layout.poolOffset())});
    }
  }

  /// Row t of a MiKV cache: its f16 pool row if it has a slot, else its
  /// int4 row decoded.
  SmallVector<Value> mixedRow(Value buf, Value t) {
    Value slot = slotOf(t);
    SmallVector<Type> types(chunks, vf);
    auto branch = scf::IfOp::create(
        b, loc, types, cmpI(arith::CmpIPredicate::ne, slot, i32(0)), true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&branch.getThenRegion().front());
    Value m = arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        arith::SubIOp::create(b, loc, slot, i32(1)));
    scf::YieldOp::create(b, loc, pooledRow(buf, m));
    b.setInsertionPointToStart(&branch.getElseRegion().front());
    SmallVector<Value> low;
    KVCacheLayout layout = s.cacheLayout();
    for (int64_t g = 0; g < layout.groups(); ++g)
      appendGroup(buf, g, [&](int64_t offset) -> SmallVector<Value> {
        return {batch, group, t, e.idx(offset)};
      }, low);
    scf::YieldOp::create(b, loc, low);
    return SmallVector<Value>(branch.getResults());
  }

  /// Pool slot m of `buf` as f32 vectors.
  SmallVector<Value> pooledRow(Value buf, Value m) {
    KVCacheLayout layout = s.cacheLayout();
    int64_t pv = layout.pieceValues();
    SmallVector<Value> row;
    for (int64_t j = 0; j < chunks; ++j) {
      int64_t first = j * v;
      Value bytes = vector::LoadOp::create(
          b, loc, VectorType::get({2 * v}, b.getI8Type()), buf,
          ValueRange{batch, group,
                     add(mulIdx(m, kMiKVShare), e.idx(first / pv)),
                     e.idx(layout.poolOffset() + 2 * (first % pv))});
      Value h = vector::BitCastOp::create(
          b, loc, VectorType::get({v}, b.getF16Type()), bytes);
      row.push_back(arith::ExtFOp::create(b, loc, vf, h));
    }
    return row;
  }

  /// importance[t] += sum over the row's heads of their probability of t,
  /// for t < len (scores hold the softmax numerators, sums their sums).
  void addImportance(Value len, ArrayRef<Value> sums) {
    KVCacheLayout layout = s.cacheLayout();
    SmallVector<Value> inv;
    for (Value sum : sums)
      inv.push_back(arith::DivFOp::create(b, loc, e.f32(1.0f), sum));
    e.forRange(e.idx(0), len, [&](Value t) {
      Value acc = loadWord(kc, t, layout.importanceOffset(), b.getF32Type());
      for (int64_t h = 0; h < heads; ++h) {
        Value p = memref::LoadOp::create(b, loc, scores,
                                         ValueRange{e.idx(h), t});
        acc = arith::AddFOp::create(
            b, loc, acc, arith::MulFOp::create(b, loc, p, inv[h]));
      }
      storeWord(acc, kc, t, layout.importanceOffset());
    });
  }

  /// scores[h][t] = q_h . k[t] for t < len, -inf up to the next whole
  /// vector.
  void storeScores(Value len) {
    SmallVector<SmallVector<Value>> qv(heads);
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t j = 0; j < chunks; ++j)
        qv[h].push_back(arith::MulFOp::create(
            b, loc, load(q, {batch, add(firstHead, e.idx(h)), i,
                             e.idx(j * v)}),
            splat(s.scale)));
    e.forRange(e.idx(0), len, [&](Value t) {
      SmallVector<Value> k = cacheRow(kc, t);
      for (int64_t h = 0; h < heads; ++h) {
        Value acc = arith::MulFOp::create(b, loc, qv[h][0], k[0]);
        for (int64_t j = 1; j < chunks; ++j)
          acc = fma(qv[h][j], k[j], acc);
        memref::StoreOp::create(b, loc,
                                reduce(vector::CombiningKind::ADD, acc),
                                scores, ValueRange{e.idx(h), t});
      }
    });
    Value end = mulIdx(divIdx(add(len, e.idx(v - 1)), v), v);
    e.forRange(len, end, [&](Value t) {
      for (int64_t h = 0; h < heads; ++h)
        memref::StoreOp::create(
            b, loc, e.f32(-std::numeric_limits<float>::infinity()), scores,
            ValueRange{e.idx(h), t});
    });
  }

  /// Replaces head h's scores by exp(score - max) over `blocks` vectors and
  /// returns their sum.
  Value softmaxNumerators(int64_t h, Value blocks) {
    Value zero = e.idx(0), hv = e.idx(h);
    Value maxLanes =
        loop(zero, blocks, {splat(-std::numeric_limits<float>::infinity())},
             [&](Value blk, ValueRange it) -> SmallVector<Value> {
               return {arith::MaximumFOp::create(
                   b, loc, it[0], load(scores, {hv, mulIdx(blk, v)}))};
             })[0];
    Value max = vector::BroadcastOp::create(
        b, loc, vf, reduce(vector::CombiningKind::MAXIMUMF, maxLanes));
    Value sumLanes =
        loop(zero, blocks, {splat(0.0f)},
             [&](Value blk, ValueRange it) -> SmallVector<Value> {
               Value at = mulIdx(blk, v);
               Value x = math::ExpOp::create(
                   b, loc,
                   arith::SubFOp::create(b, loc, load(scores, {hv, at}), max));
               vector::StoreOp::create(b, loc, x, scores, ValueRange{hv, at});
               return {arith::AddFOp::create(b, loc, it[0], x)};
             })[0];
    return reduce(vector::CombiningKind::ADD, sumLanes);
  }

  /// out[head] = sum_t scores[h][t] v[t] / sum_h for the row's heads.
  void accumulateValues(Value len, ArrayRef<Value> sums) {
    SmallVector<Value> init(heads * chunks, splat(0.0f));
    ValueRange acc = loop(
        e.idx(0), len, init,
        [&](Value t, ValueRange it) -> SmallVector<Value> {
          SmallVector<Value> val = cacheRow(vc, t);
          SmallVector<Value> next;
          for (int64_t h = 0; h < heads; ++h) {
            Value p = vector::BroadcastOp::create(
                b, loc, vf,
                memref::LoadOp::create(b, loc, scores,
                                       ValueRange{e.idx(h), t}));
            for (int64_t j = 0; j < chunks; ++j)
              next.push_back(fma(p, val[j], it[h * chunks + j]));
          }
          return next;
        });
    for (int64_t h = 0; h < heads; ++h) {
      Value inv = vector::BroadcastOp::create(
          b, loc, vf, arith::DivFOp::create(b, loc, e.f32(1.0f), sums[h]));
      for (int64_t j = 0; j < chunks; ++j)
        vector::StoreOp::create(
            b, loc, arith::MulFOp::create(b, loc, acc[h * chunks + j], inv),
            out,
            ValueRange{batch, add(firstHead, e.idx(h)), i, e.idx(j * v)});
    }
  }

  OpBuilder &b;
  Location loc;
  Emitter e;
  const AttentionShape &s;
  int64_t v, chunks, heads, padded = 0;
  VectorType vf;
  Value q, kc, vc, out, scores;
  /// MiKV: the step's keys and values, f32.
  Value newKey, newValue;
  /// The current row's coordinates.
  Value batch, group, i, firstHead;
};

} // namespace

func::FuncOp qc::getAttentionKernel(ModuleOp module, Location loc,
                                    const AttentionShape &s) {
  std::string name = s.name();
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  MLIRContext *ctx = module.getContext();
  Type f32 = Float32Type::get(ctx), index = IndexType::get(ctx);
  auto qType = MemRefType::get({s.batch, s.heads, s.seq, s.headDim}, f32);
  KVCacheLayout layout = s.cacheLayout();
  auto cType = MemRefType::get(
      {s.batch, s.kvHeads, s.cacheLen, layout.rowWidth()},
      layout.elementType(ctx));
  SmallVector<Type> args = {qType, cType, cType, index, qType};
  if (layout.mixed()) {
    auto stepType =
        MemRefType::get({s.batch, s.kvHeads, s.seq, s.headDim}, f32);
    args.append({stepType, stepType});
  }
  args.append({index, index});
  OpBuilder top = OpBuilder::atBlockEnd(module.getBody());
  auto fn = func::FuncOp::create(top, loc, name,
                                 FunctionType::get(ctx, args, {}));
  fn.setPrivate();
  Block *entry = fn.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockEnd(entry);
  AttentionBody(b, loc, s).build(entry->getArguments());
  func::ReturnOp::create(b, loc);
  return fn;
}
