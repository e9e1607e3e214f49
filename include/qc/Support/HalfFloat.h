//===- HalfFloat.h - f16 / bf16 bits to and from floats ---------*- C++ -*-===//
//
// The one conversion between IEEE half / bfloat16 storage and floats of the
// compiler (weights, scales, ONNX tensors): LLVM's APFloat, rounding to
// nearest even. The runtime has its own (no LLVM there).
//
//===----------------------------------------------------------------------===//

#ifndef QC_SUPPORT_HALFFLOAT_H
#define QC_SUPPORT_HALFFLOAT_H

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"

#include <cstdint>
#include <cstring>

namespace qc {

/// The f16 (or, with `bf16`, bfloat16) bits nearest to `v` (ties to even).
inline uint16_t toHalfBits(double v, bool bf16) {
  llvm::APFloat f(v);
  bool lost;
  f.convert(bf16 ? llvm::APFloat::BFloat() : llvm::APFloat::IEEEhalf(),
            llvm::APFloat::rmNearestTiesToEven, &lost);
  return static_cast<uint16_t>(f.bitcastToAPInt().getZExtValue());
}

/// The value of f16 (or bfloat16) bits, exactly.
inline double fromHalfBits(uint16_t bits, bool bf16) {
  return llvm::APFloat(bf16 ? llvm::APFloat::BFloat()
                            : llvm::APFloat::IEEEhalf(),
                       llvm::APInt(16, bits))
      .convertToDouble();
}

/// The f32 value of IEEE f16 bits, exactly (every f16 is an f32), by bit
/// manipulation: for bulk conversion, where fromHalfBits is too slow.
inline float halfBitsToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) { // inf, nan
    bits = sign | 0x7f800000u | (man << 13);
  } else if (exp != 0) { // normal
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) { // zero
    bits = sign;
  } else { // subnormal: normalize
    exp = 113;
    while (!(man & 0x400)) {
      man <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/// The f32 value of bfloat16 bits, exactly.
inline float bfloat16BitsToFloat(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

} // namespace qc

#endif // QC_SUPPORT_HALFFLOAT_H
