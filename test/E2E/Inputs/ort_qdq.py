#!/usr/bin/env python3
"""ort_qdq.py SRC DST CALIB.npy [--act uint8|int8] [--per-tensor]:
onnxruntime's static QDQ quantization of SRC into DST (MinMax calibration
on the samples of CALIB.npy, one per leading index, for the model's first
input): int8 weights per output channel (per tensor with --per-tensor),
activations uint8 (default) or int8, both with zero points."""
import argparse
import logging

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,
                                      QuantType, quantize_static)

ap = argparse.ArgumentParser()
ap.add_argument("src")
ap.add_argument("dst")
ap.add_argument("calib")
ap.add_argument("--act", choices=["uint8", "int8"], default="uint8")
ap.add_argument("--per-tensor", action="store_true")
a = ap.parse_args()
logging.disable(logging.WARNING)  # "consider pre-processing"

name = ort.InferenceSession(a.src, providers=["CPUExecutionProvider"]) \
    .get_inputs()[0].name
samples = iter(np.load(a.calib))


class Reader(CalibrationDataReader):
    def get_next(self):
        x = next(samples, None)
        return None if x is None else {name: x}


quantize_static(a.src, a.dst, Reader(), quant_format=QuantFormat.QDQ,
                per_channel=not a.per_tensor, weight_type=QuantType.QInt8,
                activation_type=QuantType.QUInt8 if a.act == "uint8"
                else QuantType.QInt8)
