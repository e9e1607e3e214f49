// RUN: qc-opt %s --qc-insert-observe=attention=true 2>/dev/null | FileCheck %s
// RUN: qc-opt %s --qc-insert-observe=attention=true 2>&1 >/dev/null | FileCheck %s --check-prefix=WARN
// RUN: qc-opt %s --qc-insert-observe="attention=true exclude=k" 2>/dev/null | FileCheck %s --check-prefix=EXCL
// RUN: qc-opt %s --qc-insert-observe | FileCheck %s --check-prefix=PLAIN
// RUN: qc-opt %S/insert-observe.mlir --qc-insert-observe=attention=true 2>&1 | FileCheck %s --check-prefix=NONE

// BoA's taps on an attention score product Q~ K~^T: 2 heads of 4 values, 4
// positions. The queries pass through a rotate-half rotary embedding
// (x * cos + [-x[2:], x[:2]] * sin); the product's operands each come from
// one qc.linear, both reading %x. The value taps follow the score taps.
// CHECK-LABEL: func.func @rotary
// CHECK: qc.observe %arg0 tap 0 layers ["q", "k", "v"]
// CHECK: %[[QT:.*]] = linalg.transpose ins(%[[Q:.*]] : tensor<2x4x4xf32>) {{.*}} permutation = [1, 0, 2]
// CHECK: %[[QR:.*]] = tensor.collapse_shape %[[QT]] {{\[}}[0], [1, 2]] : tensor<4x2x4xf32> into tensor<4x8xf32>
// CHECK: qc.observe %[[QR]] tap 5 layers ["k#boa-row/4/2"] : tensor<4x8xf32>
// CHECK: %[[KT:.*]] = linalg.transpose ins(%[[K:.*]] : tensor<2x4x4xf32>) {{.*}} permutation = [2, 0, 1]
// CHECK: %[[KR:.*]] = tensor.collapse_shape %[[KT]]
// CHECK: qc.observe %[[KR]] tap 6 layers ["q#boa-row/4/2"] : tensor<4x8xf32>
// CHECK: %[[COS:.*]] = tensor.collapse_shape %arg1 {{\[}}[0, 1], [2]] : tensor<1x4x4xf32> into tensor<4x4xf32>
// CHECK: %[[SIN:.*]] = tensor.collapse_shape %arg2
// CHECK: %[[Z0:.*]] = tensor.insert_slice %[[COS]] into %{{.*}}[0, 0] [4, 4] [1, 1] : tensor<4x4xf32> into tensor<4x8xf32>
// CHECK: %[[Z:.*]] = tensor.insert_slice %[[SIN]] into %[[Z0]][0, 4] [4, 4] [1, 1]
// CHECK: qc.observe %[[Z]] tap 7 layers ["q#boa-rope", "k#boa-rope"] : tensor<4x8xf32>
// CHECK: %[[S:.*]] = linalg.batch_matmul ins(%[[Q]], %[[K]] :
// The product of the probabilities (here the scores themselves) with the
// values: rows of P_h X per key/value head (2 heads, none shared; the
// value taps come after every score tap of the module).
// CHECK: %[[XB:.*]] = linalg.broadcast ins(%arg0 : tensor<4x8xf32>) outs(%{{.*}} : tensor<2x4x8xf32>) dimensions = [0]
// CHECK: %[[PX:.*]] = linalg.batch_matmul ins(%[[S]], %[[XB]] : tensor<2x4x4xf32>, tensor<2x4x8xf32>)
// CHECK: qc.observe %{{.*}} tap 12 layers ["v#boa-value/0/2"] : tensor<4x8xf32>
// CHECK: qc.observe %{{.*}} tap 13 layers ["v#boa-value/1/2"] : tensor<4x8xf32>
// CHECK: linalg.batch_matmul ins(%[[S]], %{{.*}} :

// Without a rotary embedding: the row taps only. (Attention taps are
// numbered after every layer input tap of the module.)
// CHECK-LABEL: func.func @plain
// CHECK: qc.observe {{.*}} tap 8 layers ["k2#boa-row/4/2"]
// CHECK: qc.observe {{.*}} layers ["q2#boa-row/4/2"]
// CHECK-NOT: boa-rope
// CHECK: linalg.batch_matmul

// Queries scaled elementwise (not a rotate-half embedding): the row taps,
// and a warning that their statistics are taken unrotated.
// CHECK-LABEL: func.func @scaled
// CHECK: layers ["k3#boa-row/4/2"]
// CHECK-NOT: boa-rope
// WARN: warning: qc-insert-observe: the queries of layer 'q3' pass through elementwise ops that are not a rotate-half rotary embedding; BoA takes their statistics as if nothing rotated them
// WARN-NOT: the queries of layer 'q'

// A product of two projections of different inputs is not a score product.
// CHECK-LABEL: func.func @not_attention
// CHECK-NOT: boa-row
// CHECK: linalg.batch_matmul

// EXCL-NOT: boa-row/4/2"]
// EXCL: layers ["q2", "k2"]
// EXCL: boa-row

// PLAIN-NOT: boa

// NONE: warning: qc-insert-observe: attention=true found no attention score product to tap

#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#bc = affine_map<(d0, d1, d2) -> (0, d1, d2)>

func.func @rotary(%x: tensor<4x8xf32>, %cos: tensor<1x4x4xf32>, %sin: tensor<1x4x4xf32>) -> tensor<2x4x4xf32> {
  %wq = arith.constant dense<0.5> : tensor<8x8xf32>
  %wk = arith.constant dense<0.25> : tensor<8x8xf32>
  %q = qc.linear %x, %wq layer "q" : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %k = qc.linear %x, %wk layer "k" : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %q3 = tensor.expand_shape %q [[0], [1, 2]] output_shape [4, 2, 4] : tensor<4x8xf32> into tensor<4x2x4xf32>
  %e0 = tensor.empty() : tensor<2x4x4xf32>
  %qt = linalg.transpose ins(%q3 : tensor<4x2x4xf32>) outs(%e0 : tensor<2x4x4xf32>) permutation = [1, 0, 2]
  %hi = tensor.extract_slice %qt[0, 0, 2] [2, 4, 2] [1, 1, 1] : tensor<2x4x4xf32> to tensor<2x4x2xf32>
  %lo = tensor.extract_slice %qt[0, 0, 0] [2, 4, 2] [1, 1, 1] : tensor<2x4x4xf32> to tensor<2x4x2xf32>
  %e1 = tensor.empty() : tensor<2x4x2xf32>
  %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%hi : tensor<2x4x2xf32>) outs(%e1 : tensor<2x4x2xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<2x4x2xf32>
  %e2 = tensor.empty() : tensor<2x4x4xf32>
  %r0 = tensor.insert_slice %neg into %e2[0, 0, 0] [2, 4, 2] [1, 1, 1] : tensor<2x4x2xf32> into tensor<2x4x4xf32>
  %rot = tensor.insert_slice %lo into %r0[0, 0, 2] [2, 4, 2] [1, 1, 1] : tensor<2x4x2xf32> into tensor<2x4x4xf32>
  %e3 = tensor.empty() : tensor<2x4x4xf32>
  %xc = linalg.generic {indexing_maps = [#id, #bc, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%qt, %cos : tensor<2x4x4xf32>, tensor<1x4x4xf32>) outs(%e3 : tensor<2x4x4xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %m = arith.mulf %u, %v : f32
    linalg.yield %m : f32
  } -> tensor<2x4x4xf32>
  %rs = linalg.generic {indexing_maps = [#id, #bc, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%rot, %sin : tensor<2x4x4xf32>, tensor<1x4x4xf32>) outs(%e3 : tensor<2x4x4xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %m = arith.mulf %u, %v : f32
    linalg.yield %m : f32
  } -> tensor<2x4x4xf32>
  %qr = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%xc, %rs : tensor<2x4x4xf32>, tensor<2x4x4xf32>) outs(%e3 : tensor<2x4x4xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %s = arith.addf %u, %v : f32
    linalg.yield %s : f32
  } -> tensor<2x4x4xf32>
  %k3 = tensor.expand_shape %k [[0], [1, 2]] output_shape [4, 2, 4] : tensor<4x8xf32> into tensor<4x2x4xf32>
  %e4 = tensor.empty() : tensor<2x4x4xf32>
  %kt = linalg.transpose ins(%k3 : tensor<4x2x4xf32>) outs(%e4 : tensor<2x4x4xf32>) permutation = [1, 2, 0]
  %zero = arith.constant 0.0 : f32
  %f = linalg.fill ins(%zero : f32) outs(%e4 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %s = linalg.batch_matmul ins(%qr, %kt : tensor<2x4x4xf32>, tensor<2x4x4xf32>) outs(%f : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %wv = arith.constant dense<0.125> : tensor<8x8xf32>
  %v = qc.linear %x, %wv layer "v" : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %v3 = tensor.expand_shape %v [[0], [1, 2]] output_shape [4, 2, 4] : tensor<4x8xf32> into tensor<4x2x4xf32>
  %e5 = tensor.empty() : tensor<2x4x4xf32>
  %vt = linalg.transpose ins(%v3 : tensor<4x2x4xf32>) outs(%e5 : tensor<2x4x4xf32>) permutation = [1, 0, 2]
  %o = linalg.batch_matmul ins(%s, %vt : tensor<2x4x4xf32>, tensor<2x4x4xf32>) outs(%f : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  return %o : tensor<2x4x4xf32>
}

func.func @plain(%x: tensor<4x8xf32>) -> tensor<2x4x4xf32> {
  %wq = arith.constant dense<0.5> : tensor<8x8xf32>
  %wk = arith.constant dense<0.25> : tensor<8x8xf32>
  %q = qc.linear %x, %wq layer "q2" : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %k = qc.linear %x, %wk layer "k2" : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %q3 = tensor.expand_shape %q [[0], [1, 2]] output_shape [4, 2, 4] : tensor<4x8xf32> into tensor<4x2x4xf32>
  %e0 = tensor.empty() : tensor<2x4x4xf32>
  %qt = linalg.transpose ins(%q3 : tensor<4x2x4xf32>) outs(%e0 : tensor<2x4x4xf32>) permutation = [1, 0, 2]
  %k3 = tensor.expand_shape %k [[0], [1, 2]] output_shape [4, 2, 4] : tensor<4x8xf32> into tensor<4x2x4xf32>
  %e4 = tensor.empty() : tensor<2x4x4xf32>
  %kt = linalg.transpose ins(%k3 : tensor<4x2x4xf32>) outs(%e4 : tensor<2x4x4xf32>) permutation = [1, 2, 0]
  %zero = arith.constant 0.0 : f32
  %f = linalg.fill ins(%zero : f32) outs(%e4 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %s = linalg.batch_matmul ins(%qt, %kt : tensor<2x4x4xf32>, tensor<2x4x4xf32>) outs(%f : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  return %s : tensor<2x4x4xf32>
}

func.func @scaled(%x: tensor<4x8xf32>) -> tensor<2x4x4xf32> {
  %wq = arith.constant dense<0.5> : tensor<8x8xf32>
  %wk = arith.constant dense<0.25> : tensor<8x8xf32>
  %q = qc.linear %x, %wq layer "q3" : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %k = qc.linear %x, %wk layer "k3" : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %q3 = tensor.expand_shape %q [[0], [1, 2]] output_shape [4, 2, 4] : tensor<4x8xf32> into tensor<4x2x4xf32>
  %e0 = tensor.empty() : tensor<2x4x4xf32>
  %qt = linalg.transpose ins(%q3 : tensor<4x2x4xf32>) outs(%e0 : tensor<2x4x4xf32>) permutation = [1, 0, 2]
  %qs = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%qt, %qt : tensor<2x4x4xf32>, tensor<2x4x4xf32>) outs(%e0 : tensor<2x4x4xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %m = arith.mulf %u, %v : f32
    linalg.yield %m : f32
  } -> tensor<2x4x4xf32>
  %k3 = tensor.expand_shape %k [[0], [1, 2]] output_shape [4, 2, 4] : tensor<4x8xf32> into tensor<4x2x4xf32>
  %e4 = tensor.empty() : tensor<2x4x4xf32>
  %kt = linalg.transpose ins(%k3 : tensor<4x2x4xf32>) outs(%e4 : tensor<2x4x4xf32>) permutation = [1, 2, 0]
  %zero = arith.constant 0.0 : f32
  %f = linalg.fill ins(%zero : f32) outs(%e4 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %s = linalg.batch_matmul ins(%qs, %kt : tensor<2x4x4xf32>, tensor<2x4x4xf32>) outs(%f : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  return %s : tensor<2x4x4xf32>
}

func.func @not_attention(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<1x4x4xf32> {
  %w = arith.constant dense<0.5> : tensor<8x4xf32>
  %a = qc.linear %x, %w layer "a" : tensor<4x8xf32>, tensor<8x4xf32> -> tensor<4x4xf32>
  %b = qc.linear %y, %w layer "b" : tensor<4x8xf32>, tensor<8x4xf32> -> tensor<4x4xf32>
  %a3 = tensor.expand_shape %a [[0, 1], [2]] output_shape [1, 4, 4] : tensor<4x4xf32> into tensor<1x4x4xf32>
  %b3 = tensor.expand_shape %b [[0, 1], [2]] output_shape [1, 4, 4] : tensor<4x4xf32> into tensor<1x4x4xf32>
  %e = tensor.empty() : tensor<1x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  %s = linalg.batch_matmul ins(%a3, %b3 : tensor<1x4x4xf32>, tensor<1x4x4xf32>) outs(%f : tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  return %s : tensor<1x4x4xf32>
}
