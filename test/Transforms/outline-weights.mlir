// RUN: qc-opt %s --qc-outline-weights | FileCheck %s

// Blobs become trailing read-only arguments, one per distinct blob; small
// dense constants stay in the code.
// CHECK-LABEL: func.func @main
// CHECK-SAME: %{{.*}}: tensor<2x4xf32> {bufferization.writable = false}
// CHECK-SAME: %[[W:.*]]: tensor<4x4xf32> {bufferization.writable = false, qc.weight = dense_resource<w0> : tensor<4x4xf32>}
// CHECK-NOT: dense_resource<w0> : tensor<4x4xf32> {
// CHECK: arith.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %[[W]]
// CHECK: linalg.matmul ins(%{{.*}}, %[[W]]
func.func @main(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense_resource<w0> : tensor<4x4xf32>
  %w_again = arith.constant dense_resource<w0> : tensor<4x4xf32>
  %small = arith.constant dense<1.0> : tensor<4xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x4xf32>) outs(%f : tensor<2x4xf32>) -> tensor<2x4xf32>
  %n = linalg.matmul ins(%m, %w_again : tensor<2x4xf32>, tensor<4x4xf32>) outs(%f : tensor<2x4xf32>) -> tensor<2x4xf32>
  %e2 = tensor.empty() : tensor<2x4xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%n, %small : tensor<2x4xf32>, tensor<4xf32>) outs(%e2 : tensor<2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<2x4xf32>
  return %g : tensor<2x4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w0: "0x040000000000803F000000000000000000000000000000000000803F000000000000000000000000000000000000803F000000000000000000000000000000000000803F"
    }
  }
#-}
