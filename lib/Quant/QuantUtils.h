//===- QuantUtils.h - Shared argument checks of QCQuant ---------*- C++ -*-===//

#ifndef QC_LIB_QUANT_QUANTUTILS_H
#define QC_LIB_QUANT_QUANTUTILS_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace qc {
namespace quant {
namespace detail {

/// ceil(a / b) for a >= 0, b > 0.
inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Checks that K and N are positive and K * N (times `copies`) fits
/// comfortably in memory indices.
bool checkShape(const char *fn, int64_t K, int64_t N, std::string &err,
                int64_t copies = 1);

/// checkShape plus a non-null W whose entries are all finite.
bool checkMatrix(const char *fn, const float *W, int64_t K, int64_t N,
                 std::string &err);

/// Checks a K x K input statistics matrix (a sum of x^T x): non-null,
/// finite, no negative diagonal entry.
bool checkHessian(const char *fn, const double *H, int64_t K,
                  std::string &err);
/// Resolves a group size along an axis of length `axis`: -1 or 0 = whole
/// axis, > 0 kept (clamped to the axis), anything else an error.
bool resolveGroup(const char *fn, int64_t group, int64_t axis,
                  int64_t &resolved, std::string &err);

/// Checks that `value` (named `what`) lies in [lo, hi].
bool checkRange(const char *fn, const char *what, int64_t value, int64_t lo,
                int64_t hi, std::string &err);

/// Scale and zero point of one group for the clipping range shrunk by `p`.
struct GroupParams {
  float scale;
  float zero;
};

inline GroupParams computeParams(float xmin, float xmax, double p, int bits,
                          bool symmetric) {
  GroupParams gp;
  if (symmetric) {
    const int half = 1 << (bits - 1);
    float amax = float(std::max(std::fabs(xmin), std::fabs(xmax)) * p);
    gp.scale = amax / float(half - 1);
    gp.zero = float(half);
    if (!(gp.scale > 0.0f))
      gp.scale = 1.0f;
    return gp;
  }
  const float maxq = float((1 << bits) - 1);
  float lo = float(std::min(xmin, 0.0f) * p);
  float hi = float(std::max(xmax, 0.0f) * p);
  gp.scale = (hi - lo) / maxq;
  if (!(gp.scale > 0.0f)) {
    gp.scale = 1.0f;
    gp.zero = 0.0f;
    return gp;
  }
  gp.zero = std::min(std::max(std::nearbyint(-lo / gp.scale), 0.0f), maxq);
  return gp;
}

inline float quantizeOne(float x, const GroupParams &gp, float maxq) {
  float q = std::nearbyint(x / gp.scale) + gp.zero;
  return std::min(std::max(q, 0.0f), maxq);
}

inline float dequantizeOne(float q, float scale, float zero) {
  return scale * (q - zero);
}

} // namespace detail
} // namespace quant
} // namespace qc

#endif // QC_LIB_QUANT_QUANTUTILS_H
