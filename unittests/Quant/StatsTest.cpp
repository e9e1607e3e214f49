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

} // namespace
