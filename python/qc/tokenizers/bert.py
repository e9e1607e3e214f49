"""A small BERT WordPiece tokenizer (uncased), enough for all-MiniLM-L6-v2.

It follows HF's BertTokenizer with do_lower_case=True, strip_accents=None,
tokenize_chinese_chars=True: clean text (drop control chars, whitespace ->
space), space around CJK ideographs, lowercase + strip accents (NFD, drop Mn),
split on whitespace and punctuation, then greedy longest-match WordPiece with
the "##" prefix (words over 100 chars -> [UNK]).  encode() adds [CLS] ... [SEP],
truncates and pads with [PAD] to a fixed length.

CLI (scripts/tokenize_bert.py):
  tokenize_bert.py VOCAB.txt "a sentence" ["another" ...] [--seq-len 128]
                   [--out-dir DIR]
prints the tokens and ids; with --out-dir writes input_ids.npy,
attention_mask.npy, token_type_ids.npy ([N, S] int64; N = number of sentences)
"""

import argparse
import os
import sys
import unicodedata

import numpy as np


def _is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class BertTokenizer:
    def __init__(self, vocab_path, lowercase=True, max_chars_per_word=100):
        self.vocab = {}
        with open(vocab_path, encoding="utf-8") as f:
            for i, line in enumerate(f):
                tok = line.rstrip("\n")
                if tok and tok not in self.vocab:
                    self.vocab[tok] = i
        self.inv = {i: t for t, i in self.vocab.items()}
        self.lowercase = lowercase
        self.max_chars = max_chars_per_word
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.pad_id = self.vocab["[PAD]"]
        self.unk = "[UNK]"

    # ---- basic tokenizer
    def _clean(self, text):
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_cjk(cp):
                out.append(" " + ch + " ")
            elif _is_whitespace(ch):
                out.append(" ")
            else:
                out.append(ch)
        return "".join(out)

    def _split_punct(self, word):
        pieces, cur = [], []
        for ch in word:
            if _is_punctuation(ch):
                if cur:
                    pieces.append("".join(cur))
                    cur = []
                pieces.append(ch)
            else:
                cur.append(ch)
        if cur:
            pieces.append("".join(cur))
        return pieces

    def basic_tokenize(self, text):
        words = []
        for w in self._clean(text).split():
            if self.lowercase:
                w = w.lower()
                w = "".join(c for c in unicodedata.normalize("NFD", w)
                            if unicodedata.category(c) != "Mn")
            words.extend(self._split_punct(w))
        return words

    # ---- wordpiece
    def wordpiece(self, word):
        if len(word) > self.max_chars:
            return [self.unk]
        out, start = [], 0
        while start < len(word):
            end, cur = len(word), None
            while start < end:
                sub = word[start:end]
                if start > 0:
                    sub = "##" + sub
                if sub in self.vocab:
                    cur = sub
                    break
                end -= 1
            if cur is None:
                return [self.unk]
            out.append(cur)
            start = end
        return out

    def tokenize(self, text):
        toks = []
        for w in self.basic_tokenize(text):
            toks.extend(self.wordpiece(w))
        return toks

    def encode(self, text, seq_len=128):
        """Returns (input_ids, attention_mask, token_type_ids), each [seq_len] int64."""
        ids = [self.vocab[t] for t in self.tokenize(text)][: seq_len - 2]
        ids = [self.cls_id] + ids + [self.sep_id]
        n = len(ids)
        input_ids = np.full(seq_len, self.pad_id, np.int64)
        input_ids[:n] = ids
        mask = np.zeros(seq_len, np.int64)
        mask[:n] = 1
        return input_ids, mask, np.zeros(seq_len, np.int64)

    def encode_batch(self, texts, seq_len=128):
        enc = [self.encode(t, seq_len) for t in texts]
        return tuple(np.stack([e[i] for e in enc]) for i in range(3))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("vocab")
    ap.add_argument("text", nargs="+")
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--out-dir")
    a = ap.parse_args(argv)
    tok = BertTokenizer(a.vocab)
    for t in a.text:
        ids, mask, _ = tok.encode(t, a.seq_len)
        print(" ".join(tok.tokenize(t)))
        print(" ".join(str(i) for i in ids[: int(mask.sum())]))
    if a.out_dir:
        os.makedirs(a.out_dir, exist_ok=True)
        ids, mask, tt = tok.encode_batch(a.text, a.seq_len)
        np.save(os.path.join(a.out_dir, "input_ids.npy"), ids)
        np.save(os.path.join(a.out_dir, "attention_mask.npy"), mask)
        np.save(os.path.join(a.out_dir, "token_type_ids.npy"), tt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
