//===- SmallFloat.h - 8- and 4-bit float formats: decode and encode -*- C++ -*-===//
//
// ONNX's float8 (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ), float4 (E2M1) and
// E8M0 (a power of two) element types, one code a byte (float4 in the low
// nibble). Encoding rounds to nearest, ties to even, exactly as ml_dtypes'
// `astype` and ONNX's Cast do; `saturate` (Cast's attribute, on by
// default) turns an overflow into the largest finite value. The importer
// generates the same arithmetic as arith ops (lib/Import/SmallTypes.cpp);
// this is the host's copy: host folding, qc-run's .npy conversions, and
// the unit test that checks both against the formats' closed forms.
// No MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef QCRT_SMALLFLOAT_H
#define QCRT_SMALLFLOAT_H

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace qc::smallfloat {

/// How a format spells infinities and NaNs.
enum class Specials {
  IEEE,   // all-ones exponent: infinity (mantissa 0) or NaN (E5M2)
  FN,     // no infinities; S.1111.111 is NaN (E4M3FN)
  FNUZ,   // no infinities, no negative zero; 0x80 is the NaN
  Finite, // neither (E2M1): NaN becomes a zero (ml_dtypes' choice)
};

struct Format {
  unsigned exponentBits, mantissaBits;
  int bias;
  Specials specials;

  unsigned signShift() const { return exponentBits + mantissaBits; }
  /// The largest finite magnitude's code.
  uint32_t maxCode() const {
    uint32_t allOnes = (1u << signShift()) - 1;
    switch (specials) {
    case Specials::IEEE:
      return infCode() - 1;
    case Specials::FN:
      return allOnes - 1;
    default:
      return allOnes;
    }
  }
  /// The code of +infinity (IEEE only).
  uint32_t infCode() const {
    return ((1u << exponentBits) - 1) << mantissaBits;
  }
  /// The code of a NaN of sign `sign` (0 or 1).
  uint32_t nanCode(uint32_t sign) const {
    switch (specials) {
    case Specials::IEEE:
      return infCode() | (1u << (mantissaBits - 1)) | sign << signShift();
    case Specials::FN:
      return ((1u << signShift()) - 1) | sign << signShift();
    case Specials::FNUZ:
      return 1u << signShift();
    case Specials::Finite:
      return (sign ^ 1) << signShift();
    }
    return 0;
  }
};

inline constexpr Format kE4M3FN{4, 3, 7, Specials::FN};
inline constexpr Format kE4M3FNUZ{4, 3, 8, Specials::FNUZ};
inline constexpr Format kE5M2{5, 2, 15, Specials::IEEE};
inline constexpr Format kE5M2FNUZ{5, 2, 16, Specials::FNUZ};
inline constexpr Format kE2M1{2, 1, 1, Specials::Finite};

inline uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}
inline float floatOf(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

/// The value of `code`.
inline float decode(uint8_t code, const Format &f) {
  uint32_t sign = (code >> f.signShift()) & 1;
  uint32_t magnitude = code & ((1u << f.signShift()) - 1);
  uint32_t e = magnitude >> f.mantissaBits;
  uint32_t m = magnitude & ((1u << f.mantissaBits) - 1);
  float nan = std::numeric_limits<float>::quiet_NaN();
  if (f.specials == Specials::FNUZ && code == 0x80)
    return nan;
  if (f.specials == Specials::FN && magnitude == (1u << f.signShift()) - 1)
    return nan;
  if (f.specials == Specials::IEEE && e == (1u << f.exponentBits) - 1)
    return m ? nan : (sign ? -INFINITY : INFINITY);
  float v = e == 0 ? std::ldexp(float(m), 1 - f.bias - int(f.mantissaBits))
                   : std::ldexp(1.0f + std::ldexp(float(m), -int(f.mantissaBits)),
                                int(e) - f.bias);
  return sign ? -v : v;
}

/// The code nearest `x` (ties to even). An overflow is the largest finite
/// value when `saturate` (always for E2M1), else infinity (IEEE) or NaN.
inline uint8_t encode(float x, const Format &f, bool saturate) {
  uint32_t u = bitsOf(x);
  uint32_t sign = u >> 31;
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u)
    return uint8_t(f.nanCode(sign));
  int64_t code;
  uint32_t minNormal = uint32_t(128 - f.bias) << 23; // 2^(1 - bias)
  if (a < minNormal) {
    // Subnormal (or zero): the count of 2^(1 - bias - M) steps, rounded;
    // 2^M is the smallest normal's code, which is right.
    code = int64_t(std::nearbyint(
        std::ldexp(floatOf(a), f.bias - 1 + int(f.mantissaBits))));
  } else {
    unsigned shift = 23 - f.mantissaBits;
    uint64_t r = uint64_t(a) + ((1u << (shift - 1)) - 1) + ((a >> shift) & 1);
    code = int64_t(r >> shift) - (int64_t(127 - f.bias) << f.mantissaBits);
  }
  if (code > int64_t(f.maxCode())) {
    if (saturate || f.specials == Specials::Finite)
      code = f.maxCode();
    else if (f.specials == Specials::IEEE)
      code = f.infCode();
    else
      return uint8_t(f.nanCode(sign));
  }
  if (f.specials == Specials::FNUZ && code == 0)
    return 0;
  return uint8_t(code | int64_t(sign) << f.signShift());
}

/// E8M0: 2^(code - 127), 0xff the NaN.
inline float decodeE8M0(uint8_t code) {
  return code == 0xff ? std::numeric_limits<float>::quiet_NaN()
                      : std::ldexp(1.0f, int(code) - 127);
}

enum class E8M0Rounding { Up, Down, Nearest };

/// E8M0 of |x|, as ONNX's reference (onnx.numpy_helper.to_float8e8m0): the
/// f32 exponent, raised by `rounding`; NaN and infinity are 0xff.
inline uint8_t encodeE8M0(float x, bool saturate, E8M0Rounding rounding) {
  uint32_t u = bitsOf(x);
  uint32_t e = (u >> 23) & 0xff;
  if (e == 0xff)
    return 0xff;
  bool up = false;
  if (rounding == E8M0Rounding::Up)
    up = (u & 0x7fffffu) != 0;
  else if (rounding == E8M0Rounding::Nearest)
    up = (u & 0x400000u) && ((u & 0x200000u) || (u & 0x1fffffu) || e > 0);
  if (saturate && e == 0xfe)
    up = false;
  return uint8_t(e + (up ? 1 : 0));
}

} // namespace qc::smallfloat

#endif // QCRT_SMALLFLOAT_H
