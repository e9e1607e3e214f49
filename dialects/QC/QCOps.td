//===- QCOps.td - qc dialect operations --------------------*- tablegen -*-===//

#ifndef QC_OPS_TD
#define QC_OPS_TD

include "QC/QCDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributes.td"

def QC_LinearOp : QC_Op<"linear", [Pure]> {
  let summary = "floating-point linear layer with a constant weight";
  let description = [{
    `qc.linear` computes `result = input x weight (+ bias)` where `input` has
    shape `[..., K]`, `weight` has shape `[K, N]` and the optional `bias` has
    shape `[N]`; the result has shape `[..., N]`. The weight is the constant
    that post-training quantization replaces; `layer` names the layer (the
    ONNX node it came from) so that recipes and reports can refer to it.

    Example:

    ```mlir
    %y = qc.linear %x, %w layer "fc1" : tensor<4x64xf32>, tensor<64x32xf32> -> tensor<4x32xf32>
    ```
  }];
  let arguments = (ins
    AnyRankedTensor:$input,
    AnyRankedTensor:$weight,
    Optional<AnyRankedTensor>:$bias,
    StrAttr:$layer);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? `layer` $layer attr-dict `:`
    type($input) `,` type($weight) (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The reduction size K and the output size N.
    int64_t getInFeatures() { return getWeight().getType().getDimSize(0); }
    int64_t getOutFeatures() { return getWeight().getType().getDimSize(1); }
  }];
}

#endif // QC_OPS_TD
