// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=x86-64-v3}),qc-gen-lut-gemm)' | FileCheck %s --check-prefix=CALLS
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=x86-64-v3}),qc-gen-lut-gemm,qc-emit-kernels)' | FileCheck %s --check-prefix=BODY

// A 3-plane BCQ layer with offsets, 2 tokens, K = 192 (padded to 256),
// N = 40 (two 32-column tiles, the second padded), group 64.

// The call sites: int8 activations, the tables [2, 64 chunks of 4, 32
// bytes], then the tiles [0, 2); the bit-planes as [tile][32 chunks of 8
// rows * 3 planes * 32 columns]; 2 alpha as [tile][8 groups * 3 planes *
// 32 columns]; offset - sum alpha as [tile][8 * 32]; the padding columns
// dropped.
// CALLS-LABEL: func.func @bcq
// CALLS: call @qc_actq_b3_g64_a64_m2_k192_n40_t1_avx2(
// CALLS: %[[T:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x64x32xi8>
// CALLS: call @qc_lutt_b3_g64_a64_m2_k192_n40_t1_avx2(%{{.*}}, %[[T]])
// CALLS: arith.constant dense_resource<fc.lutplanes> : tensor<2x3072xi8>
// CALLS: arith.constant dense_resource<fc.lutalpha> : tensor<2x768xf32>
// CALLS: arith.constant dense_resource<fc.lutcorr> : tensor<2x256xf32>
// CALLS: %[[Y:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x64xf32>
// CALLS: call @qc_lutgemm_b3_g64_a64_m2_k192_n40_t1_avx2(%{{.*}}, %{{.*}}, %[[T]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[Y]], %c0, %c2)
// CALLS: %[[YT:.*]] = bufferization.to_tensor %[[Y]] restrict writable
// CALLS: tensor.extract_slice %[[YT]][0, 0] [2, 40] [1, 1]
// CALLS-NOT: qc.qlinear
// CALLS: func.func private @qc_lutgemm_{{.*}} attributes {qc.kernel.role = "lut_tiles"{{.*}}qc.parallel = 1 : i64}

// The table builder: 4 broadcast activations times the index-bit masks,
// low and high bytes stored side by side.
// BODY-LABEL: func.func private @qc_lutt_
// BODY-COUNT-4: arith.muli %{{.*}} : vector<16xi16>
// BODY: arith.trunci %{{.*}} : vector<16xi16> to vector<16xi8>
// BODY: arith.shrsi
// BODY: vector.store %{{.*}} : memref<2x64x32xi8>, vector<16xi8>

// The tile kernel: three plane loads per 8-row chunk; per 4-row half a
// table broadcast to both 128-bit lanes, the nibble index, two vpshufb
// (low and high bytes), and the int16 values of the even and odd byte
// lanes rebuilt with masks and shifts (no byte shuffles), summed in int16.
// BODY-LABEL: func.func private @qc_lutgemm_
// BODY-SAME: target_features = #llvm.target_features<["+avx2", "+fma"]>
// BODY: arith.minui %{{.*}}, %c3071
// BODY-COUNT-2: memref.prefetch %{{.*}} : memref<2x3072xi8>
// BODY-NOT: memref.prefetch
// BODY-COUNT-3: vector.load %{{.*}} : memref<2x3072xi8>, vector<32xi8>
// BODY: vector.load %{{.*}} : memref<2x64x32xi8>, vector<16xi8>
// BODY: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<16xi8>, vector<16xi8>
// BODY: arith.andi %{{.*}} : vector<32xi8>
// BODY: llvm.call_intrinsic "llvm.x86.avx2.pshuf.b"(%{{.*}}, %{{.*}}) : (vector<32xi8>, vector<32xi8>) -> vector<32xi8>
// BODY: llvm.call_intrinsic "llvm.x86.avx2.pshuf.b"
// BODY: vector.bitcast %{{.*}} : vector<32xi8> to vector<16xi16>
// BODY: vector.bitcast %{{.*}} : vector<32xi8> to vector<16xi16>
// BODY: arith.andi %{{.*}} : vector<16xi16>
// BODY: arith.shli %{{.*}} : vector<16xi16>
// BODY: arith.addi %{{.*}} : vector<16xi16>
// BODY: arith.shrui %{{.*}} : vector<16xi16>
// BODY-NOT: vector.shuffle %{{.*}}, %{{.*}} [0, 32
// BODY: arith.shrui %{{.*}} : vector<32xi8>
// BODY: arith.extsi %{{.*}} : vector<8xi16> to vector<8xi32>
// BODY: vector.fma

func.func @bcq(%x: tensor<2x192xf32>) -> tensor<2x40xf32> {
  %c = arith.constant dense<5> : tensor<192x40xi8>
  %s = arith.constant dense<0.5> : tensor<3x3x40xf32>
  %o = arith.constant dense<0.1> : tensor<3x40xf32>
  %y = qc.qlinear %x, %c, %s zeros(%o : tensor<3x40xf32>) scheme #qc.bcq<planes = 3, group = 64, offset = true, scale_type = f32> act #qc.act<kind = int8, block = 64> layer "fc" : tensor<2x192xf32>, tensor<192x40xi8>, tensor<3x3x40xf32> -> tensor<2x40xf32>
  return %y : tensor<2x40xf32>
}
