//===- KVCache.cpp - storage formats of key-value caches ------------------===//

#include "QC/IR/KVCache.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;
using namespace qc;

int64_t KVCacheLayout::bits() const {
  switch (format) {
  case KVCacheFormat::F32:
    return 32;
  case KVCacheFormat::F16:
    return 16;
  case KVCacheFormat::Int8:
    return 8;
  case KVCacheFormat::Int4:
  case KVCacheFormat::MiKV:
    return 4;
  }
  llvm_unreachable("unknown key-value cache format");
}

int64_t KVCacheLayout::rowBytes() const {
  if (mixed())
    return poolOffset() + 2 * pieceValues();
  return headDim * bits() / 8 + groups() * 8;
}

int64_t KVCacheLayout::rowWidth() const {
  return quantized() ? rowBytes() : headDim;
}

Type KVCacheLayout::elementType(MLIRContext *ctx) const {
  switch (format) {
  case KVCacheFormat::F32:
    return Float32Type::get(ctx);
  case KVCacheFormat::F16:
    return Float16Type::get(ctx);
  case KVCacheFormat::Int8:
  case KVCacheFormat::Int4:
  case KVCacheFormat::MiKV:
    return IntegerType::get(ctx, 8);
  }
  llvm_unreachable("unknown key-value cache format");
}

StringRef qc::kvCacheFormatName(KVCacheFormat format) {
  switch (format) {
  case KVCacheFormat::F32:
    return "f32";
  case KVCacheFormat::F16:
    return "f16";
  case KVCacheFormat::Int8:
    return "int8";
  case KVCacheFormat::Int4:
    return "int4";
  case KVCacheFormat::MiKV:
    return "mikv";
  }
  llvm_unreachable("unknown key-value cache format");
}

/// Every format, in the order of their names in messages.
static constexpr KVCacheFormat kFormats[] = {
    KVCacheFormat::F32, KVCacheFormat::F16, KVCacheFormat::Int8,
    KVCacheFormat::Int4, KVCacheFormat::MiKV};

std::optional<KVCacheFormat> qc::parseKVCacheFormat(StringRef name) {
  for (KVCacheFormat f : kFormats)
    if (name == kvCacheFormatName(f))
      return f;
  return std::nullopt;
}

bool qc::kvCacheFormatFits(KVCacheFormat format, int64_t headDim) {
  KVCacheLayout layout{format, headDim};
  return headDim > 0 && (!layout.quantized() || headDim % kKVCacheGroup == 0);
}

std::optional<KVCacheLayout> qc::inferKVCacheLayout(Type element,
                                                    int64_t width,
                                                    int64_t headDim) {
  for (KVCacheFormat f : kFormats) {
    KVCacheLayout layout{f, headDim};
    if (!layout.mixed() && kvCacheFormatFits(f, headDim) &&
        layout.elementType(element.getContext()) == element &&
        layout.rowWidth() == width)
      return layout;
  }
  return std::nullopt;
}
