// RUN: qc-opt %s --qc-rotate="remarks" -split-input-file -verify-diagnostics | FileCheck %s

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#row = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#ch = affine_map<(d0, d1, d2) -> (d2)>

// An RMSNorm pre-norm block of width 4: the embedding table, the reader
// (fc, through the norm's gamma), the writer (out, added to the stream) take
// the rotation; mid's input (off the stream) is rotated online.
// CHECK-LABEL: func.func @block
// CHECK:       %[[TABLE:.*]] = arith.constant dense_resource<embedding.rotated> : tensor<3x4xf32>
// CHECK:       tensor.extract %[[TABLE]]
// The norm's division stays; its gamma is gone (it is in fc's weight).
// CHECK:       %[[UNIT:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x2x4xf32>, tensor<1x2x1xf32>)
// CHECK-NEXT:  ^bb0
// CHECK-NEXT:    arith.divf
// CHECK:       %[[FC:.*]] = arith.constant dense_resource<fc.rotated> : tensor<4x4xf32>
// CHECK-NEXT:  qc.linear %[[UNIT]], %[[FC]] layer "fc"
// mid's input: a qc.hadamard with the plan's signs and (K = 4 = 1 x 4) a
// 1 x 1 mix.
// CHECK:       %[[SIGNS:.*]] = arith.constant dense_resource<mid.hadamard_signs> : tensor<4xf32>
// CHECK:       %[[MIX:.*]] = arith.constant dense_resource<mid.hadamard_mix> : tensor<1x1xf32>
// CHECK:       %[[ROT:.*]] = qc.hadamard %{{.*}}, %[[SIGNS]], %[[MIX]] layer "mid" : tensor<1x2x4xf32>, tensor<4xf32>, tensor<1x1xf32>
// CHECK:       %[[MID:.*]] = arith.constant dense_resource<mid.rotated> : tensor<4x4xf32>
// CHECK:       qc.linear %[[ROT]], %[[MID]] layer "mid"
// head reads the stream: folded, not rotated online.
// CHECK:       %[[HEAD:.*]] = arith.constant dense_resource<head.rotated> : tensor<4x4xf32>
// CHECK-NEXT:  qc.linear %{{.*}}, %[[HEAD]] layer "head"
// CHECK-NEXT:  return
func.func @block(%ids: tensor<1x2xi64>) -> tensor<1x2x4xf32> {
  %table = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.0, 2.0], [3.0, 0.0, -2.0, 1.0]]> : tensor<3x4xf32>
  %gamma = arith.constant dense<[1.0, 10.0, 1.0, 0.5]> : tensor<4xf32>
  %wfc = arith.constant dense<0.25> : tensor<4x4xf32>
  %wmid = arith.constant dense<0.5> : tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x2x4xf32>
  // expected-remark @+1 {{qc-rotate: residual stream of width 4 rotated: 2 layer(s) read it, 1 write it, 1 norm scale(s) folded}}
  %x = linalg.generic {indexing_maps = [#ids, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ids : tensor<1x2xi64>) outs(%e0 : tensor<1x2x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = linalg.index 2 : index
    %r = arith.index_cast %in : i64 to index
    %v = tensor.extract %table[%r, %c] : tensor<3x4xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x4xf32>
  %sq = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<1x2x4xf32>) outs(%e0 : tensor<1x2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %in : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4xf32>
  %e1 = tensor.empty() : tensor<1x2xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2xf32>) -> tensor<1x2xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #ids], iterator_types = ["parallel", "parallel", "reduction"]} ins(%sq : tensor<1x2x4xf32>) outs(%f1 : tensor<1x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %out, %in : f32
    linalg.yield %a : f32
  } -> tensor<1x2xf32>
  %rms = tensor.expand_shape %ss [[0], [1, 2]] output_shape [1, 2, 1] : tensor<1x2xf32> into tensor<1x2x1xf32>
  %unit = linalg.generic {indexing_maps = [#id3, #row, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %rms : tensor<1x2x4xf32>, tensor<1x2x1xf32>) outs(%e0 : tensor<1x2x4xf32>) {
  ^bb0(%in: f32, %r: f32, %out: f32):
    %d = arith.divf %in, %r : f32
    linalg.yield %d : f32
  } -> tensor<1x2x4xf32>
  %n = linalg.generic {indexing_maps = [#ch, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%gamma, %unit : tensor<4xf32>, tensor<1x2x4xf32>) outs(%e0 : tensor<1x2x4xf32>) {
  ^bb0(%g: f32, %in: f32, %out: f32):
    %m = arith.mulf %g, %in : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4xf32>
  %h = qc.linear %n, %wfc layer "fc" : tensor<1x2x4xf32>, tensor<4x4xf32> -> tensor<1x2x4xf32>
  %t = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%h : tensor<1x2x4xf32>) outs(%e0 : tensor<1x2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = math.tanh %in : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4xf32>
  // expected-remark @+1 {{qc-rotate: layer 'mid' rotated online (K = 1 x 4)}}
  %o = qc.linear %t, %wmid layer "mid" : tensor<1x2x4xf32>, tensor<4x4xf32> -> tensor<1x2x4xf32>
  %y = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %o : tensor<1x2x4xf32>, tensor<1x2x4xf32>) outs(%e0 : tensor<1x2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4xf32>
  %w2 = arith.constant dense<1.0> : tensor<4x4xf32>
  %z = qc.linear %y, %w2 layer "head" : tensor<1x2x4xf32>, tensor<4x4xf32> -> tensor<1x2x4xf32>
  return %z : tensor<1x2x4xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0)>

// A LayerNorm's mean does not commute with a rotation: the stream is left,
// said in a warning; the layer is still rotated online.
// CHECK-LABEL: func.func @mean
// CHECK:       arith.constant dense<[
// CHECK:       hadamard_signs
func.func @mean(%ids: tensor<2xi64>) -> (tensor<2x4xf32>, tensor<2xf32>) {
  %table = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.0, 2.0]]> : tensor<2x4xf32>
  %w = arith.constant dense<0.25> : tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<2x4xf32>
  // expected-warning @+1 {{qc-rotate: the residual stream is not rotated: the residual stream is read by a linalg.generic that is not an elementwise step of a residual add or an RMSNorm}}
  %x = linalg.generic {indexing_maps = [#row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%ids : tensor<2xi64>) outs(%e0 : tensor<2x4xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = linalg.index 1 : index
    %r = arith.index_cast %in : i64 to index
    %v = tensor.extract %table[%r, %c] : tensor<2x4xf32>
    linalg.yield %v : f32
  } -> tensor<2x4xf32>
  %e1 = tensor.empty() : tensor<2xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2xf32>) -> tensor<2xf32>
  %sum = linalg.generic {indexing_maps = [#id2, #row2], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<2x4xf32>) outs(%f1 : tensor<2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %out, %in : f32
    linalg.yield %a : f32
  } -> tensor<2xf32>
  // expected-remark @+1 {{qc-rotate: layer 'fc' rotated online (K = 1 x 4)}}
  %y = qc.linear %x, %w layer "fc" : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  return %y, %sum : tensor<2x4xf32>, tensor<2xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0)>

// The stream is a result of the function: left. Without online rotations,
// nothing else changes; K = 9 has no Hadamard matrix.
// CHECK-LABEL: func.func @returned
// CHECK-NOT:   rotated
func.func @returned(%ids: tensor<2xi64>) -> (tensor<2x9xf32>, tensor<2x9xf32>) {
  %table = arith.constant dense<1.0> : tensor<3x9xf32>
  %w = arith.constant dense<0.25> : tensor<9x9xf32>
  %e0 = tensor.empty() : tensor<2x9xf32>
  // expected-warning @+1 {{qc-rotate: the residual stream is not rotated: the residual stream is read by 'func.return'}}
  %x = linalg.generic {indexing_maps = [#row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%ids : tensor<2xi64>) outs(%e0 : tensor<2x9xf32>) {
  ^bb0(%in: i64, %out: f32):
    %c = linalg.index 1 : index
    %r = arith.index_cast %in : i64 to index
    %v = tensor.extract %table[%r, %c] : tensor<3x9xf32>
    linalg.yield %v : f32
  } -> tensor<2x9xf32>
  // expected-remark @+1 {{qc-rotate: layer 'fc' not rotated online: no Hadamard factor of K of order <= 256 known}}
  %y = qc.linear %x, %w layer "fc" : tensor<2x9xf32>, tensor<9x9xf32> -> tensor<2x9xf32>
  return %x, %y : tensor<2x9xf32>, tensor<2x9xf32>
}
