//===- Packing.h - Bit packing of quantized codes ---------------*- C++ -*-===//
//
// Byte layouts that kernels read. Codes are K x N row-major (as produced by
// the quantizers, see Uniform.h); bit order inside bytes is always LSB
// first (the first code of a byte sits in its lowest bits).
//
//===----------------------------------------------------------------------===//

#ifndef QC_QUANT_PACKING_H
#define QC_QUANT_PACKING_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qc {
namespace quant {

/// Orders of packed codes (bits = 2, 3, 4 or 8).
enum class PackOrder {
  /// Column-major over K: the K codes of column n form one contiguous bit
  /// stream (bits per code, LSB first; 3-bit codes straddle bytes), padded
  /// with zero bits to ceil(K * bits / 8) bytes; column n starts at byte
  /// n * ceil(K * bits / 8). For 4 bits this is the MatMulNBits blob order.
  KMajor,
  /// Row-interleaved tiles: columns are taken in tiles of tileN, K in chunks
  /// of 8 codes (8 codes = `bits` bytes, LSB first). The order is
  /// [ceil(N/tileN)][ceil(K/8)][tileN][bits bytes]; the last tile and chunk
  /// are padded with zero codes.
  TileInterleaved,
};

/// Size in bytes of the packed codes, or -1 if the arguments are invalid.
int64_t packedCodesSize(int64_t K, int64_t N, int bits, PackOrder order,
                        int64_t tileN);

/// Packs `codes` (K x N, each < 2^bits) into `packed`. `tileN` (>= 1) is
/// used by TileInterleaved only. Returns false and sets `err` on bad
/// arguments or out-of-range codes.
bool packCodes(const uint8_t *codes, int64_t K, int64_t N, int bits,
               PackOrder order, int64_t tileN, std::vector<uint8_t> &packed,
               std::string &err);

/// Inverse of packCodes: `packedSize` must equal packedCodesSize(...).
bool unpackCodes(const uint8_t *packed, size_t packedSize, int64_t K, int64_t N,
                 int bits, PackOrder order, int64_t tileN,
                 std::vector<uint8_t> &codes, std::string &err);

/// Size in bytes of packed BCQ bit-planes: ceil(K/8) * planes * N.
int64_t packedBitPlanesSize(int64_t K, int64_t N, int planes);

/// Packs BCQ bit-planes (`signs`: [plane][K][N], values -1/+1, see BCQ.h) as
/// bytes in the order [ceil(K/8)][plane][N]; byte (c, i, n) holds in bit j
/// the sign of row k = 8c + j of column n of plane i (1 = +1, 0 = -1; rows
/// past K are 0).
bool packBitPlanes(const int8_t *signs, int64_t K, int64_t N, int planes,
                   std::vector<uint8_t> &packed, std::string &err);

/// Inverse of packBitPlanes.
bool unpackBitPlanes(const uint8_t *packed, size_t packedSize, int64_t K,
                     int64_t N, int planes, std::vector<int8_t> &signs,
                     std::string &err);

/// Kernel panels: the layout of the dequant_i8 kernel (docs/kernels.md).
/// Columns are taken 8 at a time (N padded to a multiple of 8 with zero
/// codes). A panel of 8 columns stores K, padded to a multiple of 128 with
/// zero codes, as blocks of 32 rows of bits * 32 bytes. A code (bits = 2, 3,
/// 4 or 8) is split into pieces of 8, 4, 2 or 1 bits (8 = {8}, 4 = {4}, 3 =
/// {2, 1}, 2 = {2}; the first piece holds the low bits); a piece of w bits
/// takes w
/// vectors of 32 bytes, and bits [f*w, f*w+w) of byte 4c + j of its vector v
/// hold that piece of the code of column c of the panel, row 32 * block +
/// 4 * (v * 8 / w + f) + j. So one shift and one mask per piece give 4
/// consecutive rows of each of the 8 columns in the bytes of one 32-bit
/// lane per column: the operand of a 4-byte dot product per lane
/// (vpmaddubsw + vpmaddwd, vpdpbusd, sdot) with 4 broadcast activations.
/// The kernels' K granularity: a whole number of the largest activation
/// block (128 inputs). (It was 256: SmolLM2's K = 576 padded to 768 rows,
/// a third more weight bytes streamed per token than 640.)
constexpr int64_t kSuperblockRows = 128;

int64_t kernelPanelBytes(int64_t K, int bits);

/// Whether kernel panels (and the dequant_i8 kernel) take `bits`-bit codes:
/// 2, 3, 4 or 8.
inline bool isKernelPanelBits(int64_t bits) {
  return (bits >= 2 && bits <= 4) || bits == 8;
}

/// Packs `codes` (K x N, each < 2^bits) into ceil(N / 8) kernel panels of
/// kernelPanelBytes(K, bits) bytes.
bool packKernelPanels(const uint8_t *codes, int64_t K, int64_t N, int bits,
                      std::vector<uint8_t> &packed, std::string &err);

/// Inverse of packKernelPanels.
bool unpackKernelPanels(const uint8_t *packed, size_t packedSize, int64_t K,
                        int64_t N, int bits, std::vector<uint8_t> &codes,
                        std::string &err);

} // namespace quant
} // namespace qc

#endif // QC_QUANT_PACKING_H
