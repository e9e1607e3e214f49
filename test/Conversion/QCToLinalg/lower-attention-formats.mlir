// RUN: qc-opt %s --qc-lower-attention | FileCheck %s

// Caches in the int4 and f16 formats (dialects/QC/IR/KVCache.h): the step's
// rows are encoded by a generated kernel into a new buffer, written into
// the cache at the clamped position, and the attention kernel decodes the
// stored rows a vector at a time.
// CHECK-LABEL: func.func @int4
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %arg1 {{\[\[}}0, 1, 2], [3]] : tensor<1x1x1x64xf32> into tensor<1x64xf32>
// CHECK: %[[ROWS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x48xi8>
// CHECK: %[[IN:.*]] = bufferization.to_buffer %[[FLAT]] read_only
// CHECK: call @qc_kv_encode_int4_r1_d64(%[[IN]], %[[ROWS]])
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[ROWS]]
// CHECK: %[[E:.*]] = tensor.expand_shape %[[T]] {{\[\[}}0, 1, 2], [3]] output_shape [1, 1, 1, 48]
// CHECK: tensor.insert_slice %[[E]] into %arg3[0, 0, %{{.*}}, 0] [1, 1, 1, 48] [1, 1, 1, 1] : tensor<1x1x1x48xi8> into tensor<1x1x8x48xi8>
// CHECK: call @qc_kv_encode_int4_r1_d64
// CHECK: call @[[ATT:qc_attention_b1_h2_kv1_s1_t8_d64_v16_sc[0-9a-fx]+_int4]]({{.*}}) : (memref<1x2x1x64xf32>, memref<1x1x8x48xi8>, memref<1x1x8x48xi8>, index,
// CHECK-LABEL: func.func @f16
// CHECK: call @qc_kv_encode_f16_r2_d64({{.*}}) : (memref<2x64xf32>, memref<2x64xf16>) -> ()
// CHECK: call @{{qc_attention_.*_f16}}
// The encoder: per group of 32, min and max (NaNs left out), (scale, min)
// as 8 bytes at 8 g, then the codes from byte 16 (after both groups'
// parameters): value k in the low nibble of byte k, value k + 16 in the
// high one; 1 / scale only where finite, codes clamped with maxnumf (a NaN
// becomes code 0).
// CHECK: func.func private @qc_kv_encode_int4_r1_d64(%{{.*}}: memref<1x64xf32>, %{{.*}}: memref<1x48xi8>)
// CHECK: arith.minnumf
// CHECK: arith.maxnumf
// CHECK: arith.divf %{{.*}}, %cst{{.*}} : f32
// CHECK: %[[P:.*]] = vector.from_elements %{{.*}}, %{{.*}} : vector<2xf32>
// CHECK: %[[PB:.*]] = vector.bitcast %[[P]] : vector<2xf32> to vector<8xi8>
// CHECK: vector.store %[[PB]]
// CHECK: arith.cmpf olt
// CHECK: math.roundeven
// CHECK: arith.maxnumf
// CHECK: arith.minnumf
// CHECK: arith.fptoui %{{.*}} : f32 to i8
// CHECK: arith.shli
// CHECK: arith.ori
// CHECK: memref.store
// The attention kernel: a group's parameters, then the low and the high
// nibbles of its 16 code bytes, each 16 values: code * scale + min.
// CHECK: func.func private @[[ATT]]
// CHECK: %[[PV:.*]] = vector.load %arg1[{{.*}}] : memref<1x1x8x48xi8>, vector<8xi8>
// CHECK: vector.bitcast %[[PV]] : vector<8xi8> to vector<2xf32>
// CHECK: %[[LO:.*]] = vector.load %arg1[{{.*}}, %c16{{.*}}] : memref<1x1x8x48xi8>, vector<16xi8>
// CHECK: %[[LC:.*]] = arith.andi %[[LO]], %{{.*}} : vector<16xi8>
// CHECK: %[[LF:.*]] = arith.uitofp %[[LC]] : vector<16xi8> to vector<16xf32>
// CHECK: vector.fma %[[LF]]
// CHECK: arith.shrui %{{.*}} : vector<16xi8>
// CHECK: func.func private @qc_kv_encode_f16_r2_d64
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: func.func private @{{qc_attention_.*_f16}}
// CHECK: vector.load %arg1[{{.*}}] : memref<1x1x8x64xf16>, vector<16xf16>
// CHECK: arith.extf %{{.*}} : vector<16xf16> to vector<16xf32>
module attributes {qc.target = #qc.target<isa = avx512vnni, features = "", vector_bits = 512, threads = 0>} {
  func.func @int4(%q: tensor<1x2x1x64xf32>, %k: tensor<1x1x1x64xf32>, %v: tensor<1x1x1x64xf32>,
                  %kc: tensor<1x1x8x48xi8>, %vc: tensor<1x1x8x48xi8>, %past: index)
      -> (tensor<1x2x1x64xf32>, tensor<1x1x8x48xi8>, tensor<1x1x8x48xi8>) {
    %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.125 : tensor<1x2x1x64xf32>, tensor<1x1x1x64xf32>, tensor<1x1x8x48xi8>
    return %o, %kc2, %vc2 : tensor<1x2x1x64xf32>, tensor<1x1x8x48xi8>, tensor<1x1x8x48xi8>
  }
  func.func @f16(%q: tensor<1x2x2x64xf32>, %k: tensor<1x1x2x64xf32>, %v: tensor<1x1x2x64xf32>,
                 %kc: tensor<1x1x8x64xf16>, %vc: tensor<1x1x8x64xf16>, %past: index)
      -> (tensor<1x2x2x64xf32>, tensor<1x1x8x64xf16>, tensor<1x1x8x64xf16>) {
    %o, %kc2, %vc2 = qc.cached_attention %q, %k, %v, %kc, %vc, %past scale 0.125 : tensor<1x2x2x64xf32>, tensor<1x1x2x64xf32>, tensor<1x1x8x64xf16>
    return %o, %kc2, %vc2 : tensor<1x2x2x64xf32>, tensor<1x1x8x64xf16>, tensor<1x1x8x64xf16>
  }
}
