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

def Quantize : Pass<"qc-quantize", "mlir::ModuleOp"> {
  let summary = "Quantize the weights of qc.linear layers into qc.qlinear";
  let description = [{
    Replaces every `qc.linear` whose weight is a constant by a `qc.qlinear`
    holding the weight in a quantization scheme, computed at compile time by
    the numerics in `lib/Quant`:

    - `algo=rtn`: uniform grids by round-to-nearest with a min-max or
      MSE-optimal clipping search (`clip`), per-OC or per-IC groups; BCQ by
      greedy fitting refined with alternating least squares; codebooks by
      k-means (k-means++ seeding, fixed seed); FP8 / MXFP4 / AMXFP4 / dINT
      by direct rounding.

    `scheme` is the default scheme by short name (`w4g128`, `w3g128ic`,
    `bcq3g128`, `cb2x8`, `mxfp4`, ...). `overrides` assigns schemes by
    layer-name regex (`PATTERN=SCHEME`, first match wins) and `exclude`
    leaves matching layers in float. A scheme that does not fit a layer's
    shape, or a pattern that matches no layer, is an error.

    Each quantized layer gets a `qc.report` dictionary: scheme, bits per
    weight, bytes, the weight MSE and the output MSE on random inputs.
  }];
  let options = [
    Option<"scheme", "scheme", "std::string", /*default=*/"\"w4g128\"",
           "default scheme (short name)">,
    ListOption<"overrides", "overrides", "std::string",
               "per-layer schemes: LAYER_REGEX=SCHEME (first match wins)">,
    ListOption<"exclude", "exclude", "std::string",
               "layer-name regexes left in float">,
    Option<"clip", "clip", "std::string", /*default=*/"\"mse\"",
           "clipping search of uniform grids: minmax or mse">,
    Option<"algo", "algo", "std::string", /*default=*/"\"rtn\"",
           "quantization algorithm (rtn)">,
  ];
  let dependentDialects = ["::qc::QCDialect", "::mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numQuantized", "num-quantized", "Number of layers quantized">
  ];
}

def Layout : Pass<"qc-layout", "mlir::func::FuncOp"> {
  let summary = "Pack the codes of quantized layers into their storage layout";
  let description = [{
    Rewrites the one-code-per-byte canonical codes of each `qc.qlinear`
    whose code width is 2, 4 or 8 bits into the K-major bit-packed layout
    (`packed`): `[N, K * bits / 8]` bytes, each output column's codes as one
    bit stream, low bits first (for 4 bits, the MatMulNBits blob order).
    BCQ codes become bit-planes (`bitplanes`, `[ceil(K/8), planes, N]`
    bytes, 8 rows of one plane per byte), the order LUT-GEMM reads. The
    packed blob replaces the canonical one, so the artifact stores codes at
    their bit width. Other code widths (3-bit uniform, codebook indices)
    stay canonical.

    `tile-n=T` (T > 0) interleaves rows instead: tiles of T columns, K in
    chunks of 8 codes, `[ceil(N/T), ceil(K/8), T, bits]` bytes, so a kernel
    reads the codes of T output columns for 8 inputs contiguously.
  }];
  let options = [
    Option<"tileN", "tile-n", "int64_t", /*default=*/"0",
           "columns per interleaved tile (0: K-major per column)">,
  ];
  let dependentDialects = ["::qc::QCDialect", "::mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numPacked", "num-packed", "Number of layers packed">
  ];
}

#endif // QC_TRANSFORMS_PASSES_TD
