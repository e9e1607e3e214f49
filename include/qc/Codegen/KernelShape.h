//===- KernelShape.h - what a generated kernel depends on ------*- C++ -*-===//
//
// The kernel generators (lib/Conversion/Kernels, on tensors) declare the
// functions of a layer's kernel and call them; qc-emit-kernels gives them
// their bodies (lib/Codegen/CPU/Kernels). Between the two, a declaration
// carries its role and its shape (#qc.kernel_shape). Both sides share the
// shape and the weight layouts below.
//
//===----------------------------------------------------------------------===//

#ifndef QC_CODEGEN_KERNELSHAPE_H
#define QC_CODEGEN_KERNELSHAPE_H

#include "QC/IR/QCAttrs.h"
#include "qc/Codegen/KernelTarget.h"
#include "qc/Quant/Packing.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <optional>

namespace qc {
namespace kernels {

/// Attribute names on the declarations.
constexpr llvm::StringLiteral kShapeAttr = "qc.kernel.shape";
constexpr llvm::StringLiteral kRoleAttr = "qc.kernel.role";
/// int8 activations, block scales and group sums (both kernels).
constexpr llvm::StringLiteral kRoleActQuant = "act_quant";
/// The same on a static scale and zero point (a [2] f32 argument more).
constexpr llvm::StringLiteral kRoleActQuantStatic = "act_quant_static";
/// Each row's {max(0, max x), min(0, min x)} (uint8 activations' range).
constexpr llvm::StringLiteral kRoleActRange = "act_range";
/// dequant_i8 panel kernel.
constexpr llvm::StringLiteral kRoleColumns = "columns";
/// dequant_f32: the padded f32 activations and their group sums, and the
/// panel kernel on them.
constexpr llvm::StringLiteral kRoleActFloat = "act_float";
constexpr llvm::StringLiteral kRoleColumnsF32 = "columns_f32";
/// lut_bcq: the per-token tables, and the kernel over 32-column tiles.
constexpr llvm::StringLiteral kRoleLutTables = "lut_tables";
constexpr llvm::StringLiteral kRoleLutTiles = "lut_tiles";
/// codegemm: the per-token psumbook, and the kernel over 8-column tiles.
constexpr llvm::StringLiteral kRolePsumbook = "psumbook";
constexpr llvm::StringLiteral kRoleCodeTiles = "code_tiles";
/// codegemm for more than one token: the psumbook with token lanes, and
/// the kernel over 8-column tiles that looks up L tokens per vector load.
constexpr llvm::StringLiteral kRolePsumbookLanes = "psumbook_lanes";
constexpr llvm::StringLiteral kRoleCodeLanes = "code_lanes";
/// codegemm with at most 16 entries: int16 psumbook tables for the lut_tiles
/// kernel.
constexpr llvm::StringLiteral kRoleCodeTables = "code_tables";
/// codegemm on AVX-512 VBMI (17 to 256 entries): int16 psumbook tables of
/// 128 or 256 entries, and the kernel over 64-column tiles that looks them
/// up with vpermi2b.
constexpr llvm::StringLiteral kRolePermTables = "perm_tables";
constexpr llvm::StringLiteral kRolePermTiles = "perm_tiles";

/// Everything a generated function depends on. For codegemm, `bits` is the
/// number of codebooks, `group` the vector size and `actBlock` the entries
/// per codebook.
struct KernelShape {
  int64_t m = 0, k = 0, n = 0;
  int64_t bits = 0; // code bits (dequant_i8) or bit-planes (lut_bcq)
  int64_t group = 0; // rows per weight group (the padded K for one group)
  int64_t actBlock = 0;
  int64_t mTile = 1;
  const KernelTarget *target = nullptr; // never null once made
  /// One int8 activation scale per token (its row's max), shared by all of
  /// its `actBlock` blocks: per-token activations on grouped weights.
  bool rowScale = false;
  /// The activations' codes (ActivationAttr's kinds, all as int8 codes).
  ActKind act = ActKind::int8;
  /// lut_bcq: planes stored per chunk of codes, of which the kernel reads
  /// the first `bits` (AnyBCQ); 0: `bits`.
  int64_t storedPlanes = 0;
  /// dequant_i8: the activations are not [M, K] rows but an int8 image
  /// (1-D) the kernel gathers them from: x[m, k] = image[rowBase[m] +
  /// blockOff[k / 32] + k % 32] (a convolution's im2col view of an NHWC
  /// image whose channels are a multiple of 32: every 32-row block lies in
  /// one run of a pixel's channels).
  bool gathered = false;

  int64_t planeStride() const { return storedPlanes ? storedPlanes : bits; }

  /// K padded to whole superblocks of kSuperblockRows rows.
  int64_t superblocks() const {
    return (k + quant::kSuperblockRows - 1) / quant::kSuperblockRows;
  }
  int64_t paddedK() const { return superblocks() * quant::kSuperblockRows; }
  /// Inputs per token of the activations the dequant kernels read (and
  /// their quantizers write): the padded K, but where one activation block
  /// spans a whole column's weight group, that block, which is K rounded up
  /// to the kernels' 32-row blocks only (a convolution's 3 x 3 x 64 = 576
  /// inputs are not padded to 640, its stem's 147 to 160, not 256).
  int64_t activationK() const {
    return group == paddedK() && actBlock >= k && actBlock < paddedK()
               ? actBlock
               : paddedK();
  }
  int64_t actBlocks() const { return activationK() / actBlock; }
  /// Weight groups, padded to cover paddedK() and to a multiple of 8 (the
  /// padding groups have zero scales).
  int64_t groups() const {
    return ((paddedK() + group - 1) / group + 7) / 8 * 8;
  }
  /// N padded to the 32-column tiles of lut_bcq.
  int64_t paddedN() const { return (n + 31) / 32 * 32; }
  /// dequant_i8: panels of 8 columns and their bytes.
  int64_t panels() const { return (n + 7) / 8; }
  int64_t panelBytes() const {
    return quant::kernelPanelBytes(k, static_cast<int>(bits));
  }
  std::string suffix() const {
    return llvm::formatv("b{0}{10}{11}_g{1}_a{2}{8}{9}_m{3}_k{4}_n{5}_t{6}_{7}",
                         bits, group, actBlock, m, k, n, mTile, target->name(),
                         rowScale ? "r" : "",
                         act == ActKind::int8 ? llvm::StringRef()
                                              : stringifyActKind(act),
                         storedPlanes ? "of" + std::to_string(storedPlanes)
                                      : std::string(),
                         gathered ? "x" : "")
        .str();
  }

  /// Stores the shape on `fn`.
  void attach(mlir::func::FuncOp fn) const {
    fn->setAttr(kShapeAttr,
                KernelShapeAttr::get(fn.getContext(), m, k, n, bits, group,
                                     actBlock, mTile, target->name(), rowScale,
                                     act, storedPlanes, gathered));
  }
  /// The shape stored on `fn`, if any and well-formed (its target
  /// registered).
  static std::optional<KernelShape> of(mlir::func::FuncOp fn) {
    auto attr = fn->getAttrOfType<KernelShapeAttr>(kShapeAttr);
    if (!attr)
      return std::nullopt;
    const KernelTarget *target = lookupKernelTarget(attr.getIsa());
    // Codes of 1 - 4 and 8 bits (8-bit int8 dot products are checked by
    // the body that needs them).
    if (!target || attr.getBits() < 1 ||
        (attr.getBits() > 4 && attr.getBits() != 8) ||
        attr.getActBlock() <= 0 || attr.getMTile() < 1 || attr.getGroup() <= 0)
      return std::nullopt;
    return KernelShape{attr.getM(),
                       attr.getK(),
                       attr.getN(),
                       attr.getBits(),
                       attr.getGroup(),
                       attr.getActBlock(),
                       attr.getMTile(),
                       target,
                       attr.getRowScale(),
                       attr.getAct(),
                       attr.getStoredPlanes(),
                       attr.getGathered()};
  }
};

/// Groups of `group` rows in a column of `k` (the last may be partial; one
/// for a whole-column group, -1).
inline int64_t weightGroups(int64_t k, int64_t group) {
  return group == -1 ? 1 : (k + group - 1) / group;
}

/// dequant_i8: panels the column kernel takes per step (the target's
/// panelStep(): AVX-512 VNNI puts two panels' 32-byte code vectors side by
/// side in one 512-bit register, 16 columns per `vpdpbusd`). Threads get
/// ranges of whole steps.
inline int64_t panelStep(const KernelShape &s) { return s.target->panelStep(); }

/// Byte offset, in the lut_tiles weight layout [tile][pair][plane][32 byte
/// lanes], of column `col` in `pair` (of `pairs` per tile) and `plane`. Lane
/// 2w holds column w of the tile and lane 2w + 1 column 16 + w, so that the
/// even and odd bytes of a lookup, taken as int16 words, are columns 0-15
/// and 16-31 in order (see buildLutTiles). The low nibble of the byte indexes
/// the table of chunk 2 pair, the high nibble that of chunk 2 pair + 1.
inline int64_t lutByteOffset(int64_t col, int64_t pair, int64_t plane,
                             int64_t pairs, int64_t planes) {
  int64_t c = col % 32;
  return ((col / 32 * pairs + pair) * planes + plane) * 32 + 2 * (c % 16) +
         c / 16;
}

/// Offset of column `col`'s value in row `row` (of `rows` per tile) of
/// the lut_tiles metadata (2 alpha, corrections), stored [tile][row][32
/// columns] so that a tile reads its rows in order.
inline int64_t tileMetaOffset(int64_t col, int64_t row, int64_t rows) {
  return (col / 32 * rows + row) * 32 + col % 32;
}

/// codegemm (gather kernel): the psumbook's token lanes. One token: the
/// psumbook is [row][entry] and a lookup loads one f32 (per column). More:
/// the tokens go in groups of L = min(8, the next power of two >= M) lanes,
/// [row][entry][lane], so that one vector load of L f32 looks up one column
/// for L tokens.
inline int64_t codeLanes(const KernelShape &s) {
  int64_t lanes = 1;
  while (lanes < std::min<int64_t>(s.m, 8))
    lanes *= 2;
  return lanes;
}
/// The token groups of `codeLanes` lanes (the last one padded with zero
/// tokens).
inline int64_t codeTokenGroups(const KernelShape &s) {
  return (s.m + codeLanes(s) - 1) / codeLanes(s);
}
/// codegemm (gather kernel): psumbook rows per chunk of the tile kernel's
/// row loop, a power of two. One token: the chunk's rows (R * E f32) stay
/// within 16 KiB of L1 while every tile of the range looks up in them (4 to
/// 32 rows). Token lanes: 8 rows, fewer where a chunk of every token group
/// (R * M' * E f32, M' the padded tokens) would pass 128 KiB (2 to 8); the
/// best of 4 / 8 / 16 / 32 rows for 2 to 16 tokens on Zen 3, where the yT
/// update per chunk costs more with fewer rows.
inline int64_t codeChunkRows(const KernelShape &s) {
  int64_t tokens = codeLanes(s) * codeTokenGroups(s);
  int64_t entryBytes = std::max<int64_t>(1, tokens * s.actBlock * 4);
  int64_t fit = (s.m > 1 ? 131072 : 16384) / entryBytes;
  int64_t lo = s.m > 1 ? 2 : 4, hi = s.m > 1 ? 8 : 32;
  int64_t rows = lo;
  while (rows * 2 <= std::min(fit, hi))
    rows *= 2;
  return rows;
}
/// The B * K / v psumbook rows of a codegemm layer, padded to whole chunks
/// (the padding rows are zero in the psumbook, code 0 in the weights).
inline int64_t codeRowsPadded(const KernelShape &s) {
  int64_t rows = s.bits * (s.k / s.group), r = codeChunkRows(s);
  return (rows + r - 1) / r * r;
}
/// Byte offset of the code of (`row`, `col`) in the codegemm gather layout
/// [chunk][8-column tile][row in chunk][8 columns] (`np` columns, chunks of
/// `chunkRows`): a tile reads one chunk's codes as 8 * chunkRows
/// consecutive bytes.
inline int64_t codeByteOffset(int64_t row, int64_t col, int64_t np,
                              int64_t chunkRows) {
  return row / chunkRows * chunkRows * np + col / 8 * 8 * chunkRows +
         row % chunkRows * 8 + col % 8;
}

/// codegemm on AVX-512 VBMI: (book, slot) rows per block of the int16
/// tables (32 lookups of at most 1023 sum in int16), the table entries
/// (codes index 128 entries with one vpermi2b, 256 with two and a select)
/// and the rows padded to whole blocks.
constexpr int64_t kPermBlockRows = 32;
/// From this many tokens on, codegemm takes the token-lane kernel on AVX-512
/// VBMI too (Xeon VM, 2 threads, 4096 x 4096, 256 entries: 6 tokens 2.49 ms
/// with vpermi2b against 2.86 ms, 8 tokens 3.23 ms against 2.56 ms).
constexpr int64_t kPermMaxTokens = 7;
inline int64_t permEntries(const KernelShape &s) {
  return s.actBlock <= 128 ? 128 : 256;
}
inline int64_t permRowsPadded(const KernelShape &s) {
  int64_t rows = s.bits * (s.k / s.group);
  return (rows + kPermBlockRows - 1) / kPermBlockRows * kPermBlockRows;
}
/// Byte offset of the code of (`row`, `col`) in the vpermi2b layout
/// [block][64-column tile][row in block][64 bytes] (`tiles` tiles). Within
/// a row's 64 bytes, byte 16 L + j holds column 8 L + j and byte 16 L + 8 +
/// j column 32 + 8 L + j (L < 4, j < 8): vpunpck{l,h}bw of the looked-up
/// low and high bytes then give columns 0-31 and 32-63 in order as int16.
inline int64_t permCodeOffset(int64_t row, int64_t col, int64_t tiles) {
  int64_t c = col % 64, half = c / 32, lane = c % 32 / 8, j = c % 8;
  return ((row / kPermBlockRows * tiles + col / 64) * kPermBlockRows +
          row % kPermBlockRows) *
             64 +
         16 * lane + 8 * half + j;
}

} // namespace kernels
} // namespace qc

#endif // QC_CODEGEN_KERNELSHAPE_H
