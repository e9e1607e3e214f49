// RUN: qc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qc-parallelize-generics{min-elements=1000}))' | FileCheck %s
// RUN: qc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qc-parallelize-generics))' | FileCheck %s --check-prefix=DEFAULT

// A row softmax-like reduction over [1, 12, 128] (1536 >= 1000 iterations):
// the size-1 dimension is skipped, the 12 rows become a parallel loop of
// one row each, the reduction dimension stays whole inside. Below the
// default threshold (32768) nothing changes.
// CHECK-LABEL: func.func @rows
// CHECK: scf.for %[[I:.*]] = %c0 to %c12 step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (tensor<1x12xf32>)
// CHECK: tensor.extract_slice %{{.*}}[0, %[[I]], 0] [1, 1, 128] [1, 1, 1] : tensor<1x12x128xf32> to tensor<1x1x128xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: tensor.insert_slice
// CHECK: } {qc.parallel_loop}
// DEFAULT-LABEL: func.func @rows
// DEFAULT-NOT: scf.for
#in = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @rows(%x: tensor<1x12x128xf32>, %init: tensor<1x12xf32>) -> tensor<1x12xf32> {
  %r = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : tensor<1x12x128xf32>) outs(%init : tensor<1x12xf32>) {
  ^bb0(%a: f32, %b: f32):
    %m = arith.maximumf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<1x12xf32>
  return %r : tensor<1x12xf32>
}

// -----

// Only the innermost loop is larger than one: an iteration would hold a
// single element, so the generic stays whole.
// CHECK-LABEL: func.func @innermost
// CHECK-NOT: scf.for
// CHECK: linalg.generic
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @innermost(%x: tensor<1x4096xf32>) -> tensor<1x4096xf32> {
  %e = tensor.empty() : tensor<1x4096xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<1x4096xf32>) outs(%e : tensor<1x4096xf32>) {
  ^bb0(%a: f32, %b: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<1x4096xf32>
  return %r : tensor<1x4096xf32>
}

// -----

// A "parallel" loop the output is not indexed by (d1 here) would have its
// iterations write the same elements: the generic stays whole.
// CHECK-LABEL: func.func @unindexed
// CHECK-NOT: scf.for
// CHECK: linalg.generic
#in2 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#out2 = affine_map<(d0, d1, d2) -> (d0, d2)>
func.func @unindexed(%x: tensor<1x16x128xf32>, %init: tensor<1x128xf32>) -> tensor<1x128xf32> {
  %r = linalg.generic {indexing_maps = [#in2, #out2], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x16x128xf32>) outs(%init : tensor<1x128xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  } -> tensor<1x128xf32>
  return %r : tensor<1x128xf32>
}

// -----

// A zero padding of [1, 8, 16, 16] (2592 >= 1000 elements of result) of a
// function argument becomes a generic copying the input into the interior of the padded
// tensor (written in place through the slice), split over the 8 channels,
// and generics writing zeros into the border only: the rows above and
// below (whole rows), then the columns left and right of the interior
// rows. Nothing is written twice. Below the default threshold the pad
// stays.
// CHECK-LABEL: func.func @pad
// CHECK-NOT: tensor.pad
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x8x18x18xf32>
// CHECK: %[[INNER:.*]] = tensor.extract_slice %[[E]][0, 0, 1, 1] [1, 8, 16, 16] [1, 1, 1, 1]
// CHECK: %[[COPY:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[INNER]]) -> (tensor<1x8x16x16xf32>)
// CHECK:   linalg.generic {{.*}} ins(%{{.*}} : tensor<1x1x16x16xf32>) outs(%{{.*}} : tensor<1x1x16x16xf32>)
// CHECK: } {qc.parallel_loop}
// CHECK: %[[T0:.*]] = tensor.insert_slice %[[COPY]] into %[[E]][0, 0, 1, 1] [1, 8, 16, 16] [1, 1, 1, 1]
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[T0]][0, 0, 0, 0] [1, 8, 1, 18]
// CHECK: %[[F1:.*]] = linalg.generic {{.*}} outs(%[[S1]] : tensor<1x8x1x18xf32>)
// CHECK:   linalg.yield %{{.*}} : f32
// CHECK: %[[T1:.*]] = tensor.insert_slice %[[F1]] into %[[T0]][0, 0, 0, 0] [1, 8, 1, 18]
// CHECK: tensor.extract_slice %[[T1]][0, 0, 17, 0] [1, 8, 1, 18]
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 1, 0] [1, 8, 16, 1]
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 1, 17] [1, 8, 16, 1]
// CHECK: %[[LAST:.*]] = tensor.insert_slice %{{.*}}[0, 0, 1, 17] [1, 8, 16, 1]
// CHECK-NOT: linalg.generic
// CHECK: return %[[LAST]]
// DEFAULT-LABEL: func.func @pad
// DEFAULT: tensor.pad
func.func @pad(%x: tensor<1x8x16x16xf32>) -> tensor<1x8x18x18xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x8x16x16xf32> to tensor<1x8x18x18xf32>
  return %p : tensor<1x8x18x18xf32>
}

// -----

// The padded value's only user is the pad, its generic writes a
// tensor.empty without reading it, and the innermost dimension is not
// padded (an NHWC image): the generic itself writes the padded tensor's
// interior (split over the rows), and no copying generic is left; the
// border is filled as above. Padding the innermost dimension too (an NCHW
// image's rows) keeps the copy.
// CHECK-LABEL: func.func @pad_producer
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x18x18x8xf32>
// CHECK: %[[INNER:.*]] = tensor.extract_slice %[[E]][0, 1, 1, 0] [1, 16, 16, 8] [1, 1, 1, 1]
// CHECK: %[[NEG:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[INNER]]) -> (tensor<1x16x16x8xf32>)
// CHECK:   linalg.generic {{.*}} ins(%{{.*}} : tensor<1x1x16x8xf32>) outs(%{{.*}} : tensor<1x1x16x8xf32>)
// CHECK:     arith.negf
// CHECK: } {qc.parallel_loop}
// CHECK: tensor.insert_slice %[[NEG]] into %[[E]][0, 1, 1, 0] [1, 16, 16, 8] [1, 1, 1, 1]
// CHECK-COUNT-4: linalg.yield %{{.*}} : f32
// CHECK-NOT: linalg.generic
// CHECK: return
// CHECK-LABEL: func.func @pad_producer_rows
// CHECK: arith.negf
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 1, 1] [1, 8, 16, 16]
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x1x16x16xf32>) outs(%{{.*}} : tensor<1x1x16x16xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[A]] : f32
#id4 = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @pad_producer(%x: tensor<1x16x16x8xf32>) -> tensor<1x18x18x8xf32> {
  %e = tensor.empty() : tensor<1x16x16x8xf32>
  %n = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x16x16x8xf32>) outs(%e : tensor<1x16x16x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = arith.negf %a : f32
    linalg.yield %0 : f32
  } -> tensor<1x16x16x8xf32>
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %n low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x16x16x8xf32> to tensor<1x18x18x8xf32>
  return %p : tensor<1x18x18x8xf32>
}
func.func @pad_producer_rows(%x: tensor<1x8x16x16xf32>) -> tensor<1x8x18x18xf32> {
  %e = tensor.empty() : tensor<1x8x16x16xf32>
  %n = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x8x16x16xf32>) outs(%e : tensor<1x8x16x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = arith.negf %a : f32
    linalg.yield %0 : f32
  } -> tensor<1x8x16x16xf32>
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %n low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x8x16x16xf32> to tensor<1x8x18x18xf32>
  return %p : tensor<1x8x18x18xf32>
}

// -----

// A transpose whose input holds the channels innermost (NHWC -> NCHW): the
// channels are split 16 per step, so that each step keeps the 16 x 16 tiles
// qc-vectorize-elementwise reads (one channel per step would leave rows of
// one element).
// CHECK-LABEL: func.func @transpose
// CHECK: scf.for %[[C:.*]] = %c0 to %c64 step %c16
// CHECK: tensor.extract_slice %arg0[0, 0, 0, %[[C]]] [1, 8, 8, 16] [1, 1, 1, 1] : tensor<1x8x8x64xf32> to tensor<1x8x8x16xf32>
// CHECK: } {qc.parallel_loop}
func.func @transpose(%y: tensor<1x8x8x64xf32>) -> tensor<1x64x8x8xf32> {
  %e = tensor.empty() : tensor<1x64x8x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y : tensor<1x8x8x64xf32>) outs(%e : tensor<1x64x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x64x8x8xf32>
  return %r : tensor<1x64x8x8xf32>
}
