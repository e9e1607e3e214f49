//===- Passes.td - qc graph transformation passes ----------*- tablegen -*-===//

#ifndef QC_TRANSFORMS_PASSES_TD
#define QC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def RaiseLinearPass : Pass<"qc-raise-linear", "mlir::func::FuncOp"> {
  let summary = "Raise matmuls with a constant weight to qc.linear";
  let description = [{
    Finds `linalg.matmul` whose right-hand side is a constant weight `[K, N]`
    (as the ONNX importer emits for MatMul and Gemm nodes), looking through
    the `tensor.collapse_shape` / `tensor.expand_shape` pair that flattens the
    leading input dimensions, and replaces the group by one `qc.linear` on the
    original input. The layer name is taken from the op's location (the ONNX
    node name). Matmuls whose weight is computed at run time are left alone.

    With `convs`, an ungrouped 2-D convolution (`linalg.conv_2d_nchw_fchw`)
    with a constant f32 filter `[F, C, kh, kw]` becomes a linear layer on
    its im2col view: a `linalg.generic` gathers `[N, OH, OW, C * kh * kw]`
    from the (padded) input, `qc.linear` multiplies it by the filter as
    `[C * kh * kw, F]` (the constant `<layer>.im2col`), and one elementwise
    generic transposes the `[N, OH, OW, F]` result back to NCHW while adding
    the convolution's init (its bias, or zeros). An ungrouped 1-D
    convolution (`linalg.conv_1d_ncw_fcw`) is raised as the 2-D one of a
    1-high image (its input and init expanded to `[N, C, 1, W]`, the result
    collapsed back). Grouped and depthwise convolutions (imported as a
    generic) stay as they are.
  }];
  let options = [
    Option<"convs", "convs", "bool", /*default=*/"false",
           "also raise 1-D and 2-D convolutions with a constant filter (im2col)">,
  ];
  let dependentDialects = ["::qc::QCDialect"];
  let statistics = [
    Statistic<"numRaised", "num-raised", "Number of layers raised to qc.linear">
  ];
}

def QuantizePass : Pass<"qc-quantize", "mlir::ModuleOp"> {
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
    - `algo=gptq`: GPTQ on the calibration statistics in `stats` (a
      qc-calibrate file; every quantized layer needs an entry) for uniform
      schemes (per-OC and per-IC groups; `act-order`, `damp`) and BCQ (the
      BCQ projector); other schemes fall back to RTN, said in the report.
      `two-stage` adds the two-stage group-scale optimization for uniform
      schemes: Hessian-weighted scale initialization before GPTQ and
      closed-form coordinate descent on the scales after it (using the
      cross statistics when the file has them).

    `scheme` is the default scheme by short name (`w4g128`, `w3g128ic`,
    `bcq3g128`, `cb2x8`, `mxfp4`, ...). `overrides` assigns schemes by
    layer-name regex (`PATTERN=SCHEME`, first match wins) and `exclude`
    leaves matching layers in float. A scheme that does not fit a layer's
    shape, or a pattern that matches no layer, is an error.

    `act` gives every quantized layer its activation scheme (#qc.act) by
    the name `qc::activationFor` reads: `auto` (the default: int8 in
    blocks the weight group allows for uniform and BCQ weights, float for
    the others), `f32`, `int8`, `int8t`, `int8b<B>`, `int4`, ..., `dint4`,
    `dint4t`, `dint4b<B>`, `mxfp4`, `amxfp4`,
    `int8s`: static per-tensor int8, the scale max |x| / 127 over the
    layer's calibration inputs (`stats`, needed then).

    `min-planes=M` (AnyBCQ, BCQ schemes, algo=rtn): one fit per layer
    serves every precision from M planes to the scheme's P
    (quant::fitAnyBCQ); the layer computes with `planes` of them (P unless
    given) and its codes hold all P (`#qc.bcq<..., stored_planes = P>`), so
    modules quantized with the same M and different `planes` share their
    plane bytes.

    Each quantized layer gets a `qc.report` dictionary: scheme, activation
    scheme, bits per weight, bytes, the weight MSE and the output MSE on
    random inputs.
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
           "quantization algorithm: rtn, gptq, boa (GPTQ; BoA for the "
           "layers with attention statistics), turboboa or aespa">,
    Option<"stats", "stats", "std::string", /*default=*/"\"\"",
           "calibration statistics file (qc-calibrate) for algo=gptq">,
    Option<"twoStage", "two-stage", "bool", /*default=*/"false",
           "two-stage group-scale optimization around GPTQ">,
    Option<"inputCorrection", "input-correction", "bool",
           /*default=*/"false",
           "quantize towards the weights that undo the error of the "
           "quantized inputs (needs cross statistics)">,
    Option<"actOrder", "act-order", "bool", /*default=*/"false",
           "GPTQ in decreasing order of the Hessian diagonal">,
    Option<"damp", "damp", "double", /*default=*/"0.01",
           "GPTQ damping, relative to the mean Hessian diagonal">,
    Option<"act", "act", "std::string", /*default=*/"\"auto\"",
           "activation scheme of the quantized layers: auto, f32, int8, "
           "int8t, int8b<B>, int4, int4t, int4b<B>, dint4, dint4t, "
           "dint4b<B>, mxfp4, amxfp4, int8s">,
    Option<"minPlanes", "min-planes", "unsigned", /*default=*/"0",
           "AnyBCQ: fit BCQ layers for every precision from this many "
           "planes to the scheme's (0: plain BCQ)">,
    Option<"planes", "planes", "unsigned", /*default=*/"0",
           "AnyBCQ: the precision (planes) this module computes with "
           "(0: all of the scheme's)">,
    Option<"progress", "progress", "bool", /*default=*/"false",
           "show layer i of n on stderr when it is a terminal">,
  ];
  let dependentDialects = ["::qc::QCDialect", "::mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numQuantized", "num-quantized", "Number of layers quantized">
  ];
}

def SetActivationsPass : Pass<"qc-set-activations", "mlir::ModuleOp"> {
  let summary = "Give every qc.qlinear the activation scheme a name says";
  let description = [{
    Sets the `act` of every `qc.qlinear` to what `qc::activationFor` makes
    of `act` and the layer's weight scheme (`auto`, `f32`, `int8`, `int8t`,
    `int8b<B>`, `int4`, ..., `mxfp4`; see qc-quantize), replacing what the
    layer had: qc-compile's `--act` for layers imported already quantized
    (MatMulNBits, DequantizeLinear, GGUF). A layer whose kernel is already
    chosen is an error (the kernel computes the scheme it was chosen for).
  }];
  let options = [
    Option<"act", "act", "std::string", /*default=*/"\"auto\"",
           "activation scheme name">,
  ];
  let dependentDialects = ["::qc::QCDialect"];
  let statistics = [
    Statistic<"numSet", "num-set", "Number of layers given the scheme">
  ];
}

def SmoothPass : Pass<"qc-smooth", "mlir::ModuleOp"> {
  let summary = "SmoothQuant: migrate activation outliers into the weights";
  let description = [{
    For each value read by `qc.linear` layers with constant f32 weights,
    divides input channel j by `s_j = max|x_j|^alpha / max_n |W[j, n]|^(1 -
    alpha)` (clamped to [1e-4, 1e4]; max |x_j| from the calibration
    statistics in `stats`, the weight maximum over every layer reading the
    value) and multiplies row j of each layer's weight by it: the float
    model computes the same, and the activations' outlier channels are
    flattened before they are quantized. The division is folded into the
    producer: an elementwise `linalg.generic` (a normalization's last step)
    yielding `t * gamma` or `t * gamma + beta` with gamma and beta
    constants along the last dimension, reached through reshapes that keep
    that dimension, and read only by the smoothed layers. Other values (a
    residual also reads them, another producer) are left unsmoothed, said
    in a remark with `remarks`. Run before qc-quantize; statistics for
    GPTQ must be gathered on the smoothed model.
  }];
  let options = [
    Option<"stats", "stats", "std::string", /*default=*/"\"\"",
           "calibration statistics file (qc-calibrate) of the float model">,
    Option<"alpha", "alpha", "double", /*default=*/"0.5",
           "migration strength in (0, 1]">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "report each value smoothed or left as a remark">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numSmoothed", "num-smoothed", "Number of values smoothed">,
    Statistic<"numSkipped", "num-skipped",
              "Number of values left (no foldable producer)">
  ];
}

def RotatePass : Pass<"qc-rotate", "mlir::ModuleOp"> {
  let summary = "Hadamard rotations that spread activation outliers (QuaRot)";
  let description = [{
    Rotates the residual stream of a pre-norm (RMSNorm) transformer by a
    randomized Hadamard matrix T (T T^T = I; see qc/Quant/Hadamard.h) and
    folds T into the weights, so that the float model computes the same
    while every layer reading the stream sees activations whose outliers
    are spread over all channels: the token embedding table becomes E T,
    every `qc.linear` writing into the stream (added to it) W T, every
    layer reading it T^T diag(gamma) W, the RMSNorm's gamma folded into
    those readers (an RMSNorm without gamma commutes with T). The stream is
    traced from the embedding gather through reshapes that keep the last
    dimension, residual adds, the norm's sum of squares and its division by
    a per-token value; anything else reading it (a mean, a model output, a
    LayerNorm) leaves the stream as it is, said in a warning.

    With `online` (the default), each other layer with a constant weight
    (attention output, MLP down projection) gets an online rotation of its
    input, x T, generated as a fast Walsh-Hadamard transform (sign flips,
    log2 butterfly stages, an m x m mix when K = m * 2^n), and T^T W.
    Layers whose K has no Hadamard factor of order <= 256 are left.

    Run on the float model before calibration and quantization.
  }];
  let options = [
    Option<"seed", "seed", "uint64_t", /*default=*/"0",
           "seed of the random signs">,
    Option<"online", "online", "bool", /*default=*/"true",
           "rotate the inputs of layers off the residual stream online">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "report each rotation as a remark">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
  let statistics = [
    Statistic<"numStreams", "num-streams", "Number of residual streams rotated">,
    Statistic<"numFolded", "num-folded",
              "Number of layers whose weights took the stream's rotation">,
    Statistic<"numOnline", "num-online", "Number of layers rotated online">
  ];
}

def InsertObservePass : Pass<"qc-insert-observe", "mlir::ModuleOp"> {
  let summary = "Insert calibration taps on the inputs of qc.linear layers";
  let description = [{
    Puts one `qc.observe` on every distinct f32 input of `qc.linear` ops
    (layers that read the same value share the tap), right after the value
    is defined, numbered in program order from 0. Layers matching `exclude`
    (regexes on the layer name) get no tap.

    With `attention`, the statistics BoA (`algo=boa`) needs are tapped too
    (qc/Transforms/AttentionTaps.h): for every attention score product
    `linalg.batch_matmul(Q~, K~^T)` whose operands each come from one
    `qc.linear` reading the same input, the post-rotary queries and keys
    as rows of all heads of a position (taps named `LAYER#boa-row/D/H`),
    and the tables of a rotate-half rotary embedding on the queries as rows
    `[cos_t, sin_t]` (`LAYER#boa-rope`). These taps follow the others.
  }];
  let options = [
    ListOption<"exclude", "exclude", "std::string",
               "layer-name regexes that get no tap">,
    Option<"attention", "attention", "bool", /*default=*/"false",
           "also tap attention score products (BoA's statistics)">,
  ];
  let dependentDialects = ["::qc::QCDialect", "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def StripObservePass : Pass<"qc-strip-observe", "mlir::ModuleOp"> {
  let summary = "Remove every qc.observe calibration tap";
}

def AssignPrecisionPass : Pass<"qc-assign-precision", "mlir::ModuleOp"> {
  let summary = "Choose a scheme per layer under a bits-per-weight budget";
  let description = [{
    For every `qc.linear` and every candidate scheme, estimates the layer's
    relative output error from the calibration statistics (`stats`): the
    Hessian-weighted error sum_n (w_n - w^_n)^T H (w_n - w^_n) of the
    candidate's round-to-nearest quantization over the layer's output energy
    sum_n w_n^T H w_n (an inverse output SNR; absolute errors would favour
    cutting the early layers, whose outputs are small). Then
    it picks one candidate per layer minimizing the summed error subject to
    the budget on the average bits per weight (storage bits of codes,
    scales and zero points over all assigned layers' weights): start from
    the cheapest candidate everywhere and repeatedly take the upgrade with
    the best error reduction per added bit that still fits (greedy
    exchange on the convex hull of each layer's error/bits curve).

    The choice is written to each layer as a `qc.scheme` string attribute,
    which `qc-quantize` honours ahead of its own defaults (but after its
    `exclude`), and as a recipe file (`recipe`, JSON in the qc-compile
    `--recipe` format) that a user can read and edit. Layers matching
    `exclude` are not assigned and not counted. A budget below the cheapest
    candidate, a missing statistic or an unknown scheme is an error.
  }];
  let options = [
    Option<"budget", "budget", "double", /*default=*/"0.0",
           "average bits per weight allowed (required)">,
    ListOption<"candidates", "candidates", "std::string",
               "candidate schemes (default w2g64,w3g128,w4g128,w8g128)">,
    Option<"stats", "stats", "std::string", /*default=*/"\"\"",
           "calibration statistics file (qc-calibrate)">,
    Option<"recipe", "recipe", "std::string", /*default=*/"\"\"",
           "where to write the chosen schemes as a recipe (optional)">,
    ListOption<"exclude", "exclude", "std::string",
               "layer-name regexes left out of the assignment">,
  ];
  let dependentDialects = ["::qc::QCDialect"];
}

def SetTargetPass : Pass<"qc-set-target", "mlir::ModuleOp"> {
  let summary = "Record the module's kernel target (#qc.target)";
  let description = [{
    Resolves `target` (`host` or a kernel target's `--target` value, as
    `qc-select-kernel` takes it) and records the result on the module as
    `qc.target = #qc.target<isa = ..., features = ..., vector_bits = ...,
    threads = ...>`, the one place later stages read the target from. An
    unknown target is an error naming the accepted values.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "host | x86-64-v3 | x86-64-v4 | x86-64-v4-vnni | x86-64-v4-vbmi | "
           "aarch64 | generic">,
    Option<"threads", "threads", "int64_t", /*default=*/"0",
           "threads a kernel is split over (0: the runtime's choice)">,
  ];
  let dependentDialects = ["::qc::QCDialect"];
}

def SelectKernelPass : Pass<"qc-select-kernel", "mlir::func::FuncOp"> {
  let summary = "Choose the kernel and its parameters for each qc.qlinear";
  let description = [{
    Sets the `kernel` attribute of each `qc.qlinear` from its scheme, its
    activation scheme (`act`), shape, token count and the target. Uniform
    per-output-channel weights of 2, 3 or 4 bits whose group is a multiple
    of 32 (or the whole column), with static shapes, get `dequant_f32` when
    their activations are float (no `act`; 8-bit codes too), and with int8
    activations in blocks the kernel can take (whole 32-row blocks inside
    one weight group) `dequant_i8` (`m_tile` tokens per pass over the
    weights), or
    with `uniform-lut` (not on `generic`), `lut_bcq` through their exact
    binary-coding form (w = s (q - z) = sum_i s 2^(i-1) b_i + s ((2^bits -
    1) / 2 - z), b_i = +-1 the bits of q). Binary-coding weights of up to 4
    planes with such groups and int8 activations in blocks of
    `gcd(group, 128)` get `lut_bcq` (LUT-GEMM; x86 and AArch64), codebooks
    of at most 256 entries (a multiple of 8) on float activations get
    `codegemm`; every other layer (int4 and MXFP4 activations among them)
    keeps the `reference` lowering. With `remarks`, each
    decision is reported as a remark naming the layer.

    `target`: `host` (the features of this machine: AVX-512 VNNI with VBMI,
    AVX-512 VNNI, AVX2, or NEON dot product), `x86-64-v3` (AVX2),
    `x86-64-v4` (AVX-512; its int8 dot products are AVX2's, VNNI is not part
    of the level), `x86-64-v4-vnni`, `x86-64-v4-vbmi` (VNNI and VBMI: Ice
    Lake and later), `aarch64` (NEON with dot product) or `generic`
    (portable vector ops). A module with a `qc.target` attribute
    (`qc-set-target`) gives its target instead, whatever `target` says.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "host | x86-64-v3 | x86-64-v4 | x86-64-v4-vnni | x86-64-v4-vbmi | "
           "aarch64 | generic">,
    Option<"mTile", "m-tile", "int64_t", /*default=*/"0",
           "tokens that share one unpacked weight vector (1-8; 0: by "
           "target, 8 for AVX-512 VNNI, 4 elsewhere)">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "report each decision as a remark">,
    Option<"uniformLut", "uniform-lut", "bool", /*default=*/"false",
           "give uniform layers LUT-GEMM through their BCQ form">,
  ];
  let dependentDialects = ["::qc::QCDialect"];
}

def LayoutPass : Pass<"qc-layout", "mlir::func::FuncOp"> {
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

def HoistVectorTransfersPass : Pass<"qc-hoist-vector-transfers", "mlir::func::FuncOp"> {
  let summary = "Keep accumulator tiles in registers across reduction loops";
  let description = [{
    After bufferization, moves loop-invariant `vector.transfer_read` /
    `vector.transfer_write` pairs (the accumulator of a tiled contraction) out
    of the loops that carry them, so that the reduction runs in registers.
  }];
}

def ChannelsLastPass : Pass<"qc-channels-last", "mlir::func::FuncOp"> {
  let summary = "Store 4-D activations channels-last where that removes transposes";
  let description = [{
    Decides, for each group of 4-D tensors that must share a layout (a
    generic's result and its init, a fill's, a constant pad's source and
    result), whether to store it NCHW as it came or with its dimensions
    permuted [0, 2, 3, 1] (NHWC), and rewrites the generics, fills, pads
    and `tensor.empty` ops accordingly. A group read or written by any other
    op (a kernel call's buffer, a reshape, a return, a function argument)
    keeps its layout. The choice minimizes the elements generics read across
    their innermost loop (a transposing access); it starts from every
    permutable group permuted, undoes permutations that alone raise that
    count, and applies the result only if it is lower than the input's.
    Generics with a permuted operand get their loops in the output's order,
    reductions before the output's innermost dimension. Each element is
    computed from the same operands in the same order: results are bitwise
    unchanged. For pixel-major convolution kernels ([pixels, channels]
    results) the residual stream of a CNN becomes NHWC, with no transpose
    between layers. Runs after elementwise fusion, before
    qc-parallelize-generics.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
  let statistics = [
    Statistic<"numPermuted", "num-permuted", "Groups of tensors stored channels-last">
  ];
}

def ParallelizeGenericsPass : Pass<"qc-parallelize-generics", "mlir::func::FuncOp"> {
  let summary = "Give large elementwise and row-reduction ops to the runtime's threads";
  let description = [{
    Tiles each top-level `linalg.generic` on tensors of at least
    `min-elements` iterations by one along its outermost parallel dimension
    of two or more (unless that is its innermost loop: an iteration keeps
    whole rows; by 16 where an input holds that dimension innermost and 16
    divides it, so that a transpose keeps qc-vectorize-elementwise's square
    tiles), and marks the loop `qc.parallel_loop`: after
    bufferization qc-outline-kernels makes it a kernel over an iteration
    range and qc-parallel-calls splits the range over the thread pool.
    Softmax, layer norms and activations (reductions along an inner
    dimension) split this way; generics whose only parallel dimensions are
    of size one stay whole. Runs after elementwise fusion, so that fused
    chains split as one.

    A `tensor.pad` of at least `min-elements` result elements with a
    constant padding value becomes such generics first (ones filling the
    border of the padded tensor, and one copying the source into its
    interior, in place through extract / insert_slice; where the source is
    a generic's result that only the pad uses, computed into a
    `tensor.empty` it does not read, that generic writes the interior
    itself and there is no copy): bufferized as it is, a pad is a fill and
    a `memref.copy` on one thread.
  }];
  let options = [
    Option<"minElements", "min-elements", "int64_t", /*default=*/"32768",
           "iterations a generic needs to be split (0: none is)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def PackLinearWeightsPass : Pass<"qc-pack-linear-weights", "mlir::func::FuncOp"> {
  let summary = "Store float linear weights in panels of the register tile's width";
  let description = [{
    Rewrites the constant `[K, N]` weight of each float `qc.linear` into
    panels of P output columns, `[N / P, K, P]` (`panel P` on the op), so that
    the register-tiled matmul reads each panel front to back instead of K
    rows N floats apart. P defaults to the register tile's width for the
    module's `#qc.target` (two vector registers). Layers whose N is not a
    multiple of P, or is P or less, and weights that are not constants keep
    their layout. The weight's bytes are rearranged at compile time: the
    artifact stores the packed weight and no copy of the original.
  }];
  let options = [
    Option<"panel", "panel", "int64_t", /*default=*/"0",
           "columns per panel (0: the register tile's width for the target)">,
  ];
  let statistics = [
    Statistic<"numPacked", "num-packed", "float linear weights packed">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def ConvChannelMajorPass : Pass<"qc-conv-channel-major", "mlir::func::FuncOp"> {
  let summary = "Compute float convolution layers as filter x transposed im2col";
  let description = [{
    Rewrites each float `qc.linear` that qc-raise-linear{convs} made of a
    batch-1 convolution (input: the im2col gather `[1, OH, OW, C, kh, kw]`,
    collapsed; only user: the generic that transposes the result to NCHW
    and adds the convolution's init) into
    `linalg.matmul(W [F, C * kh * kw], cols [C * kh * kw, OH * OW])`
    accumulating into the init collapsed to `[F, OH * OW]`, where `cols` is
    the gather with its loops reordered so that each row is one input
    channel's shifted window (`<layer>.rows` holds the filter's rows). The
    product is the NCHW output: no transpose, the bias is the accumulator's
    start, and the gather copies runs of pixels. A 1x1 window with unit
    strides and no padding reads the input itself. Quantized layers
    (`qc.qlinear`), layers with a bias or panel-packed weights,
    convolutions of batch > 1 and those with fewer than `min-pixels` output
    pixels are left alone: the pixels are the register tile's vector
    columns here, and a small image (7x7 = 49) leaves a ragged last tile,
    where the pixel-major layer's rows are cheaper. Runs before
    qc-pack-linear-weights.
  }];
  let options = [
    Option<"minPixels", "min-pixels", "int64_t", /*default=*/"128",
           "smallest OH * OW computed channel-major">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten",
              "convolution layers computed channel-major">,
  ];
}

def Im2colNhwcPass : Pass<"qc-im2col-nhwc", "mlir::func::FuncOp"> {
  let summary = "Gather pixel-major convolution layers' rows from an NHWC "
                "copy of the input";
  let description = [{
    A convolution layer (`qc.linear` or `qc.qlinear` on the im2col view
    qc-raise-linear{convs} or the QDQ import made, `[N, OH, OW, C * kh *
    kw]`) computed pixel-major gathers each row (c, i, j) from the NCHW
    input: kh * kw values H * W apart per channel (vector gathers and
    scatters). This pass rewrites the view to gather rows ordered (i, j, c)
    from an NHWC copy of the input (one transposing pass over the input,
    not over the view) and permutes the layer's weight rows to match at
    compile time, so that each row is kh * kw contiguous runs of C values.
    Quantized layers qualify when the permutation leaves them the same
    layer: canonical uniform codes with one scale per output column, and
    activations quantized per tensor or per whole row. Layers with fewer
    than `min-channels` input channels (an RGB stem: runs of 3) keep the
    NCHW gather. Runs after qc-conv-channel-major (whose layers it does not
    see) and before the kernel generators.
  }];
  let options = [
    Option<"minChannels", "min-channels", "int64_t", /*default=*/"16",
           "fewest input channels gathered from NHWC">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten",
              "convolution layers gathered from NHWC">,
  ];
}

def FullRankTransferWritesPass
    : Pass<"qc-full-rank-transfer-writes", "mlir::func::FuncOp"> {
  let summary = "Give partial vector writes at the origin the tensor's rank "
                "(a bufferization workaround)";
  let description = [{
    One-shot bufferization asks a `vector.transfer_write` on a tensor whether
    it reads its destination, and MLIR 22 answers "no" when the indices are
    zero and the (tensor, vector) sizes zipped from the leading dimensions
    all have the vector's at least as large. With a vector of lower rank
    than the tensor the pairs are misaligned (`vector<16xf32>` at [0, 0] of
    `tensor<1x88xf32>` compares 1 with 16), so a destination bufferized out
    of place is not copied into its new buffer and the part the write does
    not cover is garbage. Each such write (static tensor, no mask, minor
    identity map, zero indices, partial coverage the zip misses) gets the
    tensor's rank: its vector is shape-cast with leading unit dimensions and
    written with the identity map, which the check reads right. Runs just
    before `one-shot-bufferize`.
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect"];
  let statistics = [
    Statistic<"numExpanded", "num-expanded", "writes given the tensor's rank">,
  ];
}

def OutlineWeightsPass : Pass<"qc-outline-weights", "mlir::ModuleOp"> {
  let summary = "Turn dense_resource weight constants into entry arguments";
  let description = [{
    Every `arith.constant` holding a `dense_resource` blob in the entry
    function becomes a trailing argument of that function, marked with
    `qc.weight = "<resource key>"` and read-only for bufferization. The ahead
    of time compiler stores those blobs in the weights file and the runtime
    passes them in, so the shared object holds code only.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"main\"", "entry function name">,
  ];
}

def OutlineKernelsPass : Pass<"qc-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Move each loop nest of the entry function into its own function";
  let description = [{
    After bufferization, every top-level operation of the entry function that
    holds a region and produces no value (a linalg op on buffers, an scf.for
    nest) moves into a private function `<entry>_kernel<N>` that the entry
    calls, marked `noinline`. The entry becomes a sequence of allocations,
    views and calls. This keeps each function small for LLVM (whose loop
    passes are superlinear in function size) and names every kernel.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"main\"", "entry function name">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::func::FuncDialect"];
}

def KVCacheFormatPass : Pass<"qc-kv-cache", "mlir::ModuleOp"> {
  let summary = "Store the key-value caches of qc.cached_attention in a "
                "given format";
  let description = [{
    Gives the caches of every `qc.cached_attention` the storage `format`
    (f32, f16, int8, int4 or mikv; dialects/QC/IR/KVCache.h; mikv also
    marks the op `mixed_precision`): the caches'
    argument and result types of the function change with the op's, so a
    decoder's state inputs and outputs take the new format. A cache that is
    not an argument of the function used by the op alone, an updated cache
    used by anything but the function's return, a function that is called
    (its callers would keep the old types) and a head size the int formats
    cannot group, or a cache shorter than mikv's 16 positions, are errors.

    Example: `--qc-kv-cache=format=int8` turns
    `tensor<1x2x32x64xf32>` caches into `tensor<1x2x32x80xi8>`.
  }];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"f32\"",
           "the caches' storage: f32, f16, int8, int4 or mikv">,
  ];
}

def DropStateResultsPass : Pass<"qc-drop-state-results", "mlir::ModuleOp"> {
  let summary = "Remove the results that return a state argument's buffer";
  let description = [{
    After bufferization: a function marked `qc.state_results = array<i64:
    r0, a0, r1, a1, ...>` returns, as result `r`, the state it read as
    argument `a` (a key-value cache the function updates in place). Each
    such result must now be argument `a`'s buffer itself (through casts);
    the pass removes it from the function, so that the caller's buffer is
    the only copy. A result that bufferization could not place in the
    argument's buffer is an error: the update would otherwise be lost.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def DistinctResultsPass : Pass<"qc-distinct-results", "mlir::ModuleOp"> {
  let summary = "Copy each buffer a function returns more than once";
  let description = [{
    After bufferization, before `buffer-results-to-out-params`: a
    `func.return` whose operands name one memref more than once (two graph
    outputs made equal by CSE, or one value named twice as an output) gets
    a fresh `memref.alloc` and a `memref.copy` for each repeat, so that every
    result can move into a caller's buffer of its own.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def ParallelCallsPass : Pass<"qc-parallel-calls", "mlir::ModuleOp"> {
  let summary = "Run calls of qc.parallel kernels on the runtime's threads";
  let description = [{
    On the LLVM dialect: every call of a function marked `qc.parallel =
    <align>`, whose last two arguments are the `i64` bounds of the rows it
    computes, becomes a call of `qcrt_parallel_for(task, ctx, begin, end,
    align)`. The other arguments go into a struct on the caller's stack and
    a generated trampoline `<kernel>.task(ctx, begin, end)` passes them on.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // QC_TRANSFORMS_PASSES_TD
