#!/usr/bin/env python3
"""Perplexity of the SmolLM2 decoder on a text, with a fixed protocol.

  eval_ppl.py MODEL.onnx|ARTIFACT_DIR [--text FILE] [--tokens N] [--gguf GGUF]
              [--qc-build build] [--threads 2] [--json OUT]
              [--window S] [--prefill ARTIFACT_DIR]

MODEL.onnx runs in onnxruntime; an artifact folder (qc-compile output) runs
through qc-run.  The sequence length S is the model's (static) input length.
A decoder artifact (compiled with --context, one token a step) runs through
qc-generate instead: each window of --window S tokens is a new session fed
through the key-value cache (with --prefill, in whole steps of the prefill
artifact, the rest one token at a time), so its perplexity is the
prefill-then-decode one, which must equal the one-shot window perplexity.

Protocol: the text (default .cache/text/austen/persuasion.txt from
scripts/fetch_austen.py) has its hard line breaks inside paragraphs joined with
spaces (paragraphs keep one blank line), is tokenized with the GGUF's own
tokenizer (no BOS), and cut into non-overlapping windows of S tokens from the
start; the first --tokens tokens are used (default 16384, rounded down to whole
windows). Every window predicts its tokens 2..S from the ones before (S-1
predictions per window); perplexity = exp(mean NLL).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
from qc.eval import load_text, perplexity, tokenize  # noqa: E402  (the protocol)
from qc._files import write_json  # noqa: E402
from qc.tokenizers import GGUFTokenizer  # noqa: E402


class OrtModel:
    def __init__(self, path, threads):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        self.sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        inp = self.sess.get_inputs()[0]
        self.name = inp.name
        self.seq_len = inp.shape[1]

    def logits(self, ids):
        return self.sess.run(None, {self.name: ids})[0]


class QcModel:
    def __init__(self, art, qc_build, planes=None):
        self.art = art
        self.run = os.path.join(qc_build, "bin", "qc-run")
        self.planes = ["--planes", str(planes)] if planes else []
        with open(os.path.join(art, "manifest.json")) as f:
            m = json.load(f)
        self.name = m["inputs"][0]["name"]
        self.seq_len = int(m["inputs"][0]["shape"][1])
        self.out_name = m["outputs"][0]["name"]
        self.work = tempfile.mkdtemp(prefix="qc-ppl-")

    def logits(self, ids):
        p = os.path.join(self.work, "ids.npy")
        np.save(p, ids)
        od = os.path.join(self.work, "out")
        os.makedirs(od, exist_ok=True)
        r = subprocess.run([self.run, self.art, "--input", "%s=%s" % (self.name, p),
                            "--output-dir", od] + self.planes,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError("qc-run failed: " + r.stdout.decode("utf-8", "replace")[-2000:])
        safe = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/-")
        esc = "".join(chr(b) if b in safe else "%%%02X" % b for b in self.out_name.encode())
        return np.load(os.path.join(od, esc + ".npy"))

    def close(self):
        shutil.rmtree(self.work, ignore_errors=True)


class DecoderModel:
    """A decoder artifact: every window through qc-generate's caches."""

    def __init__(self, art, qc_build, window, prefill, threads):
        self.art, self.prefill, self.threads = art, prefill, threads
        self.gen = os.path.join(qc_build, "bin", "qc-generate")
        self.seq_len = window
        self.work = tempfile.mkdtemp(prefix="qc-ppl-")

    def logits(self, ids):
        out = os.path.join(self.work, "logits.npy")
        cmd = [self.gen, self.art, "--ids", ",".join(str(int(t)) for t in ids[0]),
               "-n", "0", "--threads", str(self.threads), "--logits-out", out]
        if self.prefill:
            cmd += ["--prefill", self.prefill]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError("qc-generate failed: " + r.stdout.decode("utf-8", "replace")[-2000:])
        return np.load(out)

    def close(self):
        shutil.rmtree(self.work, ignore_errors=True)


def is_decoder(art):
    with open(os.path.join(art, "manifest.json")) as f:
        return bool(json.load(f).get("states"))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--text", default=os.path.join(ROOT, ".cache", "text", "austen", "persuasion.txt"))
    ap.add_argument("--tokens", type=int, default=16384)
    ap.add_argument("--gguf", default=os.path.join(ROOT, ".cache", "models", "smollm2",
                                                   "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--qc-build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    ap.add_argument("--window", type=int, default=512,
                    help="decoder artifacts: tokens per window (default 512)")
    ap.add_argument("--prefill", help="decoder artifacts: the prefill artifact")
    ap.add_argument("--planes", type=int,
                    help="AnyBCQ artifacts (qc-compile --min-planes): the precision")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    tok = GGUFTokenizer(a.gguf)
    text = load_text(a.text)
    ids = tokenize(tok, text, a.tokens + 1)
    if not os.path.isdir(a.model):
        model = OrtModel(a.model, a.threads)
    elif is_decoder(a.model):
        model = DecoderModel(a.model, a.qc_build, a.window, a.prefill, a.threads)
    else:
        model = QcModel(a.model, a.qc_build, a.planes)
    S = model.seq_len
    try:
        res = perplexity(model.logits, ids, S, a.tokens,
                         log=(lambda m: print(m, flush=True)) if a.verbose else None)
    except ValueError as e:
        sys.exit("eval_ppl: %s" % e)
    finally:
        if hasattr(model, "close"):
            model.close()
    n_win, n_pred, ppl, dt = res["windows"], res["predictions"], res["perplexity"], res["seconds"]
    res = dict({"model": a.model, "text": os.path.basename(a.text), "seq_len": S}, **res)
    print("%s on %s: S=%d, %d windows (%d tokens, %d predictions): perplexity %.3f, "
          "top-1 accuracy %.4f, %.1fs" % (os.path.basename(a.model.rstrip("/")), res["text"], S, n_win,
                                          res["tokens"], n_pred, ppl, res["top1_accuracy"], dt))
    if a.json:
        write_json(a.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
