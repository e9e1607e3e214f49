//===- BoA.cpp - Attention-aware quantization of Q/K/V projections --------===//

#include "qc/Quant/BoA.h"

#include "qc/Quant/GPTQ.h"

#include "QuantUtils.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

using namespace qc::quant;
using namespace qc::quant::detail;

namespace {

using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic,
                           Eigen::RowMajor>;
using ConstMapD = Eigen::Map<const MatD>;
using ColMatD = Eigen::MatrixXd;

const char kRowTag[] = "#boa-row/";
const char kRopeTag[] = "#boa-rope";
const char kValueTag[] = "#boa-value/";

/// The upper Cholesky factor U of the inverse of the damped `A` (n x n):
/// A^-1 = U^T U, as GPTQ's reference. Channels with A[k][k] == 0 (`dead`)
/// are decoupled first. Raises the damping tenfold up to three times.
bool inverseCholeskyUpper(const double *A, int64_t n, double damp,
                          std::vector<char> &dead, MatD &U) {
  dead.assign(size_t(n), 0);
  MatD D = ConstMapD(A, n, n);
  double meanDiag = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (!(D(k, k) > 0)) {
      dead[size_t(k)] = 1;
      D.row(k).setZero();
      D.col(k).setZero();
      D(k, k) = 1;
    }
    meanDiag += D(k, k);
  }
  meanDiag /= double(n);
  for (int attempt = 0; attempt < 4; ++attempt, damp *= 10) {
    MatD Dd = D;
    Dd.diagonal().array() += damp * meanDiag;
    Eigen::LLT<MatD> llt(Dd);
    if (llt.info() != Eigen::Success)
      continue;
    MatD inv = llt.solve(MatD::Identity(n, n));
    inv = 0.5 * (inv + inv.transpose()).eval();
    Eigen::LLT<MatD> lltInv(inv);
    if (lltInv.info() != Eigen::Success)
      continue;
    U = lltInv.matrixU();
    if (U.allFinite() && (U.diagonal().array() > 0).all())
      return true;
  }
  return false;
}

/// Shape and value checks of boaUniform's arguments.
bool checkArguments(const float *W, int64_t K, int64_t N, const double *H,
                    const RowHessians &rows, const UniformParams &params,
                    double damp, std::string &err) {
  const char *fn = "boaUniform";
  if (!checkMatrix(fn, W, K, N, err) || !checkHessian(fn, H, K, err) ||
      !checkRange(fn, "bits", params.bits, 2, 8, err))
    return false;
  if (rows.heads <= 0 || rows.headDim <= 0 ||
      rows.heads * rows.headDim != N ||
      rows.M.size() != size_t(rows.heads * rows.headDim * rows.headDim)) {
    err = std::string(fn) + ": the row Hessians do not cover the " +
          std::to_string(N) + " output columns in heads";
    return false;
  }
  for (double m : rows.M)
    if (!std::isfinite(m)) {
      err = std::string(fn) + ": a row Hessian has a non-finite entry";
      return false;
    }
  if (params.perIC) {
    err = std::string(fn) + ": per-IC groups are not supported (a row's "
                            "parameters would depend on later columns)";
    return false;
  }
  if (!(damp >= 0)) {
    err = std::string(fn) + ": damp must be >= 0";
    return false;
  }
  return true;
}

/// A head's column order and the factor of its row Hessian in that order.
struct HeadPlan {
  std::vector<int64_t> order;
  MatD Ur;
};

/// GPTQ of the columns `cols` of `Wd` (K x N, double) together, rows in
/// lazy blocks of `block` (whole groups), through H's factor `Uc`; codes and
/// group parameters into `r`. `V` (K x cols) receives U^T E, E the scaled
/// errors: by GPTQ's identity W - Q = U^T E that is each column's values
/// minus its quantized ones (0 on dead input channels, whose errors are
/// not fed back).
void sweepColumns(const ColMatD &Wd, const std::vector<int64_t> &cols,
                  const MatD &Uc, const std::vector<char> &deadIn,
                  int64_t block, const UniformParams &params, ClipSearch clip,
                  UniformResult &r, MatD &V) {
  const int64_t K = Wd.rows(), N = Wd.cols(), C = int64_t(cols.size());
  const int64_t group = r.group;
  const float maxq = float((1 << r.bits) - 1);
  MatD Wc(K, C);
  for (int64_t c = 0; c < C; ++c)
    Wc.col(c) = Wd.col(cols[size_t(c)]);
  V = Wc;
  MatD E = MatD::Zero(K, C);
  std::vector<float> slice;
  for (int64_t k1 = 0; k1 < K; k1 += block) {
    const int64_t k2 = std::min(K, k1 + block);
    for (int64_t k = k1; k < k2; ++k) {
      for (int64_t c = 0; c < C; ++c) {
        const int64_t n = cols[size_t(c)];
        if (k % group == 0) {
          // Parameters of the group from the error-updated weights (the
          // block holds whole groups, so all of its rows are updated).
          const int64_t rows = std::min(group, K - k);
          slice.resize(size_t(rows));
          for (int64_t j = 0; j < rows; ++j)
            slice[size_t(j)] = float(Wc(k + j, c));
          UniformResult g;
          std::string ignored;
          if (quantizeUniformRTN(slice.data(), rows, 1, params, clip, g,
                                 ignored)) {
            r.scales[size_t((k / group) * N + n)] = g.scales[0];
            r.zeros[size_t((k / group) * N + n)] = g.zeros[0];
          }
        }
        const int64_t p = (k / group) * N + n;
        GroupParams gp{r.scales[size_t(p)], r.zeros[size_t(p)]};
        float code = quantizeOne(float(Wc(k, c)), gp, maxq);
        r.codes[size_t(k * N + n)] = uint8_t(code);
        double q = dequantizeOne(code, gp.scale, gp.zero);
        E(k, c) = deadIn[size_t(k)] ? 0.0 : (Wc(k, c) - q) / Uc(k, k);
        V(k, c) = deadIn[size_t(k)] ? 0.0 : V(k, c) - q;
      }
      if (k + 1 < k2)
        Wc.middleRows(k + 1, k2 - k - 1).noalias() -=
            Uc.row(k).segment(k + 1, k2 - k - 1).transpose() * E.row(k);
    }
    if (k2 < K)
      Wc.bottomRows(K - k2).noalias() -=
          Uc.block(k1, k2, k2 - k1, K - k2).transpose() *
          E.middleRows(k1, k2 - k1);
  }
}

/// BoA's sweep: step i quantizes the i-th column (in its head's order) of
/// every head together, one GPTQ sweep through H's factor (the heads share
/// it), then feeds each column's errors U^T e to its head's later columns
/// through M_h's factor.
void boaSweep(ColMatD &Wd, const std::vector<HeadPlan> &plans, int64_t d,
              const MatD &Uc, const std::vector<char> &deadIn, int64_t block,
              const UniformParams &params, ClipSearch clip, UniformResult &r) {
  const int64_t heads = int64_t(plans.size());
  std::vector<int64_t> cols(static_cast<size_t>(heads));
  MatD V;
  for (int64_t i = 0; i < d; ++i) {
    for (int64_t h = 0; h < heads; ++h)
      cols[size_t(h)] = h * d + plans[size_t(h)].order[size_t(i)];
    sweepColumns(Wd, cols, Uc, deadIn, block, params, clip, r, V);
    if (i + 1 == d)
      break;
    for (int64_t h = 0; h < heads; ++h) {
      const HeadPlan &plan = plans[size_t(h)];
      for (int64_t j = i + 1; j < d; ++j)
        Wd.col(h * d + plan.order[size_t(j)]) -=
            (plan.Ur(i, j) / plan.Ur(i, i)) * V.col(h);
    }
  }
}

/// Sum of the head blocks of `partner` mapped to each of `layerHeads`
/// heads, divided by their count: blocks are per batch item `perItem`
/// heads; a layer with fewer heads averages consecutive groups, one with
/// more reads each block for consecutive heads.
bool mapHeadBlocks(const TapStats &partner, int64_t d, int64_t perItem,
                   int64_t layerHeads, std::vector<double> &out,
                   std::string &err) {
  const int64_t blocks = partner.K / d, Kp = partner.K;
  if (perItem <= 0 || blocks % perItem != 0 ||
      (perItem % layerHeads != 0 && layerHeads % perItem != 0)) {
    err = "the attention tap has " + std::to_string(blocks) +
          " head blocks (" + std::to_string(perItem) +
          " per item), which do not map onto the layer's " +
          std::to_string(layerHeads) + " heads";
    return false;
  }
  out.assign(size_t(layerHeads * d * d), 0.0);
  std::vector<int64_t> count(size_t(layerHeads), 0);
  for (int64_t j = 0; j < blocks; ++j) {
    const int64_t hj = j % perItem;
    const int64_t first = perItem >= layerHeads ? hj / (perItem / layerHeads)
                                                : hj * (layerHeads / perItem);
    const int64_t last = perItem >= layerHeads ? first
                                               : first + layerHeads / perItem - 1;
    for (int64_t h = first; h <= last; ++h) {
      ++count[size_t(h)];
      for (int64_t a = 0; a < d; ++a)
        for (int64_t b = 0; b < d; ++b)
          out[size_t((h * d + a) * d + b)] +=
              partner.H[size_t((j * d + a) * Kp + j * d + b)];
    }
  }
  for (int64_t h = 0; h < layerHeads; ++h)
    for (int64_t i = 0; i < d * d; ++i)
      out[size_t(h * d * d + i)] /= double(count[size_t(h)]);
  return true;
}

/// Whether `name` is `prefix` followed by "A/B", and then A and B.
bool parseTapName(const std::string &name, const std::string &prefix,
                  int64_t &a, int64_t &b) {
  return name.compare(0, prefix.size(), prefix) == 0 &&
         std::sscanf(name.c_str() + prefix.size(), "%ld/%ld", &a, &b) == 2;
}

/// The tap whose layer names include `name`.
const TapStats *findTap(const std::vector<TapStats> &taps,
                        const std::string &name) {
  for (const TapStats &t : taps)
    for (const std::string &l : t.layers)
      if (l == name)
        return &t;
  return nullptr;
}

} // namespace

bool qc::quant::boaUniform(const float *W, int64_t K, int64_t N,
                           const double *H, const RowHessians &rows,
                           const UniformParams &params, ClipSearch clip,
                           const BoAOptions &options,
                           UniformResult &out,
                           std::string &err) {
  const double damp = options.damp;
  if (!checkArguments(W, K, N, H, rows, params, damp, err))
    return false;
  int64_t group;
  if (!resolveGroup("boaUniform", params.group, K, group, err))
    return false;
  UniformResult r;
  if (!quantizeUniformRTN(W, K, N, params, ClipSearch::MinMax, r, err))
    return false;
  r.codes.assign(size_t(K * N), 0);
  MatD Uc;
  std::vector<char> deadIn;
  if (!inverseCholeskyUpper(H, K, damp, deadIn, Uc)) {
    err = "boaUniform: the Hessian is not positive definite even with "
          "damping";
    return false;
  }
  // Column-major: BoA reads and updates whole columns.
  ColMatD Wd = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic,
                                              Eigen::Dynamic, Eigen::RowMajor>>(
                   W, K, N)
                   .cast<double>();
  const int64_t d = rows.headDim;
  std::vector<HeadPlan> plans(static_cast<size_t>(rows.heads));
  for (int64_t h = 0; h < rows.heads; ++h) {
    // Columns in decreasing order of M's diagonal (BoA's row order), or as
    // they are.
    HeadPlan &plan = plans[size_t(h)];
    plan.order.resize(size_t(d));
    std::iota(plan.order.begin(), plan.order.end(), 0);
    ConstMapD M(rows.M.data() + h * d * d, d, d);
    if (options.rowOrder)
      std::stable_sort(plan.order.begin(), plan.order.end(),
                       [&](int64_t a, int64_t b) { return M(a, a) > M(b, b); });
    MatD Mp(d, d);
    for (int64_t a = 0; a < d; ++a)
      for (int64_t b = 0; b < d; ++b)
        Mp(a, b) = M(plan.order[size_t(a)], plan.order[size_t(b)]);
    std::vector<char> deadOut;
    if (!inverseCholeskyUpper(Mp.data(), d, damp, deadOut, plan.Ur)) {
      err = "boaUniform: the row Hessian of head " + std::to_string(h) +
            " is not positive definite";
      return false;
    }
  }
  // Lazy blocks of whole groups (a group's parameters read all its rows).
  const int64_t block = group >= 128 ? group : 128 - 128 % group;
  boaSweep(Wd, plans, d, Uc, deadIn, block, params, clip, r);
  out = std::move(r);
  return true;
}

bool qc::quant::gptqPerHead(const float *W, int64_t K, int64_t N,
                            const std::vector<const double *> &headH,
                            const UniformParams &params, ClipSearch clip,
                            double damp, UniformResult &out,
                            std::string &err) {
  const int64_t heads = int64_t(headH.size());
  if (!checkMatrix("gptqPerHead", W, K, N, err))
    return false;
  if (heads <= 0 || N % heads != 0 || params.perIC) {
    err = "gptqPerHead: needs per-OC groups and N (" + std::to_string(N) +
          ") a multiple of the " + std::to_string(heads) + " heads";
    return false;
  }
  const int64_t d = N / heads;
  UniformResult r;
  if (!quantizeUniformRTN(W, K, N, params, ClipSearch::MinMax, r, err))
    return false;
  GPTQOptions options;
  options.damp = damp;
  std::vector<float> Wh(size_t(K * d));
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t k = 0; k < K; ++k)
      std::copy(W + k * N + h * d, W + k * N + (h + 1) * d,
                Wh.begin() + k * d);
    UniformResult q;
    if (!gptqUniform(Wh.data(), K, d, headH[size_t(h)], params, clip,
                     options, nullptr, q, err))
      return false;
    for (int64_t k = 0; k < K; ++k)
      std::copy(q.codes.begin() + k * d, q.codes.begin() + (k + 1) * d,
                r.codes.begin() + k * N + h * d);
    for (int64_t g = 0; g < q.numGroupRows(); ++g)
      for (int64_t j = 0; j < d; ++j) {
        r.scales[size_t(g * N + h * d + j)] = q.scales[size_t(g * d + j)];
        r.zeros[size_t(g * N + h * d + j)] = q.zeros[size_t(g * d + j)];
      }
  }
  out = std::move(r);
  return true;
}

double qc::quant::kroneckerError(const float *W, const float *What,
                                 int64_t K, int64_t N, const double *H,
                                 const RowHessians &rows) {
  using MatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                             Eigen::RowMajor>;
  MatD D = (Eigen::Map<const MatF>(W, K, N) -
            Eigen::Map<const MatF>(What, K, N))
               .cast<double>();
  MatD HD = ConstMapD(H, K, K) * D;
  const int64_t d = rows.headDim;
  double e = 0;
  for (int64_t h = 0; h < rows.heads; ++h) {
    ConstMapD M(rows.M.data() + h * d * d, d, d);
    MatD G = D.middleCols(h * d, d).transpose() * HD.middleCols(h * d, d);
    e += (G.array() * M.transpose().array()).sum();
  }
  return e;
}

void qc::quant::rotaryAverage(const double *C, int64_t d, const double *Z,
                              uint64_t positions, double *M) {
  const int64_t half = d / 2, w = 2 * d;
  // R_t = diag(cos_t) + diag(sin_t) J: row a of J has sign(a) at p(a).
  auto p = [&](int64_t a) { return a < half ? a + half : a - half; };
  auto sign = [&](int64_t a) { return a < half ? -1.0 : 1.0; };
  const double scale = positions ? 1.0 / double(positions) : 0.0;
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j) {
      const int64_t pi = p(i), pj = p(j);
      // R_t's column i is cos_t[i] e_i + sin_t[p(i)] sign(p(i)) e_p(i).
      double m = Z[i * w + j] * C[i * d + j];
      m += sign(pj) * Z[i * w + d + pj] * C[i * d + pj];
      m += sign(pi) * Z[(d + pi) * w + j] * C[pi * d + j];
      m += sign(pi) * sign(pj) * Z[(d + pi) * w + d + pj] * C[pi * d + pj];
      M[i * d + j] = m * scale;
    }
}

std::string qc::quant::rowTapName(const std::string &layer, int64_t headDim,
                                  int64_t heads) {
  return layer + kRowTag + std::to_string(headDim) + "/" +
         std::to_string(heads);
}

std::string qc::quant::ropeTapName(const std::string &layer) {
  return layer + kRopeTag;
}

std::string qc::quant::valueTapName(const std::string &layer, int64_t head,
                                    int64_t heads) {
  return layer + kValueTag + std::to_string(head) + "/" +
         std::to_string(heads);
}

std::string qc::quant::baseLayerName(const std::string &tapName) {
  return tapName.substr(0, tapName.find('#'));
}

bool qc::quant::rowHessiansFromTaps(const std::vector<TapStats> &taps,
                                    const std::string &layer, int64_t N,
                                    RowHessians &out, bool &found,
                                    std::string &err) {
  found = false;
  const std::string prefix = layer + kRowTag;
  const TapStats *partner = nullptr;
  int64_t d = 0, perItem = 0;
  for (const TapStats &t : taps)
    for (const std::string &name : t.layers)
      if (!partner && parseTapName(name, prefix, d, perItem))
        partner = &t;
  if (!partner)
    return true;
  found = true;
  const std::string where = "layer '" + layer + "': ";
  if (d <= 0 || N % d != 0 || partner->K % d != 0 || partner->rows == 0) {
    err = where + "its attention tap (head size " + std::to_string(d) +
          ", " + std::to_string(partner->K) +
          " values per row) does not fit its " + std::to_string(N) +
          " output columns, or saw no rows";
    return false;
  }
  std::vector<double> C;
  if (!mapHeadBlocks(*partner, d, perItem, N / d, C, err)) {
    err = where + err;
    return false;
  }
  out.heads = N / d;
  out.headDim = d;
  out.M.assign(C.size(), 0.0);
  const TapStats *rope = findTap(taps, ropeTapName(layer));
  if (!rope) {
    out.M = std::move(C);
    return true;
  }
  if (rope->K != 2 * d || d % 2 != 0 || rope->rows == 0) {
    err = where + "its rotary tap has rows of " + std::to_string(rope->K) +
          " values, expected [cos, sin] of " + std::to_string(2 * d);
    return false;
  }
  for (int64_t h = 0; h < out.heads; ++h)
    rotaryAverage(C.data() + h * d * d, d, rope->H.data(), rope->rows,
                  out.M.data() + h * d * d);
  return true;
}

bool qc::quant::valueHessiansFromTaps(const std::vector<TapStats> &taps,
                                      const std::string &layer, int64_t K,
                                      int64_t N,
                                      std::vector<const double *> &out,
                                      std::string &err) {
  out.clear();
  const std::string prefix = layer + kValueTag;
  std::vector<const TapStats *> byHead;
  for (const TapStats &t : taps)
    for (const std::string &name : t.layers) {
      int64_t head = 0, heads = 0;
      if (!parseTapName(name, prefix, head, heads))
        continue;
      if (heads <= 0 || head < 0 || head >= heads || N % heads != 0 ||
          t.K != K || t.rows == 0) {
        err = "layer '" + layer + "': its value tap '" + name +
              "' does not fit its " + std::to_string(K) + " x " +
              std::to_string(N) + " weight, or saw no rows";
        return false;
      }
      byHead.resize(size_t(heads), nullptr);
      byHead[size_t(head)] = &t;
    }
  for (const TapStats *t : byHead) {
    if (!t) {
      err = "layer '" + layer + "': a head's value tap is missing";
      out.clear();
      return false;
    }
    out.push_back(t->H.data());
  }
  return true;
}

bool qc::quant::attentionStatsFromTaps(const std::vector<TapStats> &taps,
                                       const std::string &layer, int64_t K,
                                       int64_t N, AttentionStats &out,
                                       std::string &err) {
  out = AttentionStats();
  bool found = false; // out.rows stays empty without a row tap
  if (!rowHessiansFromTaps(taps, layer, N, out.rows, found, err))
    return false;
  return valueHessiansFromTaps(taps, layer, K, N, out.valueH, err);
}
