// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-tile-and-vectorize{tile-m=4 tile-n=8}))' | FileCheck %s --implicit-check-not=vector.mask --implicit-check-not=linalg.matmul

// 10 rows = two full tiles of 4 and a peeled tile of 2; 20 columns = two
// tiles of 8 and a peeled tile of 4. Every tile is static, so no masks, and
// the contraction is lowered to outer-product FMAs: no vector.mask and no
// linalg.matmul anywhere in the output (--implicit-check-not).
// CHECK-LABEL: func.func @matmul
// Column tiles outside row tiles (a weight panel stays in cache), the
// reduction innermost with the accumulator rows as loop-carried vectors.
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c8
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c8 step %c4
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c1 iter_args({{.*}}) -> (tensor<10x20xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: vector.fma {{.*}} : vector<8xf32>
// CHECK: vector.fma {{.*}} : vector<4xf32>
func.func @matmul(%a: tensor<10x16xf32>, %b: tensor<16x20xf32>) -> tensor<10x20xf32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<10x20xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<10x20xf32>) -> tensor<10x20xf32>
  %m = linalg.matmul ins(%a, %b : tensor<10x16xf32>, tensor<16x20xf32>) outs(%f : tensor<10x20xf32>) -> tensor<10x20xf32>
  return %m : tensor<10x20xf32>
}
