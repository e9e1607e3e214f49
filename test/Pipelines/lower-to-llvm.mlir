// RUN: qc-opt %s --qc-lower-to-llvm | FileCheck %s --implicit-check-not='{{ (linalg|tensor|memref|bufferization|scf|cf|vector|math|arith|affine|func|qc)\.}}' --implicit-check-not=unrealized_conversion_cast
// RUN: qc-opt %s --qc-lower-to-llvm | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=IR

// The qc-compile pipeline end to end: a linear layer with bias and an erf
// epilogue leave only the LLVM dialect (no op of another dialect and no
// unrealized cast survives). The matmul is tiled and vectorized (four rows
// of 8-wide FMAs carried in registers), the bias-and-erf generic is vector
// code (qc-vectorize-elementwise: a row of 8 at a time) and erf the inline
// polynomial of qc-approximate-math on it (vector FMAs, no libm call), the
// loops around them are outlined into kernel functions (the accumulator
// fill, the bias-and-erf loop), and the entry keeps its C interface.
// The result translates to LLVM IR.
// CHECK: llvm.func @main_kernel0(
// CHECK-SAME: passthrough = ["noinline"]
// CHECK: llvm.func @main_kernel1(
// CHECK: llvm.intr.fma({{.*}}) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// CHECK: llvm.func @main(
// CHECK: llvm.call @main_kernel0(
// CHECK-COUNT-4: llvm.intr.fmuladd({{.*}}) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// CHECK: llvm.call @main_kernel1(
// CHECK: llvm.func @_mlir_ciface_main(
// CHECK: llvm.call @main(

// IR: define {{.*}}void @main(
// IR: call <8 x float> @llvm.fmuladd.v8f32(
// IR: define void @_mlir_ciface_main(
// IR-NOT: @erff
func.func @main(%x: tensor<4x16xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> attributes {llvm.emit_c_interface} {
  %y = qc.linear %x, %w bias %b layer "fc" : tensor<4x16xf32>, tensor<16x8xf32>, tensor<8xf32> -> tensor<4x8xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%y : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = math.erf %a : f32
    linalg.yield %t : f32
  } -> tensor<4x8xf32>
  return %g : tensor<4x8xf32>
}
