// RUN: qc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qc-pack-linear-weights{panel=2}))' | FileCheck %s
// RUN: qc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qc-pack-linear-weights))' | FileCheck %s --check-prefix=TARGET
// RUN: not qc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qc-pack-linear-weights{panel=-1}))' 2>&1 | FileCheck %s --check-prefix=ERR

// W = [[0, 1, 2, 3], [4, 5, 6, 7]] (K = 2, N = 4) in panels of 2 columns:
// [[[0, 1], [4, 5]], [[2, 3], [6, 7]]], as f32 little-endian after the
// blob's alignment word (8).
// CHECK-LABEL: func.func @packs
// CHECK: %[[W:.*]] = arith.constant dense_resource<fc.panels> : tensor<2x2x2xf32>
// CHECK: qc.linear %{{.*}}, %[[W]] layer "fc" panel 2 : tensor<3x2xf32>, tensor<2x2x2xf32> -> tensor<3x4xf32>
// CHECK: fc.panels: "0x08000000000000000000803F000080400000A04000000040000040400000C0400000E040"
// TARGET-LABEL: func.func @packs
// TARGET: qc.linear %{{.*}}, %{{.*}} layer "fc" : tensor<3x2xf32>, tensor<2x4xf32> -> tensor<3x4xf32>
// ERR: qc-pack-linear-weights: panel must be >= 0
func.func @packs(%x: tensor<3x2xf32>) -> tensor<3x4xf32> {
  %w = arith.constant dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]> : tensor<2x4xf32>
  %y = qc.linear %x, %w layer "fc" : tensor<3x2xf32>, tensor<2x4xf32> -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// N not a multiple of the panel, and a weight computed at run time: left as
// they are.
// CHECK-LABEL: func.func @keeps
// CHECK: qc.linear %{{.*}}, %{{.*}} layer "odd" : tensor<3x2xf32>, tensor<2x3xf32> -> tensor<3x3xf32>
// CHECK: qc.linear %{{.*}}, %{{.*}} layer "arg" : tensor<3x2xf32>, tensor<2x4xf32> -> tensor<3x4xf32>
func.func @keeps(%x: tensor<3x2xf32>, %v: tensor<2x4xf32>) -> (tensor<3x3xf32>, tensor<3x4xf32>) {
  %w = arith.constant dense<1.0> : tensor<2x3xf32>
  %y = qc.linear %x, %w layer "odd" : tensor<3x2xf32>, tensor<2x3xf32> -> tensor<3x3xf32>
  %z = qc.linear %x, %v layer "arg" : tensor<3x2xf32>, tensor<2x4xf32> -> tensor<3x4xf32>
  return %y, %z : tensor<3x3xf32>, tensor<3x4xf32>
}

// -----

// Without panel=, the width is the register tile of the module's target
// (two 8-lane vectors, 16 columns, for AVX2), or the widest whole number of
// vectors below it that divides N.
// TARGET-LABEL: func.func @from_target
// TARGET: qc.linear %{{.*}}, %{{.*}} layer "t" panel 16 : tensor<1x8xf32>, tensor<2x8x16xf32> -> tensor<1x32xf32>
module attributes {qc.target = #qc.target<isa = avx2, features = "+avx2,+fma", vector_bits = 256, threads = 0>} {
  func.func @from_target(%x: tensor<1x8xf32>) -> tensor<1x32xf32> {
    %w = arith.constant dense<1.0> : tensor<8x32xf32>
    %y = qc.linear %x, %w layer "t" : tensor<1x8xf32>, tensor<8x32xf32> -> tensor<1x32xf32>
    return %y : tensor<1x32xf32>
  }
}

// -----

// AVX-512 tiles are three 16-lane vectors wide: N = 96 takes panels of 48;
// N = 64 (not a multiple of 48) panels of 32; N = 48 is one register tile
// already and stays as it is.
// TARGET-LABEL: func.func @avx512
// TARGET: layer "w96" panel 48 : tensor<1x8xf32>, tensor<2x8x48xf32> -> tensor<1x96xf32>
// TARGET: layer "w64" panel 32 : tensor<1x8xf32>, tensor<2x8x32xf32> -> tensor<1x64xf32>
// TARGET: layer "w48" : tensor<1x8xf32>, tensor<8x48xf32> -> tensor<1x48xf32>
module attributes {qc.target = #qc.target<isa = avx512vnni, features = "+avx512f", vector_bits = 512, threads = 0>} {
  func.func @avx512(%x: tensor<1x8xf32>) -> (tensor<1x96xf32>, tensor<1x64xf32>, tensor<1x48xf32>) {
    %w = arith.constant dense<1.0> : tensor<8x96xf32>
    %y = qc.linear %x, %w layer "w96" : tensor<1x8xf32>, tensor<8x96xf32> -> tensor<1x96xf32>
    %v = arith.constant dense<1.0> : tensor<8x64xf32>
    %z = qc.linear %x, %v layer "w64" : tensor<1x8xf32>, tensor<8x64xf32> -> tensor<1x64xf32>
    %u = arith.constant dense<1.0> : tensor<8x48xf32>
    %t = qc.linear %x, %u layer "w48" : tensor<1x8xf32>, tensor<8x48xf32> -> tensor<1x48xf32>
    return %y, %z, %t : tensor<1x96xf32>, tensor<1x64xf32>, tensor<1x48xf32>
  }
}
