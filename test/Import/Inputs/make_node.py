#!/usr/bin/env python3
"""Write a one-node ONNX model for the importer's per-op lit tests.

Usage:
    make_node.py OUT OP INPUTS OUTPUTS [ATTR=VALUE ...] [--opset N]
                 [--domain D]

INPUTS and OUTPUTS are comma-separated NAME:TYPE:SHAPE (TYPE f32, f16, f64,
i64, i32, i8, u8, bool; SHAPE like 2x3, or "scalar"). An input written
NAME:TYPE:SHAPE=V1;V2;... is a constant initializer with those values
(row-major). ATTR values: an int (3), a float (0.5), a list of ints
([1,2]) or floats, or a string ('NOTSET'). The node is named after OP in
lower case with a _0 suffix; the model passes onnx.checker.
"""
import ast
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

TYPES = {"f32": (TensorProto.FLOAT, np.float32), "f16": (TensorProto.FLOAT16, np.float16),
         "f64": (TensorProto.DOUBLE, np.float64), "i64": (TensorProto.INT64, np.int64),
         "i32": (TensorProto.INT32, np.int32), "i8": (TensorProto.INT8, np.int8),
         "u8": (TensorProto.UINT8, np.uint8), "bool": (TensorProto.BOOL, np.bool_)}


def parse_value(spec):
    name, ty, rest = spec.split(":", 2)
    shape_s, _, values = rest.partition("=")
    shape = [] if shape_s == "scalar" else [int(d) for d in shape_s.split("x")]
    return name, TYPES[ty], shape, values


def main():
    args = sys.argv[1:]
    opset, domain = 17, ""
    if "--opset" in args:
        i = args.index("--opset")
        opset = int(args[i + 1])
        del args[i:i + 2]
    if "--domain" in args:
        i = args.index("--domain")
        domain = args[i + 1]
        del args[i:i + 2]
    out, op, ins, outs = args[:4]
    attrs = {}
    for a in args[4:]:
        k, v = a.split("=", 1)
        attrs[k] = ast.literal_eval(v)
    graph_in, inits, in_names = [], [], []
    for spec in ins.split(","):
        if not spec:
            in_names.append("")
            continue
        name, (elem, dtype), shape, values = parse_value(spec)
        in_names.append(name)
        if values:
            arr = np.array([ast.literal_eval(v) for v in values.split(";")], dtype).reshape(shape)
            inits.append(numpy_helper.from_array(arr, name))
        else:
            graph_in.append(helper.make_tensor_value_info(name, elem, shape))
    graph_out, out_names = [], []
    for spec in outs.split(","):
        name, (elem, _), shape, _ = parse_value(spec)
        out_names.append(name)
        graph_out.append(helper.make_tensor_value_info(name, elem, shape))
    node = helper.make_node(op, in_names, out_names, name=op.lower() + "_0", domain=domain,
                            **attrs)
    g = helper.make_graph([node], op.lower(), graph_in, graph_out, inits)
    imports = [helper.make_opsetid("", opset)]
    if domain:
        imports.append(helper.make_opsetid(domain, 1))
    m = helper.make_model(g, opset_imports=imports, producer_name="qc-make-node")
    m.ir_version = 8
    if not domain:
        onnx.checker.check_model(m, full_check=True)
    onnx.save(m, out)


if __name__ == "__main__":
    main()
