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

using namespace mlir;
using namespace qc;
using namespace qc::kernels::cpu;

std::string AttentionShape::name() const {
  uint32_t bits;
  std::memcpy(&bits, &scale, sizeof(bits));
  return llvm::formatv("qc_attention_b{0}_h{1}_kv{2}_s{3}_t{4}_d{5}_v{6}_sc{7:x}",
                       batch, heads, kvHeads, seq, cacheLen, headDim,
                       vectorLanes(), bits)
      .str();
}

int64_t AttentionShape::vectorLanes() const {
  for (int64_t v : {lanes, int64_t(8), int64_t(4), int64_t(2)})
    if (v > 1 && v <= std::max<int64_t>(lanes, 8) && headDim % v == 0)
      return v;
  return 1;
}

namespace {

/// Builds the body of the kernel; `args` are (q, key_cache, value_cache,
/// past, out, begin, end).
class AttentionBody {
public:
  AttentionBody(OpBuilder &b, Location loc, const AttentionShape &s)
      : b(b), loc(loc), e(b, loc), s(s), v(s.vectorLanes()),
        vf(VectorType::get({v}, b.getF32Type())) {}

  void build(ValueRange args) {
    q = args[0];
    kc = args[1];
    vc = args[2];
    out = args[4];
    Value past = args[3];
    // Scores of one row, padded to whole vectors.
    int64_t padded = (s.cacheLen + v - 1) / v * v;
    scores = memref::AllocaOp::create(
        b, loc, MemRefType::get({padded}, b.getF32Type()),
        b.getI64IntegerAttr(64));
    e.forRange(args[5], args[6], [&](Value row) { buildRow(row, past); });
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
  Value reduce(vector::CombiningKind kind, Value x) {
    return vector::ReductionOp::create(b, loc, kind, x);
  }

  /// An scf.for over [lo, hi) carrying `init`; `body` returns the next
  /// values. Returns the loop's results.
  ValueRange loop(Value lo, Value hi, ValueRange init,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto op = scf::ForOp::create(
        b, loc, lo, hi, e.idx(1), init,
        [&](OpBuilder &nested, Location, Value i, ValueRange iter) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPointToStart(nested.getInsertionBlock());
          scf::YieldOp::create(b, loc, body(i, iter));
        });
    return op.getResults();
  }

  /// Query row `row` = (batch, head, position in the step).
  void buildRow(Value row, Value past) {
    Value i = remIdx(row, s.seq);
    Value head = remIdx(divIdx(row, s.seq), s.heads);
    Value batch = divIdx(row, s.heads * s.seq);
    Value group = divIdx(head, s.heads / s.kvHeads);
    Value len = add(add(past, i), e.idx(1));
    int64_t chunks = s.headDim / v;
    SmallVector<Value> qv;
    for (int64_t j = 0; j < chunks; ++j)
      qv.push_back(arith::MulFOp::create(
          b, loc, load(q, {batch, head, i, e.idx(j * v)}), splat(s.scale)));
    storeScores(qv, batch, group, len);
    Value blocks = divIdx(add(len, e.idx(v - 1)), v);
    Value sum = softmaxNumerators(blocks);
    accumulateValues(batch, head, i, group, len, sum);
  }

  /// scores[t] = q . k[t] for t < len, -inf up to the next whole vector.
  void storeScores(ArrayRef<Value> qv, Value batch, Value group, Value len) {
    e.forRange(e.idx(0), len, [&](Value t) {
      Value acc = arith::MulFOp::create(
          b, loc, qv[0], load(kc, {batch, group, t, e.idx(0)}));
      for (size_t j = 1; j < qv.size(); ++j)
        acc = fma(qv[j], load(kc, {batch, group, t, e.idx(j * v)}), acc);
      memref::StoreOp::create(b, loc, reduce(vector::CombiningKind::ADD, acc),
                              scores, ValueRange{t});
    });
    Value end = mulIdx(divIdx(add(len, e.idx(v - 1)), v), v);
    e.forRange(len, end, [&](Value t) {
      memref::StoreOp::create(
          b, loc, e.f32(-std::numeric_limits<float>::infinity()), scores,
          ValueRange{t});
    });
  }

  /// Replaces the scores by exp(score - max) over `blocks` vectors and
  /// returns their sum.
  Value softmaxNumerators(Value blocks) {
    Value zero = e.idx(0);
    Value maxLanes =
        loop(zero, blocks, {splat(-std::numeric_limits<float>::infinity())},
             [&](Value blk, ValueRange it) -> SmallVector<Value> {
               return {arith::MaximumFOp::create(
                   b, loc, it[0], load(scores, {mulIdx(blk, v)}))};
             })[0];
    Value max = vector::BroadcastOp::create(
        b, loc, vf, reduce(vector::CombiningKind::MAXIMUMF, maxLanes));
    Value sumLanes =
        loop(zero, blocks, {splat(0.0f)},
             [&](Value blk, ValueRange it) -> SmallVector<Value> {
               Value at = mulIdx(blk, v);
               Value x = math::ExpOp::create(
                   b, loc,
                   arith::SubFOp::create(b, loc, load(scores, {at}), max));
               vector::StoreOp::create(b, loc, x, scores, ValueRange{at});
               return {arith::AddFOp::create(b, loc, it[0], x)};
             })[0];
    return reduce(vector::CombiningKind::ADD, sumLanes);
  }

  /// out[row] = sum_t scores[t] v[t] / sum.
  void accumulateValues(Value batch, Value head, Value i, Value group,
                        Value len, Value sum) {
    int64_t chunks = s.headDim / v;
    SmallVector<Value> init(chunks, splat(0.0f));
    ValueRange acc = loop(
        e.idx(0), len, init,
        [&](Value t, ValueRange it) -> SmallVector<Value> {
          Value p = vector::BroadcastOp::create(
              b, loc, vf, memref::LoadOp::create(b, loc, scores, t));
          SmallVector<Value> next;
          for (int64_t j = 0; j < chunks; ++j)
            next.push_back(
                fma(p, load(vc, {batch, group, t, e.idx(j * v)}), it[j]));
          return next;
        });
    Value inv = vector::BroadcastOp::create(
        b, loc, vf, arith::DivFOp::create(b, loc, e.f32(1.0f), sum));
    for (int64_t j = 0; j < chunks; ++j)
      vector::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, acc[j], inv),
                              out, ValueRange{batch, head, i, e.idx(j * v)});
  }

  OpBuilder &b;
  Location loc;
  Emitter e;
  const AttentionShape &s;
  int64_t v;
  VectorType vf;
  Value q, kc, vc, out, scores;
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
  auto cType =
      MemRefType::get({s.batch, s.kvHeads, s.cacheLen, s.headDim}, f32);
  OpBuilder top = OpBuilder::atBlockEnd(module.getBody());
  auto fn = func::FuncOp::create(
      top, loc, name,
      FunctionType::get(ctx, {qType, cType, cType, index, qType, index, index},
                        {}));
  fn.setPrivate();
  Block *entry = fn.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockEnd(entry);
  AttentionBody(b, loc, s).build(entry->getArguments());
  func::ReturnOp::create(b, loc);
  return fn;
}
