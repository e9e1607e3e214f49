// RUN: qc-opt %s --qc-lower-attention | FileCheck %s

// MiKV caches (dialects/QC/IR/KVCache.h; head size 64: 72-byte rows, the
// int4 row in bytes 0-47, importance at 48, slot + 1 at 52, pool piece of
// 8 f16 values at 56). The step's int4 rows go into the first 48 bytes of
// their cache rows; the kernel updates both caches in place (buffers that
// are not read-only, whose tensors are the new caches, made after the
// call) and takes the step's f32 keys and values for the pool.
// CHECK-LABEL: func.func @mikv
// CHECK: call @qc_kv_encode_int4_r2_d64
// CHECK: %[[KI:.*]] = tensor.insert_slice %{{.*}} into %arg3[0, 0, %{{.*}}, 0] [1, 1, 2, 48] [1, 1, 1, 1] : tensor<1x1x2x48xi8> into tensor<1x1x32x72xi8>
// CHECK: call @qc_kv_encode_int4_r2_d64
// CHECK: %[[VI:.*]] = tensor.insert_slice %{{.*}} into %arg4[0, 0, %{{.*}}, 0] [1, 1, 2, 48]
// CHECK: %[[KB:.*]] = bufferization.to_buffer %[[KI]] : tensor<1x1x32x72xi8> to memref<1x1x32x72xi8>
// CHECK: %[[VB:.*]] = bufferization.to_buffer %[[VI]] : tensor<1x1x32x72xi8> to memref<1x1x32x72xi8>
// CHECK: %[[K:.*]] = bufferization.to_buffer %arg1 read_only
// CHECK: %[[V:.*]] = bufferization.to_buffer %arg2 read_only
// One row per cache group (batch 1 x 1 group).
// CHECK: call @[[ATT:qc_attention_b1_h2_kv1_s2_t32_d64_v8_sc[0-9a-fx]+_mikv]](%{{.*}}, %[[KB]], %[[VB]], %{{.*}}, %{{.*}}, %[[K]], %[[V]], %c0{{.*}}, %c1{{.*}})
// CHECK: %[[KN:.*]] = bufferization.to_tensor %[[KB]] restrict writable
// CHECK: %[[VN:.*]] = bufferization.to_tensor %[[VB]] restrict writable
// CHECK: return %{{.*}}, %[[KN]], %[[VN]]

// The kernel, per position of the step: its slot (bytes 52-55 of its key
// row); without one, the pool's least important position outside the
// recent window gives up its slot (importance at byte 48, strict less:
// the earliest of equals); the slot is stored, the importance reset, and
// the key and value stored as f16 in pieces at byte 56 of the slot's rows.
// CHECK: func.func private @[[ATT]]
// CHECK: scf.for %[[ROW:.*]] = %arg7 to %arg8
// CHECK: scf.for
// CHECK: %[[S:.*]] = vector.load %arg1[{{.*}}, %c52{{.*}}] : memref<1x1x32x72xi8>, vector<4xi8>
// CHECK: vector.bitcast %[[S]] : vector<4xi8> to vector<1xi32>
// CHECK: scf.if %{{.*}} -> (i32)
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32, index, i32)
// CHECK: %[[I:.*]] = vector.load %arg1[{{.*}}, %c48{{.*}}] : memref<1x1x32x72xi8>, vector<4xi8>
// CHECK: vector.bitcast %[[I]] : vector<4xi8> to vector<1xf32>
// CHECK: arith.cmpf olt
// CHECK: vector.store %{{.*}}, %arg1[{{.*}}, %c52{{.*}}] : memref<1x1x32x72xi8>, vector<4xi8>
// CHECK: vector.store %{{.*}}, %arg1[{{.*}}, %c48{{.*}}] : memref<1x1x32x72xi8>, vector<4xi8>
// CHECK: arith.truncf %{{.*}} : vector<8xf32> to vector<8xf16>
// CHECK: vector.store %{{.*}}, %arg1[{{.*}}, %c56{{.*}}] : memref<1x1x32x72xi8>, vector<16xi8>
// CHECK: vector.store %{{.*}}, %arg2[{{.*}}, %c56{{.*}}] : memref<1x1x32x72xi8>, vector<16xi8>
// Scores: a pooled key in f16 from its slot's rows, else the int4 row.
// CHECK: scf.if %{{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: vector.bitcast %{{.*}} : vector<16xi8> to vector<8xf16>
// CHECK: arith.extf %{{.*}} : vector<8xf16> to vector<8xf32>
// CHECK: } else {
// CHECK: arith.uitofp %{{.*}} : vector<8xi8> to vector<8xf32>
// CHECK: math.exp
// The probabilities of the group's heads add to the importance.
// CHECK: vector.load %arg1[{{.*}}, %c48{{.*}}] : memref<1x1x32x72xi8>, vector<4xi8>
// CHECK: arith.addf
// CHECK: arith.addf
// CHECK: vector.store %{{.*}}, %arg1[{{.*}}, %c48{{.*}}] : memref<1x1x32x72xi8>, vector<4xi8>
module attributes {qc.target = #qc.target<isa = avx512vnni, features = "", vector_bits = 512, threads = 0>} {
  func.func @mikv(%q: tensor<1x2x2x64xf32>, %k: tensor<1x1x2x64xf32>, %v: tensor<1x1x2x64xf32>,
                  %kc: tensor<1x1x32x72xi8>, %vc: tensor<1x1x32x72xi8>, %past: index)
      -> (tensor<1x2x2x64xf32>, tensor<1x1x32x72xi8>, tensor<1x1x32x72xi8>) {
    %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.125 {mixed_precision} : tensor<1x2x2x64xf32>, tensor<1x1x2x64xf32>, tensor<1x1x32x72xi8>
    return %o, %kc2, %vc2 : tensor<1x2x2x64xf32>, tensor<1x1x32x72xi8>, tensor<1x1x32x72xi8>
  }
}
