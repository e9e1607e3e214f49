//===- QuantTestUtil.h - Shared helpers of the QCQuant tests ----*- C++ -*-===//
//
// Random inputs and plain error measures, written independently of the
// library, and two shorthands of its own calls.
//
//===----------------------------------------------------------------------===//

#ifndef QC_UNITTESTS_QUANT_QUANTTESTUTIL_H
#define QC_UNITTESTS_QUANT_QUANTTESTUTIL_H

#include "qc/Quant/Uniform.h"

#include <Eigen/Core>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace qc::quant::test {

/// A K x N matrix of Gaussian weights with a few outliers and a per-column
/// magnitude, as in real weight matrices.
inline std::vector<float> randomWeights(int64_t K, int64_t N, uint64_t seed,
                                        float outlierRate = 0.01f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<float> colMag(static_cast<size_t>(N));
  for (auto &m : colMag)
    m = 0.02f * (0.5f + 2.0f * unit(rng));
  std::vector<float> W(size_t(K * N));
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      float w = normal(rng) * colMag[size_t(n)];
      if (unit(rng) < outlierRate)
        w *= 8.0f;
      W[size_t(k * N + n)] = w;
    }
  return W;
}

/// Sum of squared differences, in double.
inline double sqError(const std::vector<float> &a,
                      const std::vector<float> &b) {
  double e = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    double d = double(a[i]) - double(b[i]);
    e += d * d;
  }
  return e;
}

/// A random symmetric positive definite n x n matrix with correlated
/// entries (the covariance of T samples of a random linear mix).
inline Eigen::MatrixXd randomSPD(int64_t n, uint64_t seed,
                                 double mix = 0.8) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd A(n, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      A(i, j) = normal(rng) * (i == j ? 1.0 : mix);
  Eigen::MatrixXd X(4 * n, n);
  for (int64_t t = 0; t < X.rows(); ++t)
    for (int64_t j = 0; j < n; ++j)
      X(t, j) = normal(rng);
  Eigen::MatrixXd Y = X * A;
  return Y.transpose() * Y;
}

/// The entries of `m`, row by row.
inline std::vector<double> flat(const Eigen::MatrixXd &m) {
  std::vector<double> v(size_t(m.rows() * m.cols()));
  for (int64_t i = 0; i < m.rows(); ++i)
    for (int64_t j = 0; j < m.cols(); ++j)
      v[size_t(i * m.cols() + j)] = m(i, j);
  return v;
}

// -- shorthands of the library's own calls -----------------------------------

/// Per-OC uniform parameters of `bits` bits in groups of `group`.
inline UniformParams params(int bits, int64_t group) {
  UniformParams p;
  p.bits = bits;
  p.group = group;
  return p;
}

/// The weights `q` stands for (dequantizeUniform, which must succeed).
inline std::vector<float> dequant(const UniformResult &q) {
  std::vector<float> out;
  std::string err;
  EXPECT_TRUE(dequantizeUniform(q, out, err)) << err;
  return out;
}

inline int64_t ceilDivT(int64_t a, int64_t b) { return (a + b - 1) / b; }

} // namespace qc::quant::test

#endif // QC_UNITTESTS_QUANT_QUANTTESTUTIL_H
