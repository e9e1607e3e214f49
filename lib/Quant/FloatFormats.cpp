//===- FloatFormats.cpp - FP8, MXFP4, AMXFP4 and dINT formats -------------===//

#include "qc/Quant/FloatFormats.h"

#include "QuantUtils.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qc::quant;
using namespace qc::quant::detail;

//===----------------------------------------------------------------------===//
// Scalar formats
//===----------------------------------------------------------------------===//

uint8_t qc::quant::quantizeFP8E4M3(float x) {
  const uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
  if (std::isnan(x))
    return sign | 0x7F;
  const double a = std::fabs(double(x));
  if (a >= 448.0)
    return sign | 0x7E;
  // Subnormals (and zero): multiples of 2^-9 below 2^-6. A value rounding up
  // to 8 * 2^-9 yields code 0x08, the smallest normal, as it should.
  if (a < 0.015625)
    return sign | uint8_t(std::nearbyint(a * 512.0));
  int e;
  const double m = std::frexp(a, &e); // a = m * 2^e, m in [0.5, 1)
  int exp = e - 1;                    // a = (2m) * 2^exp, 2m in [1, 2)
  double frac = std::nearbyint((2.0 * m - 1.0) * 8.0);
  if (frac == 8.0) {
    frac = 0.0;
    ++exp;
  }
  // a < 448 keeps exp <= 8 and the code below 0x7F.
  return sign | uint8_t(((exp + 7) << 3) | int(frac));
}

float qc::quant::dequantizeFP8E4M3(uint8_t code) {
  const int e = (code >> 3) & 0xF, m = code & 0x7;
  if (e == 15 && m == 7)
    return std::numeric_limits<float>::quiet_NaN();
  const float v = e == 0 ? std::ldexp(float(m), -9)
                         : std::ldexp(1.0f + float(m) / 8.0f, e - 7);
  return (code & 0x80) ? -v : v;
}

uint8_t qc::quant::quantizeE2M1(float x) {
  if (std::isnan(x))
    return 0;
  const uint8_t sign = std::signbit(x) ? 0x8 : 0x0;
  const float a = std::fabs(x);
  // Midpoints between grid neighbours; exact ties go to the even code
  // (mantissa bit 0), hence <= before even codes and < before odd ones.
  uint8_t c;
  if (a <= 0.25f)
    c = 0;
  else if (a < 0.75f)
    c = 1;
  else if (a <= 1.25f)
    c = 2;
  else if (a < 1.75f)
    c = 3;
  else if (a <= 2.5f)
    c = 4;
  else if (a < 3.5f)
    c = 5;
  else if (a <= 5.0f)
    c = 6;
  else
    c = 7;
  return sign | c;
}

float qc::quant::dequantizeE2M1(uint8_t code) {
  static const float kValues[8] = {0.0f, 0.5f, 1.0f, 1.5f,
                                   2.0f, 3.0f, 4.0f, 6.0f};
  const float v = kValues[code & 0x7];
  return (code & 0x8) ? -v : v;
}

float qc::quant::decodeE8M0(uint8_t e) {
  if (e == 255)
    return std::numeric_limits<float>::quiet_NaN();
  return std::ldexp(1.0f, int(e) - 127);
}

namespace {

/// The MX shared exponent floor(log2(amax)) - emax(E2M1) clamped to the
/// E8M0 range; -127 for amax == 0.
int sharedExponent(float amax) {
  if (!(amax > 0.0f))
    return -127;
  int e;
  std::frexp(amax, &e); // amax = m * 2^e, m in [0.5, 1): floor(log2) = e-1
  return std::min(std::max(e - 1 - 2, -127), 127);
}

} // namespace

//===----------------------------------------------------------------------===//
// MXFP4
//===----------------------------------------------------------------------===//

bool qc::quant::quantizeMXFP4(const float *W, int64_t K, int64_t N,
                              MXFP4Result &out, std::string &err) {
  if (!checkMatrix("quantizeMXFP4", W, K, N, err))
    return false;
  const int64_t numBK = ceilDiv(K, kMXBlockSize);
  MXFP4Result r;
  r.K = K;
  r.N = N;
  r.codes.resize(size_t(K * N));
  r.scaleExps.resize(size_t(numBK * N));
  for (int64_t bk = 0; bk < numBK; ++bk) {
    const int64_t k0 = bk * kMXBlockSize, k1 = std::min(K, k0 + kMXBlockSize);
    for (int64_t n = 0; n < N; ++n) {
      float amax = 0.0f;
      for (int64_t k = k0; k < k1; ++k)
        amax = std::max(amax, std::fabs(W[k * N + n]));
      const int se = sharedExponent(amax);
      r.scaleExps[size_t(bk * N + n)] = uint8_t(se + 127);
      for (int64_t k = k0; k < k1; ++k)
        r.codes[size_t(k * N + n)] =
            quantizeE2M1(std::ldexp(W[k * N + n], -se));
    }
  }
  out = std::move(r);
  return true;
}

bool qc::quant::dequantizeMXFP4(const MXFP4Result &q, std::vector<float> &W,
                                std::string &err) {
  const char *fn = "dequantizeMXFP4";
  if (!checkShape(fn, q.K, q.N, err))
    return false;
  const int64_t numBK = ceilDiv(q.K, kMXBlockSize);
  if (q.codes.size() != size_t(q.K * q.N) ||
      q.scaleExps.size() != size_t(numBK * q.N)) {
    err = std::string(fn) + ": array sizes do not match the shape";
    return false;
  }
  W.resize(size_t(q.K * q.N));
  for (int64_t k = 0; k < q.K; ++k)
    for (int64_t n = 0; n < q.N; ++n)
      W[size_t(k * q.N + n)] =
          dequantizeE2M1(q.codes[size_t(k * q.N + n)]) *
          decodeE8M0(q.scaleExps[size_t((k / kMXBlockSize) * q.N + n)]);
  return true;
}

//===----------------------------------------------------------------------===//
// AMXFP4
//===----------------------------------------------------------------------===//

bool qc::quant::quantizeAMXFP4(const float *W, int64_t K, int64_t N,
                               AMXFP4Result &out, std::string &err) {
  if (!checkMatrix("quantizeAMXFP4", W, K, N, err))
    return false;
  const int64_t numBK = ceilDiv(K, kMXBlockSize);
  AMXFP4Result r;
  r.K = K;
  r.N = N;
  r.codes.resize(size_t(K * N));
  r.posScaleExps.resize(size_t(numBK * N));
  r.negScaleExps.resize(size_t(numBK * N));
  for (int64_t bk = 0; bk < numBK; ++bk) {
    const int64_t k0 = bk * kMXBlockSize, k1 = std::min(K, k0 + kMXBlockSize);
    for (int64_t n = 0; n < N; ++n) {
      float maxPos = 0.0f, maxNeg = 0.0f;
      for (int64_t k = k0; k < k1; ++k) {
        const float x = W[k * N + n];
        if (x < 0.0f)
          maxNeg = std::max(maxNeg, -x);
        else
          maxPos = std::max(maxPos, x);
      }
      const int sp = sharedExponent(maxPos), sn = sharedExponent(maxNeg);
      r.posScaleExps[size_t(bk * N + n)] = uint8_t(sp + 127);
      r.negScaleExps[size_t(bk * N + n)] = uint8_t(sn + 127);
      for (int64_t k = k0; k < k1; ++k) {
        const float x = W[k * N + n];
        uint8_t c = x < 0.0f ? uint8_t(quantizeE2M1(std::ldexp(x, -sn)) | 0x8)
                             : uint8_t(quantizeE2M1(std::ldexp(x, -sp)) & 0x7);
        r.codes[size_t(k * N + n)] = c;
      }
    }
  }
  out = std::move(r);
  return true;
}

bool qc::quant::dequantizeAMXFP4(const AMXFP4Result &q, std::vector<float> &W,
                                 std::string &err) {
  const char *fn = "dequantizeAMXFP4";
  if (!checkShape(fn, q.K, q.N, err))
    return false;
  const int64_t numBK = ceilDiv(q.K, kMXBlockSize);
  if (q.codes.size() != size_t(q.K * q.N) ||
      q.posScaleExps.size() != size_t(numBK * q.N) ||
      q.negScaleExps.size() != size_t(numBK * q.N)) {
    err = std::string(fn) + ": array sizes do not match the shape";
    return false;
  }
  W.resize(size_t(q.K * q.N));
  for (int64_t k = 0; k < q.K; ++k)
    for (int64_t n = 0; n < q.N; ++n) {
      const uint8_t c = q.codes[size_t(k * q.N + n)];
      const size_t s = size_t((k / kMXBlockSize) * q.N + n);
      W[size_t(k * q.N + n)] =
          dequantizeE2M1(c) *
          decodeE8M0((c & 0x8) ? q.negScaleExps[s] : q.posScaleExps[s]);
    }
  return true;
}

//===----------------------------------------------------------------------===//
// dINT
//===----------------------------------------------------------------------===//

namespace {

/// The largest dINT level for `bits` (in units of the scale).
float dintMaxLevel(int bits) {
  const int half = 1 << (bits - 1);
  return half == 2 ? 0.5f : float(half - 2);
}

/// The level of |v| (0, 1/2, then |v| - 1).
inline float levelOfMagnitude(int mag) {
  return mag == 0 ? 0.0f : mag == 1 ? 0.5f : float(mag - 1);
}

} // namespace

float qc::quant::dintLevel(int bits, int code) {
  if (bits < 2 || bits > 8 || code < 0 || code >= (1 << bits))
    return 0.0f;
  const int v = code - (1 << (bits - 1));
  if (v == -(1 << (bits - 1)))
    return 0.0f; // the spare code
  const float l = levelOfMagnitude(std::abs(v));
  return v < 0 ? -l : l;
}

bool qc::quant::quantizeDInt(const float *W, int64_t K, int64_t N, int bits,
                             int64_t group, DIntResult &out, std::string &err) {
  const char *fn = "quantizeDInt";
  if (!checkMatrix(fn, W, K, N, err) ||
      !checkRange(fn, "bits", bits, 2, 8, err))
    return false;
  int64_t g;
  if (!resolveGroup(fn, group, K, g, err))
    return false;
  const int half = 1 << (bits - 1), maxMag = half - 1;
  const float maxLevel = dintMaxLevel(bits);
  const int64_t numGK = ceilDiv(K, g);
  DIntResult r;
  r.K = K;
  r.N = N;
  r.bits = bits;
  r.group = g;
  r.codes.resize(size_t(K * N));
  r.scales.resize(size_t(numGK * N));
  for (int64_t gk = 0; gk < numGK; ++gk) {
    const int64_t k0 = gk * g, k1 = std::min(K, k0 + g);
    for (int64_t n = 0; n < N; ++n) {
      float amax = 0.0f;
      for (int64_t k = k0; k < k1; ++k)
        amax = std::max(amax, std::fabs(W[k * N + n]));
      float scale = amax / maxLevel;
      if (!(scale > 0.0f))
        scale = 1.0f;
      r.scales[size_t(gk * N + n)] = scale;
      for (int64_t k = k0; k < k1; ++k) {
        const float t = W[k * N + n] / scale;
        const double a = std::fabs(double(t));
        // Bracket a between the magnitudes lo and lo + 1 and take the
        // nearer level, the smaller one on a tie.
        int mag;
        if (a >= double(maxLevel)) {
          mag = maxMag;
        } else {
          int lo = a <= 0.5 ? 0 : a <= 1.0 ? 1 : int(std::floor(a)) + 1;
          lo = std::min(lo, maxMag - 1);
          const double dLo = a - double(levelOfMagnitude(lo));
          const double dHi = double(levelOfMagnitude(lo + 1)) - a;
          mag = dHi < dLo ? lo + 1 : lo;
        }
        const int v = t < 0.0f ? -mag : mag;
        r.codes[size_t(k * N + n)] = uint8_t(v + half);
      }
    }
  }
  out = std::move(r);
  return true;
}

bool qc::quant::dequantizeDInt(const DIntResult &q, std::vector<float> &W,
                               std::string &err) {
  const char *fn = "dequantizeDInt";
  if (!checkShape(fn, q.K, q.N, err) ||
      !checkRange(fn, "bits", q.bits, 2, 8, err) ||
      !checkRange(fn, "group", q.group, 1, q.K, err))
    return false;
  const int64_t numGK = ceilDiv(q.K, q.group);
  if (q.codes.size() != size_t(q.K * q.N) ||
      q.scales.size() != size_t(numGK * q.N)) {
    err = std::string(fn) + ": array sizes do not match the shape";
    return false;
  }
  W.resize(size_t(q.K * q.N));
  for (int64_t k = 0; k < q.K; ++k)
    for (int64_t n = 0; n < q.N; ++n)
      W[size_t(k * q.N + n)] = q.scales[size_t((k / q.group) * q.N + n)] *
                               dintLevel(q.bits, q.codes[size_t(k * q.N + n)]);
  return true;
}
