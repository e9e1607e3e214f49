//===- HadamardTest.cpp - Tests of the randomized Hadamard rotations ------===//

#include "qc/Quant/Hadamard.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace qc::quant;

namespace {

/// max |A A^T - scale I| of a square row-major integer or float matrix.
template <typename T>
double orthogonalityError(const std::vector<T> &a, int64_t n, double scale) {
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0;
      for (int64_t c = 0; c < n; ++c)
        dot += double(a[i * n + c]) * double(a[j * n + c]);
      worst = std::max(worst, std::fabs(dot - (i == j ? scale : 0.0)));
    }
  return worst;
}

TEST(Hadamard, KnownOrdersAreHadamard) {
  // Sylvester (powers of two), Paley I (12, 20, 44, 60) and II (28, 36).
  for (int64_t m : {1, 2, 4, 8, 12, 20, 28, 36, 44, 60, 64}) {
    std::vector<int8_t> h = hadamardMatrix(m);
    ASSERT_EQ(h.size(), size_t(m * m)) << m;
    for (int8_t v : h)
      ASSERT_TRUE(v == 1 || v == -1) << m;
    EXPECT_EQ(orthogonalityError(h, m, double(m)), 0.0) << m;
  }
}

TEST(Hadamard, NoMatrixWhereNoneIsKnownOrPossible) {
  for (int64_t m : {0, 3, 6, 9, 18, 10, 52})
    EXPECT_TRUE(hadamardMatrix(m).empty()) << m;
}

TEST(Hadamard, PlansUseTheSmallestFactor) {
  std::optional<HadamardPlan> p = planHadamard(576, 0);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->order, 36);
  EXPECT_EQ(p->pow2, 16);
  p = planHadamard(1536, 0);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->order, 12);
  EXPECT_EQ(p->pow2, 128);
  p = planHadamard(64, 0);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->order, 1);
  EXPECT_FALSE(planHadamard(9, 0));
  // 11008 = 2 x 5504 (Paley I, q = 5503), but not with a mix of at most 256.
  p = planHadamard(11008, 0);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->order, 5504);
  EXPECT_FALSE(planHadamard(11008, 0, 256));
  EXPECT_EQ(planHadamard(1536, 0, 256)->order, 12);
  EXPECT_FALSE(planHadamard(0, 0));
}

TEST(Hadamard, SignsAreSeededAndBalanced) {
  std::optional<HadamardPlan> a = planHadamard(1024, 7), b = planHadamard(1024, 7),
                              c = planHadamard(1024, 8);
  EXPECT_EQ(a->signs, b->signs);
  EXPECT_NE(a->signs, c->signs);
  int negative = 0;
  for (float s : a->signs) {
    EXPECT_FLOAT_EQ(std::fabs(s), 1.0f / 32.0f);
    negative += s < 0;
  }
  EXPECT_GT(negative, 400);
  EXPECT_LT(negative, 624);
}

TEST(Hadamard, DenseTransformIsOrthogonal) {
  for (int64_t k : {2, 64, 96, 192, 576}) {
    std::optional<HadamardPlan> p = planHadamard(k, 3);
    ASSERT_TRUE(p) << k;
    EXPECT_LT(orthogonalityError(denseTransform(*p), k, 1.0), 1e-5) << k;
  }
  // The closed form at K = 2: diag(s) [[1, 1], [1, -1]] / sqrt(2).
  std::optional<HadamardPlan> p = planHadamard(2, 5);
  std::vector<float> t = denseTransform(*p);
  EXPECT_FLOAT_EQ(t[0], p->signs[0]);
  EXPECT_FLOAT_EQ(t[1], p->signs[0]);
  EXPECT_FLOAT_EQ(t[2], p->signs[1]);
  EXPECT_FLOAT_EQ(t[3], -p->signs[1]);
}

/// The factored transform the compiler generates: x * signs, a butterfly
/// per power of two over j, then y[i', j] = sum_i H_m[i][i'] z[i][j].
std::vector<double> factored(const HadamardPlan &p, const std::vector<float> &x) {
  int64_t m = p.order, n = p.pow2;
  std::vector<double> z(p.K);
  for (int64_t k = 0; k < p.K; ++k)
    z[k] = double(x[k]) * p.signs[k];
  for (int64_t b = 1; b < n; b *= 2)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        if (!(j & b)) {
          double u = z[i * n + j], v = z[i * n + j + b];
          z[i * n + j] = u + v;
          z[i * n + j + b] = u - v;
        }
  std::vector<double> y(p.K, 0.0);
  for (int64_t ic = 0; ic < m; ++ic)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        y[ic * n + j] += p.small[i * m + ic] * z[i * n + j];
  return y;
}

TEST(Hadamard, FactoredTransformIsTheDenseOne) {
  for (int64_t k : {16, 96, 576}) {
    std::optional<HadamardPlan> p = planHadamard(k, 11);
    std::vector<float> x(k);
    for (int64_t i = 0; i < k; ++i)
      x[i] = std::sin(0.37 * double(i)) + (i == 5 ? 40.0 : 0.0);
    std::vector<float> dense = matmul(x, denseTransform(*p), 1, k, k);
    std::vector<double> fast = factored(*p, x);
    for (int64_t i = 0; i < k; ++i)
      EXPECT_NEAR(dense[i], fast[i], 1e-4) << k << " " << i;
  }
}

TEST(Hadamard, RotatedProductsAgree) {
  // x W = (x T)(T^T W), and a random orthogonal matrix is orthogonal.
  int64_t k = 12, n = 5;
  std::optional<HadamardPlan> p = planHadamard(k, 1);
  std::vector<float> t = denseTransform(*p), x(k), w(k * n);
  for (int64_t i = 0; i < k; ++i)
    x[i] = float(i % 5) - 2.0f;
  for (int64_t i = 0; i < k * n; ++i)
    w[i] = std::cos(double(i));
  std::vector<float> plain = matmul(x, w, 1, k, n);
  std::vector<float> rotated =
      matmul(matmul(x, t, 1, k, k), transposedTimes(t, w, k, n), 1, k, n);
  for (int64_t c = 0; c < n; ++c)
    EXPECT_NEAR(plain[c], rotated[c], 1e-5);
  EXPECT_LT(orthogonalityError(randomOrthogonal(40, 2), 40, 1.0), 1e-5);
}

} // namespace
