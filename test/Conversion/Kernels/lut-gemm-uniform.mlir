// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=x86-64-v3 uniform-lut}),qc-gen-lut-gemm)' | FileCheck %s
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=x86-64-v3 uniform-lut}),qc-gen-lut-gemm)' --mlir-print-elementsattrs-with-hex-if-larger=-1 | FileCheck %s --check-prefix=DATA

// A uniform 2-bit layer with zero points through LUT-GEMM: its codes are
// read as 2 bit-planes; 2 alpha_i = s 2^i per group and plane, and the
// correction is -s z. One token, K = 64 (one group), N = 2 (one 32-column
// tile). Codes: column 0 all 1 (plane 0 set), column 1 all 2 (plane 1 set).
// Groups are padded to a multiple of 8: per tile, 8 x 2 planes rows of
// 32 columns of 2 alpha.
// CHECK-LABEL: func.func @uniform
// CHECK: call @qc_actq_b2_g64_a64_m1_k64_n2_t1_avx2(
// CHECK: call @qc_lutt_b2_g64_a64_m1_k64_n2_t1_avx2(
// CHECK: arith.constant dense_resource<fc.lutplanes> : tensor<1x1024xi8>
// CHECK: arith.constant dense_resource<fc.lutalpha> : tensor<1x512xf32>
// CHECK: arith.constant dense_resource<fc.lutcorr> : tensor<1x256xf32>
// CHECK: call @qc_lutgemm_b2_g64_a64_m1_k64_n2_t1_avx2(
// CHECK-NOT: qc.qlinear

// Scales 0.5 and 0.25, zero points 1 and 3: 2 alpha = [0.5, 0.25] for
// plane 0 and [1.0, 0.5] for plane 1 (f32 little-endian bytes after the
// blob's alignment word: 0.5 = 0000003F, 0.25 = 0000803E, 1.0 = 0000803F),
// each row padded to 32 columns; the correction row is -s z = [-0.5, -0.75]
// (000000BF, 000040BF). The planes, per chunk of 8 rows: rows 0-7 of
// column 0 (byte lane 0) in plane 0, of column 1 (lane 2) in plane 1.
// DATA: fc.lutplanes: "0x08000000FF{{(00){33}()}}FF{{(00){29}()}}FF{{(00){33}()}}FF
// DATA: fc.lutalpha: "0x080000000000003F0000803E{{(00){120}()}}0000803F0000003F{{(00){120}()}}0000
// DATA: fc.lutcorr: "0x08000000000000BF000040BF{{(00)*}}"

func.func @uniform(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  %c = arith.constant dense<[[1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2]]> : tensor<64x2xi8>
  %s = arith.constant dense<[[0.5, 0.25]]> : tensor<1x2xf32>
  %z = arith.constant dense<[[1.0, 3.0]]> : tensor<1x2xf32>
  %y = qc.qlinear %x, %c, %s zeros(%z : tensor<1x2xf32>) scheme #qc.uniform<bits = 2, group = 64, per_ic = false, symmetric = false, scale_type = f32> act #qc.act<kind = int8, block = 64> layer "fc" : tensor<1x64xf32>, tensor<64x2xi8>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
