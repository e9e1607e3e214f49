//===- CodeGemm.cpp - call sites of the CodeGEMM kernels for codebooks ----===//
//
// A codebook qc.qlinear with kernel `codegemm` becomes, on tensors: a call
// of the psumbook builder (per token, book b, vector slot j and entry e:
// P[b][j][e] = sum_t codebook[b][e][t] * x[j v + t], f32) and a call of the
// tile kernel over 8-column tiles, which gathers P[b][j][code[b][j][n]] for
// 8 columns at once and adds them, then applies the column scales and the
// bias (lib/Codegen/CPU/Kernels/CodeGemm.cpp):
//
//   y[n] = scale[n] * sum_b sum_j P[b][j][code[b][j][n]] + bias[n]
//
// Codes are repacked here, at compile time, to one byte (up to 256 entries)
// per (book, slot) row and column, N padded to 8, the rows cut into chunks
// of R (codeChunkRows: R rows of every token's psumbook fit in L1) and
// stored [chunk][8-column tile][row in chunk][8 columns]; scales and bias
// become f32 [N']. More than one token takes the token-lane pair of kernels:
// the psumbook [chunk][token group][row][entry][lane] (up to 8 tokens a
// group, built in parallel over chunks), looked up one vector of a group's
// tokens per column, summed into a [group][column][lane] scratch buffer.
//
// Codebooks of at most 16 entries on targets with byte lookups (vpshufb,
// NEON tbl) take the LUT-GEMM tile kernel instead: the table builder writes,
// per token and (book, slot) chunk, the 16 psumbook entries as int16,
// quantized per block of 32 chunks with ps = max |P| / 1023 (so that 32
// lookups sum in int16), and the 4-bit codes of two chunks share a byte in
// the lut_tiles layout (one plane, 4 virtual inputs per chunk):
//
//   y[n] = scale[n] * sum_a ps[a] sum_{c in a} round(P[c][code[c][n]] / ps[a])
//          + bias[n]
//
// On AVX-512 VBMI, for 1 to 6 tokens, codebooks of 17 to 256 entries take
// the same int16 arithmetic with tables of 128 or 256 entries per (book, slot) row (blocks
// of 32 rows, built in parallel over the blocks): per row, 64 code bytes
// index the low-byte and the high-byte halves of the row's table with one
// vpermi2b each per 128 entries (the code's top bit selects between two),
// and the bytes interleave back into int16 sums of 64 columns. The codes are
// stored [block][64-column tile][row in block][64 bytes] (permCodeOffset).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "QC/IR/QCOps.h"
#include "qc/Conversion/Passes.h"
#include "qc/Transforms/ConstantData.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <cstring>

namespace qc {
#define GEN_PASS_DEF_GENCODEGEMMPASS
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;
using namespace qc::kernels;

namespace {

struct GenCodeGemmPass : qc::impl::GenCodeGemmPassBase<GenCodeGemmPass> {
  void runOnOperation() override {
    for (QLinearOp op :
         layersWithKernel(getOperation(), KernelKind::codegemm))
      if (failed(lower(op)))
        return signalPassFailure();
  }

  LogicalResult lower(QLinearOp op) {
    auto fail = [&](const Twine &why) {
      return layerError(op, "qc-gen-codegemm") << why;
    };
    auto scheme = dyn_cast<CodebookAttr>(op.getScheme());
    if (!scheme || scheme.getEntries() > 256 || !op.getCodebook())
      return fail("codegemm needs a codebook scheme of at most 256 entries");
    auto inType = cast<RankedTensorType>(op.getInput().getType());
    KernelAttr kernel = op.getKernelAttr();
    if (!inType.hasStaticShape() || !op.getType().hasStaticShape() ||
        !inType.getElementType().isF32())
      return fail("codegemm needs static shapes and an f32 input");
    KernelShape s;
    s.k = op.getInFeatures();
    s.n = op.getOutFeatures();
    s.m = inType.getNumElements() / std::max<int64_t>(s.k, 1);
    s.bits = scheme.getBooks();
    s.group = scheme.getVectorSize();
    s.actBlock = scheme.getEntries();
    s.mTile = 1;
    s.target = lookupKernelTarget(kernel.getIsa());
    if (!s.target)
      return fail("unknown kernel target '" + kernel.getIsa() + "'");
    int64_t books = s.bits, v = s.group, entries = s.actBlock;
    int64_t slots = s.k / v, np = (s.n + 7) / 8 * 8;
    if (s.k % v != 0 || s.m <= 0 || s.n <= 0)
      return fail("vector_size must divide K");
    if (failed(checkActivations(op, s, KernelInput::Float, "qc-gen-codegemm",
                                "codegemm")))
      return failure();

    // Codes of any integer width, as bytes [book][slot][N'].
    FailureOr<std::vector<char>> raw = getConstantBytes(op.getCodes());
    auto codeType = op.getCodes().getType().getElementType();
    unsigned width = codeType.getIntOrFloatBitWidth();
    int64_t count = books * slots * s.n;
    if (failed(raw) || !codeType.isInteger() || width % 8 != 0 ||
        static_cast<int64_t>(raw->size()) != count * (width / 8))
      return fail("codes must be an integer constant [books, K / v, N]");
    std::vector<uint8_t> codes(books * slots * np, 0);
    for (int64_t i = 0; i < count; ++i) {
      uint64_t value = 0;
      std::memcpy(&value, raw->data() + i * (width / 8), width / 8);
      if (value >= static_cast<uint64_t>(entries))
        return fail(llvm::formatv("code {0} is not below entries = {1}", value,
                                  entries));
      int64_t row = i / s.n, col = i % s.n;
      codes[row * np + col] = static_cast<uint8_t>(value);
    }
    FailureOr<std::vector<float>> book = getConstantFloats(op.getCodebook());
    FailureOr<std::vector<float>> scales = getConstantFloats(op.getScales());
    if (failed(book) || failed(scales) ||
        book->size() != static_cast<size_t>(books * entries * v) ||
        scales->size() != static_cast<size_t>(s.n))
      return fail("codebook and scales must be constants of the scheme's "
                  "shape");
    // Each book transposed to [v, E] (E padded to 16 for the tables): a
    // vector load reads 8 entries.
    bool tables = entries <= 16 && s.target->hasByteLookup();
    // vpermi2b lookups cost the same per token; from 7 tokens on, the
    // token-lane kernel's one load per column for 8 tokens is faster (2
    // threads, 4096 x 4096, 256 entries: docs/kernels.md).
    bool permutes =
        !tables && s.target->hasWideByteLookup() && s.m < kPermMaxTokens;
    int64_t bookCols = tables ? 16 : (permutes ? permEntries(s) : entries);
    std::vector<float> bookT(books * v * bookCols, 0.0f);
    for (int64_t bk = 0; bk < books; ++bk)
      for (int64_t en = 0; en < entries; ++en)
        for (int64_t t = 0; t < v; ++t)
          bookT[(bk * v + t) * bookCols + en] =
              (*book)[(bk * entries + en) * v + t];
    std::vector<float> scale(np, 0.0f), bias(np, 0.0f);
    std::copy(scales->begin(), scales->end(), scale.begin());
    FailureOr<std::vector<float>> layerBias = readBias(op, "qc-gen-codegemm");
    if (failed(layerBias))
      return failure();
    std::copy(layerBias->begin(), layerBias->end(), bias.begin());

    ModuleOp module = getOperation();
    OpBuilder b(op);
    Location loc = op.getLoc();
    Type f32 = b.getF32Type(), i8 = b.getI8Type();
    std::string layer = op.getLayer().str();
    Value x = activationBuffer(b, loc, op.getInput(), s.m, s.k, layer);
    Value bookBuf = constantBuffer(b, loc, {books * v, bookCols}, f32, bookT,
                                   layer + ".codebook");
    if (tables)
      return lowerWithTables(op, b, s, x, bookBuf, codes, scale, bias);
    if (permutes)
      return lowerWithPermutes(op, b, s, x, bookBuf, codes, scale, bias);
    int64_t rowsPadded = codeRowsPadded(s), chunkRows = codeChunkRows(s);
    int64_t chunks = rowsPadded / chunkRows;
    // The gather kernel's layout: [chunk][tile][row in chunk][8 columns].
    std::vector<uint8_t> chunked(rowsPadded * np, 0);
    for (int64_t row = 0; row < books * slots; ++row)
      for (int64_t col = 0; col < np; ++col)
        chunked[codeByteOffset(row, col, np, chunkRows)] =
            codes[row * np + col];
    Value codeBuf = constantBuffer(b, loc, {rowsPadded * np}, i8, chunked,
                                   layer + ".cgcodes");
    Value scaleBuf =
        constantBuffer(b, loc, {np}, f32, scale, layer + ".cgscale");
    Value biasBuf = constantBuffer(b, loc, {np}, f32, bias, layer + ".cgbias");
    Value yBuf = allocBuffer(b, loc, {s.m, np}, f32);
    if (s.m > 1) {
      // Token lanes: P [chunk][group][row][entry][lane], built in parallel
      // over chunks; the tile kernel sums into yT [group][column][lane].
      int64_t lanes = codeLanes(s), groups = codeTokenGroups(s);
      Value psum = allocBuffer(
          b, loc, {chunks, groups, chunkRows, entries, lanes}, f32);
      SmallVector<Value> buildArgs = {x, bookBuf, psum,
                                      arith::ConstantIndexOp::create(b, loc, 0),
                                      arith::ConstantIndexOp::create(b, loc,
                                                                     chunks)};
      func::FuncOp build = declareKernel(
          module, loc, s, kRolePsumbookLanes, "qc_psumlanes_",
          ValueRange(buildArgs).getTypes(), /*parallel=*/true);
      func::CallOp::create(b, loc, build, buildArgs);
      Value yT = allocBuffer(b, loc, {groups, np, lanes}, f32);
      callRangeKernel(b, loc, op, s, kRoleCodeLanes, "qc_codelanes_",
                      {psum, codeBuf, scaleBuf, biasBuf, yT, yBuf}, np / 8,
                      yBuf);
      return success();
    }
    Value psum =
        allocBuffer(b, loc, {chunks, s.m, chunkRows, entries}, f32);
    func::FuncOp build =
        declareKernel(module, loc, s, kRolePsumbook, "qc_psumbook_",
                      TypeRange{x.getType(), bookBuf.getType(), psum.getType()},
                      /*parallel=*/false);
    func::CallOp::create(b, loc, build, ValueRange{x, bookBuf, psum});
    callRangeKernel(b, loc, op, s, kRoleCodeTiles, "qc_codegemm_",
                    {psum, codeBuf, scaleBuf, biasBuf, yBuf}, np / 8, yBuf);
    return success();
  }

  /// AVX-512 VBMI, 17 to 256 entries: per token and (book, slot) row an
  /// int16 table of E' = permEntries entries (low bytes, then high bytes),
  /// quantized per block of kPermBlockRows rows, built in parallel over the
  /// blocks; the tile kernel looks up 64 columns of a row with vpermi2b (see
  /// the file comment). `codes` are bytes [book][slot][N8], `bookBuf` is
  /// [book * v][E'] f32 (entries past E zero), `x` the [M, K] input.
  LogicalResult lowerWithPermutes(QLinearOp op, OpBuilder &b,
                                  const KernelShape &s, Value x,
                                  Value bookBuf,
                                  const std::vector<uint8_t> &codes,
                                  const std::vector<float> &scale,
                                  const std::vector<float> &bias) {
    int64_t rows = s.bits * (s.k / s.group), rowsPadded = permRowsPadded(s);
    int64_t blocks = rowsPadded / kPermBlockRows, entries = permEntries(s);
    int64_t n8 = (s.n + 7) / 8 * 8, np = (s.n + 63) / 64 * 64,
            tiles = np / 64;
    std::vector<uint8_t> packed(rowsPadded * np, 0);
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t col = 0; col < s.n; ++col)
        packed[permCodeOffset(row, col, tiles)] = codes[row * n8 + col];
    std::vector<float> scaleN(np, 0.0f), biasN(np, 0.0f);
    std::copy(scale.begin(), scale.begin() + s.n, scaleN.begin());
    std::copy(bias.begin(), bias.begin() + s.n, biasN.begin());

    ModuleOp module = getOperation();
    Location loc = op.getLoc();
    Type f32 = b.getF32Type(), i8 = b.getI8Type();
    std::string layer = op.getLayer().str();
    Value tables =
        allocBuffer(b, loc, {s.m, rowsPadded, 2 * entries}, i8);
    Value ps = allocBuffer(b, loc, {s.m, blocks}, f32);
    SmallVector<Value> buildArgs = {
        x, bookBuf, tables, ps, arith::ConstantIndexOp::create(b, loc, 0),
        arith::ConstantIndexOp::create(b, loc, blocks)};
    func::FuncOp build = declareKernel(module, loc, s, kRolePermTables,
                                       "qc_cgptables_",
                                       ValueRange(buildArgs).getTypes(),
                                       /*parallel=*/true);
    func::CallOp::create(b, loc, build, buildArgs);
    Value codeBuf = constantBuffer(b, loc, {rowsPadded * np}, i8, packed,
                                   layer + ".cgpcodes");
    Value scaleBuf =
        constantBuffer(b, loc, {np}, f32, scaleN, layer + ".cgscale");
    Value biasBuf =
        constantBuffer(b, loc, {np}, f32, biasN, layer + ".cgbias");
    Value yBuf = allocBuffer(b, loc, {s.m, np}, f32);
    callRangeKernel(b, loc, op, s, kRolePermTiles, "qc_cgperm_",
                    {tables, ps, codeBuf, scaleBuf, biasBuf, yBuf}, tiles,
                    yBuf);
    return success();
  }

  /// Codebooks of at most 16 entries: the psumbook rows become int16 tables
  /// of the LUT-GEMM tile kernel, one 4-bit index per (book, slot) "chunk"
  /// in place of 4 bit-plane rows (see the file comment). `codes` are bytes
  /// [book][slot][N8], `bookBuf` is [book * v][16] f32, `x` the [M, K] input.
  LogicalResult lowerWithTables(QLinearOp op, OpBuilder &b,
                                const KernelShape &s, Value x, Value bookBuf,
                                const std::vector<uint8_t> &codes,
                                const std::vector<float> &scale,
                                const std::vector<float> &bias) {
    int64_t books = s.bits, v = s.group;
    int64_t slots = s.k / v, chunks = books * slots;
    int64_t n8 = (s.n + 7) / 8 * 8;
    // The tile kernel's shape: 4 virtual inputs per chunk, one plane, one
    // group, blocks of 32 chunks.
    KernelShape t;
    t.m = s.m;
    t.k = 4 * chunks;
    t.n = s.n;
    t.bits = 1;
    t.group = t.paddedK();
    t.actBlock = 128;
    t.target = s.target;
    int64_t np = t.paddedN(), tiles = np / 32, pairs = t.paddedK() / 8;
    std::vector<uint8_t> packed(tiles * pairs * 32, 0);
    for (int64_t c = 0; c < chunks; ++c)
      for (int64_t col = 0; col < s.n; ++col)
        packed[lutByteOffset(col, c / 2, 0, pairs, 1)] |=
            static_cast<uint8_t>(codes[c * n8 + col] << (4 * (c % 2)));
    std::vector<float> alpha(t.groups() * np, 0.0f),
        corr(t.groups() * np, 0.0f), biasN(np, 0.0f);
    for (int64_t col = 0; col < s.n; ++col)
      alpha[tileMetaOffset(col, 0, t.groups())] = scale[col];
    std::copy(bias.begin(), bias.begin() + s.n, biasN.begin());

    ModuleOp module = getOperation();
    Location loc = op.getLoc();
    Type f32 = b.getF32Type(), i8 = b.getI8Type();
    std::string layer = op.getLayer().str();
    Value tables = allocBuffer(b, loc, {s.m, t.paddedK() / 4, 32}, i8);
    Value xs = allocBuffer(b, loc, {s.m, t.actBlocks()}, f32);
    Value xsum = allocBuffer(b, loc, {s.m, t.groups()}, f32);
    func::FuncOp build =
        declareKernel(module, loc, s, kRoleCodeTables, "qc_cgtables_",
                      TypeRange{x.getType(), bookBuf.getType(),
                                tables.getType(), xs.getType(), xsum.getType()},
                      /*parallel=*/false);
    func::CallOp::create(b, loc, build,
                         ValueRange{x, bookBuf, tables, xs, xsum});

    int64_t meta = t.groups() * 32;
    Value codeBuf = constantBuffer(b, loc, {tiles, pairs * 32}, i8, packed,
                                   layer + ".cgnibbles");
    Value alphaBuf =
        constantBuffer(b, loc, {tiles, meta}, f32, alpha, layer + ".cgalpha");
    Value corrBuf =
        constantBuffer(b, loc, {tiles, meta}, f32, corr, layer + ".cgcorr");
    Value biasBuf = constantBuffer(b, loc, {np}, f32, biasN, layer + ".cgbias");
    Value yBuf = allocBuffer(b, loc, {s.m, np}, f32);
    callRangeKernel(
        b, loc, op, t, kRoleLutTiles, "qc_lutgemm_",
        {xs, xsum, tables, codeBuf, alphaBuf, corrBuf, biasBuf, yBuf}, tiles,
        yBuf);
    return success();
  }
};

} // namespace
