#!/usr/bin/env python3
"""kernel_suite.py DIR --target T FAMILY... [--neon]: the standard random
layers of each generated kernel family, compiled for kernel target T (or,
with --neon, lowered for AArch64 and run under qemu by run_neon_cases.py)
and compared with their numpy references. One list of cases serves every
ISA, so each ISA's lit file says only which families it runs.

Families:
  dqi8  uniform 2-4 bit layers -> dequant_i8 (the kernels.test set)
  dqi8w uniform 8-bit layers -> dequant_i8 (targets whose u8 x s8 dot
        product does not saturate: AVX-512 VNNI, generic)
  dqf32 uniform 2-4 and 8-bit layers on float activations -> dequant_f32
        (every target), against the f64 dequantize-then-matmul to 1e-5
  dqi8t uniform and BCQ layers with grouped weights on int8 activations
        with one scale per token -> dequant_i8 / LUT-GEMM, the row's scale
        shared by the kernel's blocks
  bcq   binary-coding layers -> LUT-GEMM
  ulut  uniform layers through their BCQ form (--uniform-lut) -> LUT-GEMM
  cb    codebooks of 32-256 entries -> CodeGEMM (f32 psumbook or token
        lanes; int16 vpermi2b tables for 1-6 tokens on AVX-512 VBMI)
  cbs   codebooks of at most 16 entries -> int16 tables + LUT-GEMM

Prints "FAMILY: N cases ok on T" per family; exits 1 on the first mismatch,
naming the case.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_kernel_cases import check, compile_and_run  # noqa: E402

# kernel_case.py M K N BITS GROUP SYM BIAS SEED [bcq|f16|fz]: 2-4 bits,
# groups of 32-256 and whole columns, padded last superblocks and partial
# last groups, odd N, 1-16 tokens, bias or not, f32 and f16 scales, integer
# and float zero points.
DQI8 = ["1 512 37 4 128 0 1 1", "5 320 19 3 64 1 0 2", "8 1000 33 2 -1 0 1 3",
        "16 256 8 4 32 1 1 4", "4 768 24 3 256 0 0 5", "2 96 5 2 32 0 1 6",
        "7 2048 64 4 128 0 0 7", "3 576 48 4 128 0 0 8", "4 1024 40 4 128 0 1 9 f16",
        "1 512 17 2 64 1 0 10 f16", "3 512 37 4 32 0 1 31 fz", "9 300 20 3 64 0 0 32 fz"]
# 8-bit codes: symmetric (zero 128, as GGUF's Q8_0 imports) and not, f16
# scales, partial superblocks, 1-9 tokens.
DQI8W = ["1 512 37 8 32 1 0 21 f16", "4 300 20 8 128 0 1 22", "9 1024 16 8 -1 0 0 23"]
# Float activations: 2-4 and 8 bits, every group kind, f16 scales and float
# zero points, 1-16 tokens.
DQF32 = ["1 512 37 4 128 0 1 41 f32act", "5 320 19 3 64 1 0 42 f32act",
         "8 1000 33 2 -1 0 1 43 f32act", "16 256 8 4 32 1 1 44 f32act",
         "3 576 48 4 128 0 0 45 f16 f32act", "3 512 37 4 32 0 1 46 fz f32act",
         "4 300 20 8 128 0 1 47 f32act", "1 1024 16 8 -1 1 0 48 f16 f32act"]
# One int8 scale per token over grouped weights.
DQI8T = ["1 512 37 4 128 0 1 51 rowact", "5 320 19 3 64 1 0 52 rowact",
         "16 256 8 4 32 1 1 53 rowact", "3 576 48 4 128 0 0 54 f16 rowact",
         "3 512 40 3 128 0 1 55 bcq rowact"]
BCQ = ["3 512 40 3 128 0 1 1 bcq", "1 1000 37 4 -1 0 0 2 bcq", "5 320 19 2 64 1 1 3 bcq",
       "16 256 70 1 32 0 1 4 bcq", "2 576 33 3 128 1 0 5 bcq"]
ULUT = ["1 512 37 4 128 0 1 11", "5 320 19 3 64 1 0 12", "3 576 48 2 128 0 1 13",
        "2 1000 70 3 -1 0 0 14 f16"]
# codebook_case.py M K N BOOKS V ENTRIES BIAS SEED
CB = ["1 512 37 2 8 256 1 1", "3 96 9 2 4 256 1 3", "2 200 21 1 8 64 1 4",
      "11 256 45 2 4 256 0 5", "6 256 64 2 4 200 1 8", "7 300 100 3 4 32 1 9"]
CBS = ["5 128 16 1 4 16 0 2", "3 1000 70 2 2 16 1 4", "2 512 33 1 2 8 1 5",
       "1 4096 64 1 2 16 0 6"]

FAMILIES = {"dqi8": ("kernel_case.py", DQI8, []),
            "dqi8w": ("kernel_case.py", DQI8W, []),
            "dqf32": ("kernel_case.py", DQF32, []),
            "dqi8t": ("kernel_case.py", DQI8T, []),
            "bcq": ("kernel_case.py", BCQ, []),
            "ulut": ("kernel_case.py", ULUT, ["--uniform-lut"]),
            "cb": ("codebook_case.py", CB, []),
            "cbs": ("codebook_case.py", CBS, [])}


def refs_for(family, target, tokens):
    """(reference file, tolerance relative to its largest value) pairs."""
    table_path = family == "cb" and target == "x86-64-v4-vbmi" and tokens <= 6
    if (family == "cb" and not table_path) or family == "dqf32":
        return [("ref.npy", 1e-5)]  # f32 psumbook / FMAs: to f32 rounding
    if family == "dqi8t":  # a token's one scale is set by its outlier
        return [("ref_kernel.npy", 1e-5), ("ref.npy", 0.15)]
    return [("ref_kernel.npy", 1e-5), ("ref.npy", 5e-2)]


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def main():
    args = sys.argv[1:]
    neon = "--neon" in args
    args = [a for a in args if a != "--neon"]
    target = "aarch64" if neon else args[args.index("--target") + 1]
    if "--target" in args:
        i = args.index("--target")
        del args[i:i + 2]
    root, families = args[0], args[1:]
    for fam in families:
        if fam not in FAMILIES:
            sys.exit("kernel_suite: unknown family '%s' (expected %s)" % (fam, ", ".join(FAMILIES)))
        script, cases, flags = FAMILIES[fam]
        names = []
        for i, params in enumerate(cases):
            name = "%s%d" % (fam, i)
            d = os.path.join(root, name)
            run([sys.executable, os.path.join(HERE, script), d] + params.split())
            names.append(name)
            if neon:
                continue
            tokens = int(params.split()[0])
            check(d, name, target, compile_and_run(d, target, flags),
                  refs_for(fam, target, tokens))
        if neon:
            subprocess.run([sys.executable, os.path.join(HERE, "run_neon_cases.py"), root] + names
                           + flags + (["--f32-psumbook"] if fam == "cb" else []), check=True)
        print("%s: %d cases ok on %s" % (fam, len(cases), target))


if __name__ == "__main__":
    main()
