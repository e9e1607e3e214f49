"""qc.models.mobilenet: a MobileNetV2 (Sandler et al. 2018) ONNX model with
random weights, for benchmarking depthwise and pointwise convolutions (no
pretrained weights are fetched: the architecture, not the task accuracy, is
what is measured).

  qc-zoo build mobilenet OUT.onnx [--size 224] [--width 1.0] [--seed 0]

Inverted residual blocks (1x1 expansion, 3x3 depthwise, 1x1 projection)
with ReLU6 (Clip 0..6), batch normalization folded into the convolutions'
biases, as exported inference models have it. Weights are He-initialized;
each projection is scaled by 0.2 so that the residual sums stay in range.
Input "x" [1, 3, S, S], output "logits" [1, 1000].
"""
import argparse

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .resnet import Builder

# (expansion t, channels c, repeats n, first stride s), the paper's Table 2.
BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
          (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


class MobileNetBuilder(Builder):
    def __init__(self, seed):
        super().__init__(seed)
        self.inits += [numpy_helper.from_array(np.float32(0), "zero"),
                       numpy_helper.from_array(np.float32(6), "six")]

    def conv_g(self, x, cin, cout, k, stride=1, group=1, relu6=True, scale=1.0):
        """A convolution of `group` groups (cin == cout == group: depthwise),
        padded to keep the size at stride 1, then ReLU6 unless told not."""
        n = self.name("conv")
        fan_in = cin // group * k * k
        w = (self.rng.standard_normal((cout, cin // group, k, k)) *
             np.sqrt(2.0 / fan_in) * scale)
        b = 0.01 * self.rng.standard_normal(cout)
        self.inits += [numpy_helper.from_array(w.astype(np.float32), n + "_w"),
                       numpy_helper.from_array(b.astype(np.float32), n + "_b")]
        p = k // 2
        self.nodes.append(helper.make_node(
            "Conv", [x, n + "_w", n + "_b"], [n], name=n, kernel_shape=[k, k],
            strides=[stride, stride], pads=[p, p, p, p], group=group))
        if not relu6:
            return n
        self.nodes.append(helper.make_node("Clip", [n, "zero", "six"], [n + "_relu6"]))
        return n + "_relu6"

    def inverted_residual(self, x, cin, cout, stride, t):
        hidden = cin * t
        h = self.conv_g(x, cin, hidden, 1) if t != 1 else x
        h = self.conv_g(h, hidden, hidden, 3, stride, group=hidden)
        h = self.conv_g(h, hidden, cout, 1, relu6=False, scale=0.2)
        if stride == 1 and cin == cout:
            n = self.name("add")
            self.nodes.append(helper.make_node("Add", [h, x], [n]))
            return n
        return h


def channels(c, width):
    """c scaled by `width`, rounded to a multiple of 8 (the paper's rule)."""
    v = max(8, int(c * width + 4) // 8 * 8)
    return v + 8 if v < 0.9 * c * width else v


def build(size, width, seed):
    b = MobileNetBuilder(seed)
    c = channels(32, width)
    x = b.conv_g("x", 3, c, 3, 2)
    for t, cout, n, s in BLOCKS:
        cout = channels(cout, width)
        for i in range(n):
            x = b.inverted_residual(x, c, cout, s if i == 0 else 1, t)
            c = cout
    last = channels(1280, max(1.0, width))
    x = b.conv_g(x, c, last, 1)
    return b.model(x, last, "mobilenetv2", size, "qc-build-mobilenet")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="qc-zoo build mobilenet", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    onnx.save(build(a.size, a.width, a.seed), a.out)
    print("wrote %s (MobileNetV2 x%g, %dx%d)" % (a.out, a.width, a.size, a.size))


if __name__ == "__main__":
    main()
