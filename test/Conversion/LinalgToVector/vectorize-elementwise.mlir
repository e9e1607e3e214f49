// RUN: qc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qc-vectorize-elementwise))' | FileCheck %s

// Contiguous operands: the four loops collapse into one of 784, tiled by
// two 8-lane vectors (no #qc.target: 256-bit registers), 49 whole tiles.
// CHECK-LABEL: func.func @relu
// CHECK:       %[[X:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1, 2, 3]] : tensor<1x4x14x14xf32> into tensor<784xf32>
// CHECK:       scf.for %[[I:.*]] = %{{.*}} to %c784 step %c16
// CHECK:         %[[V:.*]] = vector.transfer_read %[[X]][%[[I]]], %{{.*}} {in_bounds = [true]} : tensor<784xf32>, vector<16xf32>
// CHECK:         arith.maximumf %[[V]], %{{.*}} : vector<16xf32>
// CHECK:         vector.transfer_write {{.*}} : vector<16xf32>, tensor<16xf32>
// CHECK:       tensor.expand_shape {{.*}} output_shape [1, 4, 14, 14]
// CHECK-NOT:   linalg.generic
func.func @relu(%x: tensor<1x4x14x14xf32>) -> tensor<1x4x14x14xf32> {
  %e = tensor.empty() : tensor<1x4x14x14xf32>
  %z = arith.constant 0.0 : f32
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x4x14x14xf32>) outs(%e : tensor<1x4x14x14xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %z : f32
    linalg.yield %r : f32
  } -> tensor<1x4x14x14xf32>
  return %y : tensor<1x4x14x14xf32>
}

// -----

// A bias [C, 1, 1] read at (c, 0, 0): read as [C] instead; the image's
// 7 x 7 collapse into 49 (3 tiles of 16, the last position peeled: one
// element copied), the bias broadcast from one element.
// CHECK-LABEL: func.func @bias
// CHECK:       %[[B:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1, 2]] : tensor<3x1x1xf32> into tensor<3xf32>
// CHECK:       tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : tensor<1x3x7x7xf32> into tensor<1x3x49xf32>
// CHECK:       scf.for %[[C:.*]] = %{{.*}} to %c3 step %c1
// CHECK:         scf.for %{{.*}} = %{{.*}} to %c48 step %c16
// CHECK:           %[[S:.*]] = tensor.extract_slice %[[B]][%[[C]]] [1] [1]
// CHECK:           %[[E:.*]] = tensor.extract %[[S]]
// CHECK:           %[[V:.*]] = vector.broadcast %[[E]] : f32 to vector<16xf32>
// CHECK:           vector.transfer_write %[[V]]
// CHECK:         %[[L:.*]] = tensor.extract %
// CHECK:         tensor.insert %[[L]]
// CHECK-NOT:   linalg.generic
func.func @bias(%b: tensor<3x1x1xf32>) -> tensor<1x3x7x7xf32> {
  %e = tensor.empty() : tensor<1x3x7x7xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b : tensor<3x1x1xf32>) outs(%e : tensor<1x3x7x7xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x3x7x7xf32>
  return %y : tensor<1x3x7x7xf32>
}

// -----

// The interior of a larger tensor is not contiguous across its rows: the
// rows are not collapsed (one tile of 14 per row; the destination neither:
// a run collapses in every operand or in none).
// CHECK-LABEL: func.func @interior
// CHECK-NOT:   tensor.collapse_shape
// CHECK:       scf.for %{{.*}} = %{{.*}} to %c14 step %c1
// CHECK:         vector.transfer_read {{.*}} : tensor<16x16xf32>, vector<14xf32>
// CHECK:         arith.negf {{.*}} : vector<14xf32>
func.func @interior(%x: tensor<16x16xf32>) -> tensor<14x14xf32> {
  %s = tensor.extract_slice %x[1, 1] [14, 14] [1, 1] : tensor<16x16xf32> to tensor<14x14xf32>
  %e = tensor.empty() : tensor<14x14xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s : tensor<14x14xf32>) outs(%e : tensor<14x14xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<14x14xf32>
  return %y : tensor<14x14xf32>
}

// -----

// Left to the scalar lowering: a transpose (the innermost loop reads along
// another dimension), an i1 operand (its buffer holds a byte per element,
// a vector load would read bits), a reduction.
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT:   vector.
func.func @left_alone(%x: tensor<8x16xf32>, %m: tensor<8x16xi1>) -> (tensor<16x8xf32>, tensor<8x16xf32>, tensor<8xf32>) {
  %e = tensor.empty() : tensor<16x8xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<8x16xf32>) outs(%e : tensor<16x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<16x8xf32>
  %e2 = tensor.empty() : tensor<8x16xf32>
  %z = arith.constant 0.0 : f32
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%m, %x : tensor<8x16xi1>, tensor<8x16xf32>) outs(%e2 : tensor<8x16xf32>) {
  ^bb0(%c: i1, %a: f32, %o: f32):
    %r = arith.select %c, %a, %z : f32
    linalg.yield %r : f32
  } -> tensor<8x16xf32>
  %e3 = tensor.empty() : tensor<8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<8x16xf32>) outs(%e3 : tensor<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %p = arith.addf %a, %o : f32
    linalg.yield %p : f32
  } -> tensor<8xf32>
  return %t, %s, %r : tensor<16x8xf32>, tensor<8x16xf32>, tensor<8xf32>
}

// -----

// A generic split over threads (qc-parallelize-generics: one channel per
// iteration, its destination a slice of the loop's iteration argument) is
// collapsed too: the argument's init is a new tensor.
// CHECK-LABEL: func.func @in_loop
// CHECK:       scf.for
// CHECK:         tensor.collapse_shape %{{.*}} {{\[}}[0, 1, 2]] : tensor<1x7x7xf32> into tensor<49xf32>
// CHECK:         vector<16xf32>
func.func @in_loop(%x: tensor<4x7x7xf32>) -> tensor<4x7x7xf32> {
  %e = tensor.empty() : tensor<4x7x7xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %e) -> (tensor<4x7x7xf32>) {
    %in = tensor.extract_slice %x[%i, 0, 0] [1, 7, 7] [1, 1, 1] : tensor<4x7x7xf32> to tensor<1x7x7xf32>
    %out = tensor.extract_slice %acc[%i, 0, 0] [1, 7, 7] [1, 1, 1] : tensor<4x7x7xf32> to tensor<1x7x7xf32>
    %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%in : tensor<1x7x7xf32>) outs(%out : tensor<1x7x7xf32>) {
    ^bb0(%a: f32, %o: f32):
      %n = arith.negf %a : f32
      linalg.yield %n : f32
    } -> tensor<1x7x7xf32>
    %next = tensor.insert_slice %y into %acc[%i, 0, 0] [1, 7, 7] [1, 1, 1] : tensor<1x7x7xf32> into tensor<4x7x7xf32>
    scf.yield %next : tensor<4x7x7xf32>
  }
  return %r : tensor<4x7x7xf32>
}

// -----

// A scalar operand (a fill written as a generic) is left alone.
// CHECK-LABEL: func.func @scalar_operand
// CHECK:       linalg.generic
// CHECK-NOT:   vector.
func.func @scalar_operand(%v: f32) -> tensor<8x32xf32> {
  %e = tensor.empty() : tensor<8x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%v : f32) outs(%e : tensor<8x32xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// A transpose (NHWC -> NCHW plus a bias, as a pixel-major layer's result):
// with 512-bit registers it is read in 16 x 16 tiles of (channel, column),
// each tile's rows loaded whole and transposed by shuffles, the bias added to
// whole rows; the 8 columns left over take 16 x 8 tiles.
// CHECK-LABEL: func.func @transpose
// CHECK:       scf.for {{.*}} step %c16
// CHECK:         vector.transfer_read %arg0{{.*}} : tensor<1x32x24x64xf32>, vector<16x16xf32>
// CHECK-COUNT-64: vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK:         arith.addf {{.*}} : vector<16x1x16xf32>
// CHECK:       vector.transfer_read %arg0{{.*}} : tensor<1x32x24x64xf32>, vector<8x16xf32>
// CHECK-NOT:   linalg.generic
module attributes {qc.target = #qc.target<isa = avx512vnni, features = "+avx512f", vector_bits = 512, threads = 0>} {
func.func @transpose(%y: tensor<1x32x24x64xf32>, %b: tensor<64x1x1xf32>) -> tensor<1x64x32x24xf32> {
  %e = tensor.empty() : tensor<1x64x32x24xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y, %b : tensor<1x32x24x64xf32>, tensor<64x1x1xf32>) outs(%e : tensor<1x64x32x24xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<1x64x32x24xf32>
  return %r : tensor<1x64x32x24xf32>
}
}

// -----

// Rows of 14 (a 14 x 14 image, as ResNet-50's 1024-channel blocks) are too
// short for square tiles: the two pixel loops, read contiguously and in
// order by every operand, become one of 196 positions, tiled 16 x 16 (12
// tiles, then 16 x 4) and expanded back.
// CHECK-LABEL: func.func @transpose_short_rows
// CHECK:       tensor.collapse_shape %arg0 {{\[\[}}0], [1, 2], [3]] : tensor<1x14x14x32xf32> into tensor<1x196x32xf32>
// CHECK:       scf.for {{.*}} step %c16
// CHECK:         vector.transfer_read {{.*}} : tensor<1x196x32xf32>, vector<16x16xf32>
// CHECK-COUNT-64: vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK:       vector.transfer_read {{.*}} : tensor<1x196x32xf32>, vector<4x16xf32>
// CHECK:       tensor.expand_shape {{.*}} output_shape [1, 32, 14, 14] : tensor<1x32x196xf32> into tensor<1x32x14x14xf32>
// CHECK-NOT:   linalg.generic
module attributes {qc.target = #qc.target<isa = avx512vnni, features = "+avx512f", vector_bits = 512, threads = 0>} {
func.func @transpose_short_rows(%y: tensor<1x14x14x32xf32>, %b: tensor<32x1x1xf32>) -> tensor<1x32x14x14xf32> {
  %e = tensor.empty() : tensor<1x32x14x14xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y, %b : tensor<1x14x14x32xf32>, tensor<32x1x1xf32>) outs(%e : tensor<1x32x14x14xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<1x32x14x14xf32>
  return %r : tensor<1x32x14x14xf32>
}
}

// -----

// Without a target (256-bit registers) the transpose is left to LLVM.
// CHECK-LABEL: func.func @transpose_narrow
// CHECK:       linalg.generic
// CHECK-NOT:   vector.
func.func @transpose_narrow(%y: tensor<1x32x24x64xf32>) -> tensor<1x64x32x24xf32> {
  %e = tensor.empty() : tensor<1x64x32x24xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y : tensor<1x32x24x64xf32>) outs(%e : tensor<1x64x32x24xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x64x32x24xf32>
  return %r : tensor<1x64x32x24xf32>
}

// -----

// A gather that copies runs (an im2col view of an NHWC image: each output
// row of 40 channels is a contiguous run of the input) is tiled by two
// registers of its innermost loop and 1 elsewhere: each tile one row read
// at the window's position and written whole (32, then the 8 left over).
// CHECK-LABEL: func.func @run_gather
// CHECK:         %[[H:.*]] = affine.apply #{{.*}}(%{{.*}}, %{{.*}})
// CHECK:         %[[W:.*]] = affine.apply #{{.*}}(%{{.*}}, %{{.*}})
// CHECK:         vector.transfer_read %arg0[%{{.*}}, %[[H]], %[[W]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<1x10x10x40xf32>, vector<32xf32>
// CHECK:         vector.transfer_write {{.*}} : vector<32xf32>, tensor<1x1x1x1x1x32xf32>
// CHECK:         vector.transfer_read %arg0[%{{.*}}, %{{.*}}, %{{.*}}, %c32], %{{.*}} {in_bounds = [true]} : tensor<1x10x10x40xf32>, vector<8xf32>
// CHECK-NOT:   linalg.generic
module attributes {qc.target = #qc.target<isa = avx512vnni, features = "+avx512f", vector_bits = 512, threads = 0>} {
func.func @run_gather(%x: tensor<1x10x10x40xf32>) -> tensor<1x8x8x3x3x40xf32> {
  %e = tensor.empty() : tensor<1x8x8x3x3x40xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 + d3, d2 + d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x10x10x40xf32>) outs(%e : tensor<1x8x8x3x3x40xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x8x8x3x3x40xf32>
  return %g : tensor<1x8x8x3x3x40xf32>
}
}

// -----

// A gather whose rows are not runs (every other element: stride 2 in the
// innermost loop) is left to the scalar lowering.
// CHECK-LABEL: func.func @strided_gather
// CHECK:       linalg.generic
// CHECK-NOT:   vector.
func.func @strided_gather(%x: tensor<4x64xf32>) -> tensor<4x32xf32> {
  %e = tensor.empty() : tensor<4x32xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1 * 2)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x64xf32>) outs(%e : tensor<4x32xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<4x32xf32>
  return %g : tensor<4x32xf32>
}

// -----

// A transpose whose per-channel parameter varies along the transposed loop
// and is read through a loop of one iteration ((c, h, 0) on [32, 1, 1], an
// image of height 1): the parameter is read as [32] first, like a (c, 0, 0)
// bias, then broadcast across each 16 x 16 tile's rows (read as a [16, 1]
// vector, it had come out untransposed: test/E2E/transpose-channel-params.test).
// CHECK-LABEL: func.func @transpose_unit_loop_param
// CHECK:       tensor.collapse_shape %arg1 {{\[\[}}0, 1, 2]] : tensor<32x1x1xf32> into tensor<32xf32>
// CHECK-NOT:   vector<16x1xf32>
// CHECK:       vector.shuffle
// CHECK-NOT:   vector<16x1xf32>
// CHECK:       arith.mulf {{.*}} : vector<16x1x16xf32>
module attributes {qc.target = #qc.target<isa = avx512vnni, features = "+avx512f", vector_bits = 512, threads = 0>} {
func.func @transpose_unit_loop_param(%y: tensor<1x1x32x32xf32>, %p: tensor<32x1x1xf32>) -> tensor<1x32x1x32xf32> {
  %e = tensor.empty() : tensor<1x32x1x32xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y, %p : tensor<1x1x32x32xf32>, tensor<32x1x1xf32>) outs(%e : tensor<1x32x1x32xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %0 = arith.mulf %a, %b : f32
    linalg.yield %0 : f32
  } -> tensor<1x32x1x32xf32>
  return %r : tensor<1x32x1x32xf32>
}
}
