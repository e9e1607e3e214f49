"""qc, the MLIR quantization compiler, from Python.

    art = qc.compile("model.onnx", "out", quant="w4g128")
    model = qc.load("out")
    outputs = model(x=array)          # {output name: numpy array}

The package drives the qc build it finds (QC_BUILD, else qc-compile on
PATH): qc-compile for compiling, libqcrt (ctypes) for running.
"""
from . import eval, tokenizers, zoo
from .compiler import Artifact, compile
from .errors import QcError
from .generate import Generation, generate
from .report import Report
from .runtime import (Model, TensorSpec, get_num_threads, load,
                      set_num_threads)

__version__ = "0.1.0"
__all__ = ["Artifact", "Generation", "Model", "QcError", "Report",
           "TensorSpec", "compile", "generate",
           "get_num_threads", "load", "set_num_threads", "eval",
           "tokenizers", "zoo"]
