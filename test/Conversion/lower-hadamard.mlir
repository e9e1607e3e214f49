// RUN: qc-opt %s --qc-lower-hadamard -split-input-file | FileCheck %s
// RUN: qc-opt %s --qc-lower-hadamard="kernels" -split-input-file | FileCheck %s --check-prefix=KERNEL
// RUN: qc-opt %s -split-input-file | FileCheck %s --check-prefix=PRINT

// K = 24 = 3 x 8. The reference: the signs, three butterfly stages over
// [.., 3, 8 / 2s, 2, s] views, then the 3 x 3 mix as a contraction.
// CHECK-LABEL: func.func @rotate
// CHECK:       linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<2x5x24xf32>, tensor<24xf32>)
// CHECK:       tensor.expand_shape {{.*}} into tensor<2x5x3x8xf32>
// CHECK:       tensor.expand_shape {{.*}} into tensor<2x5x3x4x2x1xf32>
// CHECK:       tensor.expand_shape {{.*}} into tensor<2x5x3x2x2x2xf32>
// CHECK:       tensor.expand_shape {{.*}} into tensor<2x5x3x1x2x4xf32>
// CHECK:       linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// CHECK-NOT:   qc.hadamard
//
// The kernel: the flattened [10, 24] rows, one threaded call.
// KERNEL-LABEL: func.func @rotate
// KERNEL:       call @qc_fwht_r10_k24_m3(%{{.*}}, %{{.*}}, %{{.*}}, %[[OUT:.*]], %{{.*}}, %{{.*}}) : (memref<10x24xf32>, memref<24xf32>, memref<3x3xf32>, memref<10x24xf32>, index, index) -> ()
// KERNEL:       bufferization.to_tensor %[[OUT]]
// KERNEL:       tensor.expand_shape {{.*}} into tensor<2x5x24xf32>
// The body: 8 lanes; strides 1, 2 and 4 inside a vector (a shuffle each),
// no larger stride (P = 8), the mix from a copy of the row.
// KERNEL-LABEL: func.func private @qc_fwht_r10_k24_m3
// KERNEL-SAME:  qc.parallel = 1
// KERNEL:       memref.alloca() : memref<24xf32>
// KERNEL:       vector.shuffle {{.*}} [1, 0, 3, 2, 5, 4, 7, 6]
// KERNEL:       vector.shuffle {{.*}} [2, 3, 0, 1, 6, 7, 4, 5]
// KERNEL:       vector.shuffle {{.*}} [4, 5, 6, 7, 0, 1, 2, 3]
// KERNEL:       memref.load %arg2
// KERNEL:       arith.mulf
// KERNEL:       arith.addf
//
// The op prints back as written.
// PRINT: qc.hadamard %arg0, %arg1, %arg2 layer "fc" : tensor<2x5x24xf32>, tensor<24xf32>, tensor<3x3xf32>
func.func @rotate(%x: tensor<2x5x24xf32>, %s: tensor<24xf32>, %m: tensor<3x3xf32>) -> tensor<2x5x24xf32> {
  %y = qc.hadamard %x, %s, %m layer "fc" : tensor<2x5x24xf32>, tensor<24xf32>, tensor<3x3xf32>
  return %y : tensor<2x5x24xf32>
}

// -----

// K = 64 = 1 x 64 with the unit mix [[1]] (qc-rotate's for a power of
// two): strides 8 to 32 are passes over the row, and no mix step.
// KERNEL-LABEL: func.func private @qc_fwht_r1_k64_m1_nomix
// KERNEL-NOT:   memref.alloca
// KERNEL:       scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c16
// KERNEL:       scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32
// KERNEL:       scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c64
// KERNEL-NOT:   memref.load %arg2
// CHECK-LABEL: func.func @wide
// CHECK-NOT:   reduction
func.func @wide(%x: tensor<64xf32>, %s: tensor<64xf32>) -> tensor<64xf32> {
  %m = arith.constant dense<1.0> : tensor<1x1xf32>
  %y = qc.hadamard %x, %s, %m layer "fc" : tensor<64xf32>, tensor<64xf32>, tensor<1x1xf32>
  return %y : tensor<64xf32>
}

// -----

// Any other 1 x 1 mix scales the result: the mix step stays.
// KERNEL-LABEL: func.func private @qc_fwht_r1_k64_m1(
// KERNEL:       memref.alloca
// CHECK-LABEL: func.func @scaled
// CHECK:       reduction
func.func @scaled(%x: tensor<64xf32>, %s: tensor<64xf32>) -> tensor<64xf32> {
  %m = arith.constant dense<2.0> : tensor<1x1xf32>
  %y = qc.hadamard %x, %s, %m layer "fc" : tensor<64xf32>, tensor<64xf32>, tensor<1x1xf32>
  return %y : tensor<64xf32>
}
