// RUN: qc-opt %s --qc-lower-attention | FileCheck %s
// RUN: qc-opt %s --qc-lower-attention --qc-lower-attention | FileCheck %s --check-prefix=ONCE

// The step's keys and values go into the caches at the clamped run-time
// position, the kernel reads the updated caches and writes a new buffer.
// Two positions give 2 groups x 2 positions = 4 rows, each both heads of a
// group (at least 2 rows stay for the threads). With AVX-512 (16 lanes)
// and a head size of 32: two vectors per head; scores padded to 16 floats.
// CHECK: func.func @step
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x4x2x32xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x2x32xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x2x32xf32>, %[[KC:[a-z0-9]+]]: tensor<1x2x16x32xf32>, %[[VC:[a-z0-9]+]]: tensor<1x2x16x32xf32>, %[[P:[a-z0-9]+]]: index
// CHECK: %[[LO:.*]] = arith.maxsi %[[P]], %c0
// CHECK: %[[AT:.*]] = arith.minsi %[[LO]], %c14
// CHECK: %[[K2:.*]] = tensor.insert_slice %[[K]] into %[[KC]][0, 0, %[[AT]], 0] [1, 2, 2, 32] [1, 1, 1, 1]
// CHECK: %[[V2:.*]] = tensor.insert_slice %[[V]] into %[[VC]][0, 0, %[[AT]], 0] [1, 2, 2, 32] [1, 1, 1, 1]
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x2x32xf32>
// CHECK: %[[QB:.*]] = bufferization.to_buffer %[[Q]] read_only
// CHECK: %[[KB:.*]] = bufferization.to_buffer %[[K2]] read_only
// CHECK: %[[VB:.*]] = bufferization.to_buffer %[[V2]] read_only
// CHECK: call @[[FN:qc_attention_b1_h4_kv2_s2_t16_d32_v16_sc[0-9a-fx]+]](%[[QB]], %[[KB]], %[[VB]], %[[AT]], %[[OUT]], %{{.*}}, %c4{{.*}})
// CHECK: %[[O:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[O]], %[[K2]], %[[V2]]
// Eight positions (@prefill): 2 groups x 8 positions = 16 rows of both
// heads of a group, which read each key and value vector once for both.
// CHECK: func.func @prefill
// CHECK: call @[[PF:qc_attention_b1_h4_kv2_s8_t16_d32_v16_sc[0-9a-fx]+]](%{{.*}}, %c16{{.*}})
// One group of two heads at one position (@single): both heads in a row
// would leave one row, so a row is one head (2 rows).
// CHECK: func.func @single
// CHECK: call @[[SG:qc_attention_b1_h2_kv1_s1_t16_d32_v16_sc[0-9a-fx]+]](%{{.*}}, %c2{{.*}})
// CHECK: func.func private @[[FN]]({{.*}}) attributes {qc.parallel = 1 : i64}
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<2x16xf32>
// Scores: one FMA chain over the head and one reduction (in any order: a
// tree) per position.
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK: vector.reduction <add>, %{{.*}} fastmath<reassoc>
// Max, then exponentials and their sum, a vector of positions at a time.
// CHECK: arith.maximumf {{.*}} : vector<16xf32>
// CHECK: vector.reduction <maximumf>
// CHECK: math.exp {{.*}} : vector<16xf32>
// Values weighted by the exponentials (two heads of two vectors), then
// scaled by 1 / sum.
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: arith.divf
// CHECK: vector.store
// CHECK: func.func private @[[PF]]
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<2x16xf32>
// CHECK: vector.load %arg1
// CHECK: vector.load %arg1
// CHECK-NOT: vector.load %arg1
// CHECK: vector.reduction <add>
// CHECK: vector.reduction <add>
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: func.func private @[[SG]]
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<1x16xf32>
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>)
// The same shape twice shares one kernel (@prefill and @single have their
// own).
// ONCE-COUNT-3: func.func private @qc_attention
module attributes {qc.target = #qc.target<isa = avx512vnni, features = "", vector_bits = 512, threads = 0>} {
  func.func @step(%q: tensor<1x4x2x32xf32>, %k: tensor<1x2x2x32xf32>, %v: tensor<1x2x2x32xf32>,
                  %kc: tensor<1x2x16x32xf32>, %vc: tensor<1x2x16x32xf32>, %past: index)
      -> (tensor<1x4x2x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>) {
    %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.17677669 : tensor<1x4x2x32xf32>, tensor<1x2x2x32xf32>, tensor<1x2x16x32xf32>
    return %o, %kc2, %vc2 : tensor<1x4x2x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>
  }
  func.func @twice(%q: tensor<1x4x2x32xf32>, %k: tensor<1x2x2x32xf32>, %v: tensor<1x2x2x32xf32>,
                   %kc: tensor<1x2x16x32xf32>, %vc: tensor<1x2x16x32xf32>, %past: index)
      -> tensor<1x4x2x32xf32> {
    %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.17677669 : tensor<1x4x2x32xf32>, tensor<1x2x2x32xf32>, tensor<1x2x16x32xf32>
    return %o : tensor<1x4x2x32xf32>
  }
  // Eight positions: 2 groups x 8 positions = 16 rows of both heads of a
  // group (checked above).
  func.func @prefill(%q: tensor<1x4x8x32xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x32xf32>,
                     %kc: tensor<1x2x16x32xf32>, %vc: tensor<1x2x16x32xf32>, %past: index)
      -> tensor<1x4x8x32xf32> {
    %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.17677669 : tensor<1x4x8x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x16x32xf32>
    return %o : tensor<1x4x8x32xf32>
  }
  func.func @single(%q: tensor<1x2x1x32xf32>, %k: tensor<1x1x1x32xf32>, %v: tensor<1x1x1x32xf32>,
                    %kc: tensor<1x1x16x32xf32>, %vc: tensor<1x1x16x32xf32>, %past: index)
      -> tensor<1x2x1x32xf32> {
    %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.17677669 : tensor<1x2x1x32xf32>, tensor<1x1x1x32xf32>, tensor<1x1x16x32xf32>
    return %o : tensor<1x2x1x32xf32>
  }
}
