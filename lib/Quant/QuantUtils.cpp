//===- QuantUtils.cpp - Shared argument checks of QCQuant -----------------===//

#include "QuantUtils.h"

#include <cmath>

namespace qc {
namespace quant {
namespace detail {

// Keep every index (times a small factor) far from overflowing int64_t.
static constexpr int64_t kMaxElements = int64_t(1) << 40;

bool checkShape(const char *fn, int64_t K, int64_t N, std::string &err,
                int64_t copies) {
  if (K <= 0 || N <= 0) {
    err = std::string(fn) + ": empty matrix (K = " + std::to_string(K) +
          ", N = " + std::to_string(N) + ")";
    return false;
  }
  if (K > kMaxElements / N || K * N > kMaxElements / copies) {
    err = std::string(fn) + ": matrix too large";
    return false;
  }
  return true;
}

bool checkHessian(const char *fn, const double *H, int64_t K,
                  std::string &err) {
  if (!H) {
    err = std::string(fn) + ": null Hessian";
    return false;
  }
  for (int64_t i = 0; i < K * K; ++i)
    if (!std::isfinite(H[i])) {
      err = std::string(fn) + ": the Hessian has a non-finite entry";
      return false;
    }
  for (int64_t k = 0; k < K; ++k)
    if (H[k * K + k] < 0) {
      err = std::string(fn) + ": the Hessian has a negative diagonal entry "
                              "(not a sum of x^T x)";
      return false;
    }
  return true;
}

bool checkMatrix(const char *fn, const float *W, int64_t K, int64_t N,
                 std::string &err) {
  if (!W) {
    err = std::string(fn) + ": null weight pointer";
    return false;
  }
  if (!checkShape(fn, K, N, err))
    return false;
  for (int64_t i = 0, e = K * N; i < e; ++i) {
    if (!std::isfinite(W[i])) {
      err =
          std::string(fn) + ": non-finite weight at index " + std::to_string(i);
      return false;
    }
  }
  return true;
}

bool resolveGroup(const char *fn, int64_t group, int64_t axis,
                  int64_t &resolved, std::string &err) {
  if (group == -1 || group == 0) {
    resolved = axis;
    return true;
  }
  if (group < 0) {
    err = std::string(fn) + ": group must be positive, -1 or 0, got " +
          std::to_string(group);
    return false;
  }
  resolved = group < axis ? group : axis;
  return true;
}

bool checkRange(const char *fn, const char *what, int64_t value, int64_t lo,
                int64_t hi, std::string &err) {
  if (value >= lo && value <= hi)
    return true;
  err = std::string(fn) + ": " + what + " must be in [" + std::to_string(lo) +
        ", " + std::to_string(hi) + "], got " + std::to_string(value);
  return false;
}

} // namespace detail
} // namespace quant
} // namespace qc
