//===- Hadamard.cpp - Randomized Hadamard rotations -----------------------===//

#include "qc/Quant/Hadamard.h"

#include <Eigen/Dense>

#include <cmath>
#include <random>

namespace qc {
namespace quant {
namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                               Eigen::RowMajor>;

/// Sylvester's H_{2^n}[i][j] = (-1)^popcount(i & j).
int sylvester(int64_t i, int64_t j) {
  return (__builtin_popcountll(i & j) & 1) ? -1 : 1;
}

bool isPrime(int64_t q) {
  if (q < 2)
    return false;
  for (int64_t d = 2; d * d <= q; ++d)
    if (q % d == 0)
      return false;
  return true;
}

/// The Jacobsthal matrix of the prime q: Q[i][j] = chi(j - i), chi the
/// quadratic character mod q.
std::vector<int> jacobsthal(int64_t q) {
  std::vector<int> chi(q, -1);
  chi[0] = 0;
  for (int64_t x = 1; x < q; ++x)
    chi[(x * x) % q] = 1;
  std::vector<int> m(q * q);
  for (int64_t i = 0; i < q; ++i)
    for (int64_t j = 0; j < q; ++j)
      m[i * q + j] = chi[((j - i) % q + q) % q];
  return m;
}

/// [[0, 1^T], [sign * 1, Q]] of order q + 1.
std::vector<int> bordered(int64_t q, int sign) {
  std::vector<int> jac = jacobsthal(q);
  int64_t n = q + 1;
  std::vector<int> c(n * n, 0);
  for (int64_t i = 1; i < n; ++i) {
    c[i] = 1;
    c[i * n] = sign;
    for (int64_t j = 1; j < n; ++j)
      c[i * n + j] = jac[(i - 1) * q + (j - 1)];
  }
  return c;
}

/// Paley I, q = 3 mod 4: I + S with S = [[0, 1^T], [-1, Q]] skew.
std::vector<int8_t> paleyOne(int64_t q) {
  int64_t n = q + 1;
  std::vector<int> s = bordered(q, -1);
  std::vector<int8_t> h(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      h[i * n + j] = static_cast<int8_t>(s[i * n + j] + (i == j ? 1 : 0));
  return h;
}

/// Paley II, q = 1 mod 4: C (x) [[1, 1], [1, -1]] + I (x) [[1, -1], [-1, -1]]
/// with C = [[0, 1^T], [1, Q]] symmetric.
std::vector<int8_t> paleyTwo(int64_t q) {
  int64_t c = q + 1, n = 2 * c;
  std::vector<int> conf = bordered(q, 1);
  static const int a[2][2] = {{1, 1}, {1, -1}}, b[2][2] = {{1, -1}, {-1, -1}};
  std::vector<int8_t> h(n * n);
  for (int64_t i = 0; i < c; ++i)
    for (int64_t j = 0; j < c; ++j)
      for (int r = 0; r < 2; ++r)
        for (int t = 0; t < 2; ++t)
          h[(2 * i + r) * n + 2 * j + t] = static_cast<int8_t>(
              conf[i * c + j] * a[r][t] + (i == j ? b[r][t] : 0));
  return h;
}

} // namespace

std::vector<int8_t> hadamardMatrix(int64_t m) {
  if (m <= 0)
    return {};
  if ((m & (m - 1)) == 0) {
    std::vector<int8_t> h(m * m);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < m; ++j)
        h[i * m + j] = static_cast<int8_t>(sylvester(i, j));
    return h;
  }
  if (isPrime(m - 1) && (m - 1) % 4 == 3)
    return paleyOne(m - 1);
  if (m % 2 == 0 && isPrime(m / 2 - 1) && (m / 2 - 1) % 4 == 1)
    return paleyTwo(m / 2 - 1);
  return {};
}

std::optional<HadamardPlan> planHadamard(int64_t k, uint64_t seed,
                                         int64_t maxOrder) {
  if (k <= 0)
    return std::nullopt;
  int64_t odd = k;
  while (odd % 2 == 0)
    odd /= 2;
  // The smallest factor order = odd * 2^j with a known matrix.
  for (int64_t order = odd; order <= k && (maxOrder <= 0 || order <= maxOrder);
       order *= 2) {
    std::vector<int8_t> small =
        order == odd && odd == 1 ? std::vector<int8_t>{1}
                                 : hadamardMatrix(order);
    if (small.empty())
      continue;
    HadamardPlan plan;
    plan.K = k;
    plan.order = order;
    plan.pow2 = k / order;
    plan.small = std::move(small);
    // One bit per sign from mt19937_64, which the standard fixes exactly.
    std::mt19937_64 bits(seed);
    float scale = 1.0f / std::sqrt(static_cast<float>(k));
    plan.signs.resize(k);
    for (float &s : plan.signs)
      s = (bits() >> 63) ? -scale : scale;
    return plan;
  }
  return std::nullopt;
}

std::vector<float> denseTransform(const HadamardPlan &plan) {
  int64_t k = plan.K, p = plan.pow2, m = plan.order;
  std::vector<float> t(k * k);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < k; ++c) {
      int64_t i = r / p, j = r % p, ic = c / p, jc = c % p;
      t[r * k + c] =
          plan.signs[r] * plan.small[i * m + ic] * sylvester(j, jc);
    }
  return t;
}

std::vector<float> randomOrthogonal(int64_t k, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd g(k, k);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      g(i, j) = normal(gen);
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  Eigen::MatrixXd q = qr.householderQ();
  std::vector<float> out(k * k);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      out[i * k + j] = static_cast<float>(q(i, j));
  return out;
}

std::vector<float> matmul(const std::vector<float> &a,
                          const std::vector<float> &b, int64_t rows,
                          int64_t inner, int64_t cols) {
  std::vector<float> out(rows * cols);
  Eigen::Map<RowMajor>(out.data(), rows, cols) =
      Eigen::Map<const RowMajor>(a.data(), rows, inner) *
      Eigen::Map<const RowMajor>(b.data(), inner, cols);
  return out;
}

std::vector<float> transposedTimes(const std::vector<float> &t,
                                   const std::vector<float> &w, int64_t inner,
                                   int64_t cols) {
  std::vector<float> out(inner * cols);
  Eigen::Map<RowMajor>(out.data(), inner, cols) =
      Eigen::Map<const RowMajor>(t.data(), inner, inner).transpose() *
      Eigen::Map<const RowMajor>(w.data(), inner, cols);
  return out;
}

} // namespace quant
} // namespace qc
