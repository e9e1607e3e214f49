"""qc.models.mobilenet: a MobileNetV2 (Sandler et al. 2018) or
MobileNetV3-Large (Howard et al. 2019) ONNX model with random weights, for
benchmarking depthwise and pointwise convolutions (no pretrained weights
are fetched: the architecture, not the task accuracy, is what is measured).

  qc-zoo build mobilenet OUT.onnx [--version 2|3] [--size 224] [--width 1.0]
                                  [--seed 0]

Inverted residual blocks (1x1 expansion, depthwise, 1x1 projection),
batch normalization folded into the convolutions' biases, as exported
inference models have it. V2: 3x3 depthwise, ReLU6 (Clip 0..6). V3-Large:
the paper's Table 1: 3x3 and 5x5 depthwise, ReLU or HardSwish, squeeze-and-
excitation in some blocks (global average pool, 1x1 reduction with ReLU,
1x1 expansion, HardSigmoid, a per-channel product), a 960-channel 1x1 and a
1280-wide 1x1 head. Weights are He-initialized; each projection is scaled by
0.2 so that the residual sums stay in range. Input "x" [1, 3, S, S], output
"logits" [1, 1000].
"""
import argparse

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .resnet import Builder

# (expansion t, channels c, repeats n, first stride s), the paper's Table 2.
BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
          (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


# MobileNetV3-Large, Table 1: (kernel, expansion size, channels, squeeze-
# and-excitation, activation, stride).
BLOCKS_V3 = ((3, 16, 16, False, "relu", 1), (3, 64, 24, False, "relu", 2),
             (3, 72, 24, False, "relu", 1), (5, 72, 40, True, "relu", 2),
             (5, 120, 40, True, "relu", 1), (5, 120, 40, True, "relu", 1),
             (3, 240, 80, False, "hswish", 2), (3, 200, 80, False, "hswish", 1),
             (3, 184, 80, False, "hswish", 1), (3, 184, 80, False, "hswish", 1),
             (3, 480, 112, True, "hswish", 1), (3, 672, 112, True, "hswish", 1),
             (5, 672, 160, True, "hswish", 2), (5, 960, 160, True, "hswish", 1),
             (5, 960, 160, True, "hswish", 1))


class MobileNetBuilder(Builder):
    def __init__(self, seed):
        super().__init__(seed)
        self.inits += [numpy_helper.from_array(np.float32(0), "zero"),
                       numpy_helper.from_array(np.float32(6), "six")]

    def conv_g(self, x, cin, cout, k, stride=1, group=1, act="relu6",
               scale=1.0):
        """A convolution of `group` groups (cin == cout == group: depthwise),
        padded to keep the size at stride 1, then `act` (relu6, relu,
        hswish, hsigmoid or None)."""
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
        return self.activation(n, act)

    def activation(self, x, act):
        if act is None:
            return x
        y = "%s_%s" % (x, act)
        if act == "relu6":
            node = helper.make_node("Clip", [x, "zero", "six"], [y])
        elif act == "hsigmoid":  # ReLU6(x + 3) / 6, the paper's h-sigmoid
            node = helper.make_node("HardSigmoid", [x], [y], alpha=1.0 / 6)
        else:
            node = helper.make_node({"relu": "Relu", "hswish": "HardSwish"}[act],
                                    [x], [y])
        self.nodes.append(node)
        return y

    def residual(self, h, x, cin, cout, stride):
        if stride != 1 or cin != cout:
            return h
        n = self.name("add")
        self.nodes.append(helper.make_node("Add", [h, x], [n]))
        return n

    def inverted_residual(self, x, cin, cout, stride, t):
        hidden = cin * t
        h = self.conv_g(x, cin, hidden, 1) if t != 1 else x
        h = self.conv_g(h, hidden, hidden, 3, stride, group=hidden)
        h = self.conv_g(h, hidden, cout, 1, act=None, scale=0.2)
        return self.residual(h, x, cin, cout, stride)

    def squeeze_excite(self, x, c):
        """x times a per-channel gate computed from its global average."""
        n = self.name("se")
        self.nodes.append(helper.make_node("GlobalAveragePool", [x], [n]))
        g = self.conv_g(n, c, channels(c // 4, 1.0), 1, act="relu")
        g = self.conv_g(g, channels(c // 4, 1.0), c, 1, act="hsigmoid")
        self.nodes.append(helper.make_node("Mul", [x, g], [n + "_out"]))
        return n + "_out"

    def bneck(self, x, cin, k, hidden, cout, se, act, stride):
        """A MobileNetV3 block."""
        h = self.conv_g(x, cin, hidden, 1, act=act) if hidden != cin else x
        h = self.conv_g(h, hidden, hidden, k, stride, group=hidden, act=act)
        if se:
            h = self.squeeze_excite(h, hidden)
        h = self.conv_g(h, hidden, cout, 1, act=None, scale=0.2)
        return self.residual(h, x, cin, cout, stride)


def channels(c, width):
    """c scaled by `width`, rounded to a multiple of 8 (the paper's rule)."""
    v = max(8, int(c * width + 4) // 8 * 8)
    return v + 8 if v < 0.9 * c * width else v


def build_v3(size, width, seed):
    b = MobileNetBuilder(seed)
    c = channels(16, width)
    x = b.conv_g("x", 3, c, 3, 2, act="hswish")
    for k, hidden, cout, se, act, s in BLOCKS_V3:
        hidden, cout = channels(hidden, width), channels(cout, width)
        x = b.bneck(x, c, k, hidden, cout, se, act, s)
        c = cout
    x = b.conv_g(x, c, channels(960, width), 1, act="hswish")
    c = channels(960, width)
    b.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pool"]))
    last = channels(1280, max(1.0, width))
    x = b.conv_g("pool", c, last, 1, act="hswish")
    return b.model(x, last, "mobilenetv3", size, "qc-build-mobilenet")


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
    ap.add_argument("--version", type=int, default=2, choices=(2, 3),
                    help="2: MobileNetV2, 3: MobileNetV3-Large")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    make = build_v3 if a.version == 3 else build
    onnx.save(make(a.size, a.width, a.seed), a.out)
    print("wrote %s (MobileNetV%d x%g, %dx%d)" % (a.out, a.version, a.width,
                                                   a.size, a.size))


if __name__ == "__main__":
    main()
