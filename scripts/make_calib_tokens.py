#!/usr/bin/env python3
"""Calibration samples for SmolLM2: token ids of a text as an .npy array.

  make_calib_tokens.py [--text FILE] [--samples 16] [--seq-len 512] -o OUT.npy

The text (default: Jane Austen's "emma", the calibration split of
../shared/DATA.md; evaluation uses "persuasion") is normalized and tokenized
exactly as scripts/eval_ppl.py does, then cut into consecutive windows of
--seq-len tokens from the start. Output shape [samples, 1, seq_len], int64:
what qc-compile/qc-calibrate --calib-data expect for the [1, S] input.

With --bert-vocab VOCAB (an encoder such as MiniLM), each of the first
--samples paragraphs is one sample, tokenized with that WordPiece vocabulary
and padded/truncated to --seq-len; -o is then a prefix and three files are
written: PREFIX_input_ids.npy, PREFIX_attention_mask.npy,
PREFIX_token_type_ids.npy.
"""

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--text", default=os.path.join(ROOT, ".cache", "text", "austen", "emma.txt"))
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--gguf", default=os.path.join(ROOT, ".cache", "models", "smollm2",
                                                   "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--bert-vocab")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    from eval_ppl import load_text
    if a.bert_vocab:
        from tokenize_bert import BertTokenizer
        tok = BertTokenizer(a.bert_vocab)
        paras = [p for p in load_text(a.text).split("\n\n") if len(p) > 200]
        if len(paras) < a.samples:
            sys.exit("make_calib_tokens: only %d paragraphs" % len(paras))
        enc = [tok.encode(p, a.seq_len) for p in paras[:a.samples]]
        for i, name in enumerate(("input_ids", "attention_mask", "token_type_ids")):
            arr = np.array([[e[i]] for e in enc], dtype=np.int64)
            out = "%s_%s.npy" % (a.output, name)
            np.save(out + ".tmp.npy", arr)
            os.replace(out + ".tmp.npy", out)
        print("wrote %s_*.npy: %d samples x %d tokens" % (a.output, a.samples, a.seq_len))
        return
    from tokenize_gguf import GGUFTokenizer
    tok = GGUFTokenizer(a.gguf)
    text = load_text(a.text)
    need = a.samples * a.seq_len
    ids, pos = [], 0
    while len(ids) < need and pos < len(text):
        end = text.find("\n\n", pos + 20000)
        end = len(text) if end < 0 else end
        ids += tok.encode(text[pos:end])
        pos = end
    if len(ids) < need:
        sys.exit("make_calib_tokens: the text has %d tokens, %d needed" % (len(ids), need))
    arr = np.array(ids[:need], dtype=np.int64).reshape(a.samples, 1, a.seq_len)
    tmp = a.output + ".tmp.npy"
    np.save(tmp, arr)
    os.replace(tmp, a.output)
    print("wrote %s: %d samples x %d tokens" % (a.output, a.samples, a.seq_len))


if __name__ == "__main__":
    main()
