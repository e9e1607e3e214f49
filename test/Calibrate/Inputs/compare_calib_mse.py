"""Per layer, GPTQ's output MSE on the calibration data is below RTN's.

  compare_calib_mse.py RTN_REPORT.json GPTQ_REPORT.json
"""
import json
import sys

rtn = {l["layer"]: l for l in json.load(open(sys.argv[1]))["layers"]}
gptq = {l["layer"]: l for l in json.load(open(sys.argv[2]))["layers"]}
for name in sorted(gptq):
    a, b = rtn[name]["calib_output_mse"], gptq[name]["calib_output_mse"]
    assert b < a, (name, b, a)
    print("%s: gptq %.3e < rtn %.3e" % (name, b, a))
