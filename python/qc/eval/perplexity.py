"""qc.eval: the perplexity protocol qc's figures use (docs/results.md).

    text = qc.eval.load_text("persuasion.txt")
    ids = qc.eval.tokenize(qc.tokenizers.GGUFTokenizer(gguf), text, 16385)
    result = qc.eval.perplexity(model_logits, ids, window=64)
    result["perplexity"], result["top1_accuracy"]

`model_logits(ids [1, S] int64) -> logits [1, S, vocab]` is any model: an
onnxruntime session, a qc artifact loaded with qc.load, a float64
reference. scripts/eval_ppl.py is the command line (onnxruntime, qc-run,
qc-generate).
"""
import math
import re
import time

import numpy as np


def load_text(path):
    """The text with its hard line breaks inside paragraphs joined by spaces
    (paragraphs keep one blank line between them)."""
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    paras = [re.sub(r"\s*\n\s*", " ", p).strip()
             for p in re.split(r"\n\s*\n", raw)]
    return "\n\n".join(p for p in paras if p)


def tokenize(tokenizer, text, budget, chunk=20000):
    """At least `budget` token ids of `text` (all of them if it is shorter),
    tokenized paragraph-aligned chunk by chunk: only as much text as the
    budget needs (BPE in Python is slow)."""
    ids, pos = [], 0
    while len(ids) < budget and pos < len(text):
        end = text.find("\n\n", pos + chunk)
        end = len(text) if end < 0 else end
        ids += tokenizer.encode(text[pos:end])
        pos = end
    return ids


def perplexity(logits, ids, window, tokens=None, log=None):
    """exp(mean NLL) over non-overlapping windows of `window` tokens from the
    start of `ids` (the first `tokens` of them, rounded down to whole
    windows), each predicting its tokens 2..S from the ones before. Returns
    a dict: perplexity, top1_accuracy, windows, tokens, predictions,
    seconds."""
    count = len(ids) if tokens is None else min(tokens, len(ids))
    windows = count // window
    if windows == 0:
        raise ValueError("text too short for one window of %d tokens" % window)
    nll_sum, predictions, correct = 0.0, 0, 0
    start = time.time()
    for w in range(windows):
        win = np.array(ids[w * window:(w + 1) * window], np.int64)[None]
        lg = np.asarray(logits(win))[0].astype(np.float64)
        top = lg.max(-1, keepdims=True)
        lse = (np.log(np.exp(lg - top).sum(-1)) + top[:, 0])[:-1]
        target = win[0, 1:]
        nll = lse - lg[np.arange(window - 1), target]
        nll_sum += float(nll.sum())
        predictions += window - 1
        correct += int((lg[:-1].argmax(-1) == target).sum())
        if log:
            log("window %d: ppl %.2f" % (w, math.exp(nll.mean())))
    return {"perplexity": math.exp(nll_sum / predictions),
            "top1_accuracy": correct / predictions, "windows": windows,
            "tokens": windows * window, "predictions": predictions,
            "seconds": time.time() - start}
