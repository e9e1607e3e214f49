//===- Uniform.cpp - Uniform integer weight quantization ------------------===//

#include "qc/Quant/Uniform.h"

#include "QuantUtils.h"

#include <algorithm>
#include <cmath>

using namespace qc::quant;
using namespace qc::quant::detail;

int64_t UniformResult::numGroupRows() const {
  if (group <= 0)
    return 0;
  return perIC ? K : ceilDiv(K, group);
}

int64_t UniformResult::numGroupCols() const {
  if (group <= 0)
    return 0;
  return perIC ? ceilDiv(N, group) : N;
}

int64_t UniformResult::paramIndex(int64_t k, int64_t n) const {
  if (perIC)
    return k * numGroupCols() + n / group;
  return (k / group) * N + n;
}


bool qc::quant::quantizeUniformRTN(const float *W, int64_t K, int64_t N,
                                   const UniformParams &params, ClipSearch clip,
                                   UniformResult &out, std::string &err) {
  const char *fn = "quantizeUniformRTN";
  if (!checkMatrix(fn, W, K, N, err) ||
      !checkRange(fn, "bits", params.bits, 2, 8, err))
    return false;
  if (clip != ClipSearch::MinMax && clip != ClipSearch::MSE) {
    err = std::string(fn) + ": unknown clip search";
    return false;
  }
  int64_t group;
  if (!resolveGroup(fn, params.group, params.perIC ? N : K, group, err))
    return false;

  UniformResult r;
  r.K = K;
  r.N = N;
  r.bits = params.bits;
  r.group = group;
  r.perIC = params.perIC;
  r.symmetric = params.symmetric;
  r.codes.assign(size_t(K * N), 0);
  const int64_t numParams = r.numGroupRows() * r.numGroupCols();
  r.scales.assign(size_t(numParams), 1.0f);
  r.zeros.assign(size_t(numParams), 0.0f);

  const float maxq = float((1 << params.bits) - 1);
  const int numShrinks = clip == ClipSearch::MSE ? 100 : 1;
  std::vector<float> buf;
  buf.reserve(size_t(group));

  auto processGroup = [&](int64_t paramIdx, int64_t start, int64_t count,
                          int64_t stride) {
    buf.resize(size_t(count));
    float xmin = W[start], xmax = W[start];
    for (int64_t j = 0; j < count; ++j) {
      float x = W[start + j * stride];
      buf[size_t(j)] = x;
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
    }
    GroupParams best =
        computeParams(xmin, xmax, 1.0, params.bits, params.symmetric);
    if (numShrinks > 1) {
      auto groupError = [&](const GroupParams &gp) {
        double e = 0.0;
        for (float x : buf) {
          double d = double(x) - double(dequantizeOne(quantizeOne(x, gp, maxq),
                                                      gp.scale, gp.zero));
          e += d * d;
        }
        return e;
      };
      double bestErr = groupError(best);
      for (int i = 1; i < numShrinks && bestErr > 0.0; ++i) {
        double p = 1.0 - 0.8 * double(i) / double(numShrinks - 1);
        GroupParams gp =
            computeParams(xmin, xmax, p, params.bits, params.symmetric);
        double e = groupError(gp);
        if (e < bestErr) {
          bestErr = e;
          best = gp;
        }
      }
    }
    r.scales[size_t(paramIdx)] = best.scale;
    r.zeros[size_t(paramIdx)] = best.zero;
    for (int64_t j = 0; j < count; ++j)
      r.codes[size_t(start + j * stride)] =
          uint8_t(quantizeOne(buf[size_t(j)], best, maxq));
  };

  if (params.perIC) {
    const int64_t numGN = r.numGroupCols();
    for (int64_t k = 0; k < K; ++k)
      for (int64_t gn = 0; gn < numGN; ++gn) {
        int64_t n0 = gn * group;
        processGroup(k * numGN + gn, k * N + n0, std::min(group, N - n0), 1);
      }
  } else {
    const int64_t numGK = r.numGroupRows();
    for (int64_t gk = 0; gk < numGK; ++gk) {
      int64_t k0 = gk * group;
      for (int64_t n = 0; n < N; ++n)
        processGroup(gk * N + n, k0 * N + n, std::min(group, K - k0), N);
    }
  }
  out = std::move(r);
  return true;
}

bool qc::quant::verifyUniform(const UniformResult &q, std::string &err) {
  const char *fn = "verifyUniform";
  if (!checkShape(fn, q.K, q.N, err) ||
      !checkRange(fn, "bits", q.bits, 2, 8, err) ||
      !checkRange(fn, "group", q.group, 1, q.perIC ? q.N : q.K, err))
    return false;
  const size_t numParams = size_t(q.numGroupRows() * q.numGroupCols());
  if (q.codes.size() != size_t(q.K * q.N) || q.scales.size() != numParams ||
      q.zeros.size() != numParams) {
    err = std::string(fn) + ": array sizes do not match the shape";
    return false;
  }
  const int maxq = (1 << q.bits) - 1;
  for (uint8_t c : q.codes)
    if (c > maxq) {
      err = std::string(fn) + ": code out of range";
      return false;
    }
  return true;
}

bool qc::quant::dequantizeUniform(const UniformResult &q, std::vector<float> &W,
                                  std::string &err) {
  if (!verifyUniform(q, err))
    return false;
  W.resize(size_t(q.K * q.N));
  for (int64_t k = 0; k < q.K; ++k)
    for (int64_t n = 0; n < q.N; ++n) {
      int64_t p = q.paramIndex(k, n);
      W[size_t(k * q.N + n)] =
          dequantizeOne(float(q.codes[size_t(k * q.N + n)]),
                        q.scales[size_t(p)], q.zeros[size_t(p)]);
    }
  return true;
}
