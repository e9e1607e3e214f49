//===- QCAttrs.td - qc quantization scheme attributes ------*- tablegen -*-===//

#ifndef QC_ATTRS_TD
#define QC_ATTRS_TD

include "QC/IR/QCDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// The scheme interface
//===----------------------------------------------------------------------===//

def QC_QuantSchemeAttrInterface : AttrInterface<"QuantSchemeAttrInterface"> {
  let cppNamespace = "::qc";
  let description = [{
    A weight quantization scheme. A quantized `[K, N]` weight (`y = x W`) is
    stored as integer `codes` plus float `scales`, and depending on the scheme
    `zeros` (zero points / offsets) and a `codebook`; the interface says what
    shapes those operands have in qc's canonical (unpacked) layout, how many
    bytes they take once packed, and checks that the scheme fits the shape.
    Each scheme's dequantization formula is in its attribute's description.
  }];
  let methods = [
    InterfaceMethod<"Checks that the scheme fits a K x N weight.",
      "::mlir::LogicalResult", "verifyShape",
      (ins "int64_t":$k, "int64_t":$n,
           "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError)>,
    InterfaceMethod<[{
        Canonical operand shapes for a K x N weight; an empty `zeros` or
        `codebook` shape means the operand is absent.}],
      "void", "getOperandShapes",
      (ins "int64_t":$k, "int64_t":$n,
           "::llvm::SmallVectorImpl<int64_t> &":$codes,
           "::llvm::SmallVectorImpl<int64_t> &":$scales,
           "::llvm::SmallVectorImpl<int64_t> &":$zeros,
           "::llvm::SmallVectorImpl<int64_t> &":$codebook)>,
    InterfaceMethod<"Bits per code (storage of one weight, metadata excluded).",
      "double", "getCodeBits">,
    InterfaceMethod<[{
        Packed storage in bytes of a K x N weight: codes, scales, zero points
        and codebooks.}],
      "int64_t", "getStorageBytes", (ins "int64_t":$k, "int64_t":$n)>,
    InterfaceMethod<"Short name as the --quant flag spells it (w4g128, ...).",
      "std::string", "getShortName">,
  ];
  let extraSharedClassDeclaration = [{
    /// Storage bits per weight, metadata included.
    double getBitsPerWeight(int64_t k, int64_t n) {
      return 8.0 * static_cast<double>($_attr.getStorageBytes(k, n)) /
             static_cast<double>(k * n);
    }
  }];
}

class QC_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<QC_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Uniform integer
//===----------------------------------------------------------------------===//

def QC_UniformAttr : QC_Attr<"Uniform", "uniform",
    [DeclareAttrInterfaceMethods<QC_QuantSchemeAttrInterface>]> {
  let summary = "uniform integer grid with group scales";
  let description = [{
    `w = scale[g] * (q - zero[g])` with integer codes `q` in `[0, 2^bits)`.
    Per-OC groups (`per_ic = false`, the GPTQ / MatMulNBits layout): `group`
    consecutive rows along K of one output column share a scale, scales are
    `[K / group, N]`. Per-IC groups (`per_ic = true`, AdaDim): `group`
    consecutive columns along N of one input row share a scale, scales are
    `[K, N / group]`. `group = -1` means the whole axis. Symmetric schemes
    have no zero operand; their zero point is `2^(bits-1)`.

    ```mlir
    #qc.uniform<bits = 4, group = 128, per_ic = false, symmetric = false, scale_type = f16>
    ```
  }];
  let parameters = (ins "unsigned":$bits, "int64_t":$group, "bool":$per_ic,
                        "bool":$symmetric, "::mlir::Type":$scale_type);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Binary coding
//===----------------------------------------------------------------------===//

def QC_BCQAttr : QC_Attr<"BCQ", "bcq",
    [DeclareAttrInterfaceMethods<QC_QuantSchemeAttrInterface>]> {
  let summary = "binary-coding quantization";
  let description = [{
    `w = sum_i alpha[i][g] * b_i + offset[g]` with `b_i` in `{-1, +1}`, one
    `alpha` per bit-plane per group of `group` rows along K of one output
    column. Codes hold the planes as bits (bit `i` set means `b_i = +1`),
    scales are `[planes, K / group, N]`, offsets (`offset = true`) are
    `[K / group, N]`. A uniform asymmetric `b`-bit grid is exactly a
    `b`-plane BCQ with offset.

    `stored_planes` (AnyBCQ; `planes` unless given) is how many planes the
    codes hold: the layer computes with the first `planes` of them, and a
    kernel stores all of them, so that models of 2, 3 and 4 planes of one
    AnyBCQ fit (qc-quantize `min-planes`) share their plane bytes.

    ```mlir
    #qc.bcq<planes = 3, group = 128, offset = true, scale_type = f16>
    #qc.bcq<planes = 2, group = 128, offset = true, scale_type = f16,
            stored_planes = 4>
    ```
  }];
  let parameters = (ins "unsigned":$planes, "int64_t":$group, "bool":$offset,
                        "::mlir::Type":$scale_type,
                        DefaultValuedParameter<"unsigned", "0">:$stored_planes);
  let builders = [
    AttrBuilder<(ins "unsigned":$planes, "int64_t":$group, "bool":$offset,
                     "::mlir::Type":$scale_type), [{
      return $_get($_ctxt, planes, group, offset, scale_type, 0u);
    }]>
  ];
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Planes the codes hold (`stored_planes`, else `planes`).
    unsigned getPlanesInCodes() const {
      return getStoredPlanes() ? getStoredPlanes() : getPlanes();
    }
  }];
}

//===----------------------------------------------------------------------===//
// Codebook (vector quantization)
//===----------------------------------------------------------------------===//

def QC_CodebookAttr : QC_Attr<"Codebook", "codebook",
    [DeclareAttrInterfaceMethods<QC_QuantSchemeAttrInterface>]> {
  let summary = "additive vector quantization with per-column scales";
  let description = [{
    Vectors of `vector_size` consecutive weights along K of one output column
    are coded by `books` indices into codebooks of `entries` vectors each;
    `w[k-vector, n] = scale[n] * sum_m codebook[m][code[m][k/v][n]]`. Codes
    are `[books, K / vector_size, N]`, the codebook operand is
    `[books, entries, vector_size]`, scales are `[N]`. The index width is
    `ceil(log2(entries))` bits, at most 16.

    ```mlir
    #qc.codebook<vector_size = 8, entries = 256, books = 2, scale_type = f16>
    ```
  }];
  let parameters = (ins "unsigned":$vector_size, "unsigned":$entries,
                        "unsigned":$books, "::mlir::Type":$scale_type);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Bits of one index: ceil(log2(entries)).
    unsigned getIndexBits() const;
  }];
}

//===----------------------------------------------------------------------===//
// Float formats
//===----------------------------------------------------------------------===//

def QC_FloatFormat : I32EnumAttr<"FloatFormat", "low-bit float weight format", [
    I32EnumAttrCase<"fp8e4m3", 0>,
    I32EnumAttrCase<"mxfp4", 1>,
    I32EnumAttrCase<"amxfp4", 2>,
    I32EnumAttrCase<"dint", 3>]> {
  let cppNamespace = "::qc";
  let genSpecializedAttr = 0;
}

def QC_FloatFormatAttr : QC_Attr<"FloatFormat", "float",
    [DeclareAttrInterfaceMethods<QC_QuantSchemeAttrInterface>]> {
  let summary = "low-bit floating-point weight formats";
  let description = [{
    - `fp8e4m3`: codes are FP8 E4M3 bit patterns, one f32-able scale per
      output column (`[1, N]`): `w = scale[n] * fp8(q)`.
    - `mxfp4`: OCP MX: E2M1 codes, one power-of-two (E8M0) scale per `block`
      (32) rows along K: scales `[K / block, N]`.
    - `amxfp4`: asymmetric MXFP4: two scales per block, one for the positive
      and one for the negative codes: scales `[2, K / block, N]`.
    - `dint`: `bits`-bit integer grid whose two codes nearest zero stand for
      `+-scale / 2` (denormal codes), symmetric, scales `[K / block, N]`.

    ```mlir
    #qc.float<format = mxfp4, bits = 4, block = 32>
    ```
  }];
  let parameters = (ins EnumParameter<QC_FloatFormat>:$format,
                        "unsigned":$bits, "int64_t":$block);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}


//===----------------------------------------------------------------------===//
// Activation schemes
//===----------------------------------------------------------------------===//

def QC_ActKind : I32EnumAttr<"ActKind", "how a layer's activations are quantized", [
    I32EnumAttrCase<"int8", 0>,
    I32EnumAttrCase<"int4", 1>,
    I32EnumAttrCase<"mxfp4", 2>,
    I32EnumAttrCase<"amxfp4", 3>,
    I32EnumAttrCase<"dint4", 4>,
    I32EnumAttrCase<"uint8", 5>]> {
  let cppNamespace = "::qc";
  let genSpecializedAttr = 0;
}

def QC_ActivationAttr : QC_Attr<"Activation", "act"> {
  let summary = "the activation scheme of a qc.qlinear";
  let description = [{
    How the input of a `qc.qlinear` is quantized before it meets the weight;
    a layer without one computes on its float input. Scales are dynamic:
    computed per token (a row of the flattened `[M, K]` input) from the
    values themselves, one per `block` consecutive inputs (-1: the whole
    row; a short last block takes what is left).

    - `int8`: `s = max|x| / 127` over the block, `q = roundeven(x * (127 /
      max|x|))`, the value `q * s` (0 for a block whose `max|x|` is at most 1e-30).
    - `int4`: the same with 7 for 127 (codes -7 .. 7).
    - `mxfp4`: OCP microscaling FP4, `block` = 32: a power-of-two scale
      `s = 2^(floor(log2 max|x|) - 2)` (the exponent clamped to [-126,
      126]) and each `x / s` rounded to the
      nearest FP4 E2M1 value (0, 0.5, 1, 1.5, 2, 3, 4, 6; ties to an even
      mantissa; saturating at 6), the value that times `s`.
    - `amxfp4`: asymmetric MXFP4 (AMXFP4), `block` = 32: two power-of-two
      scales per block, the mxfp4 scale of the block's largest positive
      value for the values >= 0 and that of its largest negative magnitude
      for the negative ones; each value rounded as mxfp4 on its side's
      scale. Outliers of one sign no longer flush the other side to zero.
    - `dint4`: 4-bit dINT (AQAS's denormal-aware integer): levels 0, +-1/2,
      +-1, ..., +-6 times `s = max|x| / 6`; `a = min(|x| / s, 6)` rounds to
      0 up to 1/4, to 1/2 up to 3/4, else to `ceil(a - 1/2)` (the nearer
      level, the smaller one on a tie), keeping x's sign. The two denormal
      levels +-s/2 keep the small values that int4 flushes to zero.
    - `uint8`: ONNX DynamicQuantizeLinear (onnxruntime's `quantize_dynamic`),
      one scale and zero point for the whole tensor from its values, `block`
      = -1: `lo = min(0, min x)`, `hi = max(0, max x)`, `s = (hi - lo) /
      255` (1 when that is 0), `zp = roundeven(clamp(-lo / s, 0, 255))`, `q
      = clamp(roundeven(x / s) + zp, 0, 255)`, the value `(q - zp) * s`.

    A `scale` makes int8 activations static (calibrated, or given by a
    QDQ model): one scale for the whole tensor (`block` = -1) and an
    integer `zero_point` in [-128, 127] (0 unless given), `q =
    clamp(roundeven(x / scale) + zero_point, -128, 127)` (ONNX
    QuantizeLinear's arithmetic), the value `(q - zero_point) * scale`.

    ```mlir
    #qc.act<kind = int8, block = 128>
    #qc.act<kind = int8, block = -1, scale = 2.500000e-02 : f32, zero_point = -128>
    ```
  }];
  let parameters = (ins EnumParameter<QC_ActKind>:$kind, "int64_t":$block,
                        OptionalParameter<"::mlir::FloatAttr">:$scale,
                        DefaultValuedParameter<"int64_t", "0">:$zero_point);
  let builders = [
    AttrBuilder<(ins "ActKind":$kind, "int64_t":$block), [{
      return $_get($_ctxt, kind, block, ::mlir::FloatAttr(), 0);
    }]>,
    AttrBuilder<(ins "float":$scale, "int64_t":$zeroPoint), [{
      return $_get($_ctxt, ActKind::int8, -1,
                   ::mlir::FloatAttr::get(::mlir::Float32Type::get($_ctxt),
                                          scale),
                   zeroPoint);
    }]>];
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Whether the scale is static (per tensor, given by the attribute).
    bool isStatic() const { return static_cast<bool>(getScale()); }
    /// The static scale as a float (0 when dynamic).
    float getStaticScale() const {
      return getScale() ? static_cast<float>(getScale().getValueAsDouble())
                        : 0.0f;
    }
    /// The largest code magnitude of an integer scheme (127, 7), 0 for mxfp4.
    int64_t getIntLimit() const;
    /// Short name as --act spells it: int8 (block 128 implied where the
    /// weight's group allows), int8b32, mxfp4, ...
    std::string getShortName() const;
  }];
}

//===----------------------------------------------------------------------===//
// Kernel selection
//===----------------------------------------------------------------------===//

def QC_KernelKind : I32EnumAttr<"KernelKind", "how a qc.qlinear is computed", [
    I32EnumAttrCase<"reference", 0>,
    I32EnumAttrCase<"dequant_i8", 1>,
    I32EnumAttrCase<"lut_bcq", 2>,
    I32EnumAttrCase<"codegemm", 3>,
    I32EnumAttrCase<"dequant_f32", 4>]> {
  let cppNamespace = "::qc";
  let genSpecializedAttr = 0;
}

// The name of a registered kernel target (include/qc/Codegen/KernelTarget.h:
// avx2, avx512vnni, avx512vbmi, neon, generic, ...), written as a bare
// keyword. The dialect does not know the targets: the generators look the
// name up and refuse one that is not registered.
def QC_KernelTargetName : StringRefParameter<"kernel target name"> {
  let parser = [{ [&]() -> ::mlir::FailureOr<std::string> {
    std::string name;
    if ($_parser.parseKeywordOrString(&name))
      return ::mlir::failure();
    return name;
  }() }];
  let printer = [{ $_printer.printKeywordOrString($_self); }];
}

def QC_KernelAttr : QC_Attr<"Kernel", "kernel"> {
  let summary = "the kernel qc-select-kernel chose for a qc.qlinear";
  let description = [{
    - `reference`: the dequantize-then-matmul lowering (qc-lower-qlinear).
    - `dequant_i8`: a generated kernel on int8 activations (see
      docs/kernels.md): the activations of each token are quantized to int8
      in blocks of `act_block` inputs (one f32 scale per block), the weight
      codes are unpacked in registers and multiplied with them by integer
      dot products (`isa`: AVX2 `vpmaddubsw`, AVX-512 VNNI `vpdpbusd`, NEON
      `sdot`, or plain vector ops for `generic`), and every block's integer
      sum is scaled once. `m_tile` tokens share each unpacked weight vector.
      `isa` names the kernel target (include/qc/Codegen/KernelTarget.h).
    - `dequant_f32`: the `dequant_i8` kernel's weight panels on float
      activations: per 4 rows the codes of 8 (16) columns are unpacked in
      registers, converted to f32 and multiplied with each broadcast f32
      input by FMAs; every `act_block` rows' sums are scaled once, and the
      zero points meet the f32 group sums of the input. For layers without
      an activation scheme.
    - `lut_bcq`: LUT-GEMM for binary-coding weights (see docs/kernels.md):
      per token and 4 inputs, a 16-entry table of the partial sums of their
      int8 activations (as low and high bytes), looked up with `vpshufb` by
      the 4 sign bits of 32 output columns of one bit-plane at a time.
    - `codegemm`: CodeGEMM for codebook weights: per token a psumbook of
      every centroid's inner product with each `vector_size` slice of the
      activations (f32), then per 8 output columns a gather-and-add of the
      psumbook entries their codes select (`vector.gather` for `generic`,
      scalar loads of the entries on x86 and AArch64). On `avx512vbmi`
      (AVX-512 VNNI and VBMI) codebooks of 17 to 256 entries take, for 1 to
      6 tokens, int16 psumbook tables looked up 64 columns at a time with
      `vpermi2b`;
      codebooks of at most 16 entries, on every target with byte lookups,
      take the `lut_bcq` tile kernel.

    ```mlir
    #qc.kernel<kind = dequant_i8, isa = avx2, m_tile = 4, act_block = 128>
    ```
  }];
  let parameters = (ins EnumParameter<QC_KernelKind>:$kind,
                        QC_KernelTargetName:$isa,
                        "int64_t":$m_tile, "int64_t":$act_block);
  let assemblyFormat = "`<` struct(params) `>`";
}

def QC_TargetAttr : QC_Attr<"Target", "target"> {
  let summary = "the module's kernel target (the codegen seam)";
  let description = [{
    Set on the module by `qc-set-target` (qc-compile's kernel stage): the
    kernel target every generated kernel of the module is emitted for
    (`isa`, a registered KernelTarget), the LLVM features its kernel
    functions carry, its vector width in bits, and the threads the runtime
    splits a kernel over (0: the runtime's choice, QCRT_NUM_THREADS).
    `qc-select-kernel` takes its target from here when the module has one.

    ```mlir
    module attributes {qc.target = #qc.target<isa = avx2, features = "+avx2,+fma", vector_bits = 256, threads = 0>}
    ```
  }];
  let parameters = (ins QC_KernelTargetName:$isa,
                        StringRefParameter<"LLVM target features">:$features,
                        "int64_t":$vector_bits, "int64_t":$threads);
  let assemblyFormat = "`<` struct(params) `>`";
}

def QC_ActKindParameter : EnumParameter<QC_ActKind> {
  let defaultValue = "::qc::ActKind::int8";
}

def QC_KernelShapeAttr : QC_Attr<"KernelShape", "kernel_shape"> {
  let summary = "what a generated kernel function depends on";
  let description = [{
    Set by the kernel generators (qc-gen-dequant-gemm, qc-gen-lut-gemm,
    qc-gen-codegemm) on the functions they declare, read and removed by
    qc-emit-kernels, which gives them their bodies: `m` tokens, `k` inputs,
    `n` outputs, `bits` (code bits, bit-planes, or for CodeGEMM codebooks),
    `group` (rows per weight group; CodeGEMM: the vector size),
    `act_block` (inputs per activation block; CodeGEMM: the entries), the
    token tile `m_tile`, the kernel target `isa`, `row_scale` (one int8
    scale per token, shared by its blocks; printed only when set) and `act`,
    the activations' codes: int8 (the default, not printed), int4 (codes
    -7 .. 7 on max / 7) or mxfp4 (twice the E2M1 values, -12 .. 12, on half
    the block's power-of-two scale), and `stored_planes` (LUT-GEMM: planes
    stored per chunk when it reads only the first `bits` of them, an AnyBCQ
    layer; 0, not printed, when they are `bits`) and `gathered` (dequant_i8:
    the activations are an int8 image whose rows the kernel gathers itself,
    a convolution's im2col view; printed only when set).

    ```mlir
    #qc.kernel_shape<m = 1, k = 512, n = 37, bits = 4, group = 128, act_block = 128, m_tile = 1, isa = avx2>
    ```
  }];
  let parameters = (ins "int64_t":$m, "int64_t":$k, "int64_t":$n,
                        "int64_t":$bits, "int64_t":$group, "int64_t":$act_block,
                        "int64_t":$m_tile, QC_KernelTargetName:$isa,
                        DefaultValuedParameter<"bool", "false">:$row_scale,
                        QC_ActKindParameter:$act,
                        DefaultValuedParameter<"int64_t", "0">:$stored_planes,
                        DefaultValuedParameter<"bool", "false">:$gathered);
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // QC_ATTRS_TD
