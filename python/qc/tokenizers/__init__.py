"""qc.tokenizers: the tokenizers of the zoo's models, in plain Python.

    BertTokenizer(vocab_txt)   # WordPiece, uncased (all-MiniLM-L6-v2)
    GGUFTokenizer(model_gguf)  # byte-level BPE from a GGUF's metadata (SmolLM2)
"""
from .bert import BertTokenizer
from .gguf import GGUFTokenizer

__all__ = ["BertTokenizer", "GGUFTokenizer"]
