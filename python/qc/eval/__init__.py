"""qc.eval: how qc's figures are measured.

- qc.eval.perplexity: the perplexity protocol (load_text, tokenize,
  perplexity), re-exported here;
- qc.eval.compare: a qc artifact against onnxruntime on the same inputs
  (errors, cosine, top-1 agreement, paired latency); `qc-compare-ort`;
- qc.eval.conformance: the ONNX backend node tests compiled and run by qc,
  with a baseline; `qc-conformance` (import it: it needs onnx);
- qc.eval.survey: every ONNX model of a folder through qc and onnxruntime;
  `qc-survey`.

scripts/compare_ort.py, scripts/conformance.py, scripts/eval_ppl.py and
scripts/zoo.sh are thin entry points over these modules.
"""
from . import compare, survey  # noqa: F401  (conformance needs onnx: import it)
from .perplexity import load_text, perplexity, tokenize  # noqa: F401
