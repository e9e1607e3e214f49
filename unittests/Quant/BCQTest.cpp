//===- BCQTest.cpp - Tests of binary-coding quantization ------------------===//

#include "qc/Quant/BCQ.h"

#include "QuantTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace qc::quant;
using namespace qc::quant::test;

namespace {

/// Independent reconstruction of a BCQ result, in double. `mags` receives
/// sum |alpha| + |beta| of each weight (the scale of float rounding).
std::vector<double> refDequantBCQ(const BCQResult &q,
                                  std::vector<double> *mags = nullptr) {
  const int64_t rows = ceilDivT(q.K, q.group);
  std::vector<double> W(size_t(q.K * q.N));
  if (mags)
    mags->assign(W.size(), 0.0);
  for (int64_t k = 0; k < q.K; ++k)
    for (int64_t n = 0; n < q.N; ++n) {
      double acc = q.hasOffset ? q.offsets[size_t((k / q.group) * q.N + n)] : 0;
      double mag = std::fabs(acc);
      for (int i = 0; i < q.planes; ++i) {
        double a = q.alphas[size_t((i * rows + k / q.group) * q.N + n)];
        acc += a * double(q.signs[size_t((i * q.K + k) * q.N + n)]);
        mag += std::fabs(a);
      }
      W[size_t(k * q.N + n)] = acc;
      if (mags)
        (*mags)[size_t(k * q.N + n)] = mag;
    }
  return W;
}

/// Independent greedy BCQ of one group of values (in double).
double refGreedyGroupError(std::vector<double> x, int planes, bool offset,
                           std::vector<double> &alphas) {
  double beta = 0.0;
  if (offset) {
    for (double v : x)
      beta += v;
    beta /= double(x.size());
  }
  for (double &v : x)
    v -= beta;
  alphas.clear();
  for (int i = 0; i < planes; ++i) {
    double a = 0.0;
    for (double v : x)
      a += std::fabs(v);
    a /= double(x.size());
    alphas.push_back(a);
    for (double &v : x)
      v -= v >= 0.0 ? a : -a;
  }
  double e = 0.0;
  for (double v : x)
    e += v * v;
  return e;
}

BCQResult fit(const std::vector<float> &W, int64_t K, int64_t N, int planes,
              int64_t group, bool offset, int iters,
              std::vector<double> *trace = nullptr) {
  BCQResult q;
  std::string err;
  EXPECT_TRUE(
      fitBCQ(W.data(), K, N, planes, group, offset, iters, q, err, trace))
      << err;
  return q;
}

double dequantError(const std::vector<float> &W, const BCQResult &q) {
  std::vector<float> deq;
  std::string err;
  EXPECT_TRUE(dequantizeBCQ(q, deq, err)) << err;
  return sqError(W, deq);
}

} // namespace

TEST(BCQ, DequantizeMatchesReference) {
  for (bool offset : {false, true})
    for (int planes : {1, 2, 3, 4, 8}) {
      SCOPED_TRACE(testing::Message()
                   << "planes=" << planes << " offset=" << offset);
      std::vector<float> W = randomWeights(37, 13, 11);
      BCQResult q = fit(W, 37, 13, planes, 16, offset, 3);
      EXPECT_EQ(q.group, 16);
      EXPECT_EQ(q.numGroupRows(), 3);
      EXPECT_EQ(q.signs.size(), size_t(planes * 37 * 13));
      EXPECT_EQ(q.alphas.size(), size_t(planes * 3 * 13));
      EXPECT_EQ(q.offsets.size(), offset ? size_t(3 * 13) : size_t(0));
      for (int8_t s : q.signs)
        EXPECT_TRUE(s == 1 || s == -1);
      std::vector<float> deq;
      std::string err;
      ASSERT_TRUE(dequantizeBCQ(q, deq, err)) << err;
      std::vector<double> mags;
      std::vector<double> ref = refDequantBCQ(q, &mags);
      for (size_t i = 0; i < deq.size(); ++i)
        EXPECT_NEAR(deq[i], ref[i], 1e-6 * mags[i]);
    }
}

TEST(BCQ, GreedyInitMatchesReference) {
  const int64_t K = 40, N = 6, group = 16;
  std::vector<float> W = randomWeights(K, N, 21);
  for (bool offset : {false, true})
    for (int planes : {1, 2, 3}) {
      BCQResult q = fit(W, K, N, planes, group, offset, 0);
      double total = 0.0;
      for (int64_t k0 = 0; k0 < K; k0 += group)
        for (int64_t n = 0; n < N; ++n) {
          std::vector<double> x;
          for (int64_t k = k0; k < std::min(K, k0 + group); ++k)
            x.push_back(W[size_t(k * N + n)]);
          std::vector<double> alphas;
          total += refGreedyGroupError(x, planes, offset, alphas);
          for (int i = 0; i < planes; ++i)
            EXPECT_NEAR(q.alphas[size_t((i * 3 + k0 / group) * N + n)],
                        alphas[size_t(i)], 1e-5 * alphas[size_t(i)] + 1e-9);
        }
      EXPECT_NEAR(dequantError(W, q), total, 1e-4 * total);
    }
}

TEST(BCQ, ALSNeverIncreasesError) {
  const int64_t K = 96, N = 12;
  std::vector<float> W = randomWeights(K, N, 31, 0.03f);
  for (bool offset : {false, true})
    for (int planes : {1, 2, 3, 4}) {
      for (int64_t group : {int64_t(32), int64_t(-1), int64_t(7)}) {
        SCOPED_TRACE(testing::Message() << "planes=" << planes << " offset="
                                        << offset << " group=" << group);
        const int iters = 8;
        std::vector<double> trace;
        BCQResult q = fit(W, K, N, planes, group, offset, iters, &trace);
        ASSERT_EQ(trace.size(), size_t(iters + 1));
        for (int it = 1; it <= iters; ++it)
          EXPECT_LE(trace[size_t(it)], trace[size_t(it - 1)]) << "iter " << it;
        // The refinement does something for multi-plane codes.
        if (planes >= 2) {
          EXPECT_LT(trace.back(), trace.front());
        }
        EXPECT_NEAR(trace.back(), dequantError(W, q), 1e-6 * trace.back());
        // Independently: the dequantized error of separate fits with more
        // iterations never grows.
        double prev = -1.0;
        for (int it = 0; it <= 4; ++it) {
          double e = dequantError(W, fit(W, K, N, planes, group, offset, it));
          if (prev >= 0.0) {
            EXPECT_LE(e, prev * (1.0 + 1e-9)) << "iters " << it;
          }
          prev = e;
        }
      }
    }
}

TEST(BCQ, MorePlanesFitBetter) {
  std::vector<float> W = randomWeights(64, 8, 41);
  double prev = 1e30;
  for (int planes = 1; planes <= 4; ++planes) {
    double e = dequantError(W, fit(W, 64, 8, planes, 32, true, 5));
    EXPECT_LT(e, prev);
    prev = e;
  }
}

TEST(BCQ, UniformToBCQIsExact) {
  for (const auto &shape : {std::pair<int64_t, int64_t>{37, 13},
                            std::pair<int64_t, int64_t>{64, 5}})
    for (int bits = 2; bits <= 8; ++bits)
      for (bool sym : {false, true})
        for (ClipSearch clip : {ClipSearch::MinMax, ClipSearch::MSE}) {
          const int64_t K = shape.first, N = shape.second;
          SCOPED_TRACE(testing::Message()
                       << "K=" << K << " bits=" << bits << " sym=" << sym);
          std::vector<float> W = randomWeights(K, N, 51 + bits);
          UniformResult u;
          std::string err;
          ASSERT_TRUE(quantizeUniformRTN(W.data(), K, N, {bits, 16, false, sym},
                                         clip, u, err))
              << err;
          BCQResult b;
          ASSERT_TRUE(uniformToBCQ(u, b, err)) << err;
          ASSERT_EQ(b.planes, bits);
          ASSERT_EQ(b.group, u.group);
          ASSERT_TRUE(b.hasOffset);
          // Plane i is exactly bit i of every code.
          for (int i = 0; i < bits; ++i)
            for (int64_t e = 0; e < K * N; ++e)
              ASSERT_EQ(b.signs[size_t(i * K * N + e)],
                        ((u.codes[size_t(e)] >> i) & 1) ? 1 : -1);
          // Alphas are scale * 2^(i-1), exactly.
          const int64_t rows = u.numGroupRows();
          for (int i = 0; i < bits; ++i)
            for (int64_t g = 0; g < rows * N; ++g)
              ASSERT_EQ(b.alphas[size_t(i * rows * N + g)],
                        u.scales[size_t(g)] * std::pow(2.0f, float(i - 1)));
          std::vector<float> du, db;
          ASSERT_TRUE(dequantizeUniform(u, du, err));
          ASSERT_TRUE(dequantizeBCQ(b, db, err));
          for (int64_t k = 0; k < K; ++k)
            for (int64_t n = 0; n < N; ++n) {
              float scale = u.scales[size_t(u.paramIndex(k, n))];
              float tol = 1e-6f * scale * float(1 << bits);
              ASSERT_NEAR(db[size_t(k * N + n)], du[size_t(k * N + n)], tol);
            }
          // And the independent double reconstruction agrees too.
          std::vector<double> ref = refDequantBCQ(b);
          for (int64_t k = 0; k < K; ++k)
            for (int64_t n = 0; n < N; ++n) {
              double scale = u.scales[size_t(u.paramIndex(k, n))];
              ASSERT_NEAR(ref[size_t(k * N + n)], du[size_t(k * N + n)],
                          1e-6 * scale * double(1 << bits));
            }
        }
}

TEST(BCQ, UniformToBCQRejectsPerIC) {
  std::vector<float> W = randomWeights(16, 16, 1);
  UniformResult u;
  std::string err;
  ASSERT_TRUE(quantizeUniformRTN(W.data(), 16, 16, {4, 4, true, false},
                                 ClipSearch::MinMax, u, err));
  BCQResult b;
  EXPECT_FALSE(uniformToBCQ(u, b, err));
  EXPECT_NE(err.find("per-IC"), std::string::npos);
}

TEST(BCQ, DequantizeRejectsInconsistentResult) {
  std::vector<float> W = randomWeights(16, 4, 2);
  BCQResult q = fit(W, 16, 4, 2, 8, true, 1);
  std::vector<float> deq;
  std::string err;
  BCQResult bad = q;
  bad.signs[3] = 0;
  EXPECT_FALSE(dequantizeBCQ(bad, deq, err));
  bad = q;
  bad.offsets.clear();
  EXPECT_FALSE(dequantizeBCQ(bad, deq, err));
  EXPECT_FALSE(dequantizeBCQ(BCQResult(), deq, err));
}

// AnyBCQ: every precision reads a prefix of one set of planes, the error
// falls with every plane, and each precision is close to a fit made for it
// alone (which is itself only a local optimum of ALS).
TEST(AnyBCQ, NestedPlanesAndFallingError) {
  const int64_t K = 96, N = 24;
  std::vector<float> W = randomWeights(K, N, 43);
  for (bool offset : {false, true}) {
    SCOPED_TRACE(offset ? "offset" : "no offset");
    std::vector<BCQResult> any;
    std::string err;
    ASSERT_TRUE(fitAnyBCQ(W.data(), K, N, 2, 4, 32, offset, 10, any, err))
        << err;
    ASSERT_EQ(any.size(), 3u);
    double prev = 1e30;
    for (const BCQResult &q : any) {
      SCOPED_TRACE(testing::Message() << q.planes << " planes");
      ASSERT_TRUE(verifyBCQ(q, err)) << err;
      EXPECT_EQ(q.hasOffset, offset);
      EXPECT_TRUE(std::equal(q.signs.begin(), q.signs.end(),
                             any.back().signs.begin()));
      double e = dequantError(W, q);
      // Each plane roughly halves the error of a Gaussian-like group (1
      // plane: 0.36 of the variance, 2: 0.12, 3: 0.04 for a dedicated fit).
      EXPECT_LT(e, 0.6 * prev);
      double alone = dequantError(W, fit(W, K, N, q.planes, 32, offset, 10));
      EXPECT_LE(e, 1.25 * alone) << "alone " << alone;
      prev = e;
    }
  }
}

// One precision only is plain BCQ fitted by ALS: no worse than fitBCQ.
TEST(AnyBCQ, OnePrecisionIsBCQ) {
  std::vector<float> W = randomWeights(64, 16, 45);
  std::vector<BCQResult> any;
  std::string err;
  ASSERT_TRUE(fitAnyBCQ(W.data(), 64, 16, 3, 3, 32, true, 10, any, err));
  ASSERT_EQ(any.size(), 1u);
  EXPECT_LE(dequantError(W, any[0]),
            dequantError(W, fit(W, 64, 16, 3, 32, true, 10)) * (1 + 1e-6));
}

TEST(AnyBCQ, BadArguments) {
  std::vector<float> W = randomWeights(16, 4, 44);
  std::vector<BCQResult> any;
  std::string err;
  EXPECT_FALSE(fitAnyBCQ(W.data(), 16, 4, 3, 2, 8, true, 2, any, err));
  EXPECT_NE(err.find("minPlanes"), std::string::npos) << err;
  EXPECT_FALSE(fitAnyBCQ(W.data(), 16, 4, 1, 9, 8, true, 2, any, err));
  EXPECT_NE(err.find("maxPlanes"), std::string::npos) << err;
}
