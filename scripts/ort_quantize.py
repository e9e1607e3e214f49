#!/usr/bin/env python3
"""onnxruntime's own weight quantizer as a peer: MatMul -> MatMulNBits.

  ort_quantize.py IN.onnx OUT.onnx [--bits 4] [--block 128] [--symmetric]

Uses onnxruntime.quantization's MatMulNBitsQuantizer with its default
(round-to-nearest, per-block min-max) configuration; every MatMul with a
constant weight is quantized, the output layer included.
"""
import argparse
import os

import onnx


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--block", type=int, default=128)
    ap.add_argument("--symmetric", action="store_true")
    a = ap.parse_args()
    try:
        from onnxruntime.quantization.matmul_nbits_quantizer import (
            DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer)
    except ImportError as e:
        raise SystemExit("ort_quantize: onnxruntime's quantizer needs %s "
                         "(pip install onnx_ir)" % e.name)
    cfg = DefaultWeightOnlyQuantConfig(block_size=a.block, is_symmetric=a.symmetric,
                                       bits=a.bits)
    q = MatMulNBitsQuantizer(onnx.load(a.input), algo_config=cfg)
    q.process()
    tmp = a.output + ".tmp"
    onnx.save_model(q.model.model, tmp, save_as_external_data=True,
                    location=os.path.basename(a.output) + ".data")
    os.replace(tmp, a.output)


if __name__ == "__main__":
    main()
