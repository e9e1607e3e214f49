// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=x86-64-v3}),qc-gen-dequant-gemm)' | FileCheck %s --check-prefix=CALLS
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=x86-64-v3}),qc-gen-dequant-gemm,qc-emit-kernels)' | FileCheck %s --check-prefix=AVX2
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=x86-64-v4-vnni}),qc-gen-dequant-gemm,qc-emit-kernels)' | FileCheck %s --check-prefix=VNNI
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=aarch64}),qc-gen-dequant-gemm,qc-emit-kernels)' | FileCheck %s --check-prefix=NEON
// RUN: qc-opt %s --pass-pipeline='builtin.module(func.func(qc-select-kernel{target=generic}),qc-gen-dequant-gemm,qc-emit-kernels)' | FileCheck %s --check-prefix=GEN

// A 3-bit layer with zero points and a bias, 6 tokens, K = 320 (three
// superblocks of 128 rows, the last padded: 384), N = 5, group 64:
// activation blocks of gcd(64, 128) = 64, 5 groups padded to 8.

// The call sites: the input flattened to [6, 320], quantized by @qc_actq_*,
// the one panel of 8 columns [0, 1) computed by @qc_dqi8h_*, whose weights
// are new constants in kernel-panel layout: 12 row blocks of 32 rows x 3 *
// 32 bytes; scales and zero points [panel][8 groups x 8 columns] (the
// scales, 0.5, are f16 values: stored as f16 for a target that converts
// f16, and the kernel's name says so, @qc_dqi8h_*); the output [6, 8]
// with the padding columns dropped.
// CALLS-LABEL: func.func @w3
// CALLS: %[[XQ:.*]] = memref.alloc() {alignment = 64 : i64} : memref<6x384xi8>
// CALLS: %[[XS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<6x6xf32>
// CALLS: %[[XSUM:.*]] = memref.alloc() {alignment = 64 : i64} : memref<6x8xf32>
// CALLS: %[[X:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x3x320xf32> into tensor<6x320xf32>
// CALLS: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only {qc.read_by = "fc"} : tensor<6x320xf32> to memref<6x320xf32>
// CALLS: call @qc_actq_b3_g64_a64_m6_k320_n5_t4_avx2(%[[XB]], %[[XQ]], %[[XS]], %[[XSUM]])
// CALLS: arith.constant dense_resource<fc.kpanels> : tensor<1x1152xi8>
// CALLS: arith.constant dense_resource<fc.kscales> : tensor<1x64xf16>
// CALLS: arith.constant dense_resource<fc.kzeros> : tensor<1x64xi8>
// CALLS: arith.constant dense_resource<fc.kbias> : tensor<8xf32>
// CALLS: %[[Y:.*]] = memref.alloc() {alignment = 64 : i64} : memref<6x8xf32>
// CALLS: call @qc_dqi8h_b3_g64_a64_m6_k320_n5_t4_avx2(%[[XQ]], %[[XS]], %[[XSUM]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[Y]], %c0, %c1)
// CALLS: %[[YT:.*]] = bufferization.to_tensor %[[Y]] restrict writable
// CALLS: %[[YS:.*]] = tensor.extract_slice %[[YT]][0, 0] [6, 5] [1, 1]
// CALLS: tensor.expand_shape %[[YS]] {{\[\[}}0, 1], [2]] output_shape [2, 3, 5]
// CALLS-NOT: qc.qlinear

// The activation quantizer: max |x| per block, round half to even.
// AVX2-LABEL: func.func private @qc_actq_
// AVX2: vector.transfer_read
// AVX2: math.absf
// AVX2: vector.reduction <maximumf>
// AVX2: math.roundeven
// AVX2: arith.fptosi

// The panel kernel: per 32-row block three 32-byte code loads (two for the
// low two bits, one for the third bit); per 4 rows the codes of the 8
// columns unpacked into 32-bit lanes by masks and shifts, and per token 4
// activations broadcast to the 8 lanes and vpmaddubsw; vpmaddwd per row
// block; per 64-row activation block one FMA of the 8 columns' sums with the
// 8 scales; no horizontal sums.
// AVX2-LABEL: func.func private @qc_dqi8h_
// AVX2-SAME: target_features = #llvm.target_features<["+avx2", "+fma"]>
// AVX2: scf.for %[[P:.*]] = %{{.*}} to %{{.*}} step
// AVX2: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c4
// AVX2: scf.for
// AVX2: scf.for
// The 96 bytes of the row block, 1024 bytes ahead: two lines, clamped to the
// panel's last byte.
// AVX2: %[[AHEAD:.*]] = arith.minui %{{.*}}, %c1151
// AVX2: memref.prefetch %{{.*}}[%[[P]], %[[AHEAD]]], read, locality<3>, data : memref<1x1152xi8>
// AVX2: memref.prefetch %{{.*}} : memref<1x1152xi8>
// AVX2-NOT: memref.prefetch
// AVX2-COUNT-3: vector.load %{{.*}}[%[[P]], %{{.*}}] : memref<1x1152xi8>, vector<32xi8>
// AVX2: arith.andi %{{.*}} : vector<32xi8>
// AVX2: arith.shli %{{.*}} : vector<32xi8>
// AVX2: arith.ori %{{.*}} : vector<32xi8>
// AVX2: vector.load %{{.*}} : memref<6x384xi8>, vector<4xi8>
// AVX2: vector.broadcast %{{.*}} : i32 to vector<8xi32>
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%{{.*}}, %{{.*}}) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// AVX2: arith.shrui %{{.*}} : vector<32xi8>
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%{{.*}}, %{{.*}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// AVX2: vector.load %{{.*}} : memref<1x64xf16>, vector<8xf16>
// AVX2: arith.extf %{{.*}} : vector<8xf16> to vector<8xf32>
// AVX2: arith.sitofp %{{.*}} : vector<8xi32> to vector<8xf32>
// AVX2: vector.fma
// AVX2-NOT: vector.reduction
// AVX2-NOT: vpdpbusd

// With AVX-512 VNNI threads get even panel ranges; pairs of panels first, each
// 32-byte code vector of the two panels side by side in 64 bytes, 16
// columns per vpdpbusd (all 6 tokens in one tile), the prefetches of both
// panels' rows; then the odd panel out on 256-bit vectors.
// VNNI-LABEL: func.func private @qc_dqi8h_{{.*}}_m6_k320_n5_t6_avx512vnni
// VNNI-SAME: qc.parallel = 2
// VNNI-SAME: +avx512vnni
// VNNI: %[[PAIRS:.*]] = arith.divui %{{.*}}, %c2
// VNNI: scf.for %[[P2:.*]] = %{{.*}} to %{{.*}} step %c2
// VNNI: scf.for %{{.*}} = %c0 to %c6{{.*}} step %c6
// VNNI: %[[NEXT:.*]] = arith.addi %[[P2]], %c1
// VNNI: memref.prefetch %{{.*}}[%[[P2]], %{{.*}}]
// VNNI: memref.prefetch %{{.*}}[%[[NEXT]], %{{.*}}]
// VNNI: %[[LO:.*]] = vector.load %{{.*}}[%[[P2]], %{{.*}}] : memref<1x1152xi8>, vector<32xi8>
// VNNI: %[[HI:.*]] = vector.load %{{.*}}[%[[NEXT]], %{{.*}}] : memref<1x1152xi8>, vector<32xi8>
// VNNI: vector.shuffle %[[LO]], %[[HI]] [0, 1, {{.*}}, 62, 63] : vector<32xi8>, vector<32xi8>
// VNNI: vector.broadcast %{{.*}} : i32 to vector<16xi32>
// VNNI-COUNT-6: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// VNNI: vector.fma %{{.*}} : vector<16xf32>
// VNNI: vector.store %{{.*}} : memref<6x8xf32>, vector<16xf32>
// VNNI: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// VNNI: vector.store %{{.*}} : memref<6x8xf32>, vector<8xf32>
// VNNI-NOT: pmadd.ub.sw

// NEON-LABEL: func.func private @qc_dqi8h_
// NEON-SAME: +dotprod
// NEON: vector.extract_strided_slice %{{.*}} {offsets = [16], sizes = [16], strides = [1]} : vector<32xi8> to vector<16xi8>
// NEON: llvm.call_intrinsic "llvm.aarch64.neon.sdot"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>

// GEN-LABEL: func.func private @qc_dqi8_
// GEN-NOT: target_features
// GEN: arith.extui %{{.*}} : vector<32xi8> to vector<32xi32>
// GEN: arith.extsi %{{.*}} : vector<32xi8> to vector<32xi32>
// GEN: arith.muli
// GEN-NOT: llvm.call_intrinsic

func.func @w3(%x: tensor<2x3x320xf32>) -> tensor<2x3x5xf32> {
  %c = arith.constant dense<5> : tensor<320x5xi8>
  %s = arith.constant dense<0.5> : tensor<5x5xf32>
  %z = arith.constant dense<3.0> : tensor<5x5xf32>
  %b = arith.constant dense<0.25> : tensor<5xf32>
  %y = qc.qlinear %x, %c, %s zeros(%z : tensor<5x5xf32>) bias(%b : tensor<5xf32>) scheme #qc.uniform<bits = 3, group = 64, per_ic = false, symmetric = false, scale_type = f32> act #qc.act<kind = int8, block = 64> layer "fc" : tensor<2x3x320xf32>, tensor<320x5xi8>, tensor<5x5xf32> -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}

// With many rows (128 x 384 padded inputs: a prefill, a convolution's im2col
// view) the activation quantizer runs on the runtime's threads over ranges
// of rows: qc.parallel, and the range [0, 128) after its buffers.
// CALLS-LABEL: func.func @many_rows
// CALLS: call @qc_actq_b3_g64_a64_m128_k320_n5_t4_avx2(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c0{{.*}}, %c128{{.*}})
// AVX2-LABEL: func.func private @qc_actq_b3_g64_a64_m128_k320_n5_t4_avx2(
// AVX2-SAME: memref<128x8xf32>, %[[LO:[^:]*]]: index, %[[HI:[^:]*]]: index)
// AVX2-SAME: qc.parallel = 1
// AVX2: scf.for %{{.*}} = %[[LO]] to %[[HI]]
func.func @many_rows(%x: tensor<128x320xf32>) -> tensor<128x5xf32> {
  %c = arith.constant dense<5> : tensor<320x5xi8>
  %s = arith.constant dense<0.5> : tensor<5x5xf32>
  %z = arith.constant dense<3.0> : tensor<5x5xf32>
  %y = qc.qlinear %x, %c, %s zeros(%z : tensor<5x5xf32>) scheme #qc.uniform<bits = 3, group = 64, per_ic = false, symmetric = false, scale_type = f32> act #qc.act<kind = int8, block = 64> layer "fc3" : tensor<128x320xf32>, tensor<320x5xi8>, tensor<5x5xf32> -> tensor<128x5xf32>
  return %y : tensor<128x5xf32>
}

// One scale per token over whole-column groups: one activation block of K
// in whole 32-row blocks (300 -> 320; the codes keep their superblocks of
// 128 rows, 384), so the int8 activations are [6, 320], not [6, 384].
// CALLS-LABEL: func.func @whole_column
// CALLS: %[[WQ:.*]] = memref.alloc() {alignment = 64 : i64} : memref<6x320xi8>
// CALLS: memref.alloc() {alignment = 64 : i64} : memref<6x1xf32>
// CALLS: call @qc_actq_b4_g384_a320_m6_k300_n5_t4_avx2(%{{.*}}, %[[WQ]],
// CALLS: arith.constant dense_resource<fc4.kpanels> : tensor<1x1536xi8>
// CALLS: call @qc_dqi8h_b4_g384_a320_m6_k300_n5_t4_avx2(%[[WQ]],
func.func @whole_column(%x: tensor<6x300xf32>) -> tensor<6x5xf32> {
  %c = arith.constant dense<5> : tensor<300x5xi8>
  %s = arith.constant dense<0.5> : tensor<1x5xf32>
  %y = qc.qlinear %x, %c, %s scheme #qc.uniform<bits = 4, group = -1, per_ic = false, symmetric = true, scale_type = f32> act #qc.act<kind = int8, block = -1> layer "fc4" : tensor<6x300xf32>, tensor<300x5xi8>, tensor<1x5xf32> -> tensor<6x5xf32>
  return %y : tensor<6x5xf32>
}

// The same layer without an activation scheme (float activations) takes
// dequant_f32: the input copied into [6, 384] f32 with its group sums, the
// same weight panels, and the column kernel @qc_dqf32h_* on them (no block
// scales).
// CALLS-LABEL: func.func @f32act
// CALLS: %[[XF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<6x384xf32>
// CALLS: %[[FSUM:.*]] = memref.alloc() {alignment = 64 : i64} : memref<6x8xf32>
// CALLS: call @qc_actf_b3_g64_a64_m6_k320_n5_t4_avx2(%{{.*}}, %[[XF]], %[[FSUM]])
// CALLS: arith.constant dense_resource<fc2.kpanels> : tensor<1x1152xi8>
// CALLS: call @qc_dqf32h_b3_g64_a64_m6_k320_n5_t4_avx2(%[[XF]], %[[FSUM]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c0, %c1)
// The declarations, at the module's end.
// CALLS: func.func private @qc_actq_{{.*}}(memref<6x320xf32>, memref<6x384xi8>, memref<6x6xf32>, memref<6x8xf32>) attributes {qc.kernel.role = "act_quant"
// CALLS: func.func private @qc_dqi8h_{{.*}}(memref<6x384xi8>, memref<6x6xf32>, memref<6x8xf32>, memref<1x1152xi8>, memref<1x64xf16>, memref<1x64xi8>, memref<8xf32>, memref<6x8xf32>, index, index) attributes {qc.kernel.role = "columns"{{.*}}qc.parallel = 1 : i64}
// CALLS: func.func private @qc_actf_{{.*}}(memref<6x320xf32>, memref<6x384xf32>, memref<6x8xf32>) attributes {qc.kernel.role = "act_float"
// CALLS: func.func private @qc_dqf32h_{{.*}}(memref<6x384xf32>, memref<6x8xf32>, memref<1x1152xi8>, memref<1x64xf16>, memref<1x64xi8>, memref<8xf32>, memref<6x8xf32>, index, index) attributes {qc.kernel.role = "columns_f32"{{.*}}qc.parallel = 1 : i64}

// Its activations: copied and summed, no rounding.
// AVX2-LABEL: func.func private @qc_actf_
// AVX2-NOT: math.roundeven
// AVX2: vector.transfer_read
// AVX2: vector.store %{{.*}} : memref<6x384xf32>, vector<8xf32>
// AVX2: vector.reduction <add>
// Its panels: the same unpacking, then per row of the 4 the code bytes
// taken out of their 32-bit lanes, converted to f32 and multiplied with the
// broadcast input by FMAs; one FMA with the scales per 64-row block.
// AVX2-LABEL: func.func private @qc_dqf32h_
// AVX2-SAME: target_features = #llvm.target_features<["+avx2", "+fma"]>
// AVX2: arith.ori %{{.*}} : vector<32xi8>
// AVX2: vector.bitcast %{{.*}} : vector<32xi8> to vector<8xi32>
// AVX2: arith.andi %{{.*}} : vector<8xi32>
// AVX2: arith.uitofp %{{.*}} : vector<8xi32> to vector<8xf32>
// AVX2: memref.load %{{.*}} : memref<6x384xf32>
// AVX2: vector.fma %{{.*}} : vector<8xf32>
// AVX2: arith.shrui %{{.*}} : vector<8xi32>
// AVX2-NOT: llvm.call_intrinsic
// AVX2: return

func.func @f32act(%x: tensor<2x3x320xf32>) -> tensor<2x3x5xf32> {
  %c = arith.constant dense<5> : tensor<320x5xi8>
  %s = arith.constant dense<0.5> : tensor<5x5xf32>
  %z = arith.constant dense<3.0> : tensor<5x5xf32>
  %b = arith.constant dense<0.25> : tensor<5xf32>
  %y = qc.qlinear %x, %c, %s zeros(%z : tensor<5x5xf32>) bias(%b : tensor<5xf32>) scheme #qc.uniform<bits = 3, group = 64, per_ic = false, symmetric = false, scale_type = f32> layer "fc2" : tensor<2x3x320xf32>, tensor<320x5xi8>, tensor<5x5xf32> -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}
