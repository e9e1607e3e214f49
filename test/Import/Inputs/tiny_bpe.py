#!/usr/bin/env python3
"""A tiny byte-level BPE tokenizer for the test GGUF models, and the check of
qc's tokenizer against Hugging Face `tokenizers`.

    tiny_bpe.py strings OUT [--count N] [--seed S]
        writes N test lines: words, digits, contractions, runs of spaces and
        punctuation, accented and CJK letters, emoji, the special tokens
    tiny_bpe.py compare ARTIFACT LINES QC_IDS
        encodes each line of LINES with Hugging Face's tokenizer loaded from
        ARTIFACT/tokenizer.json and compares with QC_IDS (qc-generate
        --tokenize); prints the count and `-> ok`, or the first difference

gguf_llama.py calls add_tokenizer(): 256 byte symbols, 3 control tokens and
merges learned from a small corpus, 320 tokens in all, the SmolLM
pre-tokenizer (digits one by one, then GPT-2's pattern) and a ChatML
template.
"""
import argparse
import os
import random
import sys

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CORPUS = ("the quick brown fox jumps over the lazy dog. it's the rest of the "
          "story: they'll say we're there and you've seen the other one; "
          "then the three of them went home, and the end was near.") * 3
TEMPLATE = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != "
            "'system' %}{{ '<|im_start|>system\nYou are a tiny test model<|im_end|>\n' }}"
            "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
            "'<|im_end|>' + '\n'}}{% endfor %}")


def byte_chars():
    """GPT-2's byte -> printable character table (scripts/tokenize_gguf.py)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "..", "..", "scripts"))
    from tokenize_gguf import bytes_to_unicode
    return bytes_to_unicode()


def train(vocab_size):
    """Byte-level symbols, then the most frequent adjacent pair merged until
    the vocabulary has vocab_size entries (ties: the first pair seen)."""
    bc = byte_chars()
    words = []
    for w in CORPUS.replace(".", " .").split(" "):
        words.append([bc[b] for b in (" " + w).encode()])
    tokens = [bc[b] for b in range(256)] + SPECIALS
    merges = []
    while len(tokens) < vocab_size:
        counts = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        (a, b), _ = max(counts.items(), key=lambda kv: kv[1])
        merges.append(a + " " + b)
        tokens.append(a + b)
        for w in words:
            i = 0
            while i + 1 < len(w):
                if w[i] == a and w[i + 1] == b:
                    w[i:i + 2] = [a + b]
                i += 1
    return tokens, merges


def add_tokenizer(writer, vocab_size):
    tokens, merges = train(vocab_size)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")
    writer.add_token_list(tokens)
    writer.add_token_types([3 if t in SPECIALS else 1 for t in tokens])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(tokens.index("<|im_start|>"))
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_add_bos_token(False)
    writer.add_chat_template(TEMPLATE)


def strings(out, count, seed):
    rnd = random.Random(seed)
    parts = ["the", "quick", " fox", "it's", "they'll", "we're", "I'M", "don't",
             "12345", "3.14", "2026", " ", "  ", "   ", "\t", "!", "?!", "...", "--",
             "(x)", "a,b", "café", "naïve", "Ünïcödé", "日本語", "中文", "🙂", "👍🏽",
             "ǅ", "Ⅻ", "½", "٣", "x²", "’", "\u00a0", "\u2003"] + SPECIALS
    with open(out, "w", encoding="utf-8") as f:
        for _ in range(count):
            n = rnd.randint(1, 12)
            line = "".join(rnd.choice(parts) + (" " if rnd.random() < 0.5 else "")
                           for _ in range(n))
            f.write(line.rstrip("\n") + "\n")


def compare(artifact, lines_path, ids_path):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(artifact + "/tokenizer.json")
    lines = open(lines_path, encoding="utf-8").read().split("\n")[:-1]
    got = open(ids_path).read().split("\n")[:-1]
    if len(got) != len(lines):
        print(f"{len(got)} id lines for {len(lines)} strings -> FAIL")
        return 1
    for line, ids in zip(lines, got):
        want = tok.encode(line, add_special_tokens=False).ids
        have = [int(x) for x in ids.split()]
        if want != have:
            print(f"{line!r}: Hugging Face {want}, qc {have} -> FAIL")
            return 1
    print(f"{len(lines)} strings agree with Hugging Face tokenizers -> ok")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("strings")
    s.add_argument("out")
    s.add_argument("--count", type=int, default=2000)
    s.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("compare")
    c.add_argument("artifact")
    c.add_argument("lines")
    c.add_argument("ids")
    a = ap.parse_args()
    if a.cmd == "strings":
        strings(a.out, a.count, a.seed)
        return 0
    return compare(a.artifact, a.lines, a.ids)


if __name__ == "__main__":
    sys.exit(main())
