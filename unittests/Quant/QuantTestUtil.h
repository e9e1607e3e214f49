//===- QuantTestUtil.h - Shared helpers of the QCQuant tests ----*- C++ -*-===//
//
// Everything here is written independently of the library: random inputs
// and plain error measures.
//
//===----------------------------------------------------------------------===//

#ifndef QC_UNITTESTS_QUANT_QUANTTESTUTIL_H
#define QC_UNITTESTS_QUANT_QUANTTESTUTIL_H

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

inline int64_t ceilDivT(int64_t a, int64_t b) { return (a + b - 1) / b; }

} // namespace qc::quant::test

#endif // QC_UNITTESTS_QUANT_QUANTTESTUTIL_H
