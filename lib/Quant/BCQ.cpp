//===- BCQ.cpp - Binary-coding quantization -------------------------------===//

#include "qc/Quant/BCQ.h"

#include "QuantUtils.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace qc::quant;
using namespace qc::quant::detail;

int64_t BCQResult::numGroupRows() const {
  return group > 0 ? ceilDiv(K, group) : 0;
}

namespace {

/// One reconstructed weight; dequantizeBCQ and the fit use this same
/// summation order so that the fit's error is the dequantized error.
inline float reconstruct(const float *alpha, const int8_t *b, int planes,
                         float beta) {
  float acc = beta;
  for (int i = 0; i < planes; ++i)
    acc += alpha[i] * float(b[i]);
  return acc;
}

/// Index of the level nearest to t in `values` (sorted by level; the lower
/// one on a tie).
template <typename T>
size_t nearestLevel(const std::vector<std::pair<T, int>> &values, double t) {
  auto it = std::lower_bound(
      values.begin(), values.end(), t,
      [](const std::pair<T, int> &p, double v) { return double(p.first) < v; });
  size_t idx = size_t(it - values.begin());
  if (idx == values.size() ||
      (idx > 0 && t - double(values[idx - 1].first) <=
                      double(values[idx].first) - t))
    return idx - 1;
  return idx;
}

/// The state of one group during the fit: values x, signs b ([j][plane]),
/// alphas and beta.
struct GroupFit {
  int planes;
  bool offset;
  std::vector<float> x;
  std::vector<int8_t> b;
  std::vector<float> alpha;
  float beta = 0.0f;

  double error(const std::vector<float> &a, float be,
               const std::vector<int8_t> &signs) const {
    double e = 0.0;
    for (size_t j = 0; j < x.size(); ++j) {
      double d =
          double(x[j]) -
          double(reconstruct(a.data(), &signs[j * size_t(planes)], planes, be));
      e += d * d;
    }
    return e;
  }
  double error() const { return error(alpha, beta, b); }

  /// Greedy residual-sign initialization.
  void init() {
    const size_t cnt = x.size();
    b.assign(cnt * size_t(planes), 1);
    alpha.assign(size_t(planes), 0.0f);
    beta = 0.0f;
    if (offset) {
      double sum = 0.0;
      for (float v : x)
        sum += v;
      beta = float(sum / double(cnt));
    }
    std::vector<float> r(cnt);
    for (size_t j = 0; j < cnt; ++j)
      r[j] = x[j] - beta;
    for (int i = 0; i < planes; ++i) {
      double sumAbs = 0.0;
      for (float v : r)
        sumAbs += std::fabs(v);
      float a = float(sumAbs / double(cnt));
      alpha[size_t(i)] = a;
      for (size_t j = 0; j < cnt; ++j) {
        int8_t s = r[j] >= 0.0f ? 1 : -1;
        b[j * size_t(planes) + size_t(i)] = s;
        r[j] -= a * float(s);
      }
    }
  }

  /// Least-squares alphas (and beta) for the current signs; kept only if
  /// they do not increase the error. Returns the new error.
  double refitScales(double curErr) {
    const int cols = planes + (offset ? 1 : 0);
    Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(cols, cols);
    Eigen::VectorXd rhs = Eigen::VectorXd::Zero(cols);
    Eigen::VectorXd row(cols);
    for (size_t j = 0; j < x.size(); ++j) {
      for (int i = 0; i < planes; ++i)
        row[i] = double(b[j * size_t(planes) + size_t(i)]);
      if (offset)
        row[planes] = 1.0;
      gram.noalias() += row * row.transpose();
      rhs.noalias() += row * double(x[j]);
    }
    Eigen::VectorXd theta = gram.completeOrthogonalDecomposition().solve(rhs);
    std::vector<float> a(static_cast<size_t>(planes));
    for (int i = 0; i < planes; ++i)
      a[size_t(i)] = float(theta[i]);
    float be = offset ? float(theta[planes]) : 0.0f;
    for (float v : a)
      if (!std::isfinite(v))
        return curErr;
    if (!std::isfinite(be))
      return curErr;
    double e = error(a, be, b);
    if (e <= curErr) {
      alpha = std::move(a);
      beta = be;
      return e;
    }
    return curErr;
  }

  /// Re-picks every weight's signs as the nearest of the 2^planes
  /// combinations given alphas and beta. Returns the new error.
  double refitSigns(double curErr) {
    const int numCombos = 1 << planes;
    std::vector<std::pair<float, int>> values(static_cast<size_t>(numCombos));
    std::vector<int8_t> signs(static_cast<size_t>(planes));
    for (int c = 0; c < numCombos; ++c) {
      for (int i = 0; i < planes; ++i)
        signs[size_t(i)] = ((c >> i) & 1) ? 1 : -1;
      values[size_t(c)] = {
          reconstruct(alpha.data(), signs.data(), planes, beta), c};
    }
    std::sort(values.begin(), values.end());
    std::vector<int8_t> nb(b.size());
    for (size_t j = 0; j < x.size(); ++j) {
      size_t best = nearestLevel(values, double(x[j]));
      const int c = values[best].second;
      for (int i = 0; i < planes; ++i)
        nb[j * size_t(planes) + size_t(i)] = ((c >> i) & 1) ? 1 : -1;
    }
    double e = error(alpha, beta, nb);
    if (e <= curErr) {
      b = std::move(nb);
      return e;
    }
    return curErr;
  }

  /// One more plane, greedily: the signs of the residual and its mean
  /// magnitude (never increases the error).
  void extend() {
    const size_t cnt = x.size(), old = size_t(planes);
    std::vector<int8_t> nb(cnt * (old + 1));
    double sumAbs = 0.0;
    std::vector<float> r(cnt);
    for (size_t j = 0; j < cnt; ++j) {
      r[j] = x[j] - reconstruct(alpha.data(), &b[j * old], planes, beta);
      sumAbs += std::fabs(r[j]);
      std::copy(&b[j * old], &b[j * old] + old, &nb[j * (old + 1)]);
      nb[j * (old + 1) + old] = r[j] >= 0.0f ? 1 : -1;
    }
    alpha.push_back(float(sumAbs / double(cnt)));
    b = std::move(nb);
    ++planes;
  }

  /// refitSigns for planes `frozen` and up only: each weight takes the
  /// combination of those planes nearest to what the frozen planes leave.
  double refitFreeSigns(double curErr, int frozen) {
    const int free = planes - frozen, numCombos = 1 << free;
    std::vector<std::pair<double, int>> values(static_cast<size_t>(numCombos));
    for (int c = 0; c < numCombos; ++c) {
      double v = 0.0;
      for (int i = 0; i < free; ++i)
        v += double(alpha[size_t(frozen + i)]) * (((c >> i) & 1) ? 1.0 : -1.0);
      values[size_t(c)] = {v, c};
    }
    std::sort(values.begin(), values.end());
    std::vector<int8_t> nb = b;
    for (size_t j = 0; j < x.size(); ++j) {
      int8_t *bj = &nb[j * size_t(planes)];
      double t = double(x[j]) - double(reconstruct(alpha.data(), bj, frozen,
                                                   beta));
      size_t best = nearestLevel(values, t);
      for (int i = 0; i < free; ++i)
        bj[frozen + i] = ((values[best].second >> i) & 1) ? 1 : -1;
    }
    double e = error(alpha, beta, nb);
    if (e <= curErr) {
      b = std::move(nb);
      return e;
    }
    return curErr;
  }
};

/// A BCQResult of `planes` planes for K x N with groups of `g` rows, its
/// arrays sized and zeroed.
BCQResult emptyBCQ(int64_t K, int64_t N, int planes, int64_t g, bool offset) {
  BCQResult r;
  r.K = K;
  r.N = N;
  r.planes = planes;
  r.group = g;
  r.hasOffset = offset;
  const int64_t numGK = r.numGroupRows();
  r.signs.assign(size_t(planes * K * N), 1);
  r.alphas.assign(size_t(planes * numGK * N), 0.0f);
  if (offset)
    r.offsets.assign(size_t(numGK * N), 0.0f);
  return r;
}

/// The fit of one group, the `cnt` weights of column n of W from row k0,
/// with `planes` planes, before its initialization.
GroupFit groupOf(const float *W, int64_t N, int64_t k0, int64_t cnt,
                 int64_t n, int planes, bool offset) {
  GroupFit fit;
  fit.planes = planes;
  fit.offset = offset;
  fit.x.resize(static_cast<size_t>(cnt));
  for (int64_t j = 0; j < cnt; ++j)
    fit.x[size_t(j)] = W[(k0 + j) * N + n];
  return fit;
}

/// Stores the group (gk, n) of `fit` (its alphas, beta and planes) into
/// `r`.
void storeGroup(const GroupFit &fit, int64_t gk, int64_t n, int64_t k0,
                BCQResult &r) {
  const int64_t numGK = r.numGroupRows(), cnt = int64_t(fit.x.size());
  for (int i = 0; i < r.planes; ++i) {
    r.alphas[size_t((i * numGK + gk) * r.N + n)] = fit.alpha[size_t(i)];
    for (int64_t j = 0; j < cnt; ++j)
      r.signs[size_t((i * r.K + k0 + j) * r.N + n)] =
          fit.b[size_t(j * fit.planes + i)];
  }
  if (r.hasOffset)
    r.offsets[size_t(gk * r.N + n)] = fit.beta;
}

/// Every precision of one AnyBCQ group: signs shared by all ([j][maxPlanes],
/// precision p reads the first p), scales and offset per precision, and
/// the weight of each precision's squared error in the joint objective.
struct MultiFit {
  int minPlanes = 0, maxPlanes = 0;
  bool offset = false;
  std::vector<float> x;
  std::vector<int8_t> b;
  std::vector<std::vector<float>> alpha; // [p - minPlanes]
  std::vector<float> beta;               // [p - minPlanes]
  std::vector<double> weight;            // [p - minPlanes]

  int levels() const { return maxPlanes - minPlanes + 1; }

  double error(int l, const std::vector<int8_t> &signs) const {
    const int p = minPlanes + l;
    double e = 0.0;
    for (size_t j = 0; j < x.size(); ++j) {
      double d = double(x[j]) - double(reconstruct(
                                    alpha[size_t(l)].data(),
                                    &signs[j * size_t(maxPlanes)], p,
                                    beta[size_t(l)]));
      e += d * d;
    }
    return e;
  }
  double objective(const std::vector<int8_t> &signs) const {
    double o = 0.0;
    for (int l = 0; l < levels(); ++l)
      o += weight[size_t(l)] * error(l, signs);
    return o;
  }

  /// Weights 2^l / (error of precision l now): every precision counts
  /// relative to where it starts, the higher ones more (each plane costs
  /// storage that only they use).
  void setWeights() {
    double energy = 1e-30;
    for (float v : x)
      energy += double(v) * double(v);
    weight.resize(size_t(levels()));
    for (int l = 0; l < levels(); ++l)
      weight[size_t(l)] =
          double(1 << l) / std::max(error(l, b), 1e-12 * energy);
  }

  /// Least-squares scales and offset of every precision for the signs
  /// (GroupFit::refitScales on its first p planes).
  void refitScales() {
    for (int l = 0; l < levels(); ++l) {
      GroupFit g;
      g.planes = minPlanes + l;
      g.offset = offset;
      g.x = x;
      g.b.resize(x.size() * size_t(g.planes));
      for (size_t j = 0; j < x.size(); ++j)
        std::copy_n(&b[j * size_t(maxPlanes)], g.planes,
                    &g.b[j * size_t(g.planes)]);
      g.alpha = alpha[size_t(l)];
      g.beta = beta[size_t(l)];
      g.refitScales(g.error());
      alpha[size_t(l)] = g.alpha;
      beta[size_t(l)] = g.beta;
    }
  }

  /// Every weight's signs: the combination of all planes with the least
  /// weighted error over the precisions; kept only if the objective does
  /// not grow.
  void refitSigns() {
    const int combos = 1 << maxPlanes;
    // value[l][c]: precision l's reconstruction for sign combination c.
    std::vector<double> value(size_t(levels() * combos));
    std::vector<int8_t> s(static_cast<size_t>(maxPlanes));
    for (int c = 0; c < combos; ++c) {
      for (int i = 0; i < maxPlanes; ++i)
        s[size_t(i)] = ((c >> i) & 1) ? 1 : -1;
      for (int l = 0; l < levels(); ++l)
        value[size_t(l * combos + c)] = reconstruct(
            alpha[size_t(l)].data(), s.data(), minPlanes + l, beta[size_t(l)]);
    }
    std::vector<int8_t> nb(b.size());
    for (size_t j = 0; j < x.size(); ++j) {
      int best = 0;
      double bestCost = std::numeric_limits<double>::infinity();
      for (int c = 0; c < combos; ++c) {
        double cost = 0.0;
        for (int l = 0; l < levels(); ++l) {
          double d = double(x[j]) - value[size_t(l * combos + c)];
          cost += weight[size_t(l)] * d * d;
        }
        if (cost < bestCost) {
          bestCost = cost;
          best = c;
        }
      }
      for (int i = 0; i < maxPlanes; ++i)
        nb[j * size_t(maxPlanes) + size_t(i)] = ((best >> i) & 1) ? 1 : -1;
    }
    if (objective(nb) <= objective(b))
      b = std::move(nb);
  }
};

} // namespace

bool qc::quant::fitBCQ(const float *W, int64_t K, int64_t N, int planes,
                       int64_t group, bool offset, int alsIters, BCQResult &out,
                       std::string &err, std::vector<double> *errorTrace) {
  const char *fn = "fitBCQ";
  if (!checkMatrix(fn, W, K, N, err) ||
      !checkRange(fn, "planes", planes, 1, 8, err) ||
      !checkRange(fn, "alsIters", alsIters, 0, 1 << 20, err))
    return false;
  int64_t g;
  if (!resolveGroup(fn, group, K, g, err))
    return false;
  if (!checkShape(fn, K, N, err, planes))
    return false;

  BCQResult r = emptyBCQ(K, N, planes, g, offset);
  const int64_t numGK = r.numGroupRows();

  // Groups are independent: a group row's columns are fitted in parallel,
  // each column's error trace kept apart and summed in column order after,
  // so the result does not depend on the threads.
  const size_t steps = size_t(alsIters) + 1;
  std::vector<double> trace(steps, 0.0), columnTrace(steps * size_t(N));
  for (int64_t gk = 0; gk < numGK; ++gk) {
    const int64_t k0 = gk * g, cnt = std::min(g, K - k0);
#pragma omp parallel for schedule(dynamic, 16) if (N * cnt >= 16384)
    for (int64_t n = 0; n < N; ++n) {
      GroupFit fit = groupOf(W, N, k0, cnt, n, planes, offset);
      fit.init();
      double *t = &columnTrace[size_t(n) * steps];
      double e = t[0] = fit.error();
      for (int it = 0; it < alsIters; ++it)
        e = t[it + 1] = fit.refitSigns(fit.refitScales(e));
      storeGroup(fit, gk, n, k0, r);
    }
    for (int64_t n = 0; n < N; ++n)
      for (size_t i = 0; i < steps; ++i)
        trace[i] += columnTrace[size_t(n) * steps + i];
  }
  if (errorTrace)
    *errorTrace = std::move(trace);
  out = std::move(r);
  return true;
}

bool qc::quant::fitAnyBCQ(const float *W, int64_t K, int64_t N,
                          int minPlanes, int maxPlanes, int64_t group,
                          bool offset, int alsIters,
                          std::vector<BCQResult> &out, std::string &err) {
  const char *fn = "fitAnyBCQ";
  if (!checkMatrix(fn, W, K, N, err) ||
      !checkRange(fn, "maxPlanes", maxPlanes, 1, 8, err) ||
      !checkRange(fn, "minPlanes", minPlanes, 1, maxPlanes, err) ||
      !checkRange(fn, "alsIters", alsIters, 0, 1 << 20, err))
    return false;
  int64_t g;
  if (!resolveGroup(fn, group, K, g, err) ||
      !checkShape(fn, K, N, err, maxPlanes))
    return false;
  std::vector<BCQResult> rs;
  for (int p = minPlanes; p <= maxPlanes; ++p)
    rs.push_back(emptyBCQ(K, N, p, g, offset));
  const int64_t numGK = rs.front().numGroupRows();
  for (int64_t gk = 0; gk < numGK; ++gk) {
    const int64_t k0 = gk * g, cnt = std::min(g, K - k0);
#pragma omp parallel for schedule(dynamic, 16) if (N * cnt >= 16384)
    for (int64_t n = 0; n < N; ++n) {
      GroupFit fit = groupOf(W, N, k0, cnt, n, minPlanes, offset);
      MultiFit mf;
      mf.minPlanes = minPlanes;
      mf.maxPlanes = maxPlanes;
      mf.offset = offset;
      mf.x = fit.x;
      // The start: a BCQ fit of the base precision, then each further
      // plane added greedily and refined by alternating least squares over
      // every scale and the new plane's signs only.
      fit.init();
      double e = fit.error();
      for (int it = 0; it < alsIters; ++it)
        e = fit.refitSigns(fit.refitScales(e));
      mf.alpha.push_back(fit.alpha);
      mf.beta.push_back(fit.beta);
      for (int p = minPlanes + 1; p <= maxPlanes; ++p) {
        fit.extend();
        e = fit.error();
        for (int it = 0; it < alsIters; ++it)
          e = fit.refitFreeSigns(fit.refitScales(e), p - 1);
        mf.alpha.push_back(fit.alpha);
        mf.beta.push_back(fit.beta);
      }
      // Then all precisions together: scales per precision, and every
      // weight's signs for the weighted sum of the precisions' errors.
      mf.b = fit.b;
      mf.setWeights();
      for (int it = 0; it < alsIters; ++it) {
        mf.refitScales();
        mf.refitSigns();
      }
      mf.refitScales();
      for (int l = 0; l < mf.levels(); ++l) {
        BCQResult &r = rs[size_t(l)];
        const int64_t numGK = r.numGroupRows();
        for (int i = 0; i < r.planes; ++i) {
          r.alphas[size_t((i * numGK + gk) * N + n)] =
              mf.alpha[size_t(l)][size_t(i)];
          for (int64_t j = 0; j < cnt; ++j)
            r.signs[size_t((i * K + k0 + j) * N + n)] =
                mf.b[size_t(j * maxPlanes + i)];
        }
        if (offset)
          r.offsets[size_t(gk * N + n)] = mf.beta[size_t(l)];
      }
    }
  }
  out = std::move(rs);
  return true;
}

bool qc::quant::verifyBCQ(const BCQResult &q, std::string &err) {
  const char *fn = "verifyBCQ";
  if (!checkShape(fn, q.K, q.N, err) ||
      !checkRange(fn, "planes", q.planes, 1, 8, err) ||
      !checkRange(fn, "group", q.group, 1, q.K, err))
    return false;
  const int64_t numGK = q.numGroupRows();
  if (q.signs.size() != size_t(q.planes * q.K * q.N) ||
      q.alphas.size() != size_t(q.planes * numGK * q.N) ||
      q.offsets.size() != (q.hasOffset ? size_t(numGK * q.N) : size_t(0))) {
    err = std::string(fn) + ": array sizes do not match the shape";
    return false;
  }
  for (int8_t s : q.signs)
    if (s != 1 && s != -1) {
      err = std::string(fn) + ": bit-plane entries must be -1 or +1";
      return false;
    }
  return true;
}

bool qc::quant::dequantizeBCQ(const BCQResult &q, std::vector<float> &W,
                              std::string &err) {
  if (!verifyBCQ(q, err))
    return false;
  const int64_t numGK = q.numGroupRows();
  W.resize(size_t(q.K * q.N));
  std::vector<float> alpha(size_t(q.planes));
  std::vector<int8_t> b(size_t(q.planes));
  for (int64_t k = 0; k < q.K; ++k) {
    const int64_t gk = k / q.group;
    for (int64_t n = 0; n < q.N; ++n) {
      for (int i = 0; i < q.planes; ++i) {
        alpha[size_t(i)] = q.alphas[size_t((i * numGK + gk) * q.N + n)];
        b[size_t(i)] = q.signs[size_t((i * q.K + k) * q.N + n)];
      }
      float beta = q.hasOffset ? q.offsets[size_t(gk * q.N + n)] : 0.0f;
      W[size_t(k * q.N + n)] =
          reconstruct(alpha.data(), b.data(), q.planes, beta);
    }
  }
  return true;
}

bool qc::quant::uniformToBCQ(const UniformResult &u, BCQResult &out,
                             std::string &err) {
  const char *fn = "uniformToBCQ";
  if (!verifyUniform(u, err))
    return false;
  if (u.perIC) {
    err = std::string(fn) + ": per-IC groups cannot be expressed as BCQ "
                            "groups along K";
    return false;
  }
  const int bits = u.bits;
  BCQResult r;
  r.K = u.K;
  r.N = u.N;
  r.planes = bits;
  r.group = u.group;
  r.hasOffset = true;
  const int64_t numGK = r.numGroupRows();
  r.signs.resize(size_t(bits * u.K * u.N));
  r.alphas.resize(size_t(bits * numGK * u.N));
  r.offsets.resize(size_t(numGK * u.N));
  const float center = float((1 << bits) - 1) * 0.5f;
  for (int64_t gk = 0; gk < numGK; ++gk)
    for (int64_t n = 0; n < u.N; ++n) {
      const float scale = u.scales[size_t(gk * u.N + n)];
      const float zero = u.zeros[size_t(gk * u.N + n)];
      for (int i = 0; i < bits; ++i)
        r.alphas[size_t((i * numGK + gk) * u.N + n)] = std::ldexp(scale, i - 1);
      r.offsets[size_t(gk * u.N + n)] = scale * (center - zero);
    }
  for (int i = 0; i < bits; ++i)
    for (int64_t e = 0; e < u.K * u.N; ++e)
      r.signs[size_t(i * u.K * u.N + e)] =
          ((u.codes[size_t(e)] >> i) & 1) ? 1 : -1;
  out = std::move(r);
  return true;
}
