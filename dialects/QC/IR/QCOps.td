//===- QCOps.td - qc dialect operations --------------------*- tablegen -*-===//

#ifndef QC_OPS_TD
#define QC_OPS_TD

include "QC/IR/QCDialect.td"
include "QC/IR/QCAttrs.td"
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

    With `panel P` (set by `qc-pack-linear-weights` for the CPU's register
    tiles), the weight is stored in panels of P output columns, shape
    `[N / P, K, P]`: panel `j` holds columns `[j * P, (j + 1) * P)`, each of
    its K rows contiguous, so a kernel streams one panel front to back.

    ```mlir
    %y = qc.linear %x, %w layer "fc1" panel 16 : tensor<4x64xf32>, tensor<2x64x16xf32> -> tensor<4x32xf32>
    ```
  }];
  let arguments = (ins
    AnyRankedTensor:$input,
    AnyRankedTensor:$weight,
    Optional<AnyRankedTensor>:$bias,
    StrAttr:$layer,
    OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$panel);
  let results = (outs AnyRankedTensor:$result);
  let builders = [
    // A weight in its [K, N] layout.
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input,
                   "::mlir::Value":$weight, "::mlir::Value":$bias,
                   "::mlir::StringAttr":$layer), [{
      build($_builder, $_state, result, input, weight, bias, layer,
            /*panel=*/::mlir::IntegerAttr());
    }]>
  ];
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? `layer` $layer (`panel` $panel^)?
    attr-dict `:` type($input) `,` type($weight) (`,` type($bias)^)? `->`
    type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The reduction size K and the output size N.
    int64_t getInFeatures() {
      return getWeight().getType().getDimSize(getPanel() ? 1 : 0);
    }
    int64_t getOutFeatures() {
      auto type = getWeight().getType();
      if (std::optional<int64_t> p = getPanel())
        return ::mlir::ShapedType::isDynamic(type.getDimSize(0))
                   ? ::mlir::ShapedType::kDynamic
                   : type.getDimSize(0) * *p;
      return type.getDimSize(1);
    }
  }];
}

def QC_QLinearOp : QC_Op<"qlinear", [Pure, AttrSizedOperandSegments]> {
  let summary = "linear layer with a quantized weight";
  let description = [{
    With `packed` (set by `qc-layout`), `codes` are i8 `[N, K * bits / 8]`:
    the K codes of each output column as one bit stream, low bits first
    (for 4 bits the MatMulNBits blob order), for code widths 2, 4 and 8.
    With `packed tile_n T`, the codes are row-interleaved in tiles of T
    columns: i8 `[ceil(N/T), ceil(K/8), T, bits]`, each 8 consecutive codes
    of one column in `bits` bytes, low bits first.
    With `bitplanes` (BCQ only), `codes` are i8 `[ceil(K/8), planes, N]`:
    bit j of byte (c, i, n) is plane i's bit of row 8c + j of column n, the
    LUT-GEMM order in which a kernel can read fewer planes.
    `kernel` (set by `qc-select-kernel`) names the kernel that will compute
    the layer; without it the reference lowering does.
    `act` is the layer's activation scheme (#qc.act): the input is
    quantized by it before the product. Without one the layer computes on
    its float input, and so must every kernel chosen for it.

    `qc.qlinear` computes `result = input x dequant(weight) (+ bias)` where
    the `[K, N]` weight is given by `codes`, `scales` and, depending on the
    `scheme`, `zeros` and `codebook`, in qc's canonical layout (one code per
    element, see `QuantSchemeAttrInterface::getOperandShapes`). `input` is
    `[..., K]` and the result `[..., N]`.

    ```mlir
    %y = qc.qlinear %x, %codes, %scales zeros(%z : tensor<2x16xf32>)
           scheme #qc.uniform<bits = 4, group = 32, per_ic = false, symmetric = false, scale_type = f32>
           layer "fc1" : tensor<2x64xf32>, tensor<64x16xi8>, tensor<2x16xf32> -> tensor<2x16xf32>
    ```
  }];
  let arguments = (ins
    AnyRankedTensor:$input,
    AnyRankedTensor:$codes,
    AnyRankedTensor:$scales,
    Optional<AnyRankedTensor>:$zeros,
    Optional<AnyRankedTensor>:$codebook,
    Optional<AnyRankedTensor>:$bias,
    QC_QuantSchemeAttrInterface:$scheme,
    StrAttr:$layer,
    UnitAttr:$packed,
    UnitAttr:$bitplanes,
    OptionalAttr<I64Attr>:$tile_n,
    OptionalAttr<QC_KernelAttr>:$kernel,
    OptionalAttr<QC_ActivationAttr>:$act);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    (`packed` $packed^)? (`tile_n` $tile_n^)? (`bitplanes` $bitplanes^)? $input `,` $codes `,` $scales
    (`zeros` `(` $zeros^ `:` type($zeros) `)`)?
    (`codebook` `(` $codebook^ `:` type($codebook) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    `scheme` $scheme (`act` qualified($act)^)? `layer` $layer attr-dict `:`
    type($input) `,` type($codes) `,` type($scales)
    `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input,
                   "::mlir::Value":$codes, "::mlir::Value":$scales,
                   "::mlir::Value":$zeros, "::mlir::Value":$codebook,
                   "::mlir::Value":$bias,
                   "::qc::QuantSchemeAttrInterface":$scheme,
                   "::mlir::StringAttr":$layer), [{
      // Canonical layout: no packing attributes.
      build($_builder, $_state, result, input, codes, scales, zeros, codebook,
            bias, scheme, layer, /*packed=*/nullptr, /*bitplanes=*/nullptr,
            /*tile_n=*/nullptr, /*kernel=*/nullptr, /*act=*/nullptr);
    }]>
  ];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The reduction size K (the input's last dimension) and N.
    int64_t getInFeatures();
    int64_t getOutFeatures();
    /// Bits of one code when they can be packed (2, 4 or 8), else 0.
    unsigned getPackableCodeBits();
  }];
}

def QC_HadamardOp : QC_Op<"hadamard", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "a randomized Hadamard rotation of the last dimension";
  let description = [{
    `qc.hadamard` computes `result = input x T` along the last dimension K
    of `input`, with `T = diag(signs) (mix (x) H_P)`: `mix` an M x M
    matrix, `P = K / M` a power of two, `H_P` Sylvester's Hadamard matrix
    and `(x)` the Kronecker product (input index `k = i * P + j`). That is
    the signs, a fast Walsh-Hadamard transform over `j` (log2 P butterfly
    stages `(a, b) -> (a + b, a - b)`), then `y[i', j] = sum_i mix[i][i']
    z[i, j]`. `signs` carries any normalization (qc-rotate's `s /
    sqrt(K)`, a Hadamard matrix of order M as `mix`). `layer` names the
    layer whose input it rotates.

    `qc-lower-hadamard` lowers it to linalg (the reference: a generic per
    stage) or, with `kernels`, to a call of a generated kernel that
    transforms each row in one pass, in cache.

    ```mlir
    %y = qc.hadamard %x, %signs, %mix layer "down_proj" : tensor<64x1536xf32>, tensor<1536xf32>, tensor<12x12xf32>
    ```
  }];
  let arguments = (ins
    RankedTensorOf<[F32]>:$input,
    RankedTensorOf<[F32]>:$signs,
    RankedTensorOf<[F32]>:$mix,
    StrAttr:$layer);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $signs `,` $mix `layer` $layer attr-dict `:` type($input) `,`
    type($signs) `,` type($mix)
  }];
  let extraClassDeclaration = [{
    /// K, M (the mix's order) and P = K / M.
    int64_t getWidth() { return getInput().getType().getShape().back(); }
    int64_t getOrder() { return getMix().getType().getDimSize(0); }
    int64_t getPow2() { return getWidth() / getOrder(); }
  }];
  let hasVerifier = 1;
}

def QC_ObserveOp : QC_Op<"observe", [MemoryEffects<[MemWrite]>]> {
  let summary = "calibration tap on the input of linear layers";
  let description = [{
    `qc.observe` hands the value of `input` (shape `[..., K]`, f32) to the
    runtime's calibration observer each time the compiled model runs: the
    rows of the flattened `[M, K]` view, tagged with `tap`, the tap's index
    in the module. `layers` names the linear layers that read this value,
    so that statistics gathered at the tap belong to each of them.
    `qc-insert-observe` places one tap per distinct linear input and
    `qc-strip-observe` removes them; `qc-lower-observe` turns a tap into a
    call to the runtime's `qcrt_observe`. The op writes nothing visible to
    the program; it is marked as writing memory only so that it is kept.

    Example:

    ```mlir
    qc.observe %x tap 0 layers ["q_proj", "k_proj"] : tensor<1x8x64xf32>
    ```
  }];
  let arguments = (ins
    AnyRankedTensor:$input,
    I64Attr:$tap,
    StrArrayAttr:$layers);
  let assemblyFormat = [{
    $input `tap` $tap `layers` $layers attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

def QC_KVCacheTensor : TensorOf<[F32, F16, I8]>;

def QC_CachedAttentionOp : QC_Op<"cached_attention", [Pure,
    AllTypesMatch<["query", "result"]>, AllTypesMatch<["key", "value"]>,
    AllTypesMatch<["key_cache", "value_cache", "key_cache_out",
                   "value_cache_out"]>]> {
  let summary = "causal grouped-query attention over a key-value cache";
  let description = [{
    One step of a decoder's attention with a key-value cache. `query` is
    `[B, H, S, D]`, `key` and `value` are the step's new `[B, KV, S, D]`
    (positions already applied), `key_cache` and `value_cache` are
    `[B, KV, T, D]` holding `past` valid positions (`past` an index, known
    only at run time). The op writes `key` and `value` at positions
    `[past, past + S)` of the caches and returns the updated caches; the S
    queries attend causally: query `i` to cache positions `[0, past + i]`.
    Query head `h` reads cache head `h / (H / KV)` (grouped-query
    attention; H a multiple of KV). Scores are scaled by `scale`; the
    softmax is in f32. A `past` outside `[0, T - S]` is clamped into it (the
    runtime refuses such a step before it runs).

    Because the op's cost depends on `past`, not on `T`, a compiled decode
    step costs what the current length costs.

    The caches store a position of a head in one of the formats of
    dialects/QC/IR/KVCache.h, told by their element type and last
    dimension: f32 or f16 `[B, KV, T, D]`, or i8 `[B, KV, T, W]` rows of
    groups of 32 codes with an f32 scale and minimum each (int8: `W = D +
    8 D / 32`; int4: `W = D / 2 + 8 D / 32`). With `mixed_precision`, the
    i8 caches are MiKV's mixed-precision caches (`W = D + 8`, at least 16
    positions): every position in int4, the most important ones also in f16
    (KVCache.h), the op choosing which as it attends. The op stores the
    step's keys and values in the cache's format and attends to what is
    stored.

    Example:

    ```mlir
    %o, %kc, %vc = qc.cached_attention %q, %k, %v, %kcache, %vcache, %past
        scale 0.125 : tensor<1x4x1x64xf32>, tensor<1x2x1x64xf32>,
        tensor<1x2x128x64xf32>
    ```
  }];
  let arguments = (ins
    F32Tensor:$query,
    F32Tensor:$key,
    F32Tensor:$value,
    QC_KVCacheTensor:$key_cache,
    QC_KVCacheTensor:$value_cache,
    Index:$past,
    F32Attr:$scale,
    UnitAttr:$mixed_precision);
  let results = (outs F32Tensor:$result, QC_KVCacheTensor:$key_cache_out,
                 QC_KVCacheTensor:$value_cache_out);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $key_cache `,` $value_cache `,` $past
    `scale` $scale attr-dict `:` type($query) `,` type($key) `,`
    type($key_cache)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$query, "::mlir::Value":$key,
                   "::mlir::Value":$value, "::mlir::Value":$key_cache,
                   "::mlir::Value":$value_cache, "::mlir::Value":$past,
                   "float":$scale), [{
      build($_builder, $_state, query.getType(), key_cache.getType(),
            key_cache.getType(), query, key, value, key_cache, value_cache,
            past, $_builder.getF32FloatAttr(scale), /*mixed_precision=*/nullptr);
    }]>
  ];
  let extraClassDeclaration = [{
    /// How the caches store a row (the verifier checked there is one).
    ::qc::KVCacheLayout getCacheLayout();

  private:
    ::mlir::LogicalResult verifyMixedCaches(::mlir::RankedTensorType cache,
                                            int64_t headDim);
  }];
  let hasVerifier = 1;
}

#endif // QC_OPS_TD
