#!/usr/bin/env python3
"""Tiny llama-architecture GGUF files for qc's GGUF import tests.

  gguf_llama.py make OUT.gguf [--tied]      2 blocks, d = 256, every ggml type
                                            qc reads used by some tensor
  gguf_llama.py make OUT.gguf --small       1 block, d = 64, the 32-element
                                            block types only (< 64 KB: a fuzzing
                                            seed, scripts/fuzz.sh gguf)
  gguf_llama.py check OUT.gguf IDS.npy QC_LOGITS.npy [--tol T]
                                            qc's logits against an independent
                                            float64 forward pass
  gguf_llama.py bad KIND OUT.gguf           a broken file (truncated, magic,
                                            version, arch, qtype, shape, count,
                                            blocks, template)
  gguf_llama.py mutate GGUF [--count N] -- COMPILE...
                                            random corruptions compiled by
                                            COMPILE + [mutant]: none may crash

Quantized tensors hold random blocks whose f16 scale fields are set to sane
values, written with the PyPI `gguf` package's GGUFWriter. The reference
dequantizes them with gguf.quants.dequantize (not qc's code) and runs the
llama forward pass of scripts/build_smollm2_onnx.py (reference_logits:
GGUF's permuted q / k rows with interleaved-pair RoPE, as ggml computes it),
so it checks qc's reader, dequantizers, row un-permutation and graph.
"""

import argparse
import math
import os
import struct
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "scripts"))
sys.path.insert(0, HERE)
import tiny_bpe  # noqa: E402

D, FFN, HEADS, KV, LAYERS, VOCAB = 256, 512, 4, 2, 2, 320

# Block bytes and (offset, base magnitude) of the f16 scale fields.
SCALES = {
    Q.Q4_0: (18, [(0, 4e-3)]),
    Q.Q4_1: (20, [(0, 4e-3), (2, -3e-2)]),
    Q.Q5_0: (22, [(0, 2e-3)]),
    Q.Q5_1: (24, [(0, 2e-3), (2, -3e-2)]),
    Q.Q8_0: (34, [(0, 3e-4)]),
    Q.Q2_K: (84, [(80, 2e-3), (82, 1e-3)]),
    Q.Q3_K: (110, [(108, 3e-4)]),
    Q.Q4_K: (144, [(0, 1e-4), (2, 1e-4)]),
    Q.Q5_K: (176, [(0, 5e-5), (2, 5e-5)]),
    Q.Q6_K: (210, [(208, 2e-5)]),
}

LAYER_TYPES = [
    dict(attn_q=Q.Q4_0, attn_k=Q.Q4_1, attn_v=Q.Q5_0, attn_output=Q.Q5_1,
         ffn_gate=Q.Q8_0, ffn_up=Q.Q2_K, ffn_down=Q.Q3_K),
    dict(attn_q=Q.Q4_K, attn_k=Q.Q5_K, attn_v=Q.Q6_K, attn_output=Q.F16,
         ffn_gate=Q.BF16, ffn_up=Q.F32, ffn_down=Q.Q4_K),
]


def random_tensor(rng, rows, cols, qtype):
    """(numpy array for GGUFWriter, raw_dtype) of a [rows, cols] tensor."""
    if qtype == Q.F32:
        return (rng.standard_normal((rows, cols)) * 0.05).astype(np.float32), None
    if qtype == Q.F16:
        return (rng.standard_normal((rows, cols)) * 0.05).astype(np.float16), None
    if qtype == Q.BF16:
        f = (rng.standard_normal((rows, cols)) * 0.05).astype(np.float32)
        bits = (f.view(np.uint32) >> 16).astype(np.uint16)
        return bits.view(np.uint8).reshape(rows, cols * 2), qtype
    block_bytes, fields = SCALES[qtype]
    elems = 256 if qtype in (Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K) else 32
    nblocks = rows * cols // elems
    raw = rng.integers(0, 256, size=(nblocks, block_bytes), dtype=np.uint8)
    for off, base in fields:
        v = (base * rng.uniform(0.5, 1.5, nblocks)).astype(np.float16)
        raw[:, off:off + 2] = v.view(np.uint8).reshape(nblocks, 2)
    return raw.reshape(rows, cols // elems * block_bytes), qtype


def add(writer, name, arr, raw_dtype):
    if raw_dtype is None:
        writer.add_tensor(name, arr)
    else:
        writer.add_tensor(name, arr, raw_dtype=raw_dtype)


SMALL_TYPES = [dict(attn_q=Q.Q4_0, attn_k=Q.Q4_1, attn_v=Q.Q5_0, attn_output=Q.Q5_1,
                    ffn_gate=Q.Q8_0, ffn_up=Q.F16, ffn_down=Q.BF16)]


def make_small(path, tied):
    """make() at d = 64, one block of 32-element block types."""
    global D, FFN, HEADS, KV, LAYERS, LAYER_TYPES
    D, FFN, HEADS, KV, LAYERS, LAYER_TYPES = 64, 64, 2, 1, 1, SMALL_TYPES
    make(path, tied, output_type=Q.Q8_0)


def make(path, tied, arch="llama", seed=0, output_type=Q.Q6_K, block_count=None):
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(path, arch)
    w.add_name("qc-tiny-llama")
    w.add_block_count(block_count or LAYERS)
    w.add_context_length(256)
    w.add_embedding_length(D)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV)
    w.add_rope_dimension_count(D // HEADS)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(VOCAB)
    tiny_bpe.add_tokenizer(w, VOCAB)
    add(w, "token_embd.weight", *random_tensor(rng, VOCAB, D, Q.Q8_0))
    kvd = KV * D // HEADS
    for i, types in enumerate(LAYER_TYPES):
        p = "blk.%d." % i
        norm = (1.0 + 0.1 * rng.standard_normal(D)).astype(np.float32)
        add(w, p + "attn_norm.weight", norm, None)
        for name, rows, cols in (("attn_q", D, D), ("attn_k", kvd, D), ("attn_v", kvd, D),
                                 ("attn_output", D, D), ("ffn_gate", FFN, D),
                                 ("ffn_up", FFN, D), ("ffn_down", D, FFN)):
            add(w, p + name + ".weight", *random_tensor(rng, rows, cols, types[name]))
        norm = (1.0 + 0.1 * rng.standard_normal(D)).astype(np.float32)
        add(w, p + "ffn_norm.weight", norm, None)
    add(w, "output_norm.weight", (1.0 + 0.1 * rng.standard_normal(D)).astype(np.float32), None)
    if not tied:
        add(w, "output.weight", *random_tensor(rng, VOCAB, D, output_type))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def kv_store(fmt):
    """The reference's kv_store for qc's cache format `fmt`
    (dialects/QC/IR/KVCache.h): f16 values, or groups of 32 with an f32
    scale and minimum and codes rounded to nearest even, computed in f32 as
    qc does. Keys are grouped in qc's head layout (rotate-half: the even
    then the odd dimensions of GGUF's interleaved pairs)."""
    if fmt == "f32":
        return None
    levels = {"int8": 255.0, "int4": 15.0}.get(fmt)

    def store(x):
        if levels is None:
            return x.astype(np.float32).astype(np.float16).astype(np.float64)
        g = x.astype(np.float32).reshape(x.shape[:-1] + (-1, 32))
        mn, mx = g.min(-1, keepdims=True), g.max(-1, keepdims=True)
        scale = ((mx - mn) / np.float32(levels)).astype(np.float32)
        inv = np.where(scale > 0, np.float32(1) / np.where(scale > 0, scale, 1), 0).astype(np.float32)
        q = np.clip(np.rint((g - mn) * inv), 0, levels)
        return (q * scale + mn).astype(np.float64).reshape(x.shape)

    def for_cache(x, is_key):
        if not is_key:
            return store(x)
        half = x.shape[-1] // 2
        y = store(np.concatenate([x[..., 0::2], x[..., 1::2]], -1))
        out = np.empty_like(x)
        out[..., 0::2], out[..., 1::2] = y[..., :half], y[..., half:]
        return out
    return for_cache


def mikv_attend(context):
    """Causal attention over MiKV caches of `context` positions, as
    dialects/QC/IR/KVCache.h describes them: each cache head's positions in
    order enter a pool of context / 8 f16 slots (once full, taking the slot
    of the pooled position with the least importance, the earliest of
    equals, outside the context / 16 most recent), then attend to the
    pooled positions in f16 and the others in int4; their probabilities,
    summed over the group's heads, add to the importance (f32)."""
    slots = context // 8
    recent = slots // 2
    low = kv_store("int4")

    def f16(x):
        return x.astype(np.float32).astype(np.float16).astype(np.float64)

    def attend(q, k, v):
        S, H, dh = q.shape
        KV = k.shape[1]
        G = H // KV
        lows, highs = (low(k, True), low(v, False)), (f16(k), f16(v))
        out = np.zeros_like(q)
        for g in range(KV):
            slot = np.zeros(S, np.int64)
            imp = np.zeros(S, np.float32)
            for p in range(S):
                if slot[p] == 0 and p < slots:
                    slot[p] = p + 1
                elif slot[p] == 0:
                    pooled = [t for t in range(p - recent) if slot[t]]
                    if pooled:
                        t = min(pooled, key=lambda t: (imp[t], t))
                        slot[p], slot[t] = slot[t], 0
                imp[p] = 0
                hp = (slot[:p + 1] > 0)[:, None]
                keys, values = (np.where(hp, hi[:p + 1, g], lo[:p + 1, g])
                                for hi, lo in zip(highs, lows))
                sc = q[p, g * G:(g + 1) * G] @ keys.T / math.sqrt(dh)
                pr = np.exp(sc - sc.max(-1, keepdims=True))
                pr /= pr.sum(-1, keepdims=True)
                out[p, g * G:(g + 1) * G] = pr @ values
                imp[:p + 1] += pr.sum(0).astype(np.float32)
        return out
    return attend


def reference(path, ids, kv_cache="f32", context=0):
    from build_smollm2_onnx import load_weights, reference_logits

    def dq(t):
        shape = [int(x) for x in reversed(t.shape.tolist())]
        return gguf.quants.dequantize(t.data, t.tensor_type).reshape(shape).astype(np.float32)

    cfg = dict(d=D, n_head=HEADS, n_kv=KV, eps=1e-5, rope_base=10000.0)
    W = load_weights(gguf.GGUFReader(path), cfg, LAYERS, do_unpermute=False, dequantize=dq)
    if kv_cache == "mikv":
        return reference_logits(W, cfg, ids, LAYERS, attend=mikv_attend(context))
    return reference_logits(W, cfg, ids, LAYERS, kv_store(kv_cache))


def check(path, ids_path, logits_path, tol, kv_cache, context):
    ids = np.load(ids_path)[0].tolist()
    got = np.load(logits_path)[0].astype(np.float64)
    want = reference(path, ids, kv_cache, context)
    err = float(np.abs(got - want).max())
    rel = err / float(np.abs(want).max())
    top1 = float((got.argmax(-1) == want.argmax(-1)).mean())
    print("logits %s: max rel err %.2e, top-1 agreement %.3f -> %s"
          % (list(got.shape), rel, top1, "ok" if rel <= tol else "FAIL"))
    return 0 if rel <= tol else 1


def tensor_info_offset(data, name):
    """Byte offset of the tensor-info entry for `name` (its length field)."""
    key = struct.pack("<Q", len(name)) + name.encode()
    off = data.rfind(key)
    assert off > 0, name
    return off


def bad(kind, path):
    tmp = path + ".good"
    # blocks: a block count no file of this size holds (found by
    # scripts/fuzz.sh gguf: the import sized its interface by it).
    make(tmp, tied=kind != "shape", arch="gpt2" if kind == "arch" else "llama",
         block_count=(1 << 28) + 1 if kind == "blocks" else None)
    data = bytearray(open(tmp, "rb").read())
    os.remove(tmp)
    if kind == "truncated":
        data = data[:len(data) - 1000]
    elif kind == "magic":
        data[:4] = b"GGML"
    elif kind == "version":
        data[4:8] = struct.pack("<I", 7)
    elif kind == "count":  # a metadata count no file of this size can hold
        data[16:24] = struct.pack("<Q", 1 << 40)
    elif kind in ("qtype", "shape"):
        name = "blk.1.ffn_up.weight" if kind == "qtype" else "output_norm.weight"
        off = tensor_info_offset(data, name) + 8 + len(name)
        n_dims = struct.unpack_from("<I", data, off)[0]
        if kind == "qtype":  # IQ2_XXS
            struct.pack_into("<I", data, off + 4 + 8 * n_dims, 16)
        else:  # output_norm of 128 elements instead of 256
            struct.pack_into("<Q", data, off + 4, 128)
    elif kind == "template":  # a chat template that is not UTF-8 (fuzzing)
        at = data.index(tiny_bpe.TEMPLATE.encode())
        data[at] = 0xFF
    elif kind not in ("arch", "blocks"):
        raise SystemExit("unknown kind " + kind)
    open(path, "wb").write(bytes(data))


def mutate(path, count, seed, compile_cmd):
    """Compiles `count` random corruptions of the header / metadata / tensor
    descriptions of `path` (bit flips, random bytes, extreme 64-bit values,
    truncations); fails on any exit other than 0 or 1 (a crash)."""
    import random
    import subprocess
    data = open(path, "rb").read()
    head = int(gguf.GGUFReader(path).data_offset)
    rng = random.Random(seed)
    tmp = path + ".mutant.gguf"
    outcomes = {0: 0, 1: 0}
    for i in range(count):
        b = bytearray(data)
        kind = ("flip", "byte", "u64", "truncate")[i % 4]
        if kind == "truncate":
            b = b[:rng.randrange(0, head + 64)]
        elif kind == "flip":
            for _ in range(rng.randint(1, 4)):
                p = rng.randrange(0, head)
                b[p] ^= 1 << rng.randrange(8)
        elif kind == "byte":
            b[rng.randrange(0, head)] = rng.randrange(256)
        else:
            p = rng.randrange(0, head - 8)
            b[p:p + 8] = struct.pack("<Q", rng.choice([0, 1 << 63, 2**64 - 1, rng.randrange(2**64)]))
        open(tmp, "wb").write(bytes(b))
        rc = subprocess.run(compile_cmd + [tmp], capture_output=True).returncode
        if rc not in outcomes:
            print("mutant %d (%s): exit status %d" % (i, kind, rc))
            return 1
        outcomes[rc] += 1
    os.remove(tmp)
    print("%d mutants: %d refused with an error, %d compiled, no crash"
          % (count, outcomes[1], outcomes[0]))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("out")
    m.add_argument("--tied", action="store_true")
    m.add_argument("--small", action="store_true")
    c = sub.add_parser("check")
    c.add_argument("gguf")
    c.add_argument("ids")
    c.add_argument("logits")
    c.add_argument("--tol", type=float, default=1e-4)
    c.add_argument("--kv-cache", default="f32", choices=["f32", "f16", "int8", "int4", "mikv"],
                   help="the reference stores keys and values as this cache format does")
    c.add_argument("--context", type=int, default=0,
                   help="--kv-cache mikv: the cache's positions (its pool is an eighth)")
    f = sub.add_parser("mutate")
    f.add_argument("gguf")
    f.add_argument("--count", type=int, default=24)
    f.add_argument("--seed", type=int, default=0)
    b = sub.add_parser("bad")
    b.add_argument("kind")
    b.add_argument("out")
    argv = sys.argv[1:]
    command = []
    if "--" in argv:  # mutate's compile command
        command = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    a = ap.parse_args(argv)
    if a.cmd == "make":
        (make_small if a.small else make)(a.out, a.tied)
    elif a.cmd == "check":
        sys.exit(check(a.gguf, a.ids, a.logits, a.tol, a.kv_cache, a.context))
    elif a.cmd == "mutate":
        sys.exit(mutate(a.gguf, a.count, a.seed, command))
    else:
        bad(a.kind, a.out)


if __name__ == "__main__":
    main()
