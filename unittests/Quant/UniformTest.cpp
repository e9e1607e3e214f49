//===- UniformTest.cpp - Tests of uniform integer quantization ------------===//

#include "qc/Quant/Uniform.h"

#include "QuantTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

using namespace qc::quant;
using namespace qc::quant::test;

namespace {

/// Independent scalar reference of RTN uniform quantization with the
/// documented parameter formulas and an optional shrink-factor search.
struct RefUniform {
  int64_t rows = 0, cols = 0;
  std::vector<uint8_t> codes;
  std::vector<float> scales, zeros, deq;
  std::vector<double> groupErr;
};

RefUniform refUniform(const std::vector<float> &W, int64_t K, int64_t N,
                      int bits, int64_t group, bool perIC, bool symmetric,
                      bool mse) {
  const int64_t axis = perIC ? N : K;
  const int64_t g = (group <= 0 || group > axis) ? axis : group;
  RefUniform r;
  r.rows = perIC ? K : ceilDivT(K, g);
  r.cols = perIC ? ceilDivT(N, g) : N;
  auto gid = [&](int64_t k, int64_t n) {
    return perIC ? k * r.cols + n / g : (k / g) * r.cols + n;
  };
  const size_t ng = size_t(r.rows * r.cols);
  std::vector<float> gmin(ng, std::numeric_limits<float>::infinity());
  std::vector<float> gmax(ng, -std::numeric_limits<float>::infinity());
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      float x = W[size_t(k * N + n)];
      gmin[size_t(gid(k, n))] = std::min(gmin[size_t(gid(k, n))], x);
      gmax[size_t(gid(k, n))] = std::max(gmax[size_t(gid(k, n))], x);
    }
  const float maxq = float((1 << bits) - 1);
  const int half = 1 << (bits - 1);
  auto params = [&](size_t i, double p, float &scale, float &zero) {
    if (symmetric) {
      float amax = float(std::max(std::fabs(gmin[i]), std::fabs(gmax[i])) * p);
      scale = amax / float(half - 1);
      zero = float(half);
      if (!(scale > 0.0f))
        scale = 1.0f;
      return;
    }
    float lo = float(std::min(gmin[i], 0.0f) * p);
    float hi = float(std::max(gmax[i], 0.0f) * p);
    scale = (hi - lo) / maxq;
    if (!(scale > 0.0f)) {
      scale = 1.0f;
      zero = 0.0f;
      return;
    }
    zero = std::nearbyint(-lo / scale);
    zero = std::min(std::max(zero, 0.0f), maxq);
  };
  auto code = [&](float x, float scale, float zero) {
    float q = std::nearbyint(x / scale) + zero;
    return std::min(std::max(q, 0.0f), maxq);
  };
  r.scales.assign(ng, 0.0f);
  r.zeros.assign(ng, 0.0f);
  r.groupErr.assign(ng, std::numeric_limits<double>::infinity());
  const int steps = mse ? 100 : 1;
  std::vector<float> sc(ng), ze(ng);
  std::vector<double> err(ng);
  for (int i = 0; i < steps; ++i) {
    double p = 1.0 - 0.8 * double(i) / 99.0;
    for (size_t j = 0; j < ng; ++j)
      params(j, p, sc[j], ze[j]);
    std::fill(err.begin(), err.end(), 0.0);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n) {
        size_t j = size_t(gid(k, n));
        float x = W[size_t(k * N + n)];
        double d = double(x) - double(sc[j] * (code(x, sc[j], ze[j]) - ze[j]));
        err[j] += d * d;
      }
    for (size_t j = 0; j < ng; ++j)
      if (err[j] < r.groupErr[j]) {
        r.groupErr[j] = err[j];
        r.scales[j] = sc[j];
        r.zeros[j] = ze[j];
      }
  }
  r.codes.resize(size_t(K * N));
  r.deq.resize(size_t(K * N));
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      size_t j = size_t(gid(k, n));
      float c = code(W[size_t(k * N + n)], r.scales[j], r.zeros[j]);
      r.codes[size_t(k * N + n)] = uint8_t(c);
      r.deq[size_t(k * N + n)] = r.scales[j] * (c - r.zeros[j]);
    }
  return r;
}

/// Per-group squared error of a library result, computed by the test.
std::vector<double> groupErrors(const std::vector<float> &W,
                                const UniformResult &q,
                                const std::vector<float> &deq) {
  std::vector<double> e(q.scales.size(), 0.0);
  for (int64_t k = 0; k < q.K; ++k)
    for (int64_t n = 0; n < q.N; ++n) {
      int64_t g = q.perIC ? k * ceilDivT(q.N, q.group) + n / q.group
                          : (k / q.group) * q.N + n;
      double d =
          double(W[size_t(k * q.N + n)]) - double(deq[size_t(k * q.N + n)]);
      e[size_t(g)] += d * d;
    }
  return e;
}

struct Shape {
  int64_t K, N, group;
};

const Shape kShapes[] = {
    {37, 13, 16}, {64, 24, -1}, {37, 13, 5}, {16, 40, 0}, {8, 8, 1}};

} // namespace

TEST(Uniform, MinMaxMatchesReference) {
  for (const Shape &s : kShapes)
    for (int bits : {2, 3, 4, 5, 8})
      for (bool perIC : {false, true})
        for (bool sym : {false, true}) {
          SCOPED_TRACE(testing::Message()
                       << "K=" << s.K << " N=" << s.N << " group=" << s.group
                       << " bits=" << bits << " perIC=" << perIC
                       << " sym=" << sym);
          std::vector<float> W = randomWeights(s.K, s.N, 7 + bits);
          UniformParams p{bits, s.group, perIC, sym};
          UniformResult q;
          std::string err;
          ASSERT_TRUE(quantizeUniformRTN(W.data(), s.K, s.N, p,
                                         ClipSearch::MinMax, q, err))
              << err;
          RefUniform ref =
              refUniform(W, s.K, s.N, bits, s.group, perIC, sym, false);
          EXPECT_EQ(q.numGroupRows(), ref.rows);
          EXPECT_EQ(q.numGroupCols(), ref.cols);
          EXPECT_EQ(q.codes, ref.codes);
          EXPECT_EQ(q.scales, ref.scales);
          EXPECT_EQ(q.zeros, ref.zeros);
          std::vector<float> deq;
          ASSERT_TRUE(dequantizeUniform(q, deq, err)) << err;
          EXPECT_EQ(deq, ref.deq);
          const float maxq = float((1 << bits) - 1);
          for (float z : q.zeros) {
            EXPECT_EQ(z, std::nearbyint(z));
            EXPECT_GE(z, 0.0f);
            EXPECT_LE(z, maxq);
            if (sym) {
              EXPECT_EQ(z, float(1 << (bits - 1)));
            }
          }
          for (uint8_t c : q.codes)
            EXPECT_LE(c, maxq);
        }
}

TEST(Uniform, MSEClipMatchesReferenceAndNeverWorse) {
  for (const Shape &s : kShapes)
    for (int bits : {2, 3, 4, 8})
      for (bool perIC : {false, true})
        for (bool sym : {false, true}) {
          SCOPED_TRACE(testing::Message()
                       << "K=" << s.K << " N=" << s.N << " group=" << s.group
                       << " bits=" << bits << " perIC=" << perIC
                       << " sym=" << sym);
          std::vector<float> W = randomWeights(s.K, s.N, 100 + bits, 0.05f);
          UniformParams p{bits, s.group, perIC, sym};
          UniformResult qm, qs;
          std::string err;
          ASSERT_TRUE(quantizeUniformRTN(W.data(), s.K, s.N, p,
                                         ClipSearch::MinMax, qm, err));
          ASSERT_TRUE(quantizeUniformRTN(W.data(), s.K, s.N, p, ClipSearch::MSE,
                                         qs, err));
          std::vector<float> dm, ds;
          ASSERT_TRUE(dequantizeUniform(qm, dm, err));
          ASSERT_TRUE(dequantizeUniform(qs, ds, err));
          std::vector<double> em = groupErrors(W, qm, dm);
          std::vector<double> es = groupErrors(W, qs, ds);
          RefUniform ref =
              refUniform(W, s.K, s.N, bits, s.group, perIC, sym, true);
          ASSERT_EQ(em.size(), es.size());
          for (size_t g = 0; g < em.size(); ++g) {
            EXPECT_LE(es[g], em[g]) << "group " << g;
            EXPECT_NEAR(es[g], ref.groupErr[g], 1e-12 + 1e-9 * ref.groupErr[g])
                << "group " << g;
          }
          EXPECT_EQ(qs.scales, ref.scales);
          EXPECT_EQ(qs.zeros, ref.zeros);
          EXPECT_EQ(qs.codes, ref.codes);
        }
}

TEST(Uniform, MSEClipHelpsWithOutliers) {
  std::vector<float> W = randomWeights(128, 16, 3, 0.03f);
  UniformParams p{3, 64, false, false};
  UniformResult qm, qs;
  std::string err;
  ASSERT_TRUE(
      quantizeUniformRTN(W.data(), 128, 16, p, ClipSearch::MinMax, qm, err));
  ASSERT_TRUE(
      quantizeUniformRTN(W.data(), 128, 16, p, ClipSearch::MSE, qs, err));
  std::vector<float> dm, ds;
  ASSERT_TRUE(dequantizeUniform(qm, dm, err));
  ASSERT_TRUE(dequantizeUniform(qs, ds, err));
  EXPECT_LT(sqError(W, ds), 0.95 * sqError(W, dm));
}

TEST(Uniform, ShortLastGroupLayout) {
  std::vector<float> W = randomWeights(37, 13, 5);
  UniformResult q;
  std::string err;
  ASSERT_TRUE(quantizeUniformRTN(W.data(), 37, 13, {4, 16, false, false},
                                 ClipSearch::MinMax, q, err));
  EXPECT_EQ(q.group, 16);
  EXPECT_EQ(q.numGroupRows(), 3);
  EXPECT_EQ(q.numGroupCols(), 13);
  EXPECT_EQ(q.paramIndex(36, 12), 2 * 13 + 12);
  ASSERT_TRUE(quantizeUniformRTN(W.data(), 37, 13, {4, 4, true, false},
                                 ClipSearch::MinMax, q, err));
  EXPECT_EQ(q.numGroupRows(), 37);
  EXPECT_EQ(q.numGroupCols(), 4);
  EXPECT_EQ(q.paramIndex(36, 12), 36 * 4 + 3);
  // A group larger than the axis is the whole axis.
  ASSERT_TRUE(quantizeUniformRTN(W.data(), 37, 13, {4, 1000, false, false},
                                 ClipSearch::MinMax, q, err));
  EXPECT_EQ(q.group, 37);
  EXPECT_EQ(q.numGroupRows(), 1);
}

TEST(Uniform, ConstantAndZeroGroups) {
  std::vector<float> W(32 * 4, 0.0f);
  for (int k = 0; k < 32; ++k)
    W[size_t(k * 4 + 1)] = 0.25f; // constant positive column
  for (bool sym : {false, true})
    for (ClipSearch clip : {ClipSearch::MinMax, ClipSearch::MSE}) {
      UniformResult q;
      std::string err;
      ASSERT_TRUE(quantizeUniformRTN(W.data(), 32, 4, {4, 8, false, sym}, clip,
                                     q, err));
      std::vector<float> deq;
      ASSERT_TRUE(dequantizeUniform(q, deq, err));
      for (int k = 0; k < 32; ++k) {
        EXPECT_EQ(deq[size_t(k * 4 + 0)], 0.0f);
        EXPECT_NEAR(deq[size_t(k * 4 + 1)], 0.25f, 1e-6f);
      }
      for (float s : q.scales)
        EXPECT_TRUE(std::isfinite(s) && s > 0.0f);
    }
}

TEST(Uniform, DequantizeRejectsInconsistentResult) {
  std::vector<float> W = randomWeights(8, 4, 1);
  UniformResult q;
  std::string err;
  ASSERT_TRUE(quantizeUniformRTN(W.data(), 8, 4, {2, -1, false, false},
                                 ClipSearch::MinMax, q, err));
  std::vector<float> deq;
  UniformResult bad = q;
  bad.codes[0] = 4; // does not fit in 2 bits
  EXPECT_FALSE(dequantizeUniform(bad, deq, err));
  EXPECT_FALSE(err.empty());
  bad = q;
  bad.scales.pop_back();
  EXPECT_FALSE(dequantizeUniform(bad, deq, err));
  EXPECT_FALSE(dequantizeUniform(UniformResult(), deq, err));
}
