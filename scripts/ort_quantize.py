#!/usr/bin/env python3
"""onnxruntime's own quantizers as peers.

  ort_quantize.py IN.onnx OUT.onnx [--bits 4] [--block 128] [--symmetric]
  ort_quantize.py IN.onnx OUT.onnx --static CALIB.npy
  ort_quantize.py IN.onnx OUT.onnx --dynamic

Weight-only (default): MatMul -> MatMulNBits with onnxruntime.quantization's
MatMulNBitsQuantizer in its default (round-to-nearest, per-block min-max)
configuration; every MatMul with a constant weight is quantized, the output
layer included.

--static: quantize_static in QDQ format, the MatMuls only (int8 weights per
output channel, uint8 activations per tensor with static scales from MinMax
calibration): the classic W8A8 static flow. CALIB.npy holds the calibration
inputs of the model's first input, one sample per leading index.

--dynamic: quantize_dynamic, the MatMuls only (int8 weights per output
channel, uint8 activations per tensor quantized at run time by
DynamicQuantizeLinear): onnxruntime's W8A8 without calibration.
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
    ap.add_argument("--static", metavar="CALIB.npy")
    ap.add_argument("--dynamic", action="store_true")
    a = ap.parse_args()
    if a.static:
        return quantize_static_qdq(a.input, a.output, a.static, ["MatMul"])
    if a.dynamic:
        from onnxruntime.quantization import QuantType, quantize_dynamic
        return quantize_dynamic(a.input, a.output, op_types_to_quantize=["MatMul"],
                                per_channel=True, weight_type=QuantType.QInt8,
                                use_external_data_format=True)
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


def quantize_static_qdq(src, dst, samples, op_types=None):
    """onnxruntime's static W8A8 QDQ quantization of `src` into `dst`
    (int8 per-channel weights, uint8 activations, MinMax calibration on
    `samples`: a path to an .npy or a sequence of arrays for the model's
    first input; `op_types`: the op types quantized, default all)."""
    import numpy as np
    import onnxruntime as ort
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,
                                          QuantType, quantize_static)

    name = ort.InferenceSession(src, providers=["CPUExecutionProvider"]) \
        .get_inputs()[0].name
    if isinstance(samples, str):
        samples = np.load(samples)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(samples)

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {name: x}

    quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=op_types, per_channel=True,
                    weight_type=QuantType.QInt8,
                    activation_type=QuantType.QUInt8,
                    use_external_data_format=True)


if __name__ == "__main__":
    main()
