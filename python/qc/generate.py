"""qc.generate: text or token generation with a decoder artifact (compiled
with key-value caches), through the qc-generate tool."""
import os
import subprocess
import tempfile

import numpy as np

from . import _build
from .errors import QcError


class Generation:
    """What qc-generate produced: `ids` (prompt and generated tokens, int64),
    `text` (the generated text, with a text prompt), `logits` ([L, V] f32
    when asked for) and `stats` (its speed line)."""

    def __init__(self, ids, text, logits, stats):
        self.ids, self.text, self.logits, self.stats = ids, text, logits, stats

    def __repr__(self):
        return f"Generation(ids={self.ids.tolist()}, text={self.text!r})"


def generate(artifact, prompt=None, *, ids=None, max_tokens=32, chat=False,
             temperature=0.0, top_k=0, top_p=1.0, seed=0, threads=None,
             prefill=None, logits=False):
    """Generates `max_tokens` tokens after `prompt` (text, through the
    artifact's tokenizer) or `ids` (token ids). temperature 0 is greedy.
    Raises QcError with qc-generate's message on failure."""
    if (prompt is None) == (ids is None):
        raise QcError("generate: give a prompt or ids, not both or neither")
    args = [_build.tool("qc-generate"), os.fspath(artifact), "-n",
            str(int(max_tokens)), "--temperature", str(float(temperature)),
            "--top-k", str(int(top_k)), "--top-p", str(float(top_p)),
            "--seed", str(int(seed))]
    if prompt is not None:
        args += ["--prompt", prompt] + (["--chat"] if chat else [])
    else:
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if ids.size == 0:
            raise QcError("generate: empty prompt")
        args += ["--ids", ",".join(str(int(i)) for i in ids)]
    if threads is not None:
        args += ["--threads", str(int(threads))]
    if prefill is not None:
        args += ["--prefill", os.fspath(prefill)]
    with tempfile.TemporaryDirectory(prefix="qc-generate-") as tmp:
        ids_path = os.path.join(tmp, "ids.npy")
        logits_path = os.path.join(tmp, "logits.npy")
        args += ["--ids-out", ids_path]
        if logits:
            args += ["--logits-out", logits_path]
        r = subprocess.run(args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            lines = [l for l in r.stderr.splitlines() if l.strip()]
            raise QcError("\n".join([l for l in lines if "error" in l] or
                                    lines[-3:]) or "qc-generate failed")
        out_ids = np.load(ids_path).reshape(-1)
        out_logits = np.load(logits_path)[0] if logits else None
    stats = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    return Generation(out_ids, r.stdout if prompt is not None else None,
                      out_logits, stats)
