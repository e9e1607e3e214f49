// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-tile-and-vectorize{tile-m=4 tile-n=8},canonicalize,cse))' | FileCheck %s
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-tile-and-vectorize{tile-m=4 tile-n=8 epilogues=false},canonicalize,cse))' | FileCheck %s --check-prefix=OFF

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#tr2 = affine_map<(d0, d1) -> (d1, d0)>

// A channel-major convolution's matmul [F = 8, P = 20] accumulating into its
// bias, expanded back to [1, 8, 4, 5], then ReLU6 and a residual add: the
// two generics become one, tiled with the matmul (rows 4, columns 8, the
// last 4 peeled), each tile's accumulators starting from the bias and the
// clamp and the add applied to them in registers. Nothing but the tiles'
// stores writes the result: no generic, no linalg.broadcast left.
// CHECK-LABEL: func.func @conv_relu6_residual
// CHECK-NOT: linalg.
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c8
// CHECK: scf.for %{{.*}} = %c0 to %c8 step %c4
// CHECK: %[[B:.*]] = vector.transfer_read %arg2[%{{.*}}]{{.*}} : tensor<8xf32>, vector<f32>
// CHECK: %[[B0:.*]] = vector.broadcast %[[B]] : vector<f32> to vector<8xf32>
// CHECK: %[[ACC:.*]]:4 = scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(%{{.*}} = %[[B0]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}})
// CHECK: vector.fma
// CHECK: %[[R:.*]] = vector.transfer_read %{{.*}} : tensor<8x20xf32>, vector<8xf32>
// CHECK: %[[LO:.*]] = arith.maxnumf %[[ACC]]#0, %{{.*}} : vector<8xf32>
// CHECK: %[[HI:.*]] = arith.minnumf %[[LO]], %{{.*}} : vector<8xf32>
// CHECK: %[[SUM:.*]] = arith.addf %[[HI]], %[[R]] : vector<8xf32>
// CHECK: vector.transfer_write %[[SUM]]
// The peeled columns, in vectors of 4.
// CHECK: arith.addf %{{.*}} : vector<4xf32>
// CHECK-NOT: linalg.
// CHECK: %[[OUT:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2, 3]] output_shape [1, 8, 4, 5]
// CHECK: return %[[OUT]]
// Without epilogues, the bias, the matmul and the generics are passes of
// their own.
// OFF-LABEL: func.func @conv_relu6_residual
// OFF: linalg.broadcast
// OFF: linalg.generic
// OFF: linalg.generic
func.func @conv_relu6_residual(%w: tensor<8x3xf32>, %cols: tensor<3x20xf32>,
                               %bias: tensor<8xf32>,
                               %res: tensor<1x8x4x5xf32>) -> tensor<1x8x4x5xf32> {
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %e = tensor.empty() : tensor<8x20xf32>
  %b = linalg.broadcast ins(%bias : tensor<8xf32>) outs(%e : tensor<8x20xf32>) dimensions = [1]
  %m = linalg.matmul ins(%w, %cols : tensor<8x3xf32>, tensor<3x20xf32>) outs(%b : tensor<8x20xf32>) -> tensor<8x20xf32>
  %x = tensor.expand_shape %m [[0, 1], [2, 3]] output_shape [1, 8, 4, 5] : tensor<8x20xf32> into tensor<1x8x4x5xf32>
  %e4 = tensor.empty() : tensor<1x8x4x5xf32>
  %r6 = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x8x4x5xf32>) outs(%e4 : tensor<1x8x4x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %lo = arith.maxnumf %in, %zero : f32
    %hi = arith.minnumf %lo, %six : f32
    linalg.yield %hi : f32
  } -> tensor<1x8x4x5xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%r6, %res : tensor<1x8x4x5xf32>, tensor<1x8x4x5xf32>) outs(%e4 : tensor<1x8x4x5xf32>) {
  ^bb0(%in: f32, %r: f32, %out: f32):
    %s = arith.addf %in, %r : f32
    linalg.yield %s : f32
  } -> tensor<1x8x4x5xf32>
  return %sum : tensor<1x8x4x5xf32>
}

// A matmul read twice, or read transposed, keeps its readers to
// themselves: the result goes through memory.
// CHECK-LABEL: func.func @not_fused
// CHECK: vector.fma
// CHECK: linalg.generic
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]} ins(%{{.*}} : tensor<8x8xf32>)
func.func @not_fused(%a: tensor<8x3xf32>, %b: tensor<3x8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x8xf32>) -> tensor<8x8xf32>
  %m = linalg.matmul ins(%a, %b : tensor<8x3xf32>, tensor<3x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
  %relu = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%m : tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maxnumf %in, %zero : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %m2 = linalg.matmul ins(%a, %b : tensor<8x3xf32>, tensor<3x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
  %t = linalg.generic {indexing_maps = [#tr2, #id2], iterator_types = ["parallel", "parallel"]} ins(%m2 : tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maxnumf %in, %zero : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  return %relu, %m, %t : tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>
}

// Nor is a reader that comes after another contraction (tiling the first
// with it would rewrite the second's neighbourhood), nor one of i1 results
// (a vector store of i1 writes packed bits where the buffer holds bytes).
// CHECK-LABEL: func.func @not_fused_later
// CHECK-COUNT-2: vector.fma
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<8x8xf32>) outs(%{{.*}} : tensor<8x8xf32>)
// CHECK: vector.fma
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<8x8xf32>) outs(%{{.*}} : tensor<8x8xi1>)
func.func @not_fused_later(%a: tensor<8x3xf32>, %a2: tensor<8x3xf32>, %a3: tensor<8x3xf32>, %b: tensor<3x8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xi1>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x8xf32>) -> tensor<8x8xf32>
  %m = linalg.matmul ins(%a, %b : tensor<8x3xf32>, tensor<3x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
  %m2 = linalg.matmul ins(%a2, %b : tensor<8x3xf32>, tensor<3x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
  %relu = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%m : tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maxnumf %in, %zero : f32
    linalg.yield %r : f32
  } -> tensor<8x8xf32>
  %m3 = linalg.matmul ins(%a3, %b : tensor<8x3xf32>, tensor<3x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
  %eb = tensor.empty() : tensor<8x8xi1>
  %pos = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%m3 : tensor<8x8xf32>) outs(%eb : tensor<8x8xi1>) {
  ^bb0(%in: f32, %out: i1):
    %c = arith.cmpf ogt, %in, %zero : f32
    linalg.yield %c : i1
  } -> tensor<8x8xi1>
  return %relu, %m2, %pos : tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xi1>
}
