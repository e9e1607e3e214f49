//===- OpsAttention.cpp - attention with a key-value cache ----------------===//
//
// com.microsoft::GroupQueryAttention, the decoder attention onnxruntime-genai
// exports: new keys and values are written into caches that hold the past
// (past and present share one buffer of capacity T), rotary positions and
// the causal mask follow from the run-time sequence lengths. It becomes the
// rotary embedding (ONNX's own) and a qc.cached_attention.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"
#include "QC/IR/QCOps.h"

#include <cmath>

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

namespace {

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// The attention's sizes, read from its inputs and attributes.
struct GQAShape {
  int64_t batch, seq, heads, kvHeads, headDim, cacheLen;
};

/// Checks the attributes qc supports and the shapes of the inputs.
FailureOr<GQAShape> checkGQA(NodeContext &nc) {
  auto fail = [&](const Twine &msg) -> FailureOr<GQAShape> {
    nc.error() << msg;
    return failure();
  };
  for (StringRef a : {"softcap", "smooth_softmax", "qk_output"})
    if (nc.attrFloat(a, 0.0f) != 0.0f)
      return fail("attribute " + a + " is not supported");
  if (nc.attrInt("local_window_size", -1) != -1)
    return fail("local_window_size (sliding-window attention) is not "
                "supported");
  if (!nc.hasInput(1) || !nc.hasInput(2))
    return fail("packed QKV (no key / value input) is not supported");
  if (!nc.hasInput(3) || !nc.hasInput(4))
    return fail("needs past_key and past_value: qc compiles the shared-buffer "
                "form, whose caches have a fixed capacity");
  for (unsigned i = 9; i < nc.numInputs(); ++i)
    if (nc.hasInput(i))
      return fail("input " + Twine(i) +
                  " (position_ids, attention_bias, head_sink) is not "
                  "supported");
  for (unsigned i = 0; i < 5; ++i)
    if (nc.inputDType(i) != TP::FLOAT)
      return fail("query, key, value and the caches must be float32");
  GQAShape s;
  s.heads = nc.attrInt("num_heads", 0);
  s.kvHeads = nc.attrInt("kv_num_heads", 0);
  ArrayRef<int64_t> q = shapeOf(nc.input(0)), k = shapeOf(nc.input(1)),
                    c = shapeOf(nc.input(3));
  if (q.size() != 3 || s.heads <= 0 || q[2] % s.heads != 0)
    return fail("query must be [batch, seq, num_heads * head_size] with "
                "num_heads > 0");
  s.batch = q[0];
  s.seq = q[1];
  s.headDim = q[2] / s.heads;
  if (s.kvHeads <= 0 || s.heads % s.kvHeads != 0)
    return fail("kv_num_heads must be positive and divide num_heads");
  if (s.batch != 1)
    return fail("batch " + Twine(s.batch) +
                ": only one sequence (batch 1) is supported");
  SmallVector<int64_t> kvShape = {s.batch, s.seq, s.kvHeads * s.headDim};
  if (k != ArrayRef<int64_t>(kvShape) ||
      shapeOf(nc.input(2)) != ArrayRef<int64_t>(kvShape))
    return fail("key and value must be [" + Twine(s.batch) + ", " +
                Twine(s.seq) + ", " + Twine(s.kvHeads * s.headDim) + "]");
  if (c.size() != 4 || c[0] != s.batch || c[1] != s.kvHeads ||
      c[3] != s.headDim || c[2] < s.seq || shapeOf(nc.input(4)) != c)
    return fail("past_key and past_value must be [batch, kv_num_heads, T, "
                "head_size] with T >= the sequence length");
  s.cacheLen = c[2];
  if (!nc.hasInput(5) || nc.inputDType(5) != TP::INT32 ||
      shapeOf(nc.input(5)) != ArrayRef<int64_t>{s.batch})
    return fail("seqlens_k must be int32 [batch]");
  return s;
}

LogicalResult checkRotaryCaches(NodeContext &nc, const GQAShape &s) {
  if (!nc.hasInput(7) || !nc.hasInput(8)) {
    nc.error() << "do_rotary needs cos_cache and sin_cache";
    return failure();
  }
  ArrayRef<int64_t> cs = shapeOf(nc.input(7));
  if (cs.size() != 2 || cs[1] * 2 != s.headDim || shapeOf(nc.input(8)) != cs ||
      nc.inputDType(7) != TP::FLOAT || nc.inputDType(8) != TP::FLOAT) {
    nc.error() << "cos_cache and sin_cache must be float32 [max_position, "
               << s.headDim / 2 << "]";
    return failure();
  }
  return success();
}

/// [1, S, n * D] as [1, n, S, D], rotated from position `past` when the
/// node applies rotary embeddings.
Value heads(NodeContext &nc, Value x, int64_t n, const GQAShape &s,
            Value past) {
  x = nc.reshape(x, {s.batch, s.seq, n, s.headDim});
  if (past && nc.attrInt("do_rotary", 0) != 0) {
    RotaryPositions positions;
    positions.offset = past;
    x = buildRotary(nc, x, /*seqDim=*/1, nc.input(7), nc.input(8), positions,
                    s.headDim, nc.attrInt("rotary_interleaved", 0) != 0);
  }
  return nc.transpose(x, {0, 2, 1, 3});
}

LogicalResult importGroupQueryAttention(NodeContext &nc) {
  FailureOr<GQAShape> s = checkGQA(nc);
  if (failed(s))
    return failure();
  if (nc.attrInt("do_rotary", 0) != 0 && failed(checkRotaryCaches(nc, *s)))
    return failure();
  OpBuilder &b = nc.b;
  Location loc = nc.loc;
  // Tokens already in the cache: seqlens_k holds the total length - 1.
  Value len = tensor::ExtractOp::create(
      b, loc, nc.input(5), ValueRange{arith::ConstantIndexOp::create(b, loc, 0)});
  Value past = arith::SubIOp::create(
      b, loc, arith::IndexCastOp::create(b, loc, b.getIndexType(), len),
      arith::ConstantIndexOp::create(b, loc, s->seq - 1));
  Value q = heads(nc, nc.input(0), s->heads, *s, past);
  Value k = heads(nc, nc.input(1), s->kvHeads, *s, past);
  Value v = heads(nc, nc.input(2), s->kvHeads, *s, Value());
  float scale = nc.attrFloat("scale", 0.0f);
  if (scale == 0.0f)
    scale = float(1.0 / std::sqrt(double(s->headDim)));
  auto op = qc::CachedAttentionOp::create(b, loc, q, k, v, nc.input(3),
                                          nc.input(4), past, scale);
  Value y = nc.transpose(op.getResult(), {0, 2, 1, 3});
  nc.setOutput(0, nc.reshape(y, {s->batch, s->seq, s->heads * s->headDim}),
               TP::FLOAT);
  if (nc.hasOutput(1))
    nc.setOutput(1, op.getKeyCacheOut(), TP::FLOAT);
  if (nc.hasOutput(2))
    nc.setOutput(2, op.getValueCacheOut(), TP::FLOAT);
  return success();
}

} // namespace

void qc::detail::registerAttentionOps(OpRegistry &r) {
  r.add("com.microsoft::GroupQueryAttention", importGroupQueryAttention);
}
