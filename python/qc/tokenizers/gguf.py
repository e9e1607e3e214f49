"""GPT-2-style byte-level BPE tokenizer built from a GGUF file's metadata.

Reads tokenizer.ggml.tokens / merges / token_type (and the bos/eos ids) with
the PyPI `gguf` package.  The pre-tokenizer is the one of SmolLM / StarCoder
(llama.cpp's "smollm" pre-type, HF: Digits(individual_digits) + ByteLevel):
every digit is its own piece, then the GPT-2 pattern

    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+

implemented by hand with unicodedata (no `regex` dependency).  Control tokens
(token_type 3, e.g. <|im_start|>) in the text are matched literally.

CLI (scripts/tokenize_gguf.py):
  tokenize_gguf.py MODEL.gguf "some text" [--ids-only]
"""

import argparse
import sys
import unicodedata


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def _is_letter(ch):
    return unicodedata.category(ch).startswith("L")


def _is_number(ch):
    return unicodedata.category(ch).startswith("N")


def _is_space(ch):
    return ch.isspace()


_CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")


def gpt2_split(text):
    """The GPT-2 pre-tokenizer pattern, scanned by hand."""
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        # contractions
        if ch == "'":
            m = next((c for c in sorted(_CONTRACTIONS, key=len, reverse=True)
                      if text.startswith(c, i)), None)
            if m:
                out.append(m)
                i += len(m)
                continue
        # optional space + run of letters / numbers / other
        j = i + 1 if (ch == " " and i + 1 < n) else i
        if j < n:
            c = text[j]
            cls = None
            if _is_letter(c):
                cls = _is_letter
            elif _is_number(c):
                cls = _is_number
            elif not _is_space(c):
                cls = lambda x: not (_is_space(x) or _is_letter(x) or _is_number(x))
            if cls is not None and (j == i + 1 or j == i):
                k = j
                while k < n and cls(text[k]):
                    k += 1
                out.append(text[i:k])
                i = k
                continue
        # whitespace: \s+(?!\S) then \s+
        if _is_space(ch):
            k = i
            while k < n and _is_space(text[k]):
                k += 1
            if k < n and k - i > 1:
                k -= 1  # leave one space to prefix the next word
            out.append(text[i:k])
            i = k
            continue
        out.append(ch)  # unreachable in practice
        i += 1
    return out


def pre_tokenize(text):
    pieces = []
    # Digits(individual_digits=True): each digit is its own piece, and splits the text
    buf = []
    for ch in text:
        if _is_number(ch):
            if buf:
                pieces.append("".join(buf))
                buf = []
            pieces.append(ch)
        else:
            buf.append(ch)
    if buf:
        pieces.append("".join(buf))
    out = []
    for p in pieces:
        if len(p) == 1 and _is_number(p):
            out.append(p)
        else:
            out.extend(gpt2_split(p))
    return out


class GGUFTokenizer:
    def __init__(self, gguf_path=None, tokens=None, merges=None, token_types=None,
                 bos_id=None, eos_id=None):
        if gguf_path is not None:
            tokens, merges, token_types, bos_id, eos_id = self._read(gguf_path)
        self.tokens = tokens
        self.ids = {t: i for i, t in enumerate(tokens)}
        self.ranks = {}
        for r, m in enumerate(merges):
            a, b = m.split(" ", 1)
            self.ranks[(a, b)] = r
        self.bos_id, self.eos_id = bos_id, eos_id
        self.byte_enc = bytes_to_unicode()
        self.byte_dec = {v: k for k, v in self.byte_enc.items()}
        tt = token_types or [1] * len(tokens)
        self.special = sorted((t for t, ty in zip(tokens, tt) if ty == 3 and t),
                              key=len, reverse=True)
        self.cache = {}

    @staticmethod
    def _read(path):
        import gguf
        r = gguf.GGUFReader(path)

        def strings(key):
            f = r.fields[key]
            return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

        def ints(key):
            f = r.fields[key]
            return [int(f.parts[i][0]) for i in f.data]

        def scalar(key):
            f = r.fields.get(key)
            return int(f.parts[f.data[0]][0]) if f is not None else None

        model = bytes(r.fields["tokenizer.ggml.model"].parts[-1]).decode()
        if model != "gpt2":
            raise ValueError("tokenizer.ggml.model is %r, expected gpt2" % model)
        tokens = strings("tokenizer.ggml.tokens")
        merges = strings("tokenizer.ggml.merges")
        types = ints("tokenizer.ggml.token_type") if "tokenizer.ggml.token_type" in r.fields else None
        return (tokens, merges, types, scalar("tokenizer.ggml.bos_token_id"),
                scalar("tokenizer.ggml.eos_token_id"))

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            best, bi = None, -1
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            a, b = parts[bi], parts[bi + 1]
            merged, i = [], 0
            while i < len(parts):  # merge every occurrence of the best pair
                if i < len(parts) - 1 and parts[i] == a and parts[i + 1] == b:
                    merged.append(a + b)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        self.cache[word] = parts
        return parts

    def _encode_plain(self, text):
        ids = []
        for piece in pre_tokenize(text):
            mapped = "".join(self.byte_enc[b] for b in piece.encode("utf-8"))
            for t in self._bpe(mapped):
                ids.append(self.ids[t])
        return ids

    def encode(self, text, add_bos=False):
        ids = [self.bos_id] if add_bos and self.bos_id is not None else []
        i, start = 0, 0
        while i < len(text):
            sp = next((s for s in self.special if text.startswith(s, i)), None) \
                if text[i] == "<" else None
            if sp:
                ids += self._encode_plain(text[start:i])
                ids.append(self.ids[sp])
                i += len(sp)
                start = i
            else:
                i += 1
        ids += self._encode_plain(text[start:])
        return ids

    def decode(self, ids):
        data = bytearray()
        for i in ids:
            t = self.tokens[i]
            if t in self.special:
                data += t.encode()
            else:
                data += bytes(self.byte_dec.get(c, ord("?")) for c in t)
        return data.decode("utf-8", "replace")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gguf")
    ap.add_argument("text")
    ap.add_argument("--ids-only", action="store_true")
    a = ap.parse_args(argv)
    tok = GGUFTokenizer(a.gguf)
    ids = tok.encode(a.text)
    if a.ids_only:
        print(" ".join(map(str, ids)))
    else:
        for i in ids:
            print(i, repr(tok.decode([i])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
