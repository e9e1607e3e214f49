// RUN: qc-opt %s --qc-insert-observe | FileCheck %s
// RUN: qc-opt %s --qc-insert-observe="exclude=fc3" | FileCheck %s --check-prefix=EXCL
// RUN: qc-opt %s --qc-insert-observe --qc-strip-observe | FileCheck %s --check-prefix=STRIP

// One tap per distinct input: q and k read %x and share tap 0; fc3 reads
// the argument %y (tap at the start of the block). Taps are numbered in
// program order.
// CHECK-LABEL: func.func @taps
// CHECK-NEXT: qc.observe %arg1 tap 1 layers ["fc3"] : tensor<2x4xf32>
// CHECK: %[[X:.*]] = arith.addf
// CHECK-NEXT: qc.observe %[[X]] tap 0 layers ["q", "k"] : tensor<2x3x4xf32>
// CHECK-COUNT-3: qc.linear
// CHECK-NOT: qc.observe

// EXCL-NOT: layers ["fc3"]
// EXCL: qc.observe {{.*}} tap 0 layers ["q", "k"]
// EXCL-NOT: qc.observe

// STRIP-LABEL: func.func @taps
// STRIP-NOT: qc.observe
// STRIP-COUNT-3: qc.linear
func.func @taps(%a: tensor<2x3x4xf32>, %y: tensor<2x4xf32>) -> (tensor<2x3x2xf32>, tensor<2x3x2xf32>, tensor<2x2xf32>) {
  %w = arith.constant dense<0.5> : tensor<4x2xf32>
  %x = arith.addf %a, %a : tensor<2x3x4xf32>
  %q = qc.linear %x, %w layer "q" : tensor<2x3x4xf32>, tensor<4x2xf32> -> tensor<2x3x2xf32>
  %k = qc.linear %x, %w layer "k" : tensor<2x3x4xf32>, tensor<4x2xf32> -> tensor<2x3x2xf32>
  %z = qc.linear %y, %w layer "fc3" : tensor<2x4xf32>, tensor<4x2xf32> -> tensor<2x2xf32>
  return %q, %k, %z : tensor<2x3x2xf32>, tensor<2x3x2xf32>, tensor<2x2xf32>
}
