//===- Passes.td - qc graph transformation passes ----------*- tablegen -*-===//

#ifndef QC_TRANSFORMS_PASSES_TD
#define QC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def RaiseLinear : Pass<"qc-raise-linear", "mlir::func::FuncOp"> {
  let summary = "Raise matmuls with a constant weight to qc.linear";
  let description = [{
    Finds `linalg.matmul` whose right-hand side is a constant weight `[K, N]`
    (as the ONNX importer emits for MatMul and Gemm nodes), looking through
    the `tensor.collapse_shape` / `tensor.expand_shape` pair that flattens the
    leading input dimensions, and replaces the group by one `qc.linear` on the
    original input. The layer name is taken from the op's location (the ONNX
    node name). Matmuls whose weight is computed at run time are left alone.
  }];
  let dependentDialects = ["::qc::QCDialect"];
  let statistics = [
    Statistic<"numRaised", "num-raised", "Number of layers raised to qc.linear">
  ];
}

#endif // QC_TRANSFORMS_PASSES_TD
