//===- Uniform.cpp - Uniform integer weight quantization ------------------===//

#include "qc/Quant/Uniform.h"

#include "QuantUtils.h"

#include <algorithm>
#include <cmath>

using namespace qc::quant;
using namespace qc::quant::detail;

namespace {

/// err[n] = sum_j (x_jn - dequant(quant(x_jn)))^2 for the parameters of
/// each column n of the G x C block X (row stride ld); in double from the
/// exact float differences, vectorized across columns.
void columnErrors(const float *X, int64_t G, int64_t C, int64_t ld,
                  const float *scale, const float *zero, float maxq,
                  double *err) {
  std::fill(err, err + C, 0.0);
  for (int64_t j = 0; j < G; ++j) {
    const float *x = X + j * ld;
    for (int64_t n = 0; n < C; ++n) {
      float q = std::min(std::max(std::nearbyint(x[n] / scale[n]) + zero[n],
                                  0.0f),
                         maxq);
      double d = double(x[n]) - double(scale[n] * (q - zero[n]));
      err[n] += d * d;
    }
  }
}

/// Per column of the G x C block X (row stride ld), the group parameters
/// with the least squared error among the min-max range shrunk by
/// 1 - 0.8 i / (numShrinks - 1), i < numShrinks (the first wins ties).
void chooseColumnParams(const float *X, int64_t G, int64_t C, int64_t ld,
                        int bits, bool symmetric, int numShrinks,
                        GroupParams *best) {
  std::vector<float> xmin(X, X + C), xmax(X, X + C);
  for (int64_t j = 1; j < G; ++j)
    for (int64_t n = 0; n < C; ++n) {
      xmin[size_t(n)] = std::min(xmin[size_t(n)], X[j * ld + n]);
      xmax[size_t(n)] = std::max(xmax[size_t(n)], X[j * ld + n]);
    }
  for (int64_t n = 0; n < C; ++n)
    best[n] = computeParams(xmin[size_t(n)], xmax[size_t(n)], 1.0, bits,
                            symmetric);
  if (numShrinks <= 1)
    return;
  const float maxq = float((1 << bits) - 1);
  std::vector<float> scale(static_cast<size_t>(C)),
      zero(static_cast<size_t>(C));
  std::vector<double> bestErr(static_cast<size_t>(C)),
      e(static_cast<size_t>(C));
  for (int i = 0; i < numShrinks; ++i) {
    double p = 1.0 - 0.8 * double(i) / double(numShrinks - 1);
    for (int64_t n = 0; n < C; ++n) {
      GroupParams gp = i == 0 ? best[n]
                              : computeParams(xmin[size_t(n)],
                                              xmax[size_t(n)], p, bits,
                                              symmetric);
      scale[size_t(n)] = gp.scale;
      zero[size_t(n)] = gp.zero;
    }
    columnErrors(X, G, C, ld, scale.data(), zero.data(), maxq,
                 i == 0 ? bestErr.data() : e.data());
    for (int64_t n = 0; i > 0 && n < C; ++n)
      if (e[size_t(n)] < bestErr[size_t(n)]) {
        bestErr[size_t(n)] = e[size_t(n)];
        best[n] = {scale[size_t(n)], zero[size_t(n)]};
      }
  }
}

} // namespace

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
  // Groups are chosen a block at a time, one group per column of the block:
  // per-OC a group row of W as it is, per-IC a row's groups transposed.
  // Blocks are independent and run in parallel (serially when this is called
  // from a parallel region, as GPTQ's sweep does).
  auto quantizeBlock = [&](const float *X, int64_t G, int64_t C, int64_t ld,
                           auto &&paramIdx, auto &&codeIdx) {
    std::vector<GroupParams> best(static_cast<size_t>(C));
    chooseColumnParams(X, G, C, ld, params.bits, params.symmetric,
                       numShrinks, best.data());
    for (int64_t n = 0; n < C; ++n) {
      r.scales[size_t(paramIdx(n))] = best[size_t(n)].scale;
      r.zeros[size_t(paramIdx(n))] = best[size_t(n)].zero;
    }
    for (int64_t j = 0; j < G; ++j)
      for (int64_t n = 0; n < C; ++n)
        if (int64_t c = codeIdx(j, n); c >= 0)
          r.codes[size_t(c)] =
              uint8_t(quantizeOne(X[j * ld + n], best[size_t(n)], maxq));
  };
  const bool parallel = numShrinks > 1 && K * N >= (int64_t(1) << 16);

  if (params.perIC) {
    const int64_t numGN = r.numGroupCols();
    // A row's groups as the columns of a group x numGN block. The short last
    // group is padded with zeros, which change no choice: 0 is inside every
    // clipping range and quantizes exactly.
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t k = 0; k < K; ++k) {
      std::vector<float> block(static_cast<size_t>(group * numGN));
      for (int64_t gn = 0; gn < numGN; ++gn) {
        const int64_t n0 = gn * group, cols = std::min(group, N - n0);
        for (int64_t j = 0; j < group; ++j)
          block[size_t(j * numGN + gn)] = j < cols ? W[k * N + n0 + j] : 0.0f;
      }
      quantizeBlock(
          block.data(), group, numGN, numGN,
          [&](int64_t gn) { return k * numGN + gn; },
          [&](int64_t j, int64_t gn) {
            int64_t n = gn * group + j;
            return n < N ? k * N + n : int64_t(-1);
          });
    }
  } else {
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t gk = 0; gk < r.numGroupRows(); ++gk) {
      const int64_t k0 = gk * group;
      quantizeBlock(
          W + k0 * N, std::min(group, K - k0), N, N,
          [&](int64_t n) { return gk * N + n; },
          [&](int64_t j, int64_t n) { return (k0 + j) * N + n; });
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
