//===- SmallFloatTest.cpp - qcrt/SmallFloat.h against the formats' facts --===//
//
// Anchors from the formats' definitions (the OCP 8-bit float spec, ONNX's
// float8 / float4 / E8M0 tables), then properties over every code: codes
// round-trip, finite values rise with the code, a midpoint goes to the even
// neighbour and anything off it to the nearer one, overflow saturates or
// becomes infinity / NaN as the format says.
//
//===----------------------------------------------------------------------===//

#include "qcrt/SmallFloat.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace qc::smallfloat;

namespace {

struct Case {
  const char *name;
  Format format;
  float max, minSubnormal;
  uint8_t one;  // the code of 1.0
  unsigned codes; // 256, or 16 for float4
};

const Case kCases[] = {
    {"e4m3fn", kE4M3FN, 448.0f, 0x1p-9f, 0x38, 256},
    {"e4m3fnuz", kE4M3FNUZ, 240.0f, 0x1p-10f, 0x40, 256},
    {"e5m2", kE5M2, 57344.0f, 0x1p-16f, 0x3c, 256},
    {"e5m2fnuz", kE5M2FNUZ, 57344.0f, 0x1p-17f, 0x40, 256},
    {"e2m1", kE2M1, 6.0f, 0.5f, 0x2, 16},
};

/// The finite non-negative values and their codes, in code order.
std::vector<std::pair<float, uint8_t>> positives(const Case &c) {
  std::vector<std::pair<float, uint8_t>> out;
  for (unsigned code = 0; code < c.codes / 2; ++code) {
    float v = decode(uint8_t(code), c.format);
    if (std::isfinite(v))
      out.push_back({v, uint8_t(code)});
  }
  return out;
}

TEST(SmallFloat, Anchors) {
  for (const Case &c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(decode(c.format.maxCode(), c.format), c.max);
    EXPECT_EQ(decode(1, c.format), c.minSubnormal);
    EXPECT_EQ(decode(c.one, c.format), 1.0f);
    EXPECT_EQ(encode(1.0f, c.format, true), c.one);
    EXPECT_EQ(encode(-c.max, c.format, true),
              c.format.maxCode() | 1u << c.format.signShift());
    EXPECT_EQ(decode(0, c.format), 0.0f);
  }
  // Specials: E5M2 has infinities, E4M3FN NaN at S.1111.111, FNUZ at 0x80.
  EXPECT_TRUE(std::isinf(decode(0x7c, kE5M2)));
  EXPECT_TRUE(std::isnan(decode(0x7d, kE5M2)));
  EXPECT_TRUE(std::isnan(decode(0x7f, kE4M3FN)));
  EXPECT_TRUE(std::isnan(decode(0xff, kE4M3FN)));
  EXPECT_TRUE(std::isnan(decode(0x80, kE4M3FNUZ)));
  EXPECT_TRUE(std::isnan(decode(0x80, kE5M2FNUZ)));
  EXPECT_EQ(decode(0xf, kE2M1), -6.0f);
}

TEST(SmallFloat, RoundTripAndOrder) {
  for (const Case &c : kCases) {
    SCOPED_TRACE(c.name);
    for (unsigned code = 0; code < c.codes; ++code) {
      float v = decode(uint8_t(code), c.format);
      if (!std::isnan(v) && !(c.format.specials == Specials::Finite &&
                              code == 1u << c.format.signShift()))
        EXPECT_EQ(encode(v, c.format, false), code) << "code " << code;
    }
    std::vector<std::pair<float, uint8_t>> p = positives(c);
    for (size_t i = 1; i < p.size(); ++i)
      EXPECT_LT(p[i - 1].first, p[i].first);
  }
}

TEST(SmallFloat, TiesToEven) {
  for (const Case &c : kCases) {
    SCOPED_TRACE(c.name);
    std::vector<std::pair<float, uint8_t>> p = positives(c);
    for (size_t i = 1; i < p.size(); ++i) {
      auto [lo, loCode] = p[i - 1];
      auto [hi, hiCode] = p[i];
      float mid = (lo + hi) / 2; // exact: both have few mantissa bits
      uint8_t even = loCode % 2 == 0 ? loCode : hiCode;
      EXPECT_EQ(encode(mid, c.format, true), even) << mid;
      EXPECT_EQ(encode(std::nextafter(mid, hi), c.format, true), hiCode);
      EXPECT_EQ(encode(std::nextafter(mid, lo), c.format, true), loCode);
      // Negative: the same code with the sign, but FNUZ has no -0.
      bool unsignedZero = even == 0 && c.format.specials == Specials::FNUZ;
      EXPECT_EQ(encode(-mid, c.format, true),
                unsignedZero ? 0 : even | 1u << c.format.signShift());
    }
  }
}

TEST(SmallFloat, Overflow) {
  for (const Case &c : kCases) {
    SCOPED_TRACE(c.name);
    uint8_t max = uint8_t(c.format.maxCode());
    EXPECT_EQ(encode(INFINITY, c.format, true), max);
    EXPECT_EQ(encode(1e30f, c.format, true), max);
    uint8_t over = encode(1e30f, c.format, false);
    switch (c.format.specials) {
    case Specials::IEEE:
      EXPECT_TRUE(std::isinf(decode(over, c.format)));
      break;
    case Specials::Finite:
      EXPECT_EQ(over, max);
      break;
    default:
      EXPECT_TRUE(std::isnan(decode(over, c.format)));
    }
    EXPECT_TRUE(c.format.specials == Specials::Finite ||
                std::isnan(decode(encode(NAN, c.format, true), c.format)));
    // Below the smallest subnormal's half: zero; FNUZ has no -0.
    EXPECT_EQ(encode(c.minSubnormal / 4, c.format, true), 0);
    uint8_t negTiny = encode(-c.minSubnormal / 4, c.format, true);
    EXPECT_EQ(negTiny, c.format.specials == Specials::FNUZ
                           ? 0
                           : 1u << c.format.signShift());
  }
}

TEST(SmallFloat, E8M0) {
  for (int e = -127; e <= 127; ++e)
    EXPECT_EQ(decodeE8M0(uint8_t(e + 127)), std::ldexp(1.0f, e));
  EXPECT_TRUE(std::isnan(decodeE8M0(0xff)));
  EXPECT_EQ(encodeE8M0(1.0f, true, E8M0Rounding::Up), 127);
  EXPECT_EQ(encodeE8M0(1.1f, true, E8M0Rounding::Up), 128);
  EXPECT_EQ(encodeE8M0(1.1f, true, E8M0Rounding::Down), 127);
  EXPECT_EQ(encodeE8M0(1.4f, true, E8M0Rounding::Nearest), 127);
  EXPECT_EQ(encodeE8M0(1.6f, true, E8M0Rounding::Nearest), 128);
  EXPECT_EQ(encodeE8M0(0x1.fp127f, true, E8M0Rounding::Up), 254);
  EXPECT_EQ(encodeE8M0(0x1.fp127f, false, E8M0Rounding::Up), 255);
  EXPECT_EQ(encodeE8M0(INFINITY, true, E8M0Rounding::Up), 255);
}

} // namespace
