#!/usr/bin/env python3
"""run_ort.py MODEL.onnx OUT.npy IN.npy...: run onnxruntime (CPU, 1 thread)
on the inputs (graph input order) and save output 0."""
import sys

import numpy as np
import onnxruntime as ort

so = ort.SessionOptions()
so.intra_op_num_threads = 1
sess = ort.InferenceSession(sys.argv[1], so, providers=["CPUExecutionProvider"])
feeds = {i.name: np.load(p) for i, p in zip(sess.get_inputs(), sys.argv[3:])}
np.save(sys.argv[2], sess.run(None, feeds)[0])
