// RUN: qc-opt %s -split-input-file --mlir-print-local-scope --pass-pipeline='builtin.module(func.func(qc-channels-last))' | FileCheck %s

// A residual block between pixel-major layers: %y is a layer's [1, H, W, C]
// result (a kernel's buffer: pinned), the epilogue adds the NCHW residual
// %r to it, and the next layer's quantizer reads the sum back pixel-major.
// Stored NHWC, the sum is written and read contiguously: both generics get
// identity maps, the sum's empty and the pad are permuted, and the bias
// keeps its map over the same loops (now d3 is the channel).
// CHECK-LABEL: func.func @residual
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>]
// CHECK-SAME: outs(%{{.*}} : tensor<1x4x6x8xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x4x6x8xf32>
// CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %[[R]] : tensor<1x4x6x8xf32>, tensor<8x1x1xf32>, tensor<1x4x6x8xf32>) outs(%[[E]] : tensor<1x4x6x8xf32>)
// CHECK: tensor.pad %[[S]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>]
// CHECK-SAME: ins(%{{.*}} : tensor<1x6x8x8xf32>) outs(%{{.*}} : tensor<1x6x8x8xi8>)
#nhwc_read = affine_map<(n, c, h, w) -> (n, h, w, c)>
#id = affine_map<(n, c, h, w) -> (n, c, h, w)>
#bias = affine_map<(n, c, h, w) -> (c, 0, 0)>
func.func @residual(%y: tensor<1x4x6x8xf32>, %b: tensor<8x1x1xf32>,
                    %y0: tensor<1x4x6x8xf32>) -> tensor<1x6x8x8xi8> {
  %e0 = tensor.empty() : tensor<1x8x4x6xf32>
  // The residual itself: a previous epilogue's NCHW result.
  %r = linalg.generic {indexing_maps = [#nhwc_read, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y0 : tensor<1x4x6x8xf32>) outs(%e0 : tensor<1x8x4x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x8x4x6xf32>
  %e1 = tensor.empty() : tensor<1x8x4x6xf32>
  %s = linalg.generic {indexing_maps = [#nhwc_read, #bias, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y, %b, %r : tensor<1x4x6x8xf32>, tensor<8x1x1xf32>, tensor<1x8x4x6xf32>) outs(%e1 : tensor<1x8x4x6xf32>) {
  ^bb0(%a: f32, %c: f32, %d: f32, %o: f32):
    %0 = arith.addf %a, %c : f32
    %1 = arith.addf %0, %d : f32
    linalg.yield %1 : f32
  } -> tensor<1x8x4x6xf32>
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %s low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x8x4x6xf32> to tensor<1x8x6x8xf32>
  %e2 = tensor.empty() : tensor<1x6x8x8xi8>
  %q = linalg.generic {indexing_maps = [affine_map<(n, h, w, c) -> (n, c, h, w)>, affine_map<(n, h, w, c) -> (n, h, w, c)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%p : tensor<1x8x6x8xf32>) outs(%e2 : tensor<1x6x8x8xi8>) {
  ^bb0(%a: f32, %o: i8):
    %0 = arith.fptosi %a : f32 to i8
    linalg.yield %0 : i8
  } -> tensor<1x6x8x8xi8>
  return %q : tensor<1x6x8x8xi8>
}

// -----

// A window reduction (max pooling) over a permuted value: its loops become
// (n, oh, ow, kh, kw, c), reductions before the channel, which is
// innermost and contiguous in the input and the output.
// CHECK-LABEL: func.func @pool
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 * 2 + d3, d2 * 2 + d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d4)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d5)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x6x6x8xf32>, tensor<2x2xf32>) outs(%{{.*}} : tensor<1x3x3x8xf32>)
#nhwc_read = affine_map<(n, c, h, w) -> (n, h, w, c)>
#id = affine_map<(n, c, h, w) -> (n, c, h, w)>
#pin = affine_map<(n, c, h, w, i, j) -> (n, c, h * 2 + i, w * 2 + j)>
#pwin = affine_map<(n, c, h, w, i, j) -> (i, j)>
#pout = affine_map<(n, c, h, w, i, j) -> (n, c, h, w)>
func.func @pool(%y: tensor<1x6x6x8xf32>) -> tensor<1x3x3x8xi8> {
  %e0 = tensor.empty() : tensor<1x8x6x6xf32>
  %x = linalg.generic {indexing_maps = [#nhwc_read, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y : tensor<1x6x6x8xf32>) outs(%e0 : tensor<1x8x6x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x8x6x6xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %e1 = tensor.empty() : tensor<1x8x3x3xf32>
  %init = linalg.fill ins(%ninf : f32) outs(%e1 : tensor<1x8x3x3xf32>) -> tensor<1x8x3x3xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %m = linalg.generic {indexing_maps = [#pin, #pwin, #pout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %win : tensor<1x8x6x6xf32>, tensor<2x2xf32>) outs(%init : tensor<1x8x3x3xf32>) {
  ^bb0(%a: f32, %w: f32, %o: f32):
    %0 = arith.maximumf %a, %o : f32
    linalg.yield %0 : f32
  } -> tensor<1x8x3x3xf32>
  %e2 = tensor.empty() : tensor<1x3x3x8xi8>
  %q = linalg.generic {indexing_maps = [affine_map<(n, h, w, c) -> (n, c, h, w)>, affine_map<(n, h, w, c) -> (n, h, w, c)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%m : tensor<1x8x3x3xf32>) outs(%e2 : tensor<1x3x3x8xi8>) {
  ^bb0(%a: f32, %o: i8):
    %0 = arith.fptosi %a : f32 to i8
    linalg.yield %0 : i8
  } -> tensor<1x3x3x8xi8>
  return %q : tensor<1x3x3x8xi8>
}

// -----

// Channel-major producers and consumers (a float network): permuting would
// add transposes, so nothing changes. The returned value is pinned anyway;
// the one between the two generics is not, and stays NCHW.
// CHECK-LABEL: func.func @channel_major
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x8x4x6xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x8x4x6xf32>) outs(%{{.*}} : tensor<1x8x4x6xf32>)
#nhwc_read = affine_map<(n, c, h, w) -> (n, h, w, c)>
#id = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @channel_major(%x: tensor<1x8x4x6xf32>) -> tensor<1x8x4x6xf32> {
  %e0 = tensor.empty() : tensor<1x8x4x6xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x8x4x6xf32>) outs(%e0 : tensor<1x8x4x6xf32>) {
  ^bb0(%v: f32, %o: f32):
    %0 = arith.negf %v : f32
    linalg.yield %0 : f32
  } -> tensor<1x8x4x6xf32>
  %e1 = tensor.empty() : tensor<1x8x4x6xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a : tensor<1x8x4x6xf32>) outs(%e1 : tensor<1x8x4x6xf32>) {
  ^bb0(%v: f32, %o: f32):
    %0 = arith.negf %v : f32
    linalg.yield %0 : f32
  } -> tensor<1x8x4x6xf32>
  return %b : tensor<1x8x4x6xf32>
}

// -----

// A value some other op reads (here a reshape, as before a kernel call)
// keeps its layout, and so does everything tied to it (its init).
// CHECK-LABEL: func.func @pinned
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x8x4x6xf32>)
// CHECK: tensor.collapse_shape %{{.*}} : tensor<1x8x4x6xf32> into tensor<192xf32>
#nhwc_read = affine_map<(n, c, h, w) -> (n, h, w, c)>
#id = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @pinned(%y: tensor<1x4x6x8xf32>) -> tensor<192xf32> {
  %e0 = tensor.empty() : tensor<1x8x4x6xf32>
  %x = linalg.generic {indexing_maps = [#nhwc_read, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y : tensor<1x4x6x8xf32>) outs(%e0 : tensor<1x8x4x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x8x4x6xf32>
  %c = tensor.collapse_shape %x [[0, 1, 2, 3]] : tensor<1x8x4x6xf32> into tensor<192xf32>
  return %c : tensor<192xf32>
}

// -----

// Two generics that CSE left writing one tensor.empty: the returned one
// keeps NCHW, the other still becomes NHWC (each gets its own empty).
// CHECK-LABEL: func.func @shared_init
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x8x4x6xf32>)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x6x8xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x4x6x8xf32>) outs(%{{.*}} : tensor<1x4x6x8xi8>)
#nhwc_read = affine_map<(n, c, h, w) -> (n, h, w, c)>
#id = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @shared_init(%y: tensor<1x4x6x8xf32>) -> (tensor<1x8x4x6xf32>, tensor<1x4x6x8xi8>) {
  %e = tensor.empty() : tensor<1x8x4x6xf32>
  %a = linalg.generic {indexing_maps = [#nhwc_read, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y : tensor<1x4x6x8xf32>) outs(%e : tensor<1x8x4x6xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  } -> tensor<1x8x4x6xf32>
  %b = linalg.generic {indexing_maps = [#nhwc_read, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y : tensor<1x4x6x8xf32>) outs(%e : tensor<1x8x4x6xf32>) {
  ^bb0(%v: f32, %o: f32):
    %0 = arith.negf %v : f32
    linalg.yield %0 : f32
  } -> tensor<1x8x4x6xf32>
  %e2 = tensor.empty() : tensor<1x4x6x8xi8>
  %q = linalg.generic {indexing_maps = [affine_map<(n, h, w, c) -> (n, c, h, w)>, affine_map<(n, h, w, c) -> (n, h, w, c)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<1x8x4x6xf32>) outs(%e2 : tensor<1x4x6x8xi8>) {
  ^bb0(%v: f32, %o: i8):
    %0 = arith.fptosi %v : f32 to i8
    linalg.yield %0 : i8
  } -> tensor<1x4x6x8xi8>
  return %a, %q : tensor<1x8x4x6xf32>, tensor<1x4x6x8xi8>
}
