#!/usr/bin/env python3
"""Greedy generation and logits of a qc decoder artifact against llama.cpp on
the same GGUF, token for token.

  compare_llamacpp.py GGUF DECODER [--prefill P] [-n 64] [--threads 2]
                      [--prompt TEXT ...] [--llama-lib DIR] [--json OUT]
                      [--float64]

DECODER is the GGUF compiled by qc-compile with --context (the GGUF's own
weights: no --quant). For each prompt (a few built-in ones by default),
llama.cpp (llama-cpp-python's ctypes binding over the libllama built from
its vendored tree, ../shared/DATA.md) tokenizes it and generates -n tokens
greedily, keeping the logits of every position. qc then runs the same
sequence (prompt + llama.cpp's tokens, teacher-forced through
qc-generate) and its own greedy generation from the prompt. Reported per
prompt: whether qc's own greedy tokens equal llama.cpp's and where they
first differ, how many of llama.cpp's greedy choices are also qc's argmax
on the same prefix, and the logits' max |difference| relative to the
largest logit. Both sides quantize activations differently (llama.cpp to
8 bits in blocks of 32 for its quantized dot products, qc's generated
kernels its own way), so where the top two logits are within that
difference a choice may go either way. --float64 also compares both with
a float64 forward pass on the GGUF's dequantized weights.

Needs the llama.cpp build (scripts/llm_bench.sh names it); --llama-lib is the
folder of libllama.so (default: the vendored tree's build-noamx/bin, whose
batched matmuls run where AMX state is not granted).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SDIST = os.path.join(ROOT, ".cache", "llamacpp", "llama_cpp_python-0.3.36")

PROMPTS = [
    "The capital of France is",
    "Once upon a time, in a small village by the sea,",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "Photosynthesis is the process by which",
    "Here is a list of the planets of the solar system:\n1.",
]


def load_llama(gguf, lib, threads, n_ctx):
    os.environ.setdefault("LLAMA_CPP_LIB_PATH", lib)
    sys.path.insert(0, SDIST)
    # llama-cpp-python imports diskcache for its optional disk cache only.
    sys.modules.setdefault("diskcache", types.ModuleType("diskcache"))
    import llama_cpp
    return llama_cpp.Llama(gguf, n_ctx=n_ctx, n_threads=threads, n_batch=n_ctx,
                           logits_all=True, verbose=False)


def llama_greedy(m, ids, n):
    m.reset()
    m.eval(ids)
    out = []
    for _ in range(n):
        tok = int(np.argmax(m.scores[m.n_tokens - 1]))
        out.append(tok)
        if len(out) < n:
            m.eval([tok])
    return out, np.array(m.scores[:m.n_tokens], dtype=np.float64)


def qc_run(build, decoder, prefill, ids, n, threads, tmp):
    logits, out_ids = os.path.join(tmp, "lg.npy"), os.path.join(tmp, "ids.npy")
    cmd = [os.path.join(build, "bin", "qc-generate"), decoder, "--ids",
           ",".join(map(str, ids)), "-n", str(n), "--threads", str(threads),
           "--logits-out", logits, "--ids-out", out_ids]
    if prefill:
        cmd += ["--prefill", prefill]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return np.load(out_ids)[0].tolist(), np.load(logits)[0].astype(np.float64)


class Float64Reference:
    """scripts/build_smollm2_onnx.py's float64 forward pass on the GGUF's
    dequantized weights (no activation quantization on either side)."""

    def __init__(self, gguf_path):
        sys.path.insert(0, HERE)
        import build_smollm2_onnx as b
        self.b = b
        reader, self.cfg = b.read_gguf(gguf_path)
        self.W = b.load_weights(reader, self.cfg, self.cfg["n_layer"], do_unpermute=False)

    def logits(self, ids):
        return self.b.reference_logits(self.W, self.cfg, ids, self.cfg["n_layer"])


def rel_diff(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def compare(args, m, prompt, tmp, reference):
    ids = m.tokenize(prompt.encode(), add_bos=False, special=True)
    ref, ref_logits = llama_greedy(m, ids, args.n)
    # qc on llama.cpp's sequence (its last token needs no logits).
    _, forced = qc_run(args.qc_build, args.decoder, args.prefill,
                       ids + ref[:-1], 1, args.threads, tmp)
    forced = forced[:len(ids) + len(ref) - 1]
    own, _ = qc_run(args.qc_build, args.decoder, args.prefill, ids, args.n,
                    args.threads, tmp)
    own = own[len(ids):]
    first = next((i for i, (a, b) in enumerate(zip(own, ref)) if a != b),
                 None if len(own) == len(ref) else min(len(own), len(ref)))
    steps = forced[len(ids) - 1:]
    agree = int((steps.argmax(-1) == np.array(ref)).sum())
    row = dict(prompt=prompt, prompt_tokens=len(ids), generated=len(ref),
               same_tokens=first is None and len(own) == len(ref),
               first_difference=first, argmax_agreement=agree,
               logits_max_rel_diff=rel_diff(forced, ref_logits))
    if reference:
        exact = reference.logits(ids + ref[:-1])
        row["qc_vs_float64"] = rel_diff(forced, exact)
        row["llama_vs_float64"] = rel_diff(ref_logits, exact)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gguf")
    ap.add_argument("decoder")
    ap.add_argument("--prefill")
    ap.add_argument("-n", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt", action="append")
    ap.add_argument("--qc-build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--llama-lib", default=os.path.join(
        SDIST, "vendor", "llama.cpp", "build-noamx", "bin"))
    ap.add_argument("--json")
    ap.add_argument("--float64", action="store_true",
                    help="also compare both with a float64 forward pass on the "
                         "GGUF's dequantized weights")
    args = ap.parse_args()
    if not os.path.exists(os.path.join(args.llama_lib, "libllama.so")):
        sys.exit("compare_llamacpp: no libllama.so in %s (build llama.cpp as "
                 "scripts/llm_bench.sh says)" % args.llama_lib)
    m = load_llama(args.gguf, args.llama_lib, args.threads, 1024)
    reference = Float64Reference(args.gguf) if args.float64 else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for p in args.prompt or PROMPTS:
            r = compare(args, m, p, tmp, reference)
            rows.append(r)
            line = ("%-50s %2d+%d tokens: %s, argmax agrees %d/%d, logits max rel diff %.2e"
                    % (repr(p[:48]), r["prompt_tokens"], r["generated"],
                       "same tokens" if r["same_tokens"]
                       else "first difference at %d" % r["first_difference"],
                       r["argmax_agreement"], r["generated"], r["logits_max_rel_diff"]))
            if reference:
                line += " (vs float64: qc %.2e, llama.cpp %.2e)" % (
                    r["qc_vs_float64"], r["llama_vs_float64"])
            print(line)
    same = sum(r["same_tokens"] for r in rows)
    print("%d of %d prompts: the same %d greedy tokens as llama.cpp" % (same, len(rows), args.n))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
