//===- CodebookTest.cpp - Tests of additive codebook quantization ---------===//

#include "qc/Quant/Codebook.h"

#include "QuantTestUtil.h"

#include <gtest/gtest.h>

#include <limits>

using namespace qc::quant;
using namespace qc::quant::test;

namespace {

/// Independent reconstruction in double.
std::vector<double> refDequantCodebook(const CodebookResult &q) {
  std::vector<double> W(size_t(q.K * q.N));
  const int64_t v = q.vectorLen;
  for (int64_t n = 0; n < q.N; ++n)
    for (int64_t vk = 0; vk * v < q.K; ++vk)
      for (int64_t j = 0; j < v && vk * v + j < q.K; ++j) {
        double acc = 0.0;
        for (int m = 0; m < q.numCodebooks; ++m) {
          int64_t e = q.indices[size_t((m * q.numVectorRows + vk) * q.N + n)];
          acc += q.codebooks[size_t((m * q.entries + e) * v + j)];
        }
        double s = q.columnScales.empty() ? 1.0 : q.columnScales[size_t(n)];
        W[size_t((vk * v + j) * q.N + n)] = s * acc;
      }
  return W;
}

CodebookResult fit(const std::vector<float> &W, int64_t K, int64_t N,
                   const CodebookParams &p,
                   std::vector<std::vector<double>> *trace = nullptr) {
  CodebookResult q;
  std::string err;
  EXPECT_TRUE(fitCodebook(W.data(), K, N, p, q, err, trace)) << err;
  return q;
}

double dequantError(const std::vector<float> &W, const CodebookResult &q) {
  std::vector<float> deq;
  std::string err;
  EXPECT_TRUE(dequantizeCodebook(q, deq, err)) << err;
  return sqError(W, deq);
}

CodebookParams params(int64_t v, int64_t E, int M, int iters, bool colScale,
                      uint64_t seed = 1) {
  CodebookParams p;
  p.vectorLen = v;
  p.entries = E;
  p.numCodebooks = M;
  p.kmeansIters = iters;
  p.seed = seed;
  p.columnScale = colScale;
  return p;
}

} // namespace

TEST(Codebook, DequantizeMatchesReference) {
  std::vector<float> W = randomWeights(37, 13, 61);
  for (bool colScale : {false, true})
    for (int M = 1; M <= 3; ++M) {
      SCOPED_TRACE(testing::Message() << "M=" << M << " scale=" << colScale);
      CodebookResult q = fit(W, 37, 13, params(4, 16, M, 4, colScale));
      EXPECT_EQ(q.numVectorRows, 10);
      EXPECT_EQ(q.codebooks.size(), size_t(M * 16 * 4));
      EXPECT_EQ(q.indices.size(), size_t(M * 10 * 13));
      EXPECT_EQ(q.columnScales.size(), colScale ? size_t(13) : size_t(0));
      std::vector<float> deq;
      std::string err;
      ASSERT_TRUE(dequantizeCodebook(q, deq, err)) << err;
      std::vector<double> ref = refDequantCodebook(q);
      for (size_t i = 0; i < deq.size(); ++i)
        EXPECT_NEAR(deq[i], ref[i], 1e-6 * std::fabs(ref[i]) + 1e-9);
    }
}

TEST(Codebook, ColumnScalesAreRMS) {
  std::vector<float> W = randomWeights(37, 5, 62);
  CodebookResult q = fit(W, 37, 5, params(4, 8, 1, 2, true));
  for (int64_t n = 0; n < 5; ++n) {
    double ss = 0.0;
    for (int64_t k = 0; k < 37; ++k)
      ss += double(W[size_t(k * 5 + n)]) * W[size_t(k * 5 + n)];
    EXPECT_NEAR(q.columnScales[size_t(n)], std::sqrt(ss / 37.0),
                1e-6 * std::sqrt(ss / 37.0));
  }
}

TEST(Codebook, KMeansNeverIncreasesError) {
  std::vector<float> W = randomWeights(64, 24, 71, 0.02f);
  for (bool colScale : {false, true})
    for (int64_t v : {int64_t(2), int64_t(4), int64_t(5)}) {
      SCOPED_TRACE(testing::Message() << "v=" << v << " scale=" << colScale);
      const int iters = 8, M = 3;
      std::vector<std::vector<double>> trace;
      CodebookResult q =
          fit(W, 64, 24, params(v, 32, M, iters, colScale), &trace);
      ASSERT_EQ(trace.size(), size_t(M));
      for (int m = 0; m < M; ++m) {
        ASSERT_EQ(trace[size_t(m)].size(), size_t(iters + 1));
        for (int it = 1; it <= iters; ++it)
          EXPECT_LE(trace[size_t(m)][size_t(it)],
                    trace[size_t(m)][size_t(it - 1)])
              << "codebook " << m << " iter " << it;
        EXPECT_LT(trace[size_t(m)].back(), trace[size_t(m)].front())
            << "codebook " << m;
        if (m > 0) {
          EXPECT_LE(trace[size_t(m)].back(), trace[size_t(m - 1)].back());
        }
      }
      double e = dequantError(W, q);
      EXPECT_NEAR(trace.back().back(), e, 1e-5 * e);
      // Independently: with one codebook, more iterations from the same seed
      // never give a larger dequantized error.
      double prev = -1.0;
      for (int it = 0; it <= 6; ++it) {
        double ei =
            dequantError(W, fit(W, 64, 24, params(v, 32, 1, it, colScale)));
        if (prev >= 0.0) {
          EXPECT_LE(ei, prev * (1.0 + 1e-6)) << "iters " << it;
        }
        prev = ei;
      }
    }
}

TEST(Codebook, IndicesAreNearestEntries) {
  const int64_t K = 37, N = 9, v = 4;
  std::vector<float> W = randomWeights(K, N, 81);
  for (bool colScale : {false, true}) {
    CodebookResult q = fit(W, K, N, params(v, 16, 1, 5, colScale));
    for (int64_t n = 0; n < N; ++n) {
      double s = colScale ? double(q.columnScales[size_t(n)]) : 1.0;
      for (int64_t vk = 0; vk < q.numVectorRows; ++vk) {
        auto dist = [&](int64_t e) {
          double d = 0.0;
          for (int64_t j = 0; j < v && vk * v + j < K; ++j) {
            double x = double(W[size_t((vk * v + j) * N + n)]) / s;
            double t = x - double(q.codebooks[size_t(e * v + j)]);
            d += t * t;
          }
          return d;
        };
        double best = std::numeric_limits<double>::infinity();
        for (int64_t e = 0; e < 16; ++e)
          best = std::min(best, dist(e));
        EXPECT_LE(dist(q.indices[size_t(vk * N + n)]), best + 1e-15)
            << "vector " << vk << " column " << n;
      }
    }
  }
}

TEST(Codebook, ExactWithEnoughEntriesIncludingTail) {
  // 3 columns of ceil(10 / 4) = 3 vectors (the last one 2 long): 9 vectors.
  std::vector<float> W = randomWeights(10, 3, 91);
  CodebookResult q = fit(W, 10, 3, params(4, 16, 1, 3, false));
  std::vector<float> deq;
  std::string err;
  ASSERT_TRUE(dequantizeCodebook(q, deq, err));
  EXPECT_EQ(deq, W);
}

TEST(Codebook, DeterministicForSeed) {
  std::vector<float> W = randomWeights(32, 8, 92);
  CodebookResult a = fit(W, 32, 8, params(4, 8, 2, 3, true, 5));
  CodebookResult b = fit(W, 32, 8, params(4, 8, 2, 3, true, 5));
  CodebookResult c = fit(W, 32, 8, params(4, 8, 2, 3, true, 6));
  EXPECT_EQ(a.codebooks, b.codebooks);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_NE(a.codebooks, c.codebooks);
}

TEST(Codebook, MaximumEntries) {
  std::vector<float> W = randomWeights(8, 2, 93);
  CodebookResult q = fit(W, 8, 2, params(1, 65536, 1, 1, false));
  EXPECT_EQ(q.entries, 65536);
  std::vector<float> deq;
  std::string err;
  ASSERT_TRUE(dequantizeCodebook(q, deq, err)) << err;
  EXPECT_EQ(deq, W);
}

TEST(Codebook, DequantizeRejectsInconsistentResult) {
  std::vector<float> W = randomWeights(16, 4, 94);
  CodebookResult q = fit(W, 16, 4, params(4, 4, 1, 1, false));
  std::vector<float> deq;
  std::string err;
  CodebookResult bad = q;
  bad.indices[0] = 4;
  EXPECT_FALSE(dequantizeCodebook(bad, deq, err));
  bad = q;
  bad.codebooks.pop_back();
  EXPECT_FALSE(dequantizeCodebook(bad, deq, err));
  EXPECT_FALSE(dequantizeCodebook(CodebookResult(), deq, err));
}
