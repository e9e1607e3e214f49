#!/usr/bin/env python3
"""ort_dynamic.py SRC DST [--per-channel] [--weights int8|uint8]:
onnxruntime's dynamic quantization of SRC into DST (quantize_dynamic: 8-bit
weights per tensor, or per output channel with --per-channel; activations
uint8 per tensor, quantized at run time by DynamicQuantizeLinear)."""
import argparse
import logging

from onnxruntime.quantization import QuantType, quantize_dynamic

ap = argparse.ArgumentParser()
ap.add_argument("src")
ap.add_argument("dst")
ap.add_argument("--per-channel", action="store_true")
ap.add_argument("--weights", choices=["int8", "uint8"], default="int8")
a = ap.parse_args()
logging.disable(logging.WARNING)  # "consider pre-processing"
quantize_dynamic(a.src, a.dst, per_channel=a.per_channel,
                 weight_type=QuantType.QInt8 if a.weights == "int8"
                 else QuantType.QUInt8)
