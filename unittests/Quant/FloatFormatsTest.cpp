//===- FloatFormatsTest.cpp - Tests of FP8, MXFP4, AMXFP4 and dINT --------===//

#include "qc/Quant/FloatFormats.h"
#include "qc/Quant/Uniform.h"
#include "qc/Support/HalfFloat.h"

#include "QuantTestUtil.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>

using namespace qc::quant;
using namespace qc::quant::test;

namespace {

//===----------------------------------------------------------------------===//
// Independent references
//===----------------------------------------------------------------------===//

/// E4M3 value of a code by the bit-level definition.
double refFP8Value(int code) {
  int s = code >> 7, e = (code >> 3) & 15, m = code & 7;
  double mag = e == 0 ? m * std::pow(2.0, -9) : (8 + m) * std::pow(2.0, e - 10);
  return s ? -mag : mag;
}

/// Nearest finite E4M3 code by exhaustive search; ties to the even code
/// (even mantissa); beyond the largest value saturate.
int refFP8Quantize(float x) {
  if (std::isnan(x))
    return std::signbit(x) ? 0xFF : 0x7F;
  int sign = std::signbit(x) ? 0x80 : 0;
  double a = std::fabs(double(x));
  int best = 0;
  double bestD = std::numeric_limits<double>::infinity();
  for (int c = 0; c <= 0x7E; ++c) {
    double d = std::fabs(a - refFP8Value(c));
    if (d < bestD || (d == bestD && (c & 1) == 0)) {
      bestD = d;
      best = c;
    }
  }
  return sign | best;
}

const double kE2M1[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};

/// Nearest E2M1 code, ties to the even code, saturating.
int refE2M1Quantize(double x) {
  int sign = std::signbit(x) ? 8 : 0;
  double a = std::fabs(x);
  int best = 0;
  double bestD = std::numeric_limits<double>::infinity();
  for (int c = 0; c < 8; ++c) {
    double d = std::fabs(a - kE2M1[c]);
    if (d < bestD || (d == bestD && (c & 1) == 0)) {
      bestD = d;
      best = c;
    }
  }
  return sign | best;
}

double refE2M1Value(int code) {
  return (code & 8) ? -kE2M1[code & 7] : kE2M1[code & 7];
}

/// floor(log2(a)) - 2 for a > 0 by repeated doubling/halving; -127 for 0.
int refSharedExp(double a) {
  if (a == 0.0)
    return -127;
  int e = 0;
  while (std::ldexp(1.0, e) > a)
    --e;
  while (std::ldexp(1.0, e + 1) <= a)
    ++e;
  return std::max(e - 2, -127);
}

/// dINT level of code c with b bits, from the documented grid.
double refDIntLevel(int bits, int c) {
  int M = 1 << (bits - 1), v = c - M;
  if (v == -M || v == 0)
    return 0.0;
  int a = std::abs(v);
  double l = a == 1 ? 0.5 : a - 1;
  return v < 0 ? -l : l;
}

/// Interesting FP8 inputs: every code's value, every midpoint between
/// neighbours and just around them, extremes and specials.
std::vector<float> fp8Probes() {
  std::vector<float> xs;
  std::vector<double> vals;
  for (int c = 0; c <= 0x7E; ++c)
    vals.push_back(refFP8Value(c));
  for (size_t i = 0; i < vals.size(); ++i) {
    xs.push_back(float(vals[i]));
    if (i + 1 < vals.size()) {
      float mid = float((vals[i] + vals[i + 1]) / 2);
      xs.push_back(mid);
      xs.push_back(std::nextafter(mid, 0.0f));
      xs.push_back(std::nextafter(mid, 1000.0f));
    }
  }
  for (float x : {448.0f, 449.0f, 464.0f, 480.0f, 1e6f, 3.4e38f,
                  std::numeric_limits<float>::infinity(), 1e-30f,
                  std::numeric_limits<float>::denorm_min(), 0.0009765625f,
                  0.00097656f, 0.0009766f})
    xs.push_back(x);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> logu(-12.0f, 10.0f);
  for (int i = 0; i < 2000; ++i)
    xs.push_back(std::exp2(logu(rng)));
  size_t n = xs.size();
  for (size_t i = 0; i < n; ++i)
    xs.push_back(-xs[i]);
  xs.push_back(-0.0f);
  return xs;
}

} // namespace

//===----------------------------------------------------------------------===//
// FP8 E4M3
//===----------------------------------------------------------------------===//

TEST(FP8E4M3, DecodeMatchesBitDefinition) {
  for (int c = 0; c < 256; ++c) {
    float v = dequantizeFP8E4M3(uint8_t(c));
    if ((c & 0x7F) == 0x7F) {
      EXPECT_TRUE(std::isnan(v)) << c;
      continue;
    }
    EXPECT_EQ(double(v), refFP8Value(c)) << c;
  }
  EXPECT_EQ(dequantizeFP8E4M3(0x7E), 448.0f);
  EXPECT_EQ(dequantizeFP8E4M3(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(dequantizeFP8E4M3(0x08), std::ldexp(1.0f, -6));
}

TEST(FP8E4M3, QuantizeMatchesExhaustiveReference) {
  for (float x : fp8Probes())
    ASSERT_EQ(int(quantizeFP8E4M3(x)), refFP8Quantize(x)) << x;
}

TEST(FP8E4M3, RoundTripAndSpecials) {
  for (int c = 0; c < 256; ++c) {
    if ((c & 0x7F) == 0x7F)
      continue;
    EXPECT_EQ(int(quantizeFP8E4M3(dequantizeFP8E4M3(uint8_t(c)))), c);
  }
  EXPECT_EQ(quantizeFP8E4M3(std::numeric_limits<float>::quiet_NaN()), 0x7F);
  EXPECT_EQ(quantizeFP8E4M3(-std::numeric_limits<float>::quiet_NaN()), 0xFF);
  EXPECT_EQ(quantizeFP8E4M3(std::numeric_limits<float>::infinity()), 0x7E);
  EXPECT_EQ(quantizeFP8E4M3(-std::numeric_limits<float>::infinity()), 0xFE);
  EXPECT_EQ(quantizeFP8E4M3(1e9f), 0x7E);
  EXPECT_EQ(quantizeFP8E4M3(-0.0f), 0x80);
  // Ties to even: 1 + 1/16 lies between 1 (even) and 1.125 (odd).
  EXPECT_EQ(quantizeFP8E4M3(1.0625f), 0x38);
  EXPECT_EQ(quantizeFP8E4M3(1.1875f), 0x3A); // between 1.125 and 1.25
  // The smallest subnormal's half rounds to zero, just above it to 2^-9.
  EXPECT_EQ(quantizeFP8E4M3(std::ldexp(1.0f, -10)), 0x00);
  EXPECT_EQ(quantizeFP8E4M3(std::nextafter(std::ldexp(1.0f, -10), 1.0f)), 0x01);
}

//===----------------------------------------------------------------------===//
// E2M1, MXFP4, AMXFP4
//===----------------------------------------------------------------------===//

TEST(E2M1, QuantizeMatchesReference) {
  std::vector<float> xs;
  for (int i = -560; i <= 560; ++i)
    xs.push_back(float(i) / 80.0f); // covers every midpoint exactly
  for (float x : {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, 100.0f})
    for (float y : {x, std::nextafter(x, 0.0f), std::nextafter(x, 10.0f)})
      xs.push_back(y);
  for (float x : xs) {
    ASSERT_EQ(int(quantizeE2M1(x)), refE2M1Quantize(x)) << x;
    ASSERT_EQ(int(quantizeE2M1(-x)), refE2M1Quantize(-x)) << -x;
  }
  for (int c = 0; c < 16; ++c)
    EXPECT_EQ(double(dequantizeE2M1(uint8_t(c))), refE2M1Value(c));
}

TEST(MXFP4, MatchesReference) {
  for (const auto &shape :
       {std::pair<int64_t, int64_t>{37, 13}, std::pair<int64_t, int64_t>{96, 4},
        std::pair<int64_t, int64_t>{5, 3}}) {
    const int64_t K = shape.first, N = shape.second;
    std::vector<float> W = randomWeights(K, N, 201, 0.05f);
    W[0] = 0.0f;
    if (K > 40)
      for (int64_t k = 32; k < 64; ++k)
        W[size_t(k * N + 1)] = 0.0f; // an all-zero block
    MXFP4Result q;
    std::string err;
    ASSERT_TRUE(quantizeMXFP4(W.data(), K, N, q, err)) << err;
    const int64_t blocks = ceilDivT(K, 32);
    ASSERT_EQ(q.scaleExps.size(), size_t(blocks * N));
    std::vector<float> deq;
    ASSERT_TRUE(dequantizeMXFP4(q, deq, err)) << err;
    for (int64_t b = 0; b < blocks; ++b)
      for (int64_t n = 0; n < N; ++n) {
        double amax = 0.0;
        for (int64_t k = b * 32; k < std::min(K, b * 32 + 32); ++k)
          amax = std::max(amax, std::fabs(double(W[size_t(k * N + n)])));
        int se = refSharedExp(amax);
        ASSERT_EQ(int(q.scaleExps[size_t(b * N + n)]), se + 127);
        for (int64_t k = b * 32; k < std::min(K, b * 32 + 32); ++k) {
          double x = W[size_t(k * N + n)] / std::ldexp(1.0, se);
          int c = refE2M1Quantize(x);
          ASSERT_EQ(int(q.codes[size_t(k * N + n)]), c) << k << "," << n;
          ASSERT_EQ(double(deq[size_t(k * N + n)]),
                    refE2M1Value(c) * std::ldexp(1.0, se));
        }
      }
  }
}

TEST(MXFP4, PowerOfTwoScaleOfSpec) {
  // amax = 6 * 2^3 -> floor(log2(48)) - 2 = 3, so 48 maps to 6 exactly.
  std::vector<float> W(32, 1.0f);
  W[5] = 48.0f;
  W[6] = -48.0f;
  MXFP4Result q;
  std::string err;
  ASSERT_TRUE(quantizeMXFP4(W.data(), 32, 1, q, err));
  EXPECT_EQ(q.scaleExps[0], 127 + 3);
  EXPECT_EQ(decodeE8M0(q.scaleExps[0]), 8.0f);
  EXPECT_EQ(q.codes[5], 0x7);
  EXPECT_EQ(q.codes[6], 0xF);
  EXPECT_EQ(q.codes[0], 0x0); // 1/8 rounds to zero
  EXPECT_TRUE(std::isnan(decodeE8M0(255)));
}

TEST(AMXFP4, MatchesReferenceAndBeatsMXFP4OnSkewedBlocks) {
  const int64_t K = 70, N = 7;
  std::vector<float> W = randomWeights(K, N, 301);
  // Skew: make positive values much larger than negative ones.
  for (float &w : W)
    if (w > 0.0f)
      w *= 6.0f;
  AMXFP4Result q;
  std::string err;
  ASSERT_TRUE(quantizeAMXFP4(W.data(), K, N, q, err)) << err;
  std::vector<float> deq;
  ASSERT_TRUE(dequantizeAMXFP4(q, deq, err)) << err;
  const int64_t blocks = ceilDivT(K, 32);
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t n = 0; n < N; ++n) {
      double maxPos = 0.0, maxNeg = 0.0;
      for (int64_t k = b * 32; k < std::min(K, b * 32 + 32); ++k) {
        double x = W[size_t(k * N + n)];
        if (x < 0)
          maxNeg = std::max(maxNeg, -x);
        else
          maxPos = std::max(maxPos, x);
      }
      int sp = refSharedExp(maxPos), sn = refSharedExp(maxNeg);
      ASSERT_EQ(int(q.posScaleExps[size_t(b * N + n)]), sp + 127);
      ASSERT_EQ(int(q.negScaleExps[size_t(b * N + n)]), sn + 127);
      for (int64_t k = b * 32; k < std::min(K, b * 32 + 32); ++k) {
        double x = W[size_t(k * N + n)];
        int se = x < 0 ? sn : sp;
        int c = refE2M1Quantize(x / std::ldexp(1.0, se));
        if (x < 0)
          c |= 8;
        ASSERT_EQ(int(q.codes[size_t(k * N + n)]), c);
        ASSERT_EQ(double(deq[size_t(k * N + n)]),
                  refE2M1Value(c) * std::ldexp(1.0, se));
      }
    }
  MXFP4Result mx;
  ASSERT_TRUE(quantizeMXFP4(W.data(), K, N, mx, err));
  std::vector<float> dmx;
  ASSERT_TRUE(dequantizeMXFP4(mx, dmx, err));
  EXPECT_LT(sqError(W, deq), sqError(W, dmx));
}

//===----------------------------------------------------------------------===//
// dINT
//===----------------------------------------------------------------------===//

TEST(DInt, GridIsDocumented) {
  std::vector<float> levels;
  for (int c = 1; c < 16; ++c)
    levels.push_back(dintLevel(4, c));
  std::vector<float> expected = {-6,   -5, -4, -3, -2, -1, -0.5f, 0,
                                 0.5f, 1,  2,  3,  4,  5,  6};
  EXPECT_EQ(levels, expected);
  EXPECT_EQ(dintLevel(4, 0), 0.0f); // the spare code
  EXPECT_EQ(dintLevel(2, 1), -0.5f);
  EXPECT_EQ(dintLevel(2, 2), 0.0f);
  EXPECT_EQ(dintLevel(2, 3), 0.5f);
  EXPECT_EQ(dintLevel(3, 7), 2.0f);
  EXPECT_EQ(dintLevel(8, 255), 126.0f);
  for (int bits = 2; bits <= 8; ++bits)
    for (int c = 0; c < (1 << bits); ++c)
      EXPECT_EQ(double(dintLevel(bits, c)), refDIntLevel(bits, c));
}

TEST(DInt, MatchesReference) {
  for (int bits = 2; bits <= 8; ++bits)
    for (int64_t group : {int64_t(16), int64_t(-1)}) {
      SCOPED_TRACE(testing::Message() << "bits=" << bits << " group=" << group);
      const int64_t K = 37, N = 13;
      std::vector<float> W = randomWeights(K, N, 400 + bits);
      DIntResult q;
      std::string err;
      ASSERT_TRUE(quantizeDInt(W.data(), K, N, bits, group, q, err)) << err;
      const int64_t g = group > 0 ? group : K;
      ASSERT_EQ(q.group, g);
      ASSERT_EQ(q.scales.size(), size_t(ceilDivT(K, g) * N));
      std::vector<float> deq;
      ASSERT_TRUE(dequantizeDInt(q, deq, err)) << err;
      const int M = 1 << (bits - 1);
      const double maxLevel = bits == 2 ? 0.5 : M - 2;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t k0 = 0; k0 < K; k0 += g) {
          float amax = 0.0f;
          for (int64_t k = k0; k < std::min(K, k0 + g); ++k)
            amax = std::max(amax, std::fabs(W[size_t(k * N + n)]));
          float scale = amax / float(maxLevel);
          ASSERT_EQ(q.scales[size_t((k0 / g) * N + n)], scale);
          for (int64_t k = k0; k < std::min(K, k0 + g); ++k) {
            double t = double(W[size_t(k * N + n)] / scale);
            int best = M;
            double bestD = std::fabs(t);
            for (int c = 1; c < 2 * M; ++c) {
              double l = refDIntLevel(bits, c);
              double d = std::fabs(t - l);
              if (d < bestD ||
                  (d == bestD &&
                   std::fabs(l) < std::fabs(refDIntLevel(bits, best)))) {
                bestD = d;
                best = c;
              }
            }
            ASSERT_EQ(int(q.codes[size_t(k * N + n)]), best) << k << "," << n;
            ASSERT_EQ(deq[size_t(k * N + n)],
                      scale * float(refDIntLevel(bits, best)));
          }
        }
    }
}

TEST(DInt, TiesGoToSmallerMagnitude) {
  // With amax = 6 and 4 bits the scale is 1: probe midpoints.
  std::vector<float> W = {6.0f,   0.25f,  0.75f, 1.5f, 2.5f,
                          -0.25f, -0.75f, -5.5f, 0.2f, 0.3f};
  DIntResult q;
  std::string err;
  ASSERT_TRUE(quantizeDInt(W.data(), int64_t(W.size()), 1, 4, -1, q, err));
  std::vector<float> deq;
  ASSERT_TRUE(dequantizeDInt(q, deq, err));
  std::vector<float> expected = {6.0f, 0.0f,  0.5f,  1.0f, 2.0f,
                                 0.0f, -0.5f, -5.0f, 0.0f, 0.5f};
  EXPECT_EQ(deq, expected);
}

TEST(DInt, FinerNearZeroThanSymmetricInt) {
  // Mostly tiny weights with one large one: dINT's +-1/2 levels help.
  std::vector<float> W(256);
  std::mt19937_64 rng(9);
  std::normal_distribution<float> normal(0.0f, 0.12f);
  for (float &w : W)
    w = normal(rng);
  W[3] = 1.0f;
  DIntResult d;
  UniformResult u;
  std::string err;
  ASSERT_TRUE(quantizeDInt(W.data(), 256, 1, 3, -1, d, err));
  ASSERT_TRUE(quantizeUniformRTN(W.data(), 256, 1, {3, -1, false, true},
                                 ClipSearch::MinMax, u, err));
  std::vector<float> dd, du;
  ASSERT_TRUE(dequantizeDInt(d, dd, err));
  ASSERT_TRUE(dequantizeUniform(u, du, err));
  EXPECT_LT(sqError(W, dd), sqError(W, du));
}

//===----------------------------------------------------------------------===//
// f16 / bf16 bits (qc/Support/HalfFloat.h)
//===----------------------------------------------------------------------===//

// The bit-level f16 decoder (bulk GGUF dequantization) against APFloat on
// all 65536 bit patterns; NaNs stay NaNs, the rest are equal.
TEST(HalfFloat, BitDecoderMatchesAPFloat) {
  for (uint32_t h = 0; h < 65536; ++h) {
    double want = qc::fromHalfBits(uint16_t(h), /*bf16=*/false);
    float got = qc::halfBitsToFloat(uint16_t(h));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << h;
      continue;
    }
    EXPECT_EQ(double(got), want) << h;
    EXPECT_EQ(std::signbit(got), std::signbit(want)) << h;
  }
  for (uint32_t h = 0; h < 65536; h += 7) {
    double want = qc::fromHalfBits(uint16_t(h), /*bf16=*/true);
    float got = qc::bfloat16BitsToFloat(uint16_t(h));
    if (!std::isnan(want))
      EXPECT_EQ(double(got), want) << h;
  }
}
