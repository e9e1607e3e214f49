// RUN: qc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qc-tile-and-vectorize{parallel-min-macs=1000}))' | FileCheck %s --implicit-check-not=vector.mask --implicit-check-not=linalg.contract
// RUN: qc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qc-tile-and-vectorize{parallel-min-macs=1000 tile-kc=4}))' | FileCheck %s --check-prefix=KC --implicit-check-not=linalg.contract

// A panel-weight contraction (qc-lower-linear's form for `qc.linear ...
// panel 16`): one panel per outer iteration, marked qc.parallel_loop (12 x 2
// x 16 x 8 = 3072 multiply-adds >= 1000), row tiles of 6 inside, the panel's
// K rows read front to back as whole 16-column vectors.
// CHECK-LABEL: func.func @panel
// CHECK: scf.for %[[J:.*]] = %c0 to %c2 step %c1 iter_args
// CHECK: scf.for %[[M:.*]] = %c0 to %c12 step %c6 iter_args
// CHECK: scf.for %[[K:.*]] = %c0 to %c8 step %c1 iter_args
// CHECK: vector.transfer_read %{{.*}}[%[[J]], %[[K]], %c0]{{.*}} : tensor<2x8x16xf32>, vector<16xf32>
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK: } {qc.parallel_loop}
// With K blocks of 4 (the default is the rows of a panel that fit in
// 16 KiB): panel, K block, row tile, K step; the panel loop stays the
// parallel one.
// KC-LABEL: func.func @panel
// KC: scf.for %[[J:.*]] = %c0 to %c2 step %c1 iter_args
// KC: scf.for %[[KB:.*]] = %c0 to %c8 step %c4 iter_args
// KC: scf.for %{{.*}} = %c0 to %c12 step %c6 iter_args
// KC: scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args
// KC: vector.fma {{.*}} : vector<16xf32>
// KC: } {qc.parallel_loop}
#a = affine_map<(m, j, p, k) -> (m, k)>
#b = affine_map<(m, j, p, k) -> (j, k, p)>
#c = affine_map<(m, j, p, k) -> (m, j, p)>
func.func @panel(%x: tensor<12x8xf32>, %w: tensor<2x8x16xf32>) -> tensor<12x2x16xf32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<12x2x16xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<12x2x16xf32>) -> tensor<12x2x16xf32>
  %r = linalg.contract indexing_maps = [#a, #b, #c] ins(%x, %w : tensor<12x8xf32>, tensor<2x8x16xf32>) outs(%f : tensor<12x2x16xf32>) -> tensor<12x2x16xf32>
  return %r : tensor<12x2x16xf32>
}

// -----

// Register tiles from the module's target: on AVX-512 (16 lanes) three
// vectors wide, 48 columns, split into 16-lane accumulators; the 16 columns
// left of N = 64 run as a tile of their own. A matmul below the threshold
// (4 x 64 x 2 = 512 multiply-adds) stays on one thread.
// CHECK-LABEL: func.func @small
// CHECK: scf.for {{.*}} -> (tensor<4x64xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK: vector.transfer_write {{.*}}[%c0, %c32] {{.*}} : vector<16xf32>, tensor<4x64xf32>
// CHECK: scf.for {{.*}} -> (tensor<4x64xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.transfer_write {{.*}}[%c0, %c48] {{.*}} : vector<16xf32>, tensor<4x64xf32>
// CHECK-NOT: qc.parallel_loop
module attributes {qc.target = #qc.target<isa = avx512vnni, features = "+avx512f", vector_bits = 512, threads = 0>} {
  func.func @small(%a: tensor<4x2xf32>, %b: tensor<2x64xf32>) -> tensor<4x64xf32> {
    %c0 = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<4x64xf32>
    %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<4x64xf32>) -> tensor<4x64xf32>
    %m = linalg.matmul ins(%a, %b : tensor<4x2xf32>, tensor<2x64xf32>) outs(%f : tensor<4x64xf32>) -> tensor<4x64xf32>
    return %m : tensor<4x64xf32>
  }
}
