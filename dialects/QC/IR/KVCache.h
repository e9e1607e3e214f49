//===- KVCache.h - storage formats of key-value caches ----------*- C++ -*-===//
//
// How the caches of qc.cached_attention store one position of one head (a
// row of D values). `f32` and `f16` store the values. `int8` and `int4`
// store groups of kKVCacheGroup values as unsigned codes with an f32 scale
// and minimum per group (x = code * scale + min): an i8 row holds the
// groups' (scale, min) pairs first (8 bytes a group, little-endian f32),
// then the codes, a byte each (int8) or two a byte (int4: byte k of a group
// holds value k in its low nibble and value k + 16 in its high one).
//
// `mikv` is MiKV's mixed-precision cache (Yang et al., "No Token Left
// Behind", 2024): every position is stored in int4, and the positions that
// matter most also in f16, in a pool of T / kMiKVShare slots per cache head.
// Which ones: every new position enters the pool; once the pool is full,
// the entering position takes the slot of the pooled position with the
// least importance (the attention it has received, summed over the query
// heads of its group and over every query so far; ties: the earliest
// position) outside the most recent `slots / 2` positions. An i8 row of D
// values holds its int4 row (`D / 2 + D / 4` bytes), then its importance
// (f32) and its pool slot plus one (i32; 0: int4 only) — both meaningful in
// the key cache — then a piece of the pool: slot m's f16 row lies in the
// rows 8m .. 8m + 7 of its cache head, row 8m + j holding values
// [j D / 8, (j + 1) D / 8).
//
//===----------------------------------------------------------------------===//

#ifndef QC_KVCACHE_H
#define QC_KVCACHE_H

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Types.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace qc {

enum class KVCacheFormat { F32, F16, Int8, Int4, MiKV };

/// Values of one quantization group of the int8 / int4 formats.
constexpr int64_t kKVCacheGroup = 32;

/// MiKV: rows per high-precision slot (a slot's f16 row is spread over this
/// many rows of the cache); the pool holds one position in this many.
constexpr int64_t kMiKVShare = 8;

/// MiKV: the fewest positions a cache may hold (two pool slots).
constexpr int64_t kMiKVMinLength = 2 * kMiKVShare;

/// The storage of one cache row of `headDim` values.
struct KVCacheLayout {
  KVCacheFormat format = KVCacheFormat::F32;
  int64_t headDim = 0;

  bool quantized() const {
    return format == KVCacheFormat::Int8 || format == KVCacheFormat::Int4 ||
           format == KVCacheFormat::MiKV;
  }
  bool mixed() const { return format == KVCacheFormat::MiKV; }
  /// The layout of a row's low-precision part: int4 for MiKV, else itself.
  KVCacheLayout lowPrecision() const {
    return {mixed() ? KVCacheFormat::Int4 : format, headDim};
  }
  /// MiKV: byte offsets in a row of the importance, the slot and the pool
  /// piece, and the f16 values of a piece.
  int64_t importanceOffset() const { return lowPrecision().rowBytes(); }
  int64_t slotOffset() const { return importanceOffset() + 4; }
  int64_t poolOffset() const { return importanceOffset() + 8; }
  int64_t pieceValues() const { return headDim / kMiKVShare; }
  /// MiKV: the pool's slots in a cache of `length` positions, and how many
  /// of the most recent positions are never evicted.
  static int64_t poolSlots(int64_t length) { return length / kMiKVShare; }
  static int64_t recentWindow(int64_t length) {
    return poolSlots(length) / 2;
  }
  /// Quantization groups of a row (0 for the float formats).
  int64_t groups() const { return quantized() ? headDim / kKVCacheGroup : 0; }
  /// Bits of a stored value, parameters not counted.
  int64_t bits() const;
  /// Elements of the cache's element type in a row: its last dimension.
  int64_t rowWidth() const;
  /// Bytes of a row, parameters included.
  int64_t rowBytes() const;
  mlir::Type elementType(mlir::MLIRContext *ctx) const;
};

/// "f32", "f16", "int8", "int4" or "mikv".
llvm::StringRef kvCacheFormatName(KVCacheFormat format);
std::optional<KVCacheFormat> parseKVCacheFormat(llvm::StringRef name);

/// Whether `format` can store rows of `headDim` values (the int formats
/// need whole groups).
bool kvCacheFormatFits(KVCacheFormat format, int64_t headDim);

/// The layout of a cache of element type `element` whose rows are `width`
/// wide, for heads of `headDim` values; nullopt when none matches. MiKV
/// caches are told by their op (`mixed_precision`), not by their type:
/// this gives the others only.
std::optional<KVCacheLayout> inferKVCacheLayout(mlir::Type element,
                                                int64_t width,
                                                int64_t headDim);

} // namespace qc

#endif // QC_KVCACHE_H
