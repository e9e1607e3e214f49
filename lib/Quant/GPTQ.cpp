//===- GPTQ.cpp - Hessian-aware weight quantization -----------------------===//

#include "qc/Quant/GPTQ.h"

#include "QuantUtils.h"
#include "SweepFactor.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

using namespace qc::quant;
using namespace qc::quant::detail;

namespace {

using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic,
                           Eigen::RowMajor>;
using ConstMapD = Eigen::Map<const MatD>;
using ConstMapF = Eigen::Map<const MatF>;

std::vector<int64_t> channelOrder(const double *H, int64_t K, bool actOrder) {
  std::vector<int64_t> perm(static_cast<size_t>(K));
  std::iota(perm.begin(), perm.end(), 0);
  if (actOrder)
    std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) {
      return H[a * K + a] > H[b * K + b];
    });
  return perm;
}

/// Callbacks of the GPTQ sweep over one chunk of columns [n0, n0 + nc):
/// `quantizeRow(i, n0, nc, w, q)` quantizes row i (position in processing
/// order) of the chunk, writing the dequantized values to q;
/// `beforeRow(i, n0, Wc)` runs first (to choose group parameters from the
/// error-updated chunk Wc, whose rows from i to the end of i's block hold the
/// reference's values).
using QuantizeRowFn =
    std::function<void(int64_t, int64_t, int64_t, const float *, float *)>;
using BeforeRowFn = std::function<void(int64_t, int64_t, const MatF &)>;

/// The GPTQ sweep (see SweepFactor). Rows of `Wp` (K x N, already in
/// processing order) are quantized one by one; a block's rows feed their
/// scaled errors forward inside the block through U_BB, and their
/// differences from their original values to the later rows through R when
/// the block ends. Output columns are independent, so the sweep runs on
/// chunks of `chunk` columns (multiples of a per-IC group), in parallel, each
/// small enough to stay in cache.
void gptqSweep(const MatF &Wp, const SweepFactor &f, int64_t chunk,
               const BeforeRowFn &beforeRow,
               const QuantizeRowFn &quantizeRow) {
  const int64_t K = Wp.rows(), N = Wp.cols(), bs = f.blockSize;
  const int64_t numChunks = (N + chunk - 1) / chunk;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t c = 0; c < numChunks; ++c) {
    const int64_t n0 = c * chunk, nc = std::min(chunk, N - n0);
    // Rows past the current block hold W + G.
    MatF Wc = Wp.middleCols(n0, nc);
    std::vector<float> q(static_cast<size_t>(nc));
    // The block's original rows minus their quantized values, and its
    // scaled errors.
    MatF Diff(bs, nc), Err(bs, nc);
    for (int64_t i1 = 0, blk = 0; i1 < K; i1 += bs, ++blk) {
      const int64_t i2 = std::min(i1 + bs, K), B = i2 - i1;
      const MatF &Ub = f.blockInverse[size_t(blk)];
      if (i1 > 0) {
        // W'_B = W_B + R_BB^-T G_B.
        MatF G = Wc.middleRows(i1, B) - Wp.block(i1, n0, B, nc);
        f.R.block(i1, i1, B, B)
            .transpose()
            .triangularView<Eigen::Lower>()
            .solveInPlace(G);
        Wc.middleRows(i1, B) = Wp.block(i1, n0, B, nc) + G;
      }
      for (int64_t i = i1; i < i2; ++i) {
        const int64_t r = i - i1;
        if (beforeRow)
          beforeRow(i, n0, Wc);
        quantizeRow(i, n0, nc, Wc.row(i).data(), q.data());
        Eigen::Map<const Eigen::RowVectorXf> qRow(q.data(), nc);
        Err.row(r) = (Wc.row(i) - qRow) / Ub(r, r);
        Diff.row(r) = Wp.row(i).segment(n0, nc) - qRow;
        Wc.row(i) = qRow;
        if (i + 1 < i2)
          Wc.middleRows(i + 1, i2 - i - 1).noalias() -=
              Ub.row(r).segment(r + 1, B - r - 1).transpose() * Err.row(r);
      }
      if (i2 < K)
        Wc.bottomRows(K - i2).noalias() +=
            f.R.block(i1, i2, B, K - i2).transpose() * Diff.topRows(B);
    }
  }
}

/// Column chunk width of the sweep: about 256 columns, whole per-IC groups.
int64_t sweepChunk(int64_t N, int64_t icGroup) {
  if (icGroup <= 0)
    return std::min<int64_t>(N, 256);
  return std::min(N, icGroup * std::max<int64_t>(1, 256 / icGroup));
}

/// The processing order, the sweep's factor in that order and W's rows in
/// that order: what every GPTQ sweep starts from. `blockSize` rows per lazy
/// block.
bool prepareSweep(const float *W, int64_t K, int64_t N, const double *H,
                  const GPTQOptions &options, int64_t blockSize,
                  std::vector<int64_t> &perm, SweepFactor &f, MatF &Wp,
                  const char *fn, std::string &err) {
  perm = channelOrder(H, K, options.actOrder);
  if (!sweepFactor(H, K, perm, options.damp, blockSize, f, fn, err))
    return false;
  Wp.resize(K, N);
  for (int64_t i = 0; i < K; ++i)
    Wp.row(i) = ConstMapF(W, K, N).row(perm[size_t(i)]);
  return true;
}

bool sameSettings(const UniformResult &p, int64_t K, int64_t N,
                  const UniformParams &params, int64_t group) {
  return p.K == K && p.N == N && p.bits == params.bits && p.group == group &&
         p.perIC == params.perIC && p.symmetric == params.symmetric &&
         p.scales.size() == size_t(p.numGroupRows() * p.numGroupCols()) &&
         p.zeros.size() == p.scales.size();
}

} // namespace

double qc::quant::hessianError(const float *W, const float *What, int64_t K,
                               int64_t N, const double *H) {
  MatD D = (ConstMapF(W, K, N) - ConstMapF(What, K, N)).cast<double>();
  MatD HD = ConstMapD(H, K, K) * D;
  return (D.array() * HD.array()).sum();
}

bool qc::quant::quantizeUniformHessianInit(const float *W, int64_t K,
                                           int64_t N,
                                           const UniformParams &params,
                                           const double *H,
                                           UniformResult &out,
                                           std::string &err) {
  const char *fn = "quantizeUniformHessianInit";
  if (!checkMatrix(fn, W, K, N, err) || !checkHessian(fn, H, K, err))
    return false;
  // Start from MSE-clipped RTN: it validates the parameters and solves the
  // per-IC case (scalar H_kk weighting = plain MSE) outright.
  UniformResult r;
  if (!quantizeUniformRTN(W, K, N, params, ClipSearch::MSE, r, err))
    return false;
  if (params.perIC) {
    out = std::move(r);
    return true;
  }
  const float maxq = float((1 << r.bits) - 1);
  // Candidate shrink factors 1.0, 0.975, ..., 0.425 of the min-max range
  // (plus RTN's own choice); each is scored for all columns of a group row
  // at once: err_n = d_n^T H_gg d_n, one matrix product per candidate.
  const int numShrinks = 24;
  for (int64_t gk = 0; gk < r.numGroupRows(); ++gk) {
    const int64_t k0 = gk * r.group, G = std::min(r.group, K - k0);
    MatD Hg = ConstMapD(H, K, K).block(k0, k0, G, G);
    ConstMapF Wg(W + k0 * N, G, N);
    Eigen::RowVectorXf xmin = Wg.colwise().minCoeff();
    Eigen::RowVectorXf xmax = Wg.colwise().maxCoeff();
    std::vector<GroupParams> best(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n)
      best[size_t(n)] = {r.scales[size_t(gk * N + n)],
                         r.zeros[size_t(gk * N + n)]};
    Eigen::RowVectorXd bestErr(N);
    MatD D(G, N);
    std::vector<GroupParams> cand(static_cast<size_t>(N));
    for (int i = -1; i < numShrinks; ++i) {
      for (int64_t n = 0; n < N; ++n)
        cand[size_t(n)] = i < 0 ? best[size_t(n)]
                                : computeParams(xmin(n), xmax(n),
                                                1.0 - 0.025 * i, r.bits,
                                                r.symmetric);
      for (int64_t j = 0; j < G; ++j)
        for (int64_t n = 0; n < N; ++n) {
          float x = Wg(j, n);
          const GroupParams &gp = cand[size_t(n)];
          D(j, n) = double(x) - double(dequantizeOne(quantizeOne(x, gp, maxq),
                                                     gp.scale, gp.zero));
        }
      Eigen::RowVectorXd e =
          (D.array() * (Hg * D).array()).colwise().sum();
      for (int64_t n = 0; n < N; ++n)
        if (i < 0 || e(n) < bestErr(n)) {
          bestErr(n) = e(n);
          best[size_t(n)] = cand[size_t(n)];
        }
    }
    for (int64_t n = 0; n < N; ++n) {
      const GroupParams &gp = best[size_t(n)];
      r.scales[size_t(gk * N + n)] = gp.scale;
      r.zeros[size_t(gk * N + n)] = gp.zero;
      for (int64_t j = 0; j < G; ++j)
        r.codes[size_t((k0 + j) * N + n)] =
            uint8_t(quantizeOne(Wg(j, n), gp, maxq));
    }
  }
  out = std::move(r);
  return true;
}

bool qc::quant::gptqUniform(const float *W, int64_t K, int64_t N,
                            const double *H, const UniformParams &params,
                            ClipSearch clip, const GPTQOptions &options,
                            const UniformResult *staticParams,
                            UniformResult &out, std::string &err) {
  const char *fn = "gptqUniform";
  if (!checkMatrix(fn, W, K, N, err) || !checkHessian(fn, H, K, err) ||
      !checkRange(fn, "bits", params.bits, 2, 8, err))
    return false;
  if (!(options.damp >= 0) || options.blockSize <= 0) {
    err = std::string(fn) + ": damp must be >= 0 and blockSize > 0";
    return false;
  }
  int64_t group;
  if (!resolveGroup(fn, params.group, params.perIC ? N : K, group, err))
    return false;

  // The parameters to start from (kept when static).
  UniformResult r;
  UniformResult rtn;
  bool isStatic = staticParams != nullptr;
  if (staticParams) {
    if (!sameSettings(*staticParams, K, N, params, group)) {
      err = std::string(fn) +
            ": the static parameters do not match the shape or scheme";
      return false;
    }
    r = *staticParams;
  } else {
    // act-order with per-OC groups needs the parameters of a group before
    // its first row in processing order comes up; otherwise the sweep
    // chooses every group's parameters and these only size `r`.
    isStatic = options.actOrder && !params.perIC;
    if (!quantizeUniformRTN(W, K, N, params,
                            isStatic ? clip : ClipSearch::MinMax, r, err))
      return false;
  }
  r.codes.assign(size_t(K * N), 0);

  // Parameters chosen in the sweep read a whole group's rows: the group must
  // lie inside one lazy block (or start at row 0, where nothing is updated).
  int64_t blockSize = options.blockSize;
  if (!isStatic && !params.perIC && group < K)
    blockSize = group <= blockSize ? blockSize - blockSize % group : group;
  std::vector<int64_t> perm;
  SweepFactor factor;
  MatF Wp;
  if (!prepareSweep(W, K, N, H, options, blockSize, perm, factor, Wp, fn,
                    err))
    return false;

  const float maxq = float((1 << r.bits) - 1);
  const int64_t numGN = r.numGroupCols();
  BeforeRowFn beforeRow;
  if (!isStatic) {
    // Dynamic parameters: chosen from the updated weights, by the same RTN
    // rule, on the group's rows (per-OC: from its first row on) or on the
    // row (per-IC) of the chunk.
    beforeRow = [&](int64_t i, int64_t n0, const MatF &Wc) {
      if (!params.perIC && i % group != 0)
        return;
      int64_t rows = params.perIC ? 1 : std::min(group, K - i);
      MatF slice = Wc.middleRows(i, rows);
      UniformResult g;
      std::string ignored;
      if (!quantizeUniformRTN(slice.data(), rows, slice.cols(), params, clip,
                              g, ignored))
        return; // unreachable: the arguments were checked above
      // Per-IC rows may come in act-order; per-OC is dynamic only in order.
      int64_t base = params.perIC ? perm[size_t(i)] * numGN + n0 / group
                                  : (i / group) * N + n0;
      std::copy(g.scales.begin(), g.scales.end(), r.scales.begin() + base);
      std::copy(g.zeros.begin(), g.zeros.end(), r.zeros.begin() + base);
    };
  }
  auto quantizeRow = [&](int64_t i, int64_t n0, int64_t nc, const float *w,
                         float *q) {
    int64_t k = perm[size_t(i)];
    for (int64_t j = 0; j < nc; ++j) {
      int64_t n = n0 + j;
      int64_t p = r.paramIndex(k, n);
      GroupParams gp{r.scales[size_t(p)], r.zeros[size_t(p)]};
      float c = quantizeOne(w[j], gp, maxq);
      r.codes[size_t(k * N + n)] = uint8_t(c);
      q[j] = dequantizeOne(c, gp.scale, gp.zero);
    }
  };
  gptqSweep(Wp, factor, sweepChunk(N, params.perIC ? group : 0), beforeRow,
            quantizeRow);
  out = std::move(r);
  return true;
}

bool qc::quant::refineUniformScales(const float *W, int64_t K, int64_t N,
                                    const double *Ht, const double *C,
                                    int sweeps, UniformResult &q,
                                    std::string &err,
                                    std::vector<double> *trace) {
  const char *fn = "refineUniformScales";
  if (!checkMatrix(fn, W, K, N, err) || !checkHessian(fn, Ht, K, err) ||
      !verifyUniform(q, err))
    return false;
  if (q.K != K || q.N != N) {
    err = std::string(fn) + ": the quantized layer has another shape";
    return false;
  }
  if (C)
    for (int64_t i = 0; i < K * K; ++i)
      if (!std::isfinite(C[i])) {
        err = std::string(fn) + ": the cross statistics have a non-finite "
                                "entry";
        return false;
      }
  const MatD H = ConstMapD(Ht, K, K);
  const MatD Wd = ConstMapF(W, K, N).cast<double>();
  // A = code - zero (frozen), What = A .* scale.
  MatD A(K, N), S(K, N);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      int64_t p = q.paramIndex(k, n);
      A(k, n) = double(q.codes[size_t(k * N + n)]) - double(q.zeros[size_t(p)]);
      S(k, n) = q.scales[size_t(p)];
    }
  MatD What = A.cwiseProduct(S);
  // CW = C W; R = H What - C W is half the gradient of F w.r.t. What.
  MatD CW = C ? MatD(ConstMapD(C, K, K) * Wd) : MatD(H * Wd);
  MatD R = H * What - CW;
  auto objective = [&]() {
    // F = sum What .* (H What - 2 C W) = sum What .* (R - CW).
    return (What.array() * (R - CW).array()).sum();
  };
  double f = objective();
  if (trace) {
    trace->clear();
    trace->push_back(f);
  }
  const int64_t G = q.group;
  for (int sweep = 0; sweep < sweeps; ++sweep) {
    if (!q.perIC) {
      for (int64_t gk = 0; gk < q.numGroupRows(); ++gk) {
        const int64_t k0 = gk * G, rows = std::min(G, K - k0);
        auto Ag = A.middleRows(k0, rows);
        // Per column n: num = -a^T r, den = a^T H_gg a.
        MatD HA = H.block(k0, k0, rows, rows) * Ag;
        Eigen::RowVectorXd den = (Ag.array() * HA.array()).colwise().sum();
        Eigen::RowVectorXd num =
            -(Ag.array() * R.middleRows(k0, rows).array()).colwise().sum();
        Eigen::RowVectorXd delta(N);
        for (int64_t n = 0; n < N; ++n)
          delta(n) = den(n) > 0 ? num(n) / den(n) : 0.0;
        MatD D = Ag * delta.asDiagonal();
        R.noalias() += H.middleCols(k0, rows) * D;
        What.middleRows(k0, rows) += D;
        for (int64_t n = 0; n < N; ++n)
          q.scales[size_t(gk * N + n)] += float(delta(n));
      }
    } else {
      const int64_t numGN = q.numGroupCols();
      for (int64_t k = 0; k < K; ++k) {
        if (!(H(k, k) > 0))
          continue;
        Eigen::RowVectorXd step(N);
        for (int64_t gn = 0; gn < numGN; ++gn) {
          const int64_t n0 = gn * G, cols = std::min(G, N - n0);
          double num = 0, a2 = 0;
          for (int64_t n = n0; n < n0 + cols; ++n) {
            num -= A(k, n) * R(k, n);
            a2 += A(k, n) * A(k, n);
          }
          double delta = a2 > 0 ? num / (H(k, k) * a2) : 0.0;
          q.scales[size_t(k * numGN + gn)] += float(delta);
          for (int64_t n = n0; n < n0 + cols; ++n)
            step(n) = delta * A(k, n);
        }
        R.noalias() += H.col(k) * step;
        What.row(k) += step;
      }
    }
    double next = objective();
    if (trace)
      trace->push_back(next);
    bool converged = f - next <= 1e-9 * std::max(1.0, std::fabs(f));
    f = next;
    if (converged)
      break;
  }
  for (float s : q.scales)
    if (!std::isfinite(s)) {
      err = std::string(fn) + ": a refined scale is not finite";
      return false;
    }
  return true;
}

bool qc::quant::inputErrorTarget(const float *W, int64_t K, int64_t N,
                                 const double *Ht, const double *C,
                                 double damp, std::vector<float> &out,
                                 std::string &err) {
  const char *fn = "inputErrorTarget";
  if (!checkMatrix(fn, W, K, N, err) || !checkHessian(fn, Ht, K, err))
    return false;
  for (int64_t i = 0; C && i < K * K; ++i)
    if (!std::isfinite(C[i])) {
      err = std::string(fn) + ": the cross statistics have a non-finite entry";
      return false;
    }
  if (!C) {
    err = std::string(fn) + ": null cross statistics";
    return false;
  }
  ConstMapD H(Ht, K, K);
  MatD A = H;
  const double lambda = std::max(damp, 1e-6) * H.diagonal().mean();
  A.diagonal().array() += lambda > 0 ? lambda : 1.0;
  Eigen::LDLT<MatD> ldlt(A);
  if (ldlt.info() != Eigen::Success) {
    err = std::string(fn) + ": the damped Hessian is not positive definite";
    return false;
  }
  MatD Wd = ConstMapF(W, K, N).cast<double>();
  MatD target = Wd + ldlt.solve((ConstMapD(C, K, K) - H) * Wd);
  if (!target.allFinite()) {
    err = std::string(fn) + ": the corrected weights are not finite";
    return false;
  }
  out.resize(size_t(K * N));
  Eigen::Map<MatF>(out.data(), K, N) = target.cast<float>();
  return true;
}

bool qc::quant::gptqBCQ(const float *W, int64_t K, int64_t N, const double *H,
                        const GPTQOptions &options, BCQResult &q,
                        std::string &err) {
  const char *fn = "gptqBCQ";
  if (!checkMatrix(fn, W, K, N, err) || !checkHessian(fn, H, K, err) ||
      !verifyBCQ(q, err))
    return false;
  if (q.K != K || q.N != N) {
    err = std::string(fn) + ": the BCQ parameters have another shape";
    return false;
  }
  const int P = q.planes;
  const int64_t numGK = q.numGroupRows();
  const int levels = 1 << P;
  // Every group's levels, sorted, with the sign pattern of each.
  std::vector<float> value(size_t(numGK * N * levels));
  std::vector<uint16_t> pattern(value.size());
  std::vector<std::pair<float, int>> tmp(static_cast<size_t>(levels));
  for (int64_t gk = 0; gk < numGK; ++gk)
    for (int64_t n = 0; n < N; ++n) {
      float offset = q.hasOffset ? q.offsets[size_t(gk * N + n)] : 0.0f;
      for (int bitsSet = 0; bitsSet < levels; ++bitsSet) {
        float v = offset;
        for (int p = 0; p < P; ++p)
          v += q.alphas[size_t((p * numGK + gk) * N + n)] *
               ((bitsSet >> p) & 1 ? 1.0f : -1.0f);
        tmp[size_t(bitsSet)] = {v, bitsSet};
      }
      std::sort(tmp.begin(), tmp.end());
      size_t base = size_t((gk * N + n) * levels);
      for (int l = 0; l < levels; ++l) {
        value[base + size_t(l)] = tmp[size_t(l)].first;
        pattern[base + size_t(l)] = uint16_t(tmp[size_t(l)].second);
      }
    }

  std::vector<int64_t> perm;
  SweepFactor factor;
  MatF Wp;
  if (!prepareSweep(W, K, N, H, options, options.blockSize, perm, factor, Wp,
                    fn, err))
    return false;
  auto quantizeRow = [&](int64_t i, int64_t n0, int64_t nc, const float *w,
                         float *out) {
    int64_t k = perm[size_t(i)], gk = k / q.group;
    for (int64_t j = 0; j < nc; ++j) {
      int64_t n = n0 + j;
      const float *lv = &value[size_t((gk * N + n) * levels)];
      // Nearest level: binary search, then the closer neighbour.
      int l = int(std::lower_bound(lv, lv + levels, w[j]) - lv);
      if (l == levels ||
          (l > 0 && std::fabs(w[j] - lv[l - 1]) <= std::fabs(lv[l] - w[j])))
        --l;
      out[j] = lv[l];
      int bitsSet = pattern[size_t((gk * N + n) * levels + l)];
      for (int p = 0; p < P; ++p)
        q.signs[size_t((int64_t(p) * K + k) * N + n)] =
            int8_t((bitsSet >> p) & 1 ? 1 : -1);
    }
  };
  gptqSweep(Wp, factor, sweepChunk(N, 0), nullptr, quantizeRow);
  return true;
}
