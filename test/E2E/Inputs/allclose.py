#!/usr/bin/env python3
"""allclose.py GOT.npy WANT.npy [RTOL]: exit 1 unless |got - want| <=
RTOL * max|want| everywhere (default 1e-6, fp32 rounding of the sums)."""
import sys

import numpy as np

got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
rtol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-6
if got.shape != want.shape:
    sys.exit("shape %s, expected %s" % (got.shape, want.shape))
err = float(np.max(np.abs(got.astype(np.float64) - want)))
scale = float(np.max(np.abs(want)))
print("max abs err %.3g (max |want| %.3g)" % (err, scale))
sys.exit(0 if err <= rtol * scale else 1)
