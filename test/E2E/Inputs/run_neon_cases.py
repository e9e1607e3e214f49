#!/usr/bin/env python3
"""run_neon_cases.py DIR CASE... [--uniform-lut] [--f32-psumbook]: for each case folder
written by kernel_case.py, lower model.mlir with the AArch64 NEON kernels
(qc-opt, mlir-translate, llc), link it statically with neon_driver.c and
the runtime's memrefCopy, run it under qemu-aarch64 on x.npy and compare
with the case's references as run_kernel_cases.py does. Uniform layers take dequant_i8, or LUT-GEMM with
--uniform-lut; BCQ layers and codebooks of <= 16 entries take LUT-GEMM; larger codebooks take CodeGEMM
with an f32 psumbook (--f32-psumbook: compared with the decoded weight's matmul to 1e-5). Exits 1 on
the first mismatch, naming the case; prints "N cases ok" at the end."""
import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_kernel_cases import KERNEL_REFS, check  # noqa: E402

CC = "aarch64-linux-gnu-gcc"
CXX = "aarch64-linux-gnu-g++"
RUNTIME = os.path.join(HERE, "..", "..", "..", "runtime")
PIPELINE = ("builtin.module(func.func(llvm-request-c-wrappers,"
            "qc-select-kernel{target=aarch64%s}),qc-gen-dequant-gemm,qc-gen-lut-gemm,"
            "qc-gen-codegemm,qc-lower-to-llvm)")


def run(*cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def main():
    args = sys.argv[1:]
    uniform_lut = "--uniform-lut" in args
    refs = [("ref.npy", 1e-5)] if "--f32-psumbook" in args else KERNEL_REFS
    root, cases = args[0], [a for a in args[1:] if not a.startswith("--")]
    pipeline = PIPELINE % (" uniform-lut" if uniform_lut else "")
    driver = os.path.join(root, "neon_driver.o")
    run(CC, "-O2", "-std=c99", "-Wall", "-Werror", "-c",
        os.path.join(HERE, "neon_driver.c"), "-o", driver)
    # The runtime's memrefCopy (strided copies of the LUT kernel's output).
    copy = os.path.join(root, "memref_copy.o")
    run(CXX, "-O2", "-std=c++17", "-I", os.path.join(RUNTIME, "include"), "-c",
        os.path.join(RUNTIME, "src", "MemRefCopy.cpp"), "-o", copy)
    for case in cases:
        d = os.path.join(root, case)
        p = lambda name: os.path.join(d, name)  # noqa: E731
        # C already owns `main`: the entry becomes qc_model.
        with open(p("model.mlir")) as f:
            text = f.read().replace("func.func @main(", "func.func @qc_model(", 1)
        with open(p("a64.mlir"), "w") as f:
            f.write(text)
        run("qc-opt", p("a64.mlir"), "--pass-pipeline=" + pipeline, "-o", p("a64.llvm.mlir"))
        kernel = "qc_lutgemm_" if uniform_lut or "#qc.bcq" in text else "qc_dqi8f?h?_"
        book = re.search(r"#qc\.codebook<.*entries = (\d+)", text)
        if book:
            kernel = "qc_lutgemm_" if int(book.group(1)) <= 16 else "qc_code(?:gemm|lanes)_"
        with open(p("a64.llvm.mlir")) as f:
            if not re.search(r"llvm\.func @%s\w+_neon\(" % kernel, f.read()):
                sys.exit("case %s: no NEON %s kernel was generated" % (case, kernel))
        run("mlir-translate", "--mlir-to-llvmir", p("a64.llvm.mlir"), "-o", p("a64.ll"))
        run("llc", "-O2", "-mtriple=aarch64-linux-gnu", "-filetype=obj", p("a64.ll"),
            "-o", p("a64.o"))
        run(CXX, "-static", driver, copy, p("a64.o"), "-o", p("a64.exe"))

        x = np.load(p("x.npy")).astype(np.float32)
        (m, k), n = x.shape, np.load(p("ref.npy")).shape[1]
        x.tofile(p("x.bin"))
        run("qemu-aarch64", "-cpu", "max", p("a64.exe"), str(m), str(k), str(n),
            p("x.bin"), p("y.bin"))
        check(d, case, "aarch64-qemu", np.fromfile(p("y.bin"), np.float32).reshape(m, n), refs)
    print("%d cases ok" % len(cases))


if __name__ == "__main__":
    main()
