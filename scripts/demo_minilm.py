#!/usr/bin/env python3
"""The demo's second half: embed sentences with a compiled MiniLM artifact.

Usage: demo_minilm.py MODEL.onnx ARTIFACT [--qc-build build] [SENTENCE ...]

Tokenizes each sentence, runs qc-run on it, prints the cosine similarity
matrix of the sentence embeddings, the largest difference from onnxruntime
(same inputs) and the median latency of both (onnxruntime with 2 threads).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tokenize_bert import BertTokenizer  # noqa: E402

SENTENCES = [
    "Anne Elliot was persuaded to break off her engagement to Frederick Wentworth.",
    "Eight years later, Captain Wentworth returns and Anne still loves him.",
    "The compiler lowers the matrix multiplication to vector instructions.",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("artifact")
    ap.add_argument("sentences", nargs="*")
    ap.add_argument("--qc-build", default=os.path.join(os.path.dirname(HERE), "build"))
    ap.add_argument("--vocab", default=os.path.join(os.path.dirname(HERE), ".cache", "models",
                                                    "minilm", "vocab.txt"))
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--label", default="FP32", help="what the artifact is, for the printout")
    ap.add_argument("--max-rel", type=float,
                    help="fail if max|qc - onnxruntime| / max|onnxruntime| exceeds this")
    a = ap.parse_args()
    sentences = a.sentences or SENTENCES
    import onnxruntime as ort

    tok = BertTokenizer(a.vocab)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    qc_run = os.path.join(a.qc_build, "bin", "qc-run")
    qc_emb, ort_emb, qc_ms = [], [], None
    with tempfile.TemporaryDirectory() as work:
        for i, s in enumerate(sentences):
            ids, mask, types = tok.encode(s, 128)
            feeds = {"input_ids": np.array([ids], np.int64),
                     "attention_mask": np.array([mask], np.int64),
                     "token_type_ids": np.array([types], np.int64)}
            cmd = [qc_run, a.artifact, "--output-dir", os.path.join(work, "out%d" % i)]
            for name, arr in feeds.items():
                p = os.path.join(work, "%s_%d.npy" % (name, i))
                np.save(p, arr)
                cmd += ["--input", "%s=%s" % (name, p)]
            if i == 0:
                cmd += ["--repeat", str(a.repeat), "--warmup", "2"]
            text = subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                                  text=True).stdout
            m = re.search(r"time: median ([0-9.]+) ms", text)
            if m:
                qc_ms = float(m.group(1))
            qc_emb.append(np.load(os.path.join(work, "out%d" % i, "sentence_embedding.npy"))[0])
            ort_emb.append(sess.run(["sentence_embedding"], feeds)[0][0])
            if i == 0:
                times = []
                for _ in range(a.repeat):
                    t0 = time.perf_counter()
                    sess.run(None, feeds)
                    times.append((time.perf_counter() - t0) * 1e3)
                ort_ms = statistics.median(times)

    q = np.array(qc_emb)
    r = np.array(ort_emb)
    print("\nsentences:")
    for i, s in enumerate(sentences):
        print("  [%d] %s" % (i, s))
    print("sentence embedding [0][:6] (qc): %s" % np.array2string(q[0][:6], precision=5))
    print("cosine similarity (qc):")
    sim = q @ q.T
    for i in range(len(sentences)):
        print("  " + "  ".join("%6.3f" % v for v in sim[i]))
    err = float(np.max(np.abs(q - r)))
    rel = err / float(np.max(np.abs(r)))
    cos = min(float(q[i] @ r[i] / np.linalg.norm(q[i]) / np.linalg.norm(r[i]))
              for i in range(len(sentences)))
    print("accuracy (qc %s vs onnxruntime FP32): max |diff| = %.3g (relative %.3g), "
          "min cosine %.6f" % (a.label, err, rel, cos))
    print("speed (batch 1, 128 tokens): qc %s %.2f ms, onnxruntime FP32 (2 threads) %.2f ms, "
          "median of %d" % (a.label, qc_ms, ort_ms, a.repeat))
    return 1 if a.max_rel is not None and rel > a.max_rel else 0


if __name__ == "__main__":
    sys.exit(main())
