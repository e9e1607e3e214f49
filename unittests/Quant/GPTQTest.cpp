//===- GPTQTest.cpp - Tests of GPTQ and the two-stage scale optimization --===//

#include "qc/Quant/GPTQ.h"

#include "QuantTestUtil.h"

#include <Eigen/Core>
#include <Eigen/QR>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace qc::quant;
using namespace qc::quant::test;

namespace {

/// The covariance of a unit-variance AR(1) sequence: H[i][j] = rho^|i-j|.
std::vector<double> ar1Hessian(int64_t K, double rho) {
  std::vector<double> H(size_t(K * K));
  for (int64_t i = 0; i < K; ++i)
    for (int64_t j = 0; j < K; ++j)
      H[size_t(i * K + j)] = std::pow(rho, double(std::abs(i - j)));
  return H;
}

/// T samples of K correlated inputs (AR(1) with a random channel scale),
/// row-major, and their statistics X^T X.
struct Samples {
  int64_t T = 0, K = 0;
  std::vector<double> X, H;
};

Samples correlatedSamples(int64_t T, int64_t K, double rho, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unit(0.5, 2.0);
  Samples s;
  s.T = T;
  s.K = K;
  s.X.resize(size_t(T * K));
  std::vector<double> mag(static_cast<size_t>(K));
  for (double &m : mag)
    m = unit(rng);
  for (int64_t t = 0; t < T; ++t) {
    double prev = normal(rng);
    for (int64_t k = 0; k < K; ++k) {
      prev = rho * prev + std::sqrt(1 - rho * rho) * normal(rng);
      s.X[size_t(t * K + k)] = prev * mag[size_t(k)];
    }
  }
  s.H.assign(size_t(K * K), 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < K; ++i)
      for (int64_t j = 0; j < K; ++j)
        s.H[size_t(i * K + j)] += s.X[size_t(t * K + i)] * s.X[size_t(t * K + j)];
  return s;
}

/// sum_t sum_n (x_t . (w_n - w^_n))^2 straight from the samples.
double sampleError(const Samples &s, const std::vector<float> &W,
                   const std::vector<float> &What, int64_t N) {
  double e = 0;
  for (int64_t t = 0; t < s.T; ++t)
    for (int64_t n = 0; n < N; ++n) {
      double d = 0;
      for (int64_t k = 0; k < s.K; ++k)
        d += s.X[size_t(t * s.K + k)] *
             (double(W[size_t(k * N + n)]) - double(What[size_t(k * N + n)]));
      e += d * d;
    }
  return e;
}

UniformParams uniformParams(int bits, int64_t group, bool perIC = false) {
  UniformParams p;
  p.bits = bits;
  p.group = group;
  p.perIC = perIC;
  return p;
}

// With uncorrelated inputs (H = I) there is nothing to feed forward: GPTQ's
// codes are RTN's, code for code.
TEST(GPTQ, IdentityHessianIsRTN) {
  const int64_t K = 96, N = 40;
  std::vector<float> W = randomWeights(K, N, 1);
  std::vector<double> H(size_t(K * K), 0.0);
  for (int64_t k = 0; k < K; ++k)
    H[size_t(k * K + k)] = 1.0;
  UniformResult rtn, gptq;
  std::string err;
  UniformParams params = uniformParams(4, 32);
  ASSERT_TRUE(quantizeUniformRTN(W.data(), K, N, params, ClipSearch::MinMax,
                                 rtn, err));
  GPTQOptions opt;
  opt.damp = 0.0;
  ASSERT_TRUE(gptqUniform(W.data(), K, N, H.data(), params,
                          ClipSearch::MinMax, opt, nullptr, gptq, err))
      << err;
  EXPECT_EQ(gptq.codes, rtn.codes);
  EXPECT_EQ(gptq.scales, rtn.scales);
}

// The math: with a fixed grid fine enough that rounding errors are uniform
// (variance D^2/12), RTN's Hessian-weighted error is ~ D^2/12 sum_i H_ii and
// GPTQ's is ~ D^2/12 sum_i 1/U_ii^2, the conditional variance of input i
// given the inputs after it. For AR(1) inputs that is 1 - rho^2 for all but
// the last channel: E_gptq / E_rtn ~ ((K-1)(1-rho^2) + 1) / K.
TEST(GPTQ, BeatsRTNByThePredictedMargin) {
  const int64_t K = 256, N = 64;
  const double rho = 0.9;
  std::vector<float> W = randomWeights(K, N, 2, /*outlierRate=*/0.0f);
  std::vector<double> H = ar1Hessian(K, rho);
  UniformParams params = uniformParams(8, -1);
  params.symmetric = true;
  UniformResult rtn, gptq;
  std::string err;
  ASSERT_TRUE(quantizeUniformRTN(W.data(), K, N, params, ClipSearch::MinMax,
                                 rtn, err));
  GPTQOptions opt;
  opt.damp = 0.0;
  ASSERT_TRUE(gptqUniform(W.data(), K, N, H.data(), params,
                          ClipSearch::MinMax, opt, &rtn, gptq, err))
      << err;
  double eRtn = hessianError(W.data(), dequant(rtn).data(), K, N, H.data());
  double eGptq = hessianError(W.data(), dequant(gptq).data(), K, N, H.data());
  double predicted = ((K - 1) * (1 - rho * rho) + 1) / double(K);
  double ratio = eGptq / eRtn;
  EXPECT_GT(ratio, 0.75 * predicted);
  EXPECT_LT(ratio, 1.25 * predicted);
}

/// GPTQ as its paper writes it (Frantar et al., 2023, Algorithm 1 without
/// lazy batches), in double: U = chol(H^-1) upper from an explicit inverse,
/// then row by row e = (w'_i - q_i) / U_ii, w'_j -= U_ij e. With `dynamic`,
/// each per-OC group's parameters are min-max RTN's of the updated weights
/// when the sweep reaches the group (written into `params`); else `params`
/// are kept.
std::vector<uint8_t> textbookGPTQ(const std::vector<float> &W, int64_t K,
                                  int64_t N, const std::vector<double> &H,
                                  double damp, UniformResult &params,
                                  const UniformParams *dynamic = nullptr) {
  auto at = [K](std::vector<double> &m, int64_t i, int64_t j) -> double & {
    return m[size_t(i * K + j)];
  };
  double mean = 0;
  for (int64_t i = 0; i < K; ++i)
    mean += H[size_t(i * K + i)] / double(K);
  // Gauss-Jordan inverse of the damped H.
  std::vector<double> A = H, inv(size_t(K * K), 0.0);
  for (int64_t i = 0; i < K; ++i) {
    at(A, i, i) += damp * mean;
    at(inv, i, i) = 1.0;
  }
  for (int64_t c = 0; c < K; ++c) {
    double p = at(A, c, c);
    for (int64_t j = 0; j < K; ++j) {
      at(A, c, j) /= p;
      at(inv, c, j) /= p;
    }
    for (int64_t r = 0; r < K; ++r) {
      double f = at(A, r, c);
      for (int64_t j = 0; r != c && j < K; ++j) {
        at(A, r, j) -= f * at(A, c, j);
        at(inv, r, j) -= f * at(inv, c, j);
      }
    }
  }
  // H^-1 = L L^T (Cholesky-Banachiewicz); U = L^T.
  std::vector<double> L(size_t(K * K), 0.0);
  for (int64_t i = 0; i < K; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double sum = at(inv, i, j);
      for (int64_t m = 0; m < j; ++m)
        sum -= at(L, i, m) * at(L, j, m);
      at(L, i, j) = i == j ? std::sqrt(sum) : sum / at(L, j, j);
    }
  std::vector<double> w(W.begin(), W.end());
  std::vector<uint8_t> codes(size_t(K * N));
  const double maxq = double((1 << params.bits) - 1);
  for (int64_t i = 0; i < K; ++i) {
    if (dynamic && i % params.group == 0) {
      int64_t rows = std::min(params.group, K - i);
      std::vector<float> slice(w.begin() + i * N, w.begin() + (i + rows) * N);
      UniformResult g;
      std::string err;
      EXPECT_TRUE(quantizeUniformRTN(slice.data(), rows, N, *dynamic,
                                     ClipSearch::MinMax, g, err));
      std::copy(g.scales.begin(), g.scales.end(),
                params.scales.begin() + (i / params.group) * N);
      std::copy(g.zeros.begin(), g.zeros.end(),
                params.zeros.begin() + (i / params.group) * N);
    }
    for (int64_t n = 0; n < N; ++n) {
      int64_t p = params.paramIndex(i, n);
      double s = params.scales[size_t(p)], z = params.zeros[size_t(p)];
      double x = w[size_t(i * N + n)];
      double c = std::min(std::max(std::nearbyint(x / s) + z, 0.0), maxq);
      codes[size_t(i * N + n)] = uint8_t(c);
      double e = (x - s * (c - z)) / at(L, i, i);
      for (int64_t j = i + 1; j < K; ++j)
        w[size_t(j * N + n)] -= at(L, j, i) * e;
    }
  }
  return codes;
}

// qc's GPTQ forms no inverse but its block-diagonal part: across blocks it
// feeds each row's difference from its original value forward through the
// Cholesky factor of H, and solves for a block's rows when it starts. The
// codes must be the textbook algorithm's, up to the rare code that a float
// rounding flips, with fixed parameters and with parameters chosen from the
// updated weights as the sweep reaches each group (which must see exactly
// the textbook's values: blocks that straddle groups are cut to fit).
TEST(GPTQ, MatchesTheTextbookAlgorithm) {
  const int64_t K = 160, N = 24;
  Samples s = correlatedSamples(600, K, 0.8, 21);
  std::vector<float> W = randomWeights(K, N, 22);
  struct Case {
    const char *name;
    bool perIC, dynamic;
    int64_t group;
  };
  for (Case c : {Case{"per-OC static", false, false, 32},
                 Case{"per-IC static", true, false, 8},
                 Case{"per-OC dynamic", false, true, 32},
                 Case{"per-OC dynamic, groups over blocks", false, true, 80}}) {
    SCOPED_TRACE(c.name);
    UniformParams params = uniformParams(3, c.group, c.perIC);
    UniformResult rtn, gptq;
    std::string err;
    ASSERT_TRUE(quantizeUniformRTN(W.data(), K, N, params, ClipSearch::MinMax,
                                   rtn, err));
    GPTQOptions opt;
    opt.blockSize = 48; // blocks that straddle groups, and a short last one
    ASSERT_TRUE(gptqUniform(W.data(), K, N, s.H.data(), params,
                            ClipSearch::MinMax, opt,
                            c.dynamic ? nullptr : &rtn, gptq, err))
        << err;
    UniformResult textbook = rtn;
    textbook.codes = textbookGPTQ(W, K, N, s.H, opt.damp, textbook,
                                  c.dynamic ? &params : nullptr);
    int64_t differ = 0;
    for (size_t i = 0; i < textbook.codes.size(); ++i)
      differ += textbook.codes[i] != gptq.codes[i];
    EXPECT_LE(differ, int64_t(textbook.codes.size()) / 200)
        << differ << " codes differ";
    for (size_t i = 0; i < textbook.scales.size(); ++i)
      EXPECT_NEAR(gptq.scales[i], textbook.scales[i],
                  1e-4 * std::fabs(textbook.scales[i]));
    double eRef =
        hessianError(W.data(), dequant(textbook).data(), K, N, s.H.data());
    double eQc = hessianError(W.data(), dequant(gptq).data(), K, N, s.H.data());
    EXPECT_NEAR(eQc, eRef, 0.01 * eRef);
  }
}

// At low bits the grid is coarse and per-group parameters move with the
// error feedback; GPTQ must still win clearly on correlated inputs, for
// every group kind and with act-order.
TEST(GPTQ, BeatsRTNAtLowBits) {
  const int64_t K = 128, N = 48;
  Samples s = correlatedSamples(512, K, 0.8, 3);
  std::vector<float> W = randomWeights(K, N, 4);
  for (int bits : {2, 3, 4})
    for (bool perIC : {false, true})
      for (bool actOrder : {false, true}) {
        UniformParams params = uniformParams(bits, perIC ? 16 : 32, perIC);
        UniformResult rtn, gptq;
        std::string err;
        ASSERT_TRUE(quantizeUniformRTN(W.data(), K, N, params,
                                       ClipSearch::MSE, rtn, err));
        GPTQOptions opt;
        opt.actOrder = actOrder;
        ASSERT_TRUE(gptqUniform(W.data(), K, N, s.H.data(), params,
                                ClipSearch::MSE, opt, nullptr, gptq, err))
            << err;
        double eRtn = sampleError(s, W, dequant(rtn), N);
        double eGptq = sampleError(s, W, dequant(gptq), N);
        EXPECT_LT(eGptq, 0.8 * eRtn)
            << "bits " << bits << " perIC " << perIC << " actOrder "
            << actOrder;
      }
}

// act-order is a processing order only: permuting the input channels of the
// layer (rows of W, rows and columns of H) permutes GPTQ's codes the same
// way, so the permutation is undone exactly and the layout needs none.
TEST(GPTQ, ActOrderPermutationRoundTrip) {
  const int64_t K = 64, N = 24;
  Samples s = correlatedSamples(256, K, 0.7, 5);
  std::vector<float> W = randomWeights(K, N, 6);
  std::vector<int64_t> perm(static_cast<size_t>(K));
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937_64(7));
  std::vector<float> Wp(W.size());
  std::vector<double> Hp(s.H.size());
  for (int64_t i = 0; i < K; ++i) {
    for (int64_t n = 0; n < N; ++n)
      Wp[size_t(i * N + n)] = W[size_t(perm[size_t(i)] * N + n)];
    for (int64_t j = 0; j < K; ++j)
      Hp[size_t(i * K + j)] =
          s.H[size_t(perm[size_t(i)] * K + perm[size_t(j)])];
  }
  // Whole-axis groups: the column parameters do not depend on row order.
  UniformParams params = uniformParams(3, -1);
  GPTQOptions opt;
  opt.actOrder = true;
  UniformResult a, b;
  std::string err;
  ASSERT_TRUE(gptqUniform(W.data(), K, N, s.H.data(), params,
                          ClipSearch::MinMax, opt, nullptr, a, err));
  ASSERT_TRUE(gptqUniform(Wp.data(), K, N, Hp.data(), params,
                          ClipSearch::MinMax, opt, nullptr, b, err));
  for (int64_t i = 0; i < K; ++i)
    for (int64_t n = 0; n < N; ++n)
      ASSERT_EQ(b.codes[size_t(i * N + n)],
                a.codes[size_t(perm[size_t(i)] * N + n)])
          << "row " << i << " col " << n;
  EXPECT_NE(b.codes, a.codes); // the permutation did move rows
}

// Dead input channels (all-zero statistics) and an all-zero Hessian give
// finite results: the dead channels are rounded without feedback.
TEST(GPTQ, SingularHessianFallback) {
  const int64_t K = 48, N = 16;
  Samples s = correlatedSamples(128, K, 0.5, 8);
  for (int64_t dead : {0, 7, 47})
    for (int64_t j = 0; j < K; ++j) {
      s.H[size_t(dead * K + j)] = 0;
      s.H[size_t(j * K + dead)] = 0;
    }
  std::vector<float> W = randomWeights(K, N, 9);
  UniformParams params = uniformParams(3, 16);
  UniformResult rtn, q;
  std::string err;
  ASSERT_TRUE(quantizeUniformRTN(W.data(), K, N, params, ClipSearch::MinMax,
                                 rtn, err));
  GPTQOptions opt;
  ASSERT_TRUE(gptqUniform(W.data(), K, N, s.H.data(), params,
                          ClipSearch::MinMax, opt, &rtn, q, err))
      << err;
  std::vector<float> deq = dequant(q);
  for (float v : deq)
    ASSERT_TRUE(std::isfinite(v));
  // Channel 47 is last: nothing feeds into it, so it is plain rounding.
  for (int64_t n = 0; n < N; ++n)
    EXPECT_EQ(q.codes[size_t(47 * N + n)], rtn.codes[size_t(47 * N + n)]);

  std::vector<double> zero(size_t(K * K), 0.0);
  ASSERT_TRUE(gptqUniform(W.data(), K, N, zero.data(), params,
                          ClipSearch::MinMax, opt, &rtn, q, err))
      << err;
  EXPECT_EQ(q.codes, rtn.codes);

  std::vector<double> bad = s.H;
  bad[3] = std::nan("");
  EXPECT_FALSE(gptqUniform(W.data(), K, N, bad.data(), params,
                           ClipSearch::MinMax, opt, &rtn, q, err));
  EXPECT_NE(err.find("non-finite"), std::string::npos) << err;
}

// Stage 1 chooses, per group, the range that is best under H among RTN's
// candidates, so it never loses to MSE-clipped RTN in the H-weighted error.
TEST(TwoStage, HessianInitNeverWorseThanRTN) {
  const int64_t K = 96, N = 32;
  Samples s = correlatedSamples(256, K, 0.8, 10);
  std::vector<float> W = randomWeights(K, N, 11);
  for (int bits : {2, 3, 4}) {
    UniformParams params = uniformParams(bits, 32);
    UniformResult rtn, init;
    std::string err;
    ASSERT_TRUE(quantizeUniformRTN(W.data(), K, N, params, ClipSearch::MSE,
                                   rtn, err));
    ASSERT_TRUE(quantizeUniformHessianInit(W.data(), K, N, params,
                                           s.H.data(), init, err))
        << err;
    double eRtn = hessianError(W.data(), dequant(rtn).data(), K, N, s.H.data());
    double eInit =
        hessianError(W.data(), dequant(init).data(), K, N, s.H.data());
    EXPECT_LE(eInit, eRtn * (1 + 1e-12)) << "bits " << bits;
  }
}

// Stage 2 is exact coordinate descent: the objective never increases, with
// or without cross statistics from a perturbed ("partly quantized") input.
TEST(TwoStage, RefinementNeverIncreasesObjective) {
  const int64_t K = 64, N = 24;
  Samples s = correlatedSamples(256, K, 0.8, 12);
  // Inputs of the partly quantized model: x~ = x + noise.
  Samples noisy = s;
  std::mt19937_64 rng(13);
  std::normal_distribution<double> normal(0.0, 0.1);
  for (double &x : noisy.X)
    x += normal(rng);
  std::vector<double> Ht(size_t(K * K), 0.0), C(size_t(K * K), 0.0);
  for (int64_t t = 0; t < s.T; ++t)
    for (int64_t i = 0; i < K; ++i)
      for (int64_t j = 0; j < K; ++j) {
        Ht[size_t(i * K + j)] +=
            noisy.X[size_t(t * K + i)] * noisy.X[size_t(t * K + j)];
        C[size_t(i * K + j)] +=
            noisy.X[size_t(t * K + i)] * s.X[size_t(t * K + j)];
      }
  std::vector<float> W = randomWeights(K, N, 14);
  for (bool perIC : {false, true})
    for (bool cross : {false, true}) {
      UniformParams params = uniformParams(3, 16, perIC);
      UniformResult q;
      std::string err;
      ASSERT_TRUE(gptqUniform(W.data(), K, N, s.H.data(), params,
                              ClipSearch::MSE, GPTQOptions(), nullptr, q,
                              err));
      std::vector<double> trace;
      const double *h = cross ? Ht.data() : s.H.data();
      ASSERT_TRUE(refineUniformScales(W.data(), K, N, h,
                                      cross ? C.data() : nullptr, 20, q, err,
                                      &trace))
          << err;
      ASSERT_GE(trace.size(), 2u);
      for (size_t i = 1; i < trace.size(); ++i)
        EXPECT_LE(trace[i], trace[i - 1] + 1e-9 * std::fabs(trace[0]))
            << "perIC " << perIC << " cross " << cross << " sweep " << i;
      EXPECT_LT(trace.back(), trace.front());
      // The objective the refinement reports is the sample error up to a
      // constant: check the decrease against the samples themselves.
      if (!cross) {
        UniformResult before;
        ASSERT_TRUE(gptqUniform(W.data(), K, N, s.H.data(), params,
                                ClipSearch::MSE, GPTQOptions(), nullptr,
                                before, err));
        double e0 = sampleError(s, W, dequant(before), N);
        double e1 = sampleError(s, W, dequant(q), N);
        EXPECT_NEAR(e0 - e1, trace.front() - trace.back(),
                    1e-6 * std::fabs(e0));
      }
    }
}

// The closed-form coordinate step equals a brute-force 1-D minimization of
// the sample error over the scale (single-parameter layers, so one step is
// the whole minimization).
TEST(TwoStage, ClosedFormEqualsBruteForce) {
  for (bool perIC : {false, true}) {
    const int64_t K = perIC ? 1 : 32, N = perIC ? 32 : 1;
    Samples s = correlatedSamples(64, K, 0.6, perIC ? 15 : 16);
    std::vector<float> W = randomWeights(K, N, 17);
    UniformParams params = uniformParams(3, -1, perIC);
    UniformResult q;
    std::string err;
    ASSERT_TRUE(quantizeUniformRTN(W.data(), K, N, params, ClipSearch::MinMax,
                                   q, err));
    UniformResult refined = q;
    ASSERT_TRUE(refineUniformScales(W.data(), K, N, s.H.data(), nullptr, 1,
                                    refined, err))
        << err;
    ASSERT_EQ(refined.scales.size(), 1u);
    // Brute force: golden-section search of the sample error over s.
    auto errorAt = [&](double scale) {
      UniformResult t = q;
      t.scales[0] = float(scale);
      return sampleError(s, W, dequant(t), N);
    };
    double lo = 0.0, hi = 4.0 * q.scales[0];
    const double g = (std::sqrt(5.0) - 1) / 2;
    for (int it = 0; it < 200; ++it) {
      double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
      if (errorAt(a) < errorAt(b))
        hi = b;
      else
        lo = a;
    }
    EXPECT_NEAR(refined.scales[0], (lo + hi) / 2, 1e-5 * q.scales[0])
        << "perIC " << perIC;
  }
}

// GPTQ with the BCQ projector keeps the fitted scales, chooses valid sign
// patterns and lowers the Hessian-weighted error on correlated inputs.
TEST(GPTQ, BCQErrorFeedback) {
  const int64_t K = 128, N = 32;
  Samples s = correlatedSamples(512, K, 0.8, 18);
  std::vector<float> W = randomWeights(K, N, 19);
  for (int planes : {2, 3}) {
    BCQResult fit;
    std::string err;
    ASSERT_TRUE(fitBCQ(W.data(), K, N, planes, 32, true, 5, fit, err));
    BCQResult q = fit;
    ASSERT_TRUE(gptqBCQ(W.data(), K, N, s.H.data(), GPTQOptions(), q, err))
        << err;
    EXPECT_EQ(q.alphas, fit.alphas);
    EXPECT_TRUE(verifyBCQ(q, err)) << err;
    std::vector<float> a, b;
    ASSERT_TRUE(dequantizeBCQ(fit, a, err));
    ASSERT_TRUE(dequantizeBCQ(q, b, err));
    EXPECT_LT(sampleError(s, W, b, N), 0.8 * sampleError(s, W, a, N))
        << "planes " << planes;
  }
}

TEST(GPTQ, BadArguments) {
  const int64_t K = 8, N = 4;
  std::vector<float> W = randomWeights(K, N, 20);
  std::vector<double> H = ar1Hessian(K, 0.5);
  UniformResult q;
  std::string err;
  GPTQOptions opt;
  opt.damp = -1;
  EXPECT_FALSE(gptqUniform(W.data(), K, N, H.data(), uniformParams(4, 4),
                           ClipSearch::MinMax, opt, nullptr, q, err));
  EXPECT_FALSE(gptqUniform(W.data(), K, N, nullptr, uniformParams(4, 4),
                           ClipSearch::MinMax, GPTQOptions(), nullptr, q,
                           err));
  UniformResult other;
  ASSERT_TRUE(quantizeUniformRTN(W.data(), K, N, uniformParams(4, 2),
                                 ClipSearch::MinMax, other, err));
  EXPECT_FALSE(gptqUniform(W.data(), K, N, H.data(), uniformParams(4, 4),
                           ClipSearch::MinMax, GPTQOptions(), &other, q, err));
  EXPECT_NE(err.find("static parameters"), std::string::npos) << err;
  std::vector<double> negative = H;
  negative[0] = -1;
  EXPECT_FALSE(gptqUniform(W.data(), K, N, negative.data(),
                           uniformParams(4, 4), ClipSearch::MinMax,
                           GPTQOptions(), nullptr, q, err));
}

// The corrected target is the least-squares fit of the float model's outputs
// X W from the quantized inputs X~ (a small damping aside), and leaves W as
// it is when the inputs carry no error.
TEST(InputErrorTarget, IsTheLeastSquaresFitOfTheFloatOutputs) {
  using Mat = Eigen::MatrixXd;
  const int64_t T = 200, K = 12, N = 5;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  Mat X(T, K), Xq(T, K);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t k = 0; k < K; ++k) {
      X(t, k) = normal(rng) * (1 + k % 3);
      Xq(t, k) = X(t, k) + 0.2 * normal(rng);
    }
  std::vector<float> W = randomWeights(K, N, 8);
  Mat Wd(K, N);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      Wd(k, n) = W[size_t(k * N + n)];
  auto flatten = [](const Mat &m) {
    std::vector<double> v;
    for (int64_t i = 0; i < m.rows(); ++i)
      for (int64_t j = 0; j < m.cols(); ++j)
        v.push_back(m(i, j));
    return v;
  };
  std::vector<double> Ht = flatten(Xq.transpose() * Xq),
                      C = flatten(Xq.transpose() * X);
  std::vector<float> out;
  std::string err;
  ASSERT_TRUE(inputErrorTarget(W.data(), K, N, Ht.data(), C.data(), 0.0, out,
                               err))
      << err;
  Mat expected = Xq.colPivHouseholderQr().solve(X * Wd);
  double scale = expected.cwiseAbs().maxCoeff(), moved = 0;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      EXPECT_NEAR(out[size_t(k * N + n)], expected(k, n), 1e-4 * scale);
      moved = std::max(moved, std::abs(expected(k, n) - Wd(k, n)));
    }
  EXPECT_GT(moved, 1e-2 * scale); // the correction is not negligible
  // No input error: W itself, also with damping.
  ASSERT_TRUE(inputErrorTarget(W.data(), K, N, Ht.data(), Ht.data(), 0.01,
                               out, err));
  EXPECT_EQ(out, W);
  C[3] = std::nan("");
  EXPECT_FALSE(inputErrorTarget(W.data(), K, N, Ht.data(), C.data(), 0.01,
                                out, err));
  EXPECT_NE(err.find("cross"), std::string::npos) << err;
}

} // namespace
