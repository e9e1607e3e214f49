//===- StatsTest.cpp - Tests of calibration statistics --------------------===//

#include "qc/Quant/Stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

using namespace qc::quant;

namespace {

std::string tempPath(const char *name) {
  return ::testing::TempDir() + "/" + name;
}

// Accumulation in several calls equals a scalar sum over all rows.
TEST(Stats, AccumulateMatchesScalarSums) {
  const int64_t K = 7, stride = 9;
  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal;
  std::vector<float> x(size_t(20 * stride)), xf(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = normal(rng);
    xf[i] = x[i] + 0.1f * normal(rng);
  }
  TapStats t;
  t.layers = {"a"};
  t.reset(K, /*withCross=*/true);
  std::string err;
  ASSERT_TRUE(t.accumulate(x.data(), 12, stride, xf.data(), err));
  ASSERT_TRUE(t.accumulate(x.data() + 12 * stride, 8, stride,
                           xf.data() + 12 * stride, err));
  EXPECT_EQ(t.rows, 20u);
  for (int64_t i = 0; i < K; ++i) {
    double amax = 0, sum = 0;
    for (int64_t r = 0; r < 20; ++r) {
      amax = std::max(amax, double(std::fabs(x[size_t(r * stride + i)])));
      sum += std::fabs(x[size_t(r * stride + i)]);
    }
    EXPECT_FLOAT_EQ(t.absMax[size_t(i)], float(amax));
    EXPECT_NEAR(t.meanAbs[size_t(i)], sum / 20, 1e-5);
    for (int64_t j = 0; j < K; ++j) {
      double h = 0, c = 0;
      for (int64_t r = 0; r < 20; ++r) {
        h += double(x[size_t(r * stride + i)]) * x[size_t(r * stride + j)];
        c += double(x[size_t(r * stride + i)]) * xf[size_t(r * stride + j)];
      }
      EXPECT_NEAR(t.H[size_t(i * K + j)], h, 1e-4);
      EXPECT_NEAR(t.C[size_t(i * K + j)], c, 1e-4);
    }
  }
  x[3] = std::nanf("");
  EXPECT_FALSE(t.accumulate(x.data(), 1, stride, nullptr, err));
  EXPECT_NE(err.find("not finite"), std::string::npos) << err;
}

TEST(Stats, FileRoundTripAndCorruption) {
  CalibrationStats s;
  s.taps.resize(2);
  s.taps[0].layers = {"q", "k", "v"};
  s.taps[0].reset(3, false);
  s.taps[0].H = {1, 2, 3, 2, 5, 6, 3, 6, 9};
  s.taps[0].rows = 4;
  s.taps[1].layers = {"o"};
  s.taps[1].reset(2, true);
  s.taps[1].C = {1, -1, 0.5, 2};
  std::string err;
  ASSERT_TRUE(s.index(err));
  std::string path = tempPath("stats.qcstats");
  ASSERT_TRUE(writeStats(path, s, err)) << err;
  CalibrationStats r;
  ASSERT_TRUE(readStats(path, r, err)) << err;
  ASSERT_EQ(r.taps.size(), 2u);
  EXPECT_EQ(r.taps[0].layers, s.taps[0].layers);
  EXPECT_EQ(r.taps[0].H, s.taps[0].H);
  EXPECT_EQ(r.taps[1].C, s.taps[1].C);
  EXPECT_EQ(r.lookup("k"), &r.taps[0]);
  EXPECT_EQ(r.lookup("nope"), nullptr);

  // One flipped byte, a truncation and a duplicate layer are all refused.
  std::string bytes;
  {
    std::ifstream f(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  for (size_t cut : {bytes.size() / 2, size_t(10)}) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), long(cut));
    EXPECT_FALSE(readStats(path, r, err));
  }
  std::string flipped = bytes;
  flipped[40] ^= 1;
  std::ofstream(path, std::ios::binary).write(flipped.data(),
                                              long(flipped.size()));
  EXPECT_FALSE(readStats(path, r, err));
  EXPECT_NE(err.find("checksum"), std::string::npos) << err;
  s.taps[1].layers = {"q"};
  EXPECT_FALSE(s.index(err));
  EXPECT_FALSE(readStats(tempPath("missing.qcstats"), r, err));
  std::remove(path.c_str());
}

/// FNV-1a, written out again.
uint64_t checksum(const std::string &bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes)
    h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

template <typename T> void append(std::string &out, T value) {
  out.append(reinterpret_cast<const char *>(&value), sizeof(T));
}

// Sums are stored in single precision (half the size) and read back as
// the doubles nearest them; a sum beyond single precision is refused; a
// version 1 file (sums in double) is still read exactly.
TEST(Stats, SinglePrecisionFileAndVersionOne) {
  CalibrationStats s;
  s.taps.resize(1);
  s.taps[0].layers = {"fc"};
  s.taps[0].reset(2, false);
  s.taps[0].H = {0.1, 1e-3, 1e-3, 12345.678};
  s.taps[0].rows = 3;
  std::string err;
  ASSERT_TRUE(s.index(err));
  std::string path = tempPath("single.qcstats");
  ASSERT_TRUE(writeStats(path, s, err)) << err;
  CalibrationStats r;
  ASSERT_TRUE(readStats(path, r, err)) << err;
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(r.taps[0].H[i], double(float(s.taps[0].H[i])));
  s.taps[0].H[3] = 1e39;
  EXPECT_FALSE(writeStats(path, s, err));
  EXPECT_NE(err.find("single precision"), std::string::npos) << err;

  std::string v1("QCSTATS", 8);
  append<uint32_t>(v1, 1);
  append<uint32_t>(v1, 1);
  append<uint32_t>(v1, 1);
  append<uint32_t>(v1, 2);
  v1 += "fc";
  append<uint64_t>(v1, 2);
  append<uint64_t>(v1, 3);
  append<uint32_t>(v1, 0);
  for (double h : {0.1, 0.2, 0.2, 0.7})
    append<double>(v1, h);
  for (int i = 0; i < 4; ++i)
    append<float>(v1, 0.5f);
  append<uint64_t>(v1, checksum(v1));
  std::ofstream(path, std::ios::binary).write(v1.data(), long(v1.size()));
  ASSERT_TRUE(readStats(path, r, err)) << err;
  EXPECT_EQ(r.taps[0].H, (std::vector<double>{0.1, 0.2, 0.2, 0.7}));
  EXPECT_EQ(r.taps[0].rows, 3u);
  std::remove(path.c_str());
}

} // namespace
