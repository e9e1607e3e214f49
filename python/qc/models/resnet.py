"""qc.models.resnet: a ResNet (He et al. 2015) ONNX model with random weights, for
benchmarking convolution quantization (no pretrained weights are fetched:
the architecture, not the task accuracy, is what is measured).

  qc-zoo build resnet OUT.onnx [--depth 18|34|50] [--size 224] [--seed 0]

Batch normalization is folded into the convolutions (a bias each), as
exported inference models have it. Weights are He-initialized and the last
convolution of each residual branch is scaled by 0.2 so that activations
stay in range over the depth. Input "x" [1, 3, S, S], output "logits"
[1, 1000].
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LAYERS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3)}


class Builder:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, kind):
        self.count += 1
        return "%s%d" % (kind, self.count)

    def conv(self, x, cin, cout, k, stride=1, relu=True, scale=1.0):
        n = self.name("conv")
        w = self.rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k)) * scale
        b = 0.01 * self.rng.standard_normal(cout)
        self.inits += [numpy_helper.from_array(w.astype(np.float32), n + "_w"),
                       numpy_helper.from_array(b.astype(np.float32), n + "_b")]
        p = k // 2
        self.nodes.append(helper.make_node(
            "Conv", [x, n + "_w", n + "_b"], [n], name=n, kernel_shape=[k, k],
            strides=[stride, stride], pads=[p, p, p, p]))
        if not relu:
            return n
        self.nodes.append(helper.make_node("Relu", [n], [n + "_relu"]))
        return n + "_relu"

    def add_relu(self, a, b):
        n = self.name("add")
        self.nodes += [helper.make_node("Add", [a, b], [n]),
                       helper.make_node("Relu", [n], [n + "_relu"])]
        return n + "_relu"

    def model(self, x, c, name, size, producer):
        """The classifier head on `x` (`c` channels: global pooling, a
        1000-way Gemm) and the checked model of input "x" [1, 3, size,
        size] and output "logits"."""
        fc_w = self.rng.standard_normal((c, 1000)) * np.sqrt(1.0 / c)
        self.inits += [numpy_helper.from_array(fc_w.astype(np.float32), "fc_w"),
                       numpy_helper.from_array(np.zeros(1000, np.float32), "fc_b")]
        self.nodes += [helper.make_node("GlobalAveragePool", [x], ["gap"]),
                       helper.make_node("Flatten", ["gap"], ["flat"]),
                       helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"],
                                        name="fc")]
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, size, size])],
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])],
            self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                  producer_name=producer)
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model

    def block(self, x, cin, width, stride, bottleneck):
        if bottleneck:
            cout = width * 4
            h = self.conv(x, cin, width, 1)
            h = self.conv(h, width, width, 3, stride)
            h = self.conv(h, width, cout, 1, relu=False, scale=0.2)
        else:
            cout = width
            h = self.conv(x, cin, width, 3, stride)
            h = self.conv(h, width, cout, 3, relu=False, scale=0.2)
        skip = x
        if stride != 1 or cin != cout:
            skip = self.conv(x, cin, cout, 1, stride, relu=False)
        return self.add_relu(h, skip), cout


def build(depth, size, seed):
    b = Builder(seed)
    bottleneck = depth >= 50
    x = b.conv("x", 3, 64, 7, 2)
    b.nodes.append(helper.make_node("MaxPool", [x], ["pool"], kernel_shape=[3, 3],
                                    strides=[2, 2], pads=[1, 1, 1, 1]))
    x, c = "pool", 64
    for stage, blocks in enumerate(LAYERS[depth]):
        width = 64 * 2 ** stage
        for i in range(blocks):
            x, c = b.block(x, c, width, 2 if stage > 0 and i == 0 else 1, bottleneck)
    return b.model(x, c, "resnet%d" % depth, size, "qc-build-resnet")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="qc-zoo build resnet", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--depth", type=int, default=18, choices=sorted(LAYERS))
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    onnx.save(build(a.depth, a.size, a.seed), a.out)
    print("wrote %s (ResNet-%d, %dx%d)" % (a.out, a.depth, a.size, a.size))


if __name__ == "__main__":
    main()
