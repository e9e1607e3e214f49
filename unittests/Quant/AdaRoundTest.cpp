//===- AdaRoundTest.cpp - Tests of aespa's learned rounding ---------------===//

#include "qc/Quant/AdaRound.h"
#include "qc/Quant/BoA.h"
#include "qc/Quant/GPTQ.h"

#include "QuantTestUtil.h"

#include <gtest/gtest.h>

using namespace qc::quant;
using namespace qc::quant::test;

namespace {

/// A Kronecker objective: one shared H and a random M per head.
struct Problem {
  int64_t K, N, heads, d;
  std::vector<float> W;
  std::vector<double> H;
  QuadraticObjective objective;
  RowHessians rows;
};

Problem kronecker(int64_t K, int64_t heads, int64_t d, uint64_t seed) {
  Problem p{K, heads * d, heads, d, randomWeights(K, heads * d, seed, 0.0f),
            flat(randomSPD(K, seed + 1, 0.5)), {}, {}};
  p.rows.heads = p.objective.heads = heads;
  p.rows.headDim = p.objective.headDim = d;
  for (int64_t h = 0; h < heads; ++h) {
    std::vector<double> m = flat(randomSPD(d, seed + 2 + uint64_t(h)));
    p.rows.M.insert(p.rows.M.end(), m.begin(), m.end());
  }
  p.objective.M = p.rows.M;
  p.objective.H.assign(size_t(heads), nullptr);
  for (const double *&h : p.objective.H)
    h = p.H.data();
  return p;
}

// The objective is BoA's Kronecker error for a shared H, and a sum of
// per-head Hessian errors without M.
TEST(AdaRound, QuadraticErrorIsTheAttentionObjective) {
  Problem p = kronecker(24, 2, 4, 3);
  std::vector<float> What = p.W;
  for (size_t i = 0; i < What.size(); ++i)
    What[i] += 0.01f * float(int(i % 7) - 3);
  EXPECT_NEAR(quadraticError(p.W.data(), What.data(), p.K, p.N, p.objective),
              kroneckerError(p.W.data(), What.data(), p.K, p.N, p.H.data(),
                             p.rows),
              1e-9 * kroneckerError(p.W.data(), What.data(), p.K, p.N,
                                    p.H.data(), p.rows));
  std::vector<double> H2 = flat(randomSPD(p.K, 9));
  QuadraticObjective perHead;
  perHead.heads = 2;
  perHead.headDim = 4;
  perHead.H = {p.H.data(), H2.data()};
  double expected = 0;
  for (int64_t h = 0; h < 2; ++h) {
    std::vector<float> a, b;
    for (int64_t k = 0; k < p.K; ++k)
      for (int64_t j = 0; j < 4; ++j) {
        a.push_back(p.W[size_t(k * p.N + h * 4 + j)]);
        b.push_back(What[size_t(k * p.N + h * 4 + j)]);
      }
    expected += hessianError(a.data(), b.data(), p.K, 4, perHead.H[size_t(h)]);
  }
  EXPECT_NEAR(quadraticError(p.W.data(), What.data(), p.K, p.N, perHead),
              expected, 1e-9 * expected);
}

// On a separable objective (H = I, no M) round-to-nearest is optimal: the
// learned rounding finds it and coordinate descent has nothing to move.
TEST(AdaRound, SeparableObjectiveGivesRoundToNearest) {
  const int64_t K = 32, N = 16;
  std::vector<float> W = randomWeights(K, N, 5);
  std::vector<double> I = flat(Eigen::MatrixXd::Identity(K, K));
  QuadraticObjective o;
  o.heads = 2;
  o.headDim = 8;
  o.H = {I.data(), I.data()};
  UniformResult rtn, ada;
  std::string err;
  ASSERT_TRUE(quantizeUniformRTN(W.data(), K, N, params(3, 16),
                                 ClipSearch::MSE, rtn, err));
  ASSERT_TRUE(adaroundUniform(W.data(), K, N, o, params(3, 16),
                              ClipSearch::MSE, AdaRoundOptions(), ada, err))
      << err;
  EXPECT_EQ(ada.codes, rtn.codes);
  int64_t moves = -1;
  ASSERT_TRUE(coordinateDescentCodes(W.data(), K, N, o, 5, rtn, err, &moves));
  EXPECT_EQ(moves, 0);
}

// On correlated statistics the learned rounding beats round-to-nearest by
// far, and coordinate descent only lowers the objective and stops at a
// point no single-step move improves (checked by brute force).
TEST(AdaRound, LearnsRoundingAndDescentReachesALocalMinimum) {
  Problem p = kronecker(64, 2, 8, 11);
  UniformParams up = params(3, 32);
  UniformResult rtn, ada;
  std::string err;
  ASSERT_TRUE(quantizeUniformRTN(p.W.data(), p.K, p.N, up, ClipSearch::MSE,
                                 rtn, err));
  double relative = 1;
  ASSERT_TRUE(adaroundUniform(p.W.data(), p.K, p.N, p.objective, up,
                              ClipSearch::MSE, AdaRoundOptions(), ada, err,
                              &relative))
      << err;
  const double eRTN =
      quadraticError(p.W.data(), dequant(rtn).data(), p.K, p.N, p.objective);
  const double eAda =
      quadraticError(p.W.data(), dequant(ada).data(), p.K, p.N, p.objective);
  EXPECT_NEAR(relative, eAda / eRTN, 1e-6);
  EXPECT_LT(eAda, 0.5 * eRTN);
  // Same grid as round-to-nearest.
  EXPECT_EQ(ada.scales, rtn.scales);
  EXPECT_EQ(ada.zeros, rtn.zeros);

  ASSERT_TRUE(coordinateDescentCodes(p.W.data(), p.K, p.N, p.objective, 50,
                                     ada, err));
  const double eCD =
      quadraticError(p.W.data(), dequant(ada).data(), p.K, p.N, p.objective);
  EXPECT_LE(eCD, eAda * (1 + 1e-6));
  const int maxq = (1 << up.bits) - 1;
  for (size_t i = 0; i < ada.codes.size(); ++i)
    for (int dir : {-1, 1}) {
      const int c = int(ada.codes[i]) + dir;
      if (c < 0 || c > maxq)
        continue;
      UniformResult moved = ada;
      moved.codes[i] = uint8_t(c);
      EXPECT_GE(quadraticError(p.W.data(), dequant(moved).data(), p.K, p.N,
                               p.objective),
                eCD * (1 - 1e-5))
          << "weight " << i << " step " << dir;
    }
}

TEST(AdaRound, RefusesBadArguments) {
  Problem p = kronecker(16, 2, 4, 21);
  UniformResult out;
  std::string err;
  QuadraticObjective wrong = p.objective;
  wrong.heads = 3;
  EXPECT_FALSE(adaroundUniform(p.W.data(), p.K, p.N, wrong, params(4, 8),
                               ClipSearch::MinMax, AdaRoundOptions(), out,
                               err));
  EXPECT_NE(err.find("heads"), std::string::npos) << err;
  UniformParams ic = params(4, 4);
  ic.perIC = true;
  EXPECT_FALSE(adaroundUniform(p.W.data(), p.K, p.N, p.objective, ic,
                               ClipSearch::MinMax, AdaRoundOptions(), out,
                               err));
  EXPECT_NE(err.find("per-IC"), std::string::npos) << err;
  UniformResult other;
  ASSERT_TRUE(quantizeUniformRTN(p.W.data(), p.K, p.N / 2, params(4, 8),
                                 ClipSearch::MinMax, other, err));
  EXPECT_FALSE(coordinateDescentCodes(p.W.data(), p.K, p.N, p.objective, 1,
                                      other, err));
  EXPECT_NE(err.find("shape"), std::string::npos) << err;
}

} // namespace
