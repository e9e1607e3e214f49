"""Independent checks of BoA's statistics and of its effect, with onnxruntime
on make_model.py tinyllama (scripts/build_smollm2_onnx.py's graph).

  boa_check.py taps STATS model.onnx calib.npy
      The attention taps of STATS against onnxruntime's own intermediate
      tensors on the calibration samples: per layer, the post-rotary
      queries and the (grouped-query expanded) keys as rows of all heads of a
      position, sum of x^T x, the rotary tables' rows [cos_t, sin_t], and
      per key/value head the rows P_h X of its query heads (P_h the
      attention probabilities, X the value projection's input).
  boa_check.py scores FLOAT.onnx ids.npy A.onnx B.onnx [--expect-lower R]
      The squared error of the attention scores (Q~ K~^T, before the scale
      and mask) of layer 0 of each quantized model against the float one:
      in layer 0 only q_proj and k_proj change the scores. With
      --expect-lower R, fails unless B's error is below R times A's.
"""

import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qcstats  # noqa: E402


def run_with(model_path, names, feeds):
    """onnxruntime outputs `names` (intermediate tensors) of the model."""
    m = onnx.load(model_path)
    del m.graph.output[:]
    for n in names:
        m.graph.output.append(onnx.helper.make_empty_tensor_value_info(n))
    sess = ort.InferenceSession(m.SerializeToString(),
                                providers=["CPUExecutionProvider"])
    return sess.run(names, feeds)


def rows(x):
    """[1, H, S, d] -> [S, H * d]: all heads of a position."""
    _, h, s, d = x.shape
    return x[0].transpose(1, 0, 2).reshape(s, h * d).astype(np.float64)


def check(name, got, want, tol=1e-4):
    err = float(np.abs(got - want).max() / np.abs(want).max())
    print("%s: relative error %.2e" % (name, err))
    if not err < tol:
        sys.exit("%s differs from onnxruntime's (%.2e)" % (name, err))


def taps(stats_path, model_path, calib_path):
    stats = qcstats.read(stats_path)
    by_name = {n: t for t in stats for n in t["layers"]}
    ids = np.load(calib_path)
    for layer in range(2):
        a = "/model/layers.%d/self_attn" % layer
        q_name = a + "/q_proj/MatMul"
        k_name = a + "/k_proj/MatMul"
        outs = [a + "/rope_q/Add_output_0", a + "/repeat_k/Reshape_output_0",
                "/model/Unsqueeze_cos_output_0", "/model/Unsqueeze_sin_output_0",
                a + "/Softmax_output_0",
                "/model/layers.%d/input_layernorm/Mul_output_0" % layer]
        qq = kk = zz = 0
        vv = [0, 0]  # per key/value head: its 2 query heads' rows of P_h X
        for s in range(ids.shape[0]):
            q, k, cos, sin, p, x = run_with(model_path, outs,
                                            {"input_ids": ids[s]})
            qq = qq + rows(q).T @ rows(q)
            kk = kk + rows(k).T @ rows(k)
            z = np.concatenate([cos[0, 0], sin[0, 0]], -1).astype(np.float64)
            zz = zz + z.T @ z
            for h in range(4):
                y = p[0, h].astype(np.float64) @ x[0].astype(np.float64)
                vv[h // 2] = vv[h // 2] + y.T @ y
        check("layer %d queries" % layer, by_name[k_name + "#boa-row/8/4"]["H"], qq)
        check("layer %d keys" % layer, by_name[q_name + "#boa-row/8/4"]["H"], kk)
        rope = by_name[q_name + "#boa-rope"]
        if rope is not by_name[k_name + "#boa-rope"]:
            sys.exit("the rotary tap is not shared by q_proj and k_proj")
        check("layer %d rotary tables" % layer, rope["H"], zz)
        for g in range(2):
            check("layer %d values of head %d" % (layer, g),
                  by_name[a + "/v_proj/MatMul#boa-value/%d/2" % g]["H"], vv[g])


def scores(float_path, ids_path, quantized):
    ids = np.load(ids_path)
    name = "/model/layers.0/self_attn/MatMul_output_0"
    errors = []
    for path in quantized:
        e = 0.0
        for s in range(ids.shape[0]):
            feeds = {"input_ids": ids[s]}
            (want,) = run_with(float_path, [name], feeds)
            (got,) = run_with(path, [name], feeds)
            e += float(((got.astype(np.float64) - want) ** 2).sum())
        errors.append(e)
        print("%s: layer-0 score error %.6g" % (os.path.basename(path), e))
    return errors


def main():
    if sys.argv[1] == "taps":
        taps(*sys.argv[2:5])
    elif sys.argv[1] == "scores":
        args = sys.argv[4:]
        ratio = None
        if "--expect-lower" in args:
            i = args.index("--expect-lower")
            ratio = float(args[i + 1])
            del args[i:i + 2]
        errors = scores(sys.argv[2], sys.argv[3], args)
        if ratio is not None and not errors[1] < ratio * errors[0]:
            sys.exit("expected %s's error below %g x %s's" %
                     (args[1], ratio, args[0]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
