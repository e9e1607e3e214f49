//===- Passes.td - qc lowering passes ----------------------*- tablegen -*-===//

#ifndef QC_CONVERSION_PASSES_TD
#define QC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerLinearPass : Pass<"qc-lower-linear", "mlir::func::FuncOp"> {
  let summary = "Lower qc.linear to linalg.matmul on tensors";
  let description = [{
    Replaces every `qc.linear` by the flatten / `linalg.matmul` / unflatten
    sequence (plus a broadcast add for the bias). This ends the qc phase of
    the pipeline: afterwards no `qc` op remains, and the pass fails if one
    does.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def LowerHadamardPass : Pass<"qc-lower-hadamard", "mlir::ModuleOp"> {
  let summary = "Lower qc.hadamard to linalg or to a generated kernel";
  let description = [{
    The reference lowering (default) builds the rotation from linalg
    generics on tensors: the signs, one generic per butterfly stage over a
    `[..., M, P / 2s, 2, s]` view, and the M x M mix as a contraction.

    With `kernels`, each `qc.hadamard` becomes a call of a generated,
    threaded kernel over the rows of the flattened `[R, K]` input
    (qc/Codegen/CPUKernels.h): per row, one pass that multiplies the signs
    and runs the butterflies of the smallest strides inside 8-lane vectors
    (shuffles), the larger strides on the row while it is in cache, then
    the mix. The arithmetic is the reference's, operation for operation.
  }];
  let options = [
    Option<"kernels", "kernels", "bool", /*default=*/"false",
           "generate the row kernel instead of the linalg reference">
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def LowerAttentionPass : Pass<"qc-lower-attention", "mlir::ModuleOp"> {
  let summary = "Lower qc.cached_attention to cache writes and a generated "
                "attention kernel";
  let description = [{
    Replaces every `qc.cached_attention` by two `tensor.insert_slice`s that
    write the step's keys and values into the caches at the run-time
    position `past` (clamped to `[0, T - S]`), and a call of a generated,
    threaded attention kernel (qc/Codegen/CPUKernels.h) that reads the
    updated caches through read-only buffers and writes the result into a
    new buffer. A cache that is an argument of the function and returned by
    it is updated in place by bufferization; `qc-drop-state-results` then
    removes the returned copy.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::math::MathDialect"];
}

def LowerObservePass : Pass<"qc-lower-observe", "mlir::ModuleOp"> {
  let summary = "Lower qc.observe taps to calls of the runtime observer";
  let description = [{
    Replaces every `qc.observe` of a `[..., K]` tensor by a flattening to
    `[M, K]`, a read-only `bufferization.to_buffer` and a call of the
    external function `qcrt_observe(i64 tap, memref<?x?xf32, strided>)`,
    which libqcrt provides and forwards to the observer the calling thread
    registered (qcrt_set_observer).
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def LowerQLinearPass : Pass<"qc-lower-qlinear", "mlir::func::FuncOp"> {
  let summary = "Reference lowering of qc.qlinear: dequantize, then qc.linear";
  let description = [{
    Replaces every `qc.qlinear` by a `linalg.generic` that dequantizes its
    canonical operands into a float `[K, N]` weight at run time (the scheme's
    formula, one element at a time), followed by a `qc.linear` on that
    weight. Every scheme compiles and runs this way; it is the numerical
    reference the generated low-bit kernels are checked against, not a fast
    path.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def TileAndVectorizePass : Pass<"qc-tile-and-vectorize", "mlir::func::FuncOp"> {
  let summary = "Tile contractions for registers and caches, then vectorize";
  let description = [{
    Tiles `linalg.matmul` and `linalg.batch_matmul` (and other contraction
    `linalg.generic`s) into register-sized tiles and vectorizes them, so that
    the lowered code uses vector FMAs instead of scalar triple loops.
    Depthwise convolutions (the importer's grouped-convolution generic with
    one channel per group) are tiled by channel, output row and a register
    tile's width of pixels, the window's taps innermost; each tile drops its
    unit loops and becomes a vector multiply-add of a shifted input row
    (strided rows are read through strided slices).
    A `linalg.matmul` whose only reader is a pointwise `linalg.generic`
    (identity maps: an activation, a residual add; directly or through the
    `tensor.expand_shape` back to an image) is tiled with that reader: the
    reader (and the pointwise generics after it that only it reads) is tiled
    by register tiles, each computing the matmul's tile first, its initial
    value (a bias broadcast) included, so that the activation applies to the
    accumulators in registers instead of in a pass over memory of its own.
    The outermost tile loop (the batch of a batch_matmul, else the column
    panels) of a large enough contraction is marked `qc.parallel_loop`:
    `qc-outline-kernels` makes it a kernel the runtime splits over its
    threads.
  }];
  let options = [
    Option<"tileM", "tile-m", "int64_t", /*default=*/"0",
           "rows per register tile (0: the module's #qc.target's, 6 without "
           "one)">,
    Option<"tileN", "tile-n", "int64_t", /*default=*/"0",
           "columns per register tile (0: the module's #qc.target's, three "
           "vector registers on AVX-512, two elsewhere, 16 without one)">,
    Option<"tileK", "tile-k", "int64_t", /*default=*/"1", "reduction depth per step">,
    Option<"tileKc", "tile-kc", "int64_t", /*default=*/"0",
           "largest K block of a panel contraction (0: the rows of a panel "
           "that fit in 16 KiB)">,
    Option<"parallelMinMacs", "parallel-min-macs", "int64_t",
           /*default=*/"262144",
           "mark the outermost tile loop of a contraction with at least this "
           "many multiply-adds as parallel (qc.parallel_loop); 0: never">,
    Option<"epilogues", "epilogues", "bool", /*default=*/"true",
           "tile a matmul together with the pointwise generic that reads it">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::tensor::TensorDialect"];
}

def VectorizeElementwisePass
    : Pass<"qc-vectorize-elementwise", "mlir::func::FuncOp"> {
  let summary = "Elementwise linalg.generics as explicit vector code";
  let description = [{
    Rewrites each elementwise `linalg.generic` (static shapes, every loop
    parallel, every operand indexed by a projected permutation in which the
    innermost loop is the last index or absent: elementwise maps,
    broadcasts, fills, reshuffles of outer dimensions) into vector code:
    the trailing loops that every operand holds contiguously are collapsed
    into one, that loop is tiled by two vector registers of its widest
    element type (the remainder peeled into one shorter tile), the other
    loops by 1, and each tile is vectorized (`vector.transfer_read`,
    elementwise vector ops, `vector.transfer_write`; the reads fold the
    tiles' input slices, one-element transfers become `tensor.extract` /
    `tensor.insert`). Inputs that read unit dimensions at a constant 0 (a
    bias `[C, 1, 1]`) first read a collapsed tensor without them.
    Transposes (inputs that hold another loop innermost, all the same one)
    of 32-bit values where registers hold 16 are tiled 16 x 16 in that loop
    and the innermost one: rows read whole, transposed by shuffles. Gathers
    of runs (one input whose index uses the innermost loop only in its last
    dimension, plainly, its values copied or computed elementwise: im2col
    views of NHWC images, quantizing ones, channel-major views of unit
    stride) are tiled by two registers of the innermost loop
    and 1 elsewhere, one row read and written per tile. Other gathers,
    generics that read with `tensor.extract`, reduce, or have i1 or scalar
    operands are left to the scalar lowering.

    Runs after `qc-parallelize-generics`: a generic it split over the
    runtime's threads is vectorized inside its parallel loop.
  }];
  let options = [
    Option<"minElements", "min-elements", "int64_t", /*default=*/"16",
           "leave generics of fewer iterations to the scalar lowering">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::tensor::TensorDialect"];
  let statistics = [
    Statistic<"numVectorized", "num-vectorized",
              "Number of elementwise generics vectorized">
  ];
}

def ApproximateMathPass : Pass<"qc-approximate-math"> {
  let summary = "Replace f32 erf / exp / tanh by inline polynomial approximations";
  let description = [{
    Rewrites f32 (scalar and vector) `math.erf`, `math.exp` and `math.tanh`
    into MLIR's polynomial approximations (arith only, a few ulps), so that
    the loops around them hold no libm call and LLVM can vectorize them.
    Other types and functions keep their libm calls.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}


def GenDequantGemmPass : Pass<"qc-gen-dequant-gemm", "mlir::ModuleOp"> {
  let summary = "Generate the int8-activation dequant-GEMM kernels";
  let description = [{
    Replaces every `qc.qlinear` whose `kernel` is `dequant_i8` by calls of
    two functions on buffers that it declares (`qc-emit-kernels` gives
    them bodies after bufferization): one quantizes the `[M, K]` input to
    int8 in blocks of `act_block`, the other computes the panels of 8
    output columns `[begin, end)` and carries `qc.parallel`, so that
    `qc-parallel-calls` spreads its panels over the runtime's threads. The
    codes are repacked here, at compile time, into the kernel-panel layout
    (4 rows of 8 columns per 32-byte vector), the scales and zero points
    into `[panel][group][8]` constants. docs/kernels.md describes the
    layout and the arithmetic.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def GenLutGemmPass : Pass<"qc-gen-lut-gemm", "mlir::ModuleOp"> {
  let summary = "Generate the LUT-GEMM kernels of BCQ and uniform layers";
  let description = [{
    Replaces every BCQ `qc.qlinear` whose `kernel` is `lut_bcq` (and every
    uniform one, through its exact BCQ form: the planes are the bits of the
    codes, 2 alpha_i = s 2^i, offset - sum alpha = -s z) by calls of three
    functions it declares (`qc-emit-kernels` gives them bodies): the int8
    activation quantizer, the table builder (per token and 4 inputs, the 16
    partial sums of their int8 activations, as low and high bytes) and the
    kernel over 32-column tiles, which looks the tables up (`vpshufb` on
    x86, `tbl` on NEON) using the 4 sign bits of 32 columns of one
    bit-plane, sums in int16 per activation block and scales once per block
    and plane. The bit-planes are repacked here, at compile time, in the
    order [tile][8 rows][plane][32 columns] (a kernel may read fewer
    planes), the metadata per tile.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def GenCodeGemmPass : Pass<"qc-gen-codegemm", "mlir::ModuleOp"> {
  let summary = "Generate the CodeGEMM kernels of codebook layers";
  let description = [{
    Replaces every codebook `qc.qlinear` whose `kernel` is `codegemm` by
    calls of two functions it declares (`qc-emit-kernels` gives them
    bodies): the psumbook builder (per token, book and vector slot, the
    inner products of every centroid with that slice of the activations, in
    f32) and the kernel over 8-column tiles, which gathers the psumbook
    entries the columns' codes select (`vector.gather`, `vpgatherdd` on
    AVX2) and adds them, then applies the column scales and the bias. Codes
    are repacked at compile time to bytes `[book][slot][N']`. Codebooks of
    at most 16 entries on x86 and AArch64 take the LUT-GEMM tile kernel
    instead: a table builder writes the psumbook rows as int16 tables
    (round(P / ps), ps = max |P| / 1023 per 32 rows) and the 4-bit codes of
    two (book, slot) rows share a byte of its layout.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def EmitKernelsPass : Pass<"qc-emit-kernels", "mlir::ModuleOp"> {
  let summary = "Generate the bodies of the generated kernels";
  let description = [{
    Fills the functions `qc-gen-dequant-gemm`, `qc-gen-lut-gemm` and
    `qc-gen-codegemm` declared. For dequant_i8: the int8 activation
    quantizer (vector loads, max-abs, round-half-even) and the panel kernel
    (per 32-row block, `bits` 32-byte code loads, shift-and-mask unpacking
    of 4 rows x 8 columns, broadcast activations and the `isa`'s 4-byte
    u8 x s8 dot product per lane: AVX2 `llvm.x86.avx2.pmadd.ub.sw` +
    `pmadd.wd`, AVX-512 VNNI `llvm.x86.avx512.vpdpbusd.256`, NEON
    `llvm.aarch64.neon.sdot`, or plain vector ops; one f32 scaling of 8
    columns per activation block). For lut_bcq: the int16 table builder and
    the 32-column tile kernel (`vpshufb` / NEON `tbl`); for codegemm: the
    psumbook (or int16 tables for <= 16 entries) and its tile kernel. Runs after buffer
    deallocation, which cannot analyse LLVM intrinsic calls.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

#endif // QC_CONVERSION_PASSES_TD
