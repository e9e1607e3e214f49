//===- PackingTest.cpp - Tests of code and bit-plane packing --------------===//

#include "qc/Quant/Packing.h"
#include "qc/Quant/BCQ.h"
#include "qc/Quant/Uniform.h"

#include "QuantTestUtil.h"

#include <gtest/gtest.h>

using namespace qc::quant;
using namespace qc::quant::test;

namespace {

std::vector<uint8_t> randomCodes(int64_t K, int64_t N, int bits,
                                 uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> codes(size_t(K * N));
  for (auto &c : codes)
    c = uint8_t(rng() & ((1u << bits) - 1));
  return codes;
}

/// Appends codes LSB-first to a byte vector through a 64-bit accumulator.
struct BitWriter {
  std::vector<uint8_t> &out;
  uint64_t acc = 0;
  int nbits = 0;
  void put(unsigned value, int bits) {
    acc |= uint64_t(value) << nbits;
    nbits += bits;
    while (nbits >= 8) {
      out.push_back(uint8_t(acc & 0xFF));
      acc >>= 8;
      nbits -= 8;
    }
  }
  void flush() {
    if (nbits > 0)
      out.push_back(uint8_t(acc & 0xFF));
    acc = 0;
    nbits = 0;
  }
};

std::vector<uint8_t> refPackKMajor(const std::vector<uint8_t> &codes, int64_t K,
                                   int64_t N, int bits) {
  std::vector<uint8_t> out;
  for (int64_t n = 0; n < N; ++n) {
    BitWriter w{out};
    for (int64_t k = 0; k < K; ++k)
      w.put(codes[size_t(k * N + n)], bits);
    w.flush();
  }
  return out;
}

std::vector<uint8_t> refPackTiles(const std::vector<uint8_t> &codes, int64_t K,
                                  int64_t N, int bits, int64_t tileN) {
  std::vector<uint8_t> out;
  for (int64_t t = 0; t * tileN < N; ++t)
    for (int64_t ch = 0; ch * 8 < K; ++ch)
      for (int64_t tc = 0; tc < tileN; ++tc) {
        BitWriter w{out};
        const int64_t n = t * tileN + tc;
        for (int64_t j = 0; j < 8; ++j) {
          const int64_t k = ch * 8 + j;
          w.put(n < N && k < K ? codes[size_t(k * N + n)] : 0, bits);
        }
        w.flush();
      }
  return out;
}

std::vector<uint8_t> refPackBitPlanes(const std::vector<int8_t> &signs,
                                      int64_t K, int64_t N, int planes) {
  std::vector<uint8_t> out;
  for (int64_t ch = 0; ch * 8 < K; ++ch)
    for (int i = 0; i < planes; ++i)
      for (int64_t n = 0; n < N; ++n) {
        unsigned byte = 0;
        for (int j = 0; j < 8 && ch * 8 + j < K; ++j)
          if (signs[size_t((i * K + ch * 8 + j) * N + n)] > 0)
            byte |= 1u << j;
        out.push_back(uint8_t(byte));
      }
  return out;
}

struct Dims {
  int64_t K, N;
};
const Dims kDims[] = {{37, 13}, {1, 1}, {8, 3}, {9, 16}, {64, 7}, {3, 29}};

} // namespace

TEST(Packing, KMajorNibblesAndCrumbs) {
  // K = 5, N = 2: column 0 holds 1..5, column 1 holds 15..11.
  std::vector<uint8_t> codes = {1, 15, 2, 14, 3, 13, 4, 12, 5, 11};
  std::vector<uint8_t> packed;
  std::string err;
  ASSERT_TRUE(
      packCodes(codes.data(), 5, 2, 4, PackOrder::KMajor, 1, packed, err));
  std::vector<uint8_t> expected = {0x21, 0x43, 0x05, 0xEF, 0xCD, 0x0B};
  EXPECT_EQ(packed, expected);
  std::vector<uint8_t> crumbs = {0, 1, 2, 3, 3, 2}; // K = 6, N = 1
  ASSERT_TRUE(
      packCodes(crumbs.data(), 6, 1, 2, PackOrder::KMajor, 1, packed, err));
  expected = {uint8_t(0 | 1 << 2 | 2 << 4 | 3 << 6), uint8_t(3 | 2 << 2)};
  EXPECT_EQ(packed, expected);
  // 3-bit codes straddle bytes: 8 codes = 3 bytes.
  std::vector<uint8_t> tri = {7, 0, 7, 0, 7, 0, 7, 0};
  ASSERT_TRUE(
      packCodes(tri.data(), 8, 1, 3, PackOrder::KMajor, 1, packed, err));
  expected = {0xC7, 0x71, 0x1C};
  EXPECT_EQ(packed, expected);
}

TEST(Packing, MatchesReferenceAndRoundTrips) {
  for (const Dims &d : kDims)
    for (int bits : {2, 3, 4, 8}) {
      std::vector<uint8_t> codes =
          randomCodes(d.K, d.N, bits, uint64_t(d.K * 100 + d.N + bits));
      for (int64_t tileN :
           {int64_t(0), int64_t(1), int64_t(4), int64_t(5), d.N}) {
        const PackOrder order =
            tileN == 0 ? PackOrder::KMajor : PackOrder::TileInterleaved;
        if (order == PackOrder::TileInterleaved && tileN > d.N)
          continue;
        SCOPED_TRACE(testing::Message()
                     << "K=" << d.K << " N=" << d.N << " bits=" << bits
                     << " tileN=" << tileN);
        std::vector<uint8_t> packed;
        std::string err;
        ASSERT_TRUE(
            packCodes(codes.data(), d.K, d.N, bits, order, tileN, packed, err))
            << err;
        std::vector<uint8_t> ref =
            order == PackOrder::KMajor
                ? refPackKMajor(codes, d.K, d.N, bits)
                : refPackTiles(codes, d.K, d.N, bits, tileN);
        ASSERT_EQ(packed, ref);
        ASSERT_EQ(int64_t(packed.size()),
                  packedCodesSize(d.K, d.N, bits, order, tileN));
        std::vector<uint8_t> back;
        ASSERT_TRUE(unpackCodes(packed.data(), packed.size(), d.K, d.N, bits,
                                order, tileN, back, err))
            << err;
        ASSERT_EQ(back, codes);
      }
    }
}

TEST(Packing, QuantizedMatrixRoundTrip) {
  const int64_t K = 37, N = 13;
  std::vector<float> W = randomWeights(K, N, 501);
  for (int bits : {2, 3, 4, 8}) {
    UniformResult q;
    std::string err;
    ASSERT_TRUE(quantizeUniformRTN(W.data(), K, N, {bits, 16, false, false},
                                   ClipSearch::MSE, q, err));
    std::vector<float> before, after;
    ASSERT_TRUE(dequantizeUniform(q, before, err));
    for (PackOrder order : {PackOrder::KMajor, PackOrder::TileInterleaved}) {
      std::vector<uint8_t> packed;
      ASSERT_TRUE(packCodes(q.codes.data(), K, N, bits, order, 4, packed, err));
      UniformResult r = q;
      std::fill(r.codes.begin(), r.codes.end(), 0);
      ASSERT_TRUE(unpackCodes(packed.data(), packed.size(), K, N, bits, order,
                              4, r.codes, err));
      ASSERT_TRUE(dequantizeUniform(r, after, err));
      EXPECT_EQ(before, after);
    }
  }
}

TEST(Packing, BitPlanesMatchReferenceAndRoundTrip) {
  for (const Dims &d : kDims)
    for (int planes : {1, 2, 3, 8}) {
      std::mt19937_64 rng(uint64_t(d.K * 7 + d.N + planes));
      std::vector<int8_t> signs(size_t(planes * d.K * d.N));
      for (auto &s : signs)
        s = (rng() & 1) ? 1 : -1;
      std::vector<uint8_t> packed;
      std::string err;
      ASSERT_TRUE(packBitPlanes(signs.data(), d.K, d.N, planes, packed, err));
      ASSERT_EQ(packed, refPackBitPlanes(signs, d.K, d.N, planes));
      ASSERT_EQ(int64_t(packed.size()), packedBitPlanesSize(d.K, d.N, planes));
      std::vector<int8_t> back;
      ASSERT_TRUE(unpackBitPlanes(packed.data(), packed.size(), d.K, d.N,
                                  planes, back, err));
      ASSERT_EQ(back, signs);
    }
}

TEST(Packing, BitPlanesOfUniformCodesAreTheCodeBits) {
  const int64_t K = 37, N = 13;
  std::vector<float> W = randomWeights(K, N, 502);
  UniformResult u;
  BCQResult b;
  std::string err;
  ASSERT_TRUE(quantizeUniformRTN(W.data(), K, N, {3, 16, false, false},
                                 ClipSearch::MinMax, u, err));
  ASSERT_TRUE(uniformToBCQ(u, b, err));
  std::vector<uint8_t> packed;
  ASSERT_TRUE(packBitPlanes(b.signs.data(), K, N, 3, packed, err));
  const int64_t chunks = ceilDivT(K, 8);
  ASSERT_EQ(packed.size(), size_t(chunks * 3 * N));
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      for (int i = 0; i < 3; ++i) {
        uint8_t byte = packed[size_t(((k / 8) * 3 + i) * N + n)];
        ASSERT_EQ((byte >> (k % 8)) & 1, (u.codes[size_t(k * N + n)] >> i) & 1);
      }
}

TEST(Packing, KernelPanelsPutFourRowsOfEightColumnsInOneVector) {
  // K = 300: two full 128-row superblocks and one padded with zero codes;
  // N = 11: one full panel of 8 columns and one padded with zero codes.
  const int64_t K = 300, N = 11;
  for (int bits : {2, 3, 4, 8}) {
    SCOPED_TRACE(bits);
    std::vector<uint8_t> codes = randomCodes(K, N, bits, 11 + bits);
    std::vector<uint8_t> packed;
    std::string err;
    ASSERT_TRUE(packKernelPanels(codes.data(), K, N, bits, packed, err)) << err;
    const int64_t panel = kernelPanelBytes(K, bits);
    ASSERT_EQ(panel, 384 * bits);
    ASSERT_EQ(packed.size(), size_t(2 * panel));
    auto code = [&](int64_t k, int64_t n) -> unsigned {
      return k < K && n < N ? codes[size_t(k * N + n)] : 0;
    };
    for (int64_t p = 0; p < 2; ++p)
      for (int64_t rb = 0; rb < 12; ++rb)
        for (int64_t c = 0; c < 8; ++c)
          for (int64_t j = 0; j < 4; ++j) {
            const uint8_t *block = &packed[size_t(p * panel + rb * bits * 32)];
            const int64_t n = 8 * p + c, lane = 4 * c + j, k0 = 32 * rb + j;
            if (bits == 8) {
              // Eight vectors, each one quad of rows, a byte a code.
              for (int64_t v = 0; v < 8; ++v)
                EXPECT_EQ(block[v * 32 + lane], code(k0 + 4 * v, n));
              continue;
            }
            if (bits == 4) {
              // Four vectors, each two quads of rows (low nibble first).
              for (int64_t v = 0; v < 4; ++v) {
                EXPECT_EQ(block[v * 32 + lane] & 15u, code(k0 + 8 * v, n));
                EXPECT_EQ(block[v * 32 + lane] >> 4, code(k0 + 8 * v + 4, n));
              }
              continue;
            }
            // Low two bits: 2 vectors of four 2-bit fields.
            for (int64_t v = 0; v < 2; ++v)
              for (int64_t f = 0; f < 4; ++f)
                EXPECT_EQ((block[v * 32 + lane] >> (2 * f)) & 3u,
                          code(k0 + 16 * v + 4 * f, n) & 3u);
            if (bits == 3) { // Bit 2: one vector of eight 1-bit fields.
              for (int64_t f = 0; f < 8; ++f)
                EXPECT_EQ((block[64 + lane] >> f) & 1u,
                          code(k0 + 4 * f, n) >> 2);
            }
          }
    std::vector<uint8_t> back;
    ASSERT_TRUE(unpackKernelPanels(packed.data(), packed.size(), K, N, bits,
                                   back, err))
        << err;
    EXPECT_EQ(back, codes);
  }
  std::vector<uint8_t> packed;
  std::string err;
  std::vector<uint8_t> bad(4, 9);
  EXPECT_FALSE(packKernelPanels(bad.data(), 2, 2, 3, packed, err));
  EXPECT_NE(err.find("does not fit"), std::string::npos) << err;
  EXPECT_FALSE(packKernelPanels(bad.data(), 2, 2, 5, packed, err));
}

TEST(Packing, RejectsBadInput) {
  std::vector<uint8_t> codes = {0, 1, 2, 3, 4, 5};
  std::vector<uint8_t> packed;
  std::string err;
  EXPECT_FALSE(packCodes(codes.data(), 3, 2, 2, PackOrder::KMajor, 1, packed,
                         err)); // 4 and 5 do not fit in 2 bits
  EXPECT_NE(err.find("does not fit"), std::string::npos);
  for (int bits : {0, 1, 5, 6, 7, 9}) {
    err.clear();
    EXPECT_FALSE(
        packCodes(codes.data(), 3, 2, bits, PackOrder::KMajor, 1, packed, err));
    EXPECT_FALSE(err.empty());
    EXPECT_EQ(packedCodesSize(3, 2, bits, PackOrder::KMajor, 1), -1);
  }
  EXPECT_FALSE(packCodes(codes.data(), 3, 2, 8, PackOrder::TileInterleaved, 0,
                         packed, err));
  EXPECT_FALSE(packCodes(nullptr, 3, 2, 8, PackOrder::KMajor, 1, packed, err));
  EXPECT_FALSE(
      packCodes(codes.data(), 0, 2, 8, PackOrder::KMajor, 1, packed, err));
  ASSERT_TRUE(
      packCodes(codes.data(), 3, 2, 8, PackOrder::KMajor, 1, packed, err));
  std::vector<uint8_t> back;
  EXPECT_FALSE(unpackCodes(packed.data(), packed.size() - 1, 3, 2, 8,
                           PackOrder::KMajor, 1, back, err));
  EXPECT_NE(err.find("packed size"), std::string::npos);
  EXPECT_FALSE(
      unpackCodes(nullptr, 0, 3, 2, 8, PackOrder::KMajor, 1, back, err));
  std::vector<int8_t> signs = {1, -1, 0, 1};
  EXPECT_FALSE(packBitPlanes(signs.data(), 2, 2, 1, packed, err));
  EXPECT_FALSE(packBitPlanes(signs.data(), 2, 2, 0, packed, err));
  EXPECT_FALSE(packBitPlanes(signs.data(), 2, 2, 9, packed, err));
  EXPECT_FALSE(packBitPlanes(nullptr, 2, 2, 1, packed, err));
  std::vector<int8_t> sback;
  EXPECT_FALSE(unpackBitPlanes(packed.data(), 0, 2, 2, 1, sback, err));
}
