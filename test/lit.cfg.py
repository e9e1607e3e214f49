# -*- Python -*-
# lit configuration of the qc test suites.

import os
import shutil
import subprocess

import lit.formats
import lit.util
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "QC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".py"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   ]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qc_obj_root, "test")

llvm_config.with_system_environment(["HOME", "TMPDIR", "PYTHONPATH"])
llvm_config.use_default_substitutions()

# The Python on PATH is the one scripts/setup.sh installed onnx and
# onnxruntime into; the one CMake found (lit's own) may lack them.
python = shutil.which("python3") or config.python_executable
# lit's default substitutions map %python to lit's own interpreter: replace.
config.substitutions = [s for s in config.substitutions if s[0] != "%python"]
config.substitutions.append(("%python", python))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root,
                                                     "Import", "Inputs")))
config.substitutions.append(("%qc_src", config.qc_src_root))

tool_dirs = [config.qc_tools_dir, config.llvm_tools_dir]
tools = ["qc-opt", "qc-import-onnx", "qc-compile", "qc-calibrate", "qc-run",
         "qc-generate",
         "qc-export-onnx"]
if os.path.exists(os.path.join(config.qc_tools_dir, "qc-bench")):
    tools.append("qc-bench")
    config.available_features.add("qc-bench")
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
# Helper scripts that drive the tools themselves find them on PATH.
llvm_config.with_environment("PATH", config.qc_tools_dir, append_path=True)

# Python helpers used by generator scripts.
def have_module(name):
    return subprocess.call([python, "-c", "import " + name],
                           stderr=subprocess.DEVNULL) == 0

for mod in ["onnx", "onnxruntime", "numpy", "gguf", "tokenizers", "matplotlib",
            "ml_dtypes"]:
    if have_module(mod):
        config.available_features.add("py-" + mod)

# Generated x86 kernels run only where the CPU has their instructions: avx2
# (x86-64-v3), avx512vnni (x86-64-v4-vnni) and avx512vbmi (x86-64-v4-vbmi),
# as qc-select-kernel's `host` detects them. scripts/lit_report.py names
# the ISAs whose tests could not run here.
try:
    with open("/proc/cpuinfo") as f:
        flags = set(next((l for l in f if l.startswith("flags")), "").split())
    if "avx2" in flags:
        config.available_features.add("avx2")
    if {"avx512f", "avx512bw", "avx512vl", "avx512_vnni"} <= flags:
        config.available_features.add("avx512vnni")
        if "avx512vbmi" in flags:
            config.available_features.add("avx512vbmi")
except OSError:
    pass

# Generated AArch64 kernels run under user-mode QEMU, linked statically by
# the cross compilers.
if all(shutil.which(tool) for tool in ("qemu-aarch64", "aarch64-linux-gnu-gcc",
                                       "aarch64-linux-gnu-g++")):
    config.available_features.add("qemu-aarch64")
