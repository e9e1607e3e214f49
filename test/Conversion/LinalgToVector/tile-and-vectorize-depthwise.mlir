// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-tile-and-vectorize{tile-n=16}))' | FileCheck %s
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-tile-and-vectorize{tile-n=16 parallel-min-macs=1}))' | FileCheck %s --check-prefix=PAR

// A depthwise 3x3 convolution as the importer writes a grouped one (loops
// n, g, f, oh, ow, c, i, j; one channel per group): one channel and one
// output row per tile, 16 pixels a vector, the 3x3 taps innermost with the
// pixels' sums carried in a register across the row of taps, the tap
// broadcast from the filter. Every loop of the tile but the pixels is gone.
#in = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 + d6, d4 + d7)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
#strided = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 * 2 + d6, d4 * 2 + d7)>

// CHECK-LABEL: func.func @depthwise
// CHECK: scf.for %[[G:.*]] = %c0 to %c4 step %c1
// CHECK:   scf.for %[[OH:.*]] = %c0 to %c16 step %c1
// CHECK:     scf.for %[[I:.*]] = %c0 to %c3 step %c1
// CHECK:       %[[ACC:.*]] = vector.transfer_read %{{.*}}[%c0, %[[G]], %c0, %[[OH]], %c0]{{.*}} : tensor<1x4x1x16x16xf32>, vector<16xf32>
// CHECK:       scf.for %[[J:.*]] = %c0 to %c3 step %c1 iter_args(%{{.*}} = %{{.*}}, %[[SUM:.*]] = %[[ACC]])
// CHECK:         %[[X:.*]] = vector.transfer_read %arg0[%c0, %[[G]], %c0, %{{.*}}, %[[J]]]{{.*}} : tensor<1x4x1x18x18xf32>, vector<16xf32>
// CHECK:         %[[TAP:.*]] = vector.transfer_read %arg1[%[[G]], %c0, %c0, %[[I]], %[[J]]]{{.*}} : tensor<4x1x1x3x3xf32>, vector<f32>
// CHECK:         %[[B:.*]] = vector.broadcast %[[TAP]] : vector<f32> to vector<16xf32>
// CHECK:         %[[P:.*]] = arith.mulf %[[X]], %[[B]] : vector<16xf32>
// CHECK:         arith.addf %[[SUM]], %[[P]] : vector<16xf32>
// CHECK:       vector.transfer_write
// CHECK-NOT: linalg.generic
// CHECK: return
// The channels' loop is the one the threads split (when the convolution is
// large enough: here, with a threshold of one multiply-add).
// PAR-LABEL: func.func @depthwise
// PAR-COUNT-1: {qc.parallel_loop}
// PAR: return
func.func @depthwise(%x: tensor<1x4x1x18x18xf32>, %w: tensor<4x1x1x3x3xf32>, %init: tensor<1x4x1x16x16xf32>) -> tensor<1x4x1x16x16xf32> {
  %0 = linalg.generic {indexing_maps = [#in, #w, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x4x1x18x18xf32>, tensor<4x1x1x3x3xf32>) outs(%init : tensor<1x4x1x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x1x16x16xf32>
  return %0 : tensor<1x4x1x16x16xf32>
}

// With stride 2 a tile's pixels are every other input: the row is read
// through a strided slice, still one vector per 16 pixels.
// CHECK-LABEL: func.func @strided
// CHECK: scf.for
// CHECK: %[[ROW:.*]] = tensor.extract_slice %arg0[0, %{{.*}}, 0, %{{.*}}, %{{.*}}] [1, 1, 1, 1, 16] [1, 1, 1, 1, 2] : tensor<1x4x1x33x33xf32> to tensor<16xf32>
// CHECK: vector.transfer_read %[[ROW]][%c0]{{.*}} : tensor<16xf32>, vector<16xf32>
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @strided(%x: tensor<1x4x1x33x33xf32>, %w: tensor<4x1x1x3x3xf32>, %init: tensor<1x4x1x16x16xf32>) -> tensor<1x4x1x16x16xf32> {
  %0 = linalg.generic {indexing_maps = [#strided, #w, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x4x1x33x33xf32>, tensor<4x1x1x3x3xf32>) outs(%init : tensor<1x4x1x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x1x16x16xf32>
  return %0 : tensor<1x4x1x16x16xf32>
}

// A depthwise convolution accumulating into its bias (broadcast in the
// convolution's [N, G, 1, H, W] layout, as the importer writes it) and read
// by a ReLU6 through the collapse back to NCHW: the clamp becomes the
// tiles' epilogue. Each tile starts its accumulator from the channel's
// bias, keeps it in registers across both tap loops, clamps it and stores
// it once: no generic, no pass over the bias or the result of its own.
// CHECK-LABEL: func.func @bias_relu6
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[G:.*]] = %c0 to %c4 step %c1
// CHECK:   %[[B:.*]] = vector.transfer_read %{{.*}}[%[[G]], %c0, %c0, %c0]{{.*}} : tensor<4x1x1x1xf32>, vector<f32>
// CHECK:   %[[B16:.*]] = vector.broadcast %[[B]] : vector<f32> to vector<16xf32>
// CHECK:   scf.for %[[OH:.*]] = %c0 to %c16 step %c1
// CHECK:     %[[ACC:.*]] = scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(%{{.*}} = %[[B16]]) -> (vector<16xf32>)
// CHECK:       scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (vector<16xf32>)
// CHECK:         arith.mulf {{.*}} : vector<16xf32>
// CHECK:     %[[LO:.*]] = arith.maxnumf %[[ACC]], %{{.*}} : vector<16xf32>
// CHECK:     %[[HI:.*]] = arith.minnumf %[[LO]], %{{.*}} : vector<16xf32>
// CHECK:     vector.transfer_write %[[HI]], %{{.*}}[%c0, %[[G]], %c0, %[[OH]], %c0]
// CHECK-NOT: linalg.generic
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3], [4]] : tensor<1x4x1x16x16xf32> into tensor<1x4x16x16xf32>
// CHECK: return
func.func @bias_relu6(%x: tensor<1x4x1x18x18xf32>, %w: tensor<4x1x1x3x3xf32>, %bias: tensor<4xf32>) -> tensor<1x4x16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %b = tensor.expand_shape %bias [[0, 1, 2, 3]] output_shape [4, 1, 1, 1] : tensor<4xf32> into tensor<4x1x1x1xf32>
  %e = tensor.empty() : tensor<1x4x1x16x16xf32>
  %init = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, 0, 0)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%b : tensor<4x1x1x1xf32>) outs(%e : tensor<1x4x1x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x1x16x16xf32>
  %0 = linalg.generic {indexing_maps = [#in, #w, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x4x1x18x18xf32>, tensor<4x1x1x3x3xf32>) outs(%init : tensor<1x4x1x16x16xf32>) {
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %m = arith.mulf %a, %c : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x4x1x16x16xf32>
  %y = tensor.collapse_shape %0 [[0], [1], [2, 3], [4]] : tensor<1x4x1x16x16xf32> into tensor<1x4x16x16xf32>
  %e4 = tensor.empty() : tensor<1x4x16x16xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y : tensor<1x4x16x16xf32>) outs(%e4 : tensor<1x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %lo = arith.maxnumf %in, %zero : f32
    %hi = arith.minnumf %lo, %six : f32
    linalg.yield %hi : f32
  } -> tensor<1x4x16x16xf32>
  return %r : tensor<1x4x16x16xf32>
}
