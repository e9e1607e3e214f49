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
//===----------------------------------------------------------------------===//

#ifndef QC_KVCACHE_H
#define QC_KVCACHE_H

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Types.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace qc {

enum class KVCacheFormat { F32, F16, Int8, Int4 };

/// Values of one quantization group of the int8 / int4 formats.
constexpr int64_t kKVCacheGroup = 32;

/// The storage of one cache row of `headDim` values.
struct KVCacheLayout {
  KVCacheFormat format = KVCacheFormat::F32;
  int64_t headDim = 0;

  bool quantized() const {
    return format == KVCacheFormat::Int8 || format == KVCacheFormat::Int4;
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

/// "f32", "f16", "int8" or "int4".
llvm::StringRef kvCacheFormatName(KVCacheFormat format);
std::optional<KVCacheFormat> parseKVCacheFormat(llvm::StringRef name);

/// Whether `format` can store rows of `headDim` values (the int formats
/// need whole groups).
bool kvCacheFormatFits(KVCacheFormat format, int64_t headDim);

/// The layout of a cache of element type `element` whose rows are `width`
/// wide, for heads of `headDim` values; nullopt when none matches.
std::optional<KVCacheLayout> inferKVCacheLayout(mlir::Type element,
                                                int64_t width,
                                                int64_t headDim);

} // namespace qc

#endif // QC_KVCACHE_H
