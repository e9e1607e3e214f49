// RUN: qc-opt %s --qc-set-target=target=x86-64-v4-vnni | FileCheck %s --check-prefix=SET
// RUN: qc-opt %s --qc-set-target="target=aarch64 threads=2" | FileCheck %s --check-prefix=NEON
// RUN: qc-opt %s --pass-pipeline='builtin.module(qc-set-target{target=x86-64-v3},func.func(qc-select-kernel{target=generic}))' | FileCheck %s --check-prefix=WINS
// RUN: not qc-opt %s --qc-set-target=target=riscv 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not qc-opt %s --qc-set-target=threads=-1 2>&1 | FileCheck %s --check-prefix=THREADS

// qc-set-target records the resolved kernel target on the module: its
// name, the LLVM features of its kernels, its vector width and the threads.
// SET: module attributes {qc.target = #qc.target<isa = avx512vnni, features = "+avx2,+fma,+avx512f,+avx512vl,+avx512bw,+avx512vnni", vector_bits = 512, threads = 0>}
// NEON: module attributes {qc.target = #qc.target<isa = neon, features = "+neon,+dotprod", vector_bits = 128, threads = 2>}

// qc-select-kernel takes the module's target over its own option.
// WINS: kernel = #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 4, act_block = 128>

// BAD: error: qc-set-target: unknown kernel target 'riscv' (expected host, x86-64-v3, x86-64-v4, x86-64-v4-vnni, x86-64-v4-vbmi, aarch64 or generic)
// THREADS: error: qc-set-target: threads must be >= 0

func.func @w4g128(%x: tensor<6x256xf32>) -> tensor<6x8xf32> {
  %c = arith.constant dense<1> : tensor<256x8xi8>
  %s = arith.constant dense<1.0> : tensor<2x8xf32>
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = 128> layer "fc" : tensor<6x256xf32>, tensor<256x8xi8>, tensor<2x8xf32> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}
