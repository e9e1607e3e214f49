//===- BoATest.cpp - Tests of BoA's attention-aware quantization ----------===//

#include "qc/Quant/BoA.h"
#include "qc/Quant/GPTQ.h"

#include "QuantTestUtil.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/LU>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace qc::quant;
using namespace qc::quant::test;

namespace {

using MatD = Eigen::MatrixXd;

RowHessians rowHessians(int64_t heads, int64_t d, uint64_t seed) {
  RowHessians r;
  r.heads = heads;
  r.headDim = d;
  for (int64_t h = 0; h < heads; ++h) {
    std::vector<double> m = flat(randomSPD(d, seed + uint64_t(h)));
    r.M.insert(r.M.end(), m.begin(), m.end());
  }
  return r;
}

/// GPTQ written out on the dense Kronecker Hessian M_h (x) H of each head,
/// over the head's weights in the order (column step, row, column): steps
/// of `joint` columns, a step's weights row by row. joint = 1 is the order
/// (column, row) of BoA. Group parameters are chosen, as BoA's, when the
/// sweep reaches a group's first row (for all of the step's columns,
/// before the row is rounded), by quantizeUniformRTN on current values.
std::vector<uint8_t> denseKroneckerGPTQ(const std::vector<float> &W, int64_t K,
                                        int64_t N, const std::vector<double> &H,
                                        const RowHessians &rows,
                                        const UniformParams &p,
                                        int64_t joint = 1) {
  const int64_t d = rows.headDim, n = d * K;
  const float maxq = float((1 << p.bits) - 1);
  std::vector<uint8_t> codes(size_t(K * N));
  // The processing order: (column, row) of each variable.
  std::vector<std::pair<int64_t, int64_t>> order;
  for (int64_t i0 = 0; i0 < d; i0 += joint)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = i0; i < std::min(d, i0 + joint); ++i)
        order.push_back({i, k});
  for (int64_t h = 0; h < rows.heads; ++h) {
    const double *M = rows.M.data() + h * d * d;
    MatD F(n, n);
    Eigen::VectorXd w(n);
    for (int64_t a = 0; a < n; ++a) {
      auto [i, k] = order[size_t(a)];
      w(a) = W[size_t(k * N + h * d + i)];
      for (int64_t b = 0; b < n; ++b) {
        auto [j, l] = order[size_t(b)];
        F(a, b) = M[i * d + j] * H[size_t(k * K + l)];
      }
    }
    MatD U = F.llt().solve(MatD::Identity(n, n)).llt().matrixU();
    std::vector<float> scale(static_cast<size_t>(d)),
        zero(static_cast<size_t>(d));
    for (int64_t a = 0; a < n; ++a) {
      auto [i, k] = order[size_t(a)];
      // A step's columns choose their group's parameters at its first row.
      if (k % p.group == 0 && (a == 0 || order[size_t(a - 1)].second != k)) {
        for (int64_t b = a; b < n && order[size_t(b)].second == k; ++b) {
          const int64_t j = order[size_t(b)].first;
          std::vector<float> g;
          for (int64_t c = b; c < n; ++c)
            if (order[size_t(c)].first == j &&
                order[size_t(c)].second < k + p.group)
              g.push_back(float(w(c)));
          UniformResult r;
          std::string err;
          EXPECT_TRUE(quantizeUniformRTN(g.data(), int64_t(g.size()), 1, p,
                                         ClipSearch::MinMax, r, err));
          scale[size_t(j)] = r.scales[0];
          zero[size_t(j)] = r.zeros[0];
        }
      }
      float c = std::min(
          std::max(std::nearbyint(float(w(a)) / scale[size_t(i)]) +
                       zero[size_t(i)],
                   0.0f),
          maxq);
      codes[size_t(k * N + h * d + i)] = uint8_t(c);
      double e =
          (w(a) - double(scale[size_t(i)] * (c - zero[size_t(i)]))) / U(a, a);
      w.tail(n - a - 1) -= e * U.row(a).tail(n - a - 1).transpose();
    }
  }
  return codes;
}

/// BoA's codes and the dense algorithm's on random K x (heads x d) data.
void expectDenseCodes(int64_t K, int64_t heads, int64_t d, int bits,
                      int64_t group, uint64_t seed, int64_t joint = 1) {
  const int64_t N = heads * d;
  std::vector<float> W = randomWeights(K, N, seed);
  std::vector<double> H = flat(randomSPD(K, seed + 1, 0.5));
  RowHessians rows = rowHessians(heads, d, seed + 2);
  UniformParams p = params(bits, group);
  UniformResult boa;
  std::string err;
  BoAOptions options{0.0, false, joint};
  ASSERT_TRUE(boaUniform(W.data(), K, N, H.data(), rows, p,
                         ClipSearch::MinMax, options, boa, err))
      << err;
  EXPECT_EQ(boa.codes, denseKroneckerGPTQ(W, K, N, H, rows, p, joint));
}

// BoA is GPTQ on the Kronecker-structured Hessian: its codes are the dense
// algorithm's, code for code, in one lazy block of rows and across several
// (K = 288, groups of 32: blocks of 128).
TEST(BoA, EqualsDenseGPTQOnTheKroneckerHessian) {
  expectDenseCodes(24, 2, 4, 3, 8, 11);
  expectDenseCodes(288, 2, 3, 4, 32, 17);
}

// TurboBoA's joint columns are GPTQ on the dense Kronecker Hessian in the
// order (step, row, column), the later steps' columns updated in closed
// form once per step: code for code, for steps that divide the head, one
// that does not (5 = 2 + 2 + 1), and the whole head at once.
TEST(BoA, JointColumnsAreDenseGPTQInStepRowColumnOrder) {
  expectDenseCodes(24, 2, 4, 3, 8, 12, /*joint=*/2);
  expectDenseCodes(40, 2, 5, 3, 8, 13, /*joint=*/2);
  expectDenseCodes(40, 1, 4, 4, 8, 18, /*joint=*/4);
  // Another order than BoA's, so other codes.
  std::vector<float> W = randomWeights(40, 10, 13);
  std::vector<double> H = flat(randomSPD(40, 14, 0.5));
  RowHessians rows = rowHessians(2, 5, 15);
  EXPECT_NE(denseKroneckerGPTQ(W, 40, 10, H, rows, params(3, 8), 2),
            denseKroneckerGPTQ(W, 40, 10, H, rows, params(3, 8), 1));
}

// With the row order, the dense algorithm on the head's columns permuted by
// decreasing M_h diagonal, permuted back.
TEST(BoA, RowOrderIsDenseGPTQOnPermutedColumns) {
  const int64_t K = 16, heads = 2, d = 5, N = heads * d;
  std::vector<float> W = randomWeights(K, N, 14);
  std::vector<double> H = flat(randomSPD(K, 15));
  RowHessians rows = rowHessians(heads, d, 16);
  UniformParams p = params(3, 8);
  std::vector<float> Wp(W.size());
  RowHessians rp = rows;
  std::vector<int64_t> col(static_cast<size_t>(N));
  for (int64_t h = 0; h < heads; ++h) {
    const double *M = rows.M.data() + h * d * d;
    std::vector<int64_t> order(static_cast<size_t>(d));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return M[a * d + a] > M[b * d + b];
    });
    for (int64_t i = 0; i < d; ++i) {
      col[size_t(h * d + i)] = h * d + order[size_t(i)];
      for (int64_t j = 0; j < d; ++j)
        rp.M[size_t(h * d * d + i * d + j)] =
            M[order[size_t(i)] * d + order[size_t(j)]];
    }
  }
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      Wp[size_t(k * N + n)] = W[size_t(k * N + col[size_t(n)])];
  std::vector<uint8_t> dense = denseKroneckerGPTQ(Wp, K, N, H, rp, p);
  std::vector<uint8_t> expected(dense.size());
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      expected[size_t(k * N + col[size_t(n)])] = dense[size_t(k * N + n)];
  UniformResult boa;
  std::string err;
  ASSERT_TRUE(boaUniform(W.data(), K, N, H.data(), rows, p,
                         ClipSearch::MinMax, BoAOptions{0.0, true}, boa, err))
      << err;
  EXPECT_EQ(boa.codes, expected);
}

// With M_h = I nothing couples the columns: BoA is GPTQ.
TEST(BoA, IdentityRowHessiansIsGPTQ) {
  const int64_t K = 64, heads = 3, d = 8, N = heads * d;
  std::vector<float> W = randomWeights(K, N, 21);
  std::vector<double> H = flat(randomSPD(K, 22));
  RowHessians rows;
  rows.heads = heads;
  rows.headDim = d;
  rows.M = flat(MatD::Identity(d, d).replicate(heads, 1));
  UniformParams p = params(4, 16);
  UniformResult boa, gptq;
  std::string err;
  ASSERT_TRUE(boaUniform(W.data(), K, N, H.data(), rows, p,
                         ClipSearch::MinMax, BoAOptions(), boa, err))
      << err;
  GPTQOptions opt;
  ASSERT_TRUE(gptqUniform(W.data(), K, N, H.data(), p, ClipSearch::MinMax,
                          opt, nullptr, gptq, err))
      << err;
  // Same algorithm; GPTQ's factor is single precision, so a rare code may
  // round the other way.
  int64_t same = 0;
  for (size_t i = 0; i < boa.codes.size(); ++i)
    same += boa.codes[i] == gptq.codes[i];
  EXPECT_GE(double(same), 0.99 * double(boa.codes.size()));
  double eb = hessianError(W.data(), dequant(boa).data(), K, N, H.data());
  double eg = hessianError(W.data(), dequant(gptq).data(), K, N, H.data());
  EXPECT_NEAR(eb / eg, 1.0, 0.02);
}

// On the attention objective, BoA beats GPTQ (which sees only H).
TEST(BoA, LowersTheKroneckerObjectiveBelowGPTQ) {
  const int64_t K = 96, heads = 2, d = 16, N = heads * d;
  for (uint64_t seed : {31u, 32u, 33u}) {
    std::vector<float> W = randomWeights(K, N, seed, 0.0f);
    std::vector<double> H = flat(randomSPD(K, seed + 100));
    RowHessians rows = rowHessians(heads, d, seed + 200);
    UniformParams p = params(3, 32);
    UniformResult boa, gptq;
    std::string err;
    ASSERT_TRUE(boaUniform(W.data(), K, N, H.data(), rows, p,
                           ClipSearch::MinMax, BoAOptions(), boa, err))
        << err;
    ASSERT_TRUE(gptqUniform(W.data(), K, N, H.data(), p, ClipSearch::MinMax,
                            GPTQOptions(), nullptr, gptq, err))
        << err;
    double eb = kroneckerError(W.data(), dequant(boa).data(), K, N, H.data(),
                               rows);
    double eg = kroneckerError(W.data(), dequant(gptq).data(), K, N, H.data(),
                               rows);
    EXPECT_LT(eb, 0.9 * eg) << "seed " << seed;
  }
}

// Per-OC GPTQ treats columns independently: with every head on the same
// Hessian, gptqPerHead is gptqUniform on the whole weight, code for code.
TEST(BoA, PerHeadGPTQStitchesHeads) {
  const int64_t K = 48, heads = 3, d = 8, N = heads * d;
  std::vector<float> W = randomWeights(K, N, 61);
  std::vector<double> H = flat(randomSPD(K, 62));
  UniformParams p = params(3, 16);
  UniformResult perHead, whole;
  std::string err;
  std::vector<const double *> same(size_t(heads), H.data());
  ASSERT_TRUE(gptqPerHead(W.data(), K, N, same, p, ClipSearch::MSE, 0.01,
                          perHead, err))
      << err;
  ASSERT_TRUE(gptqUniform(W.data(), K, N, H.data(), p, ClipSearch::MSE,
                          GPTQOptions(), nullptr, whole, err))
      << err;
  EXPECT_EQ(perHead.codes, whole.codes);
  EXPECT_EQ(perHead.scales, whole.scales);
  EXPECT_EQ(perHead.zeros, whole.zeros);
  // A head on another Hessian changes only its own columns.
  std::vector<double> H2 = flat(randomSPD(K, 63));
  same[1] = H2.data();
  ASSERT_TRUE(gptqPerHead(W.data(), K, N, same, p, ClipSearch::MSE, 0.01,
                          perHead, err));
  int64_t changed[3] = {0, 0, 0};
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      changed[n / d] += perHead.codes[size_t(k * N + n)] !=
                        whole.codes[size_t(k * N + n)];
  EXPECT_EQ(changed[0], 0);
  EXPECT_GT(changed[1], 0);
  EXPECT_EQ(changed[2], 0);
}

TEST(BoA, RefusesBadArguments) {
  const int64_t K = 16, N = 8;
  std::vector<float> W = randomWeights(K, N, 41);
  std::vector<double> H = flat(MatD::Identity(K, K));
  RowHessians rows = rowHessians(2, 4, 42);
  UniformResult out;
  std::string err;
  UniformParams ic = params(4, 4);
  ic.perIC = true;
  EXPECT_FALSE(boaUniform(W.data(), K, N, H.data(), rows, ic,
                          ClipSearch::MinMax, BoAOptions(), out, err));
  EXPECT_NE(err.find("per-IC"), std::string::npos) << err;
  rows.heads = 3;
  EXPECT_FALSE(boaUniform(W.data(), K, N, H.data(), rows, params(4, 8),
                          ClipSearch::MinMax, BoAOptions(), out, err));
  EXPECT_NE(err.find("heads"), std::string::npos) << err;
  rows.heads = 2;
  for (int64_t joint : {0, 5}) {
    BoAOptions options;
    options.jointColumns = joint;
    EXPECT_FALSE(boaUniform(W.data(), K, N, H.data(), rows, params(4, 8),
                            ClipSearch::MinMax, options, out, err));
    EXPECT_NE(err.find("jointColumns"), std::string::npos) << err;
  }
}

// rotaryAverage against the sum over positions of R_t^T C R_t with R_t
// written out as a matrix.
TEST(BoA, RotaryAverageMatchesTheExplicitSum) {
  const int64_t d = 8, half = d / 2, T = 37;
  MatD C = randomSPD(d, 51);
  MatD Z = MatD::Zero(2 * d, 2 * d), expected = MatD::Zero(d, d);
  for (int64_t t = 0; t < T; ++t) {
    Eigen::VectorXd z(2 * d);
    MatD R = MatD::Zero(d, d);
    for (int64_t i = 0; i < half; ++i) {
      double angle = double(t) * std::pow(100.0, -double(i) / half);
      double c = std::cos(angle), s = std::sin(angle);
      z(i) = z(i + half) = c;
      z(d + i) = z(d + i + half) = s;
      // [q_i, q_{i+h}] -> [c q_i - s q_{i+h}, c q_{i+h} + s q_i]
      R(i, i) = R(i + half, i + half) = c;
      R(i, i + half) = -s;
      R(i + half, i) = s;
    }
    Z += z * z.transpose();
    expected += R.transpose() * C * R;
  }
  expected /= double(T);
  std::vector<double> Cf = flat(C), Zf = flat(Z), M(size_t(d * d));
  rotaryAverage(Cf.data(), d, Zf.data(), T, M.data());
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j)
      EXPECT_NEAR(M[size_t(i * d + j)], expected(i, j),
                  1e-9 * expected.cwiseAbs().maxCoeff());
}

TapStats tap(std::vector<std::string> names, const MatD &H, uint64_t rows) {
  TapStats t;
  t.layers = std::move(names);
  t.K = H.rows();
  t.rows = rows;
  t.H = flat(H);
  return t;
}

// Grouped-query attention: 4 query heads share 2 key heads. The key
// projection's heads average the query blocks of their group; the query
// projection's heads each read their key head's block.
TEST(BoA, RowHessiansMapHeadsForGroupedQueries) {
  const int64_t d = 2;
  MatD Q = MatD::Zero(4 * d, 4 * d); // post-rotary queries, 4 heads
  for (int64_t h = 0; h < 4; ++h)
    Q.block(h * d, h * d, d, d) = MatD::Identity(d, d) * double(h + 1);
  MatD K = MatD::Zero(4 * d, 4 * d); // keys expanded to the 4 query heads
  for (int64_t h = 0; h < 4; ++h)
    K.block(h * d, h * d, d, d) = MatD::Identity(d, d) * double(10 + h / 2);
  std::vector<TapStats> taps = {tap({rowTapName("k", d, 4)}, Q, 5),
                                tap({rowTapName("q", d, 4)}, K, 5)};
  RowHessians rk, rq;
  bool found = false;
  std::string err;
  ASSERT_TRUE(rowHessiansFromTaps(taps, "k", 2 * d, rk, found, err)) << err;
  ASSERT_TRUE(found);
  ASSERT_EQ(rk.heads, 2);
  EXPECT_DOUBLE_EQ(rk.M[0], 1.5);          // (1 + 2) / 2
  EXPECT_DOUBLE_EQ(rk.M[size_t(d * d)], 3.5); // (3 + 4) / 2
  ASSERT_TRUE(rowHessiansFromTaps(taps, "q", 4 * d, rq, found, err)) << err;
  ASSERT_EQ(rq.heads, 4);
  EXPECT_DOUBLE_EQ(rq.M[size_t(3 * d * d)], 11.0);
  // No tap: not found, no error.
  ASSERT_TRUE(rowHessiansFromTaps(taps, "v", 2 * d, rk, found, err));
  EXPECT_FALSE(found);
  // Value taps: one per key/value head, all present.
  AttentionStats stats;
  taps.push_back(tap({valueTapName("v", 1, 2)}, MatD::Identity(3, 3), 5));
  EXPECT_FALSE(attentionStatsFromTaps(taps, "v", 3, 2 * d, stats, err));
  EXPECT_NE(err.find("missing"), std::string::npos) << err;
  taps.push_back(tap({valueTapName("v", 0, 2)}, MatD::Identity(3, 3), 5));
  ASSERT_TRUE(attentionStatsFromTaps(taps, "v", 3, 2 * d, stats, err)) << err;
  ASSERT_EQ(stats.valueH.size(), 2u);
  EXPECT_EQ(stats.valueH[0], taps.back().H.data());
  EXPECT_EQ(stats.rows.heads, 0);
  // A rotary tap of the wrong width is refused.
  taps.push_back(tap({ropeTapName("q")}, MatD::Identity(3, 3), 5));
  EXPECT_FALSE(rowHessiansFromTaps(taps, "q", 4 * d, rq, found, err));
  EXPECT_NE(err.find("rotary"), std::string::npos) << err;
}

} // namespace
