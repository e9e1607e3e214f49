//===- BoA.cpp - Attention-aware quantization of Q/K/V projections --------===//

#include "qc/Quant/BoA.h"

#include "qc/Quant/GPTQ.h"

#include "QuantUtils.h"
#include "SweepFactor.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace qc::quant;
using namespace qc::quant::detail;

namespace {

using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic,
                           Eigen::RowMajor>;
using ConstMapD = Eigen::Map<const MatD>;
using ColMatF = Eigen::MatrixXf;

const char kRowTag[] = "#boa-row/";
const char kRopeTag[] = "#boa-rope";
const char kValueTag[] = "#boa-value/";

/// The upper Cholesky factor U of the inverse of the damped `A` (n x n, a
/// head's row Hessian): A^-1 = U^T U, as GPTQ's reference. Channels with
/// A[k][k] == 0 are decoupled first. Raises the damping tenfold up to three
/// times.
bool inverseCholeskyUpper(const double *A, int64_t n, double damp, MatD &U) {
  MatD D = ConstMapD(A, n, n);
  double meanDiag = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (!(D(k, k) > 0)) {
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
    // With J the reversal, J A J = L L^T gives A = R R^T, R = J L J upper
    // triangular, so A^-1 = R^-T R^-1 and U = R^-1: one factorization and
    // one triangular inverse, no explicit inverse of A.
    Eigen::LLT<MatD> llt(Dd.reverse());
    if (llt.info() != Eigen::Success)
      continue;
    MatD R = MatD(llt.matrixL()).reverse();
    U = R.triangularView<Eigen::Upper>().solve(MatD::Identity(n, n));
    if (U.allFinite() && (U.diagonal().array() > 0).all())
      return true;
  }
  return false;
}

/// Shape and value checks of boaUniform's arguments.
bool checkArguments(const float *W, int64_t K, int64_t N, const double *H,
                    const RowHessians &rows, const UniformParams &params,
                    const BoAOptions &options, std::string &err) {
  const double damp = options.damp;
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
  return checkRange(fn, "jointColumns", options.jointColumns, 1,
                    rows.headDim, err);
}

/// A head's column order and the factor of its row Hessian in that order.
struct HeadPlan {
  std::vector<int64_t> order;
  MatD Ur;
};

/// The parameters (by `clip`) of the groups starting at row k of the
/// columns of `Wc` (the layer's columns `cols`), from their current values.
void chooseGroups(const MatF &Wc, const std::vector<int64_t> &cols, int64_t k,
                  const UniformParams &params, ClipSearch clip,
                  UniformResult &r) {
  const int64_t C = Wc.cols(), rows = std::min(r.group, Wc.rows() - k);
  UniformParams one = params;
  one.group = rows;
  UniformResult g;
  std::string ignored;
  if (!quantizeUniformRTN(Wc.row(k).data(), rows, C, one, clip, g, ignored))
    return;
  for (int64_t c = 0; c < C; ++c) {
    const size_t p = size_t((k / r.group) * r.N + cols[size_t(c)]);
    r.scales[p] = g.scales[size_t(c)];
    r.zeros[p] = g.zeros[size_t(c)];
  }
}

/// GPTQ of the columns `Wp` (K x C, the columns `cols` of the layer) through
/// H's factor `f`, in the order (row, column): `cols` are the columns of
/// `steps.size()` heads, b consecutive ones each, and at a row a head's b
/// weights are rounded one after the other, each one's error going to the
/// head's later ones of the row through `steps[h]` (b x b, upper: the
/// head's factor U' of its row Hessian's inverse on these columns) and,
/// lazily, to the later rows. That is GPTQ on (U (x) U')^T (U (x) U'), the
/// conditional inverse Hessian of these weights (U = R^-1, H = R R^T); b = 1
/// is a plain per-column sweep. As gptqUniform's sweep, the scaled errors
/// go through U's diagonal blocks inside a lazy block of rows and the
/// differences W - Q through R across blocks (see SweepFactor). Group
/// parameters are chosen when the sweep reaches a group's first row, before
/// that row is rounded (blocks hold whole groups). Codes and parameters go
/// into `r`; `V` (K x C) receives W - Q, the change the head's later
/// columns compensate.
void sweepColumns(const MatF &Wp, const std::vector<int64_t> &cols,
                  const std::vector<MatD> &steps, const SweepFactor &f,
                  const UniformParams &params, ClipSearch clip,
                  UniformResult &r, MatF &V) {
  const int64_t K = Wp.rows(), C = Wp.cols(), bs = f.blockSize;
  const int64_t b = C / int64_t(steps.size());
  const float maxq = float((1 << r.bits) - 1);
  MatF Wc = Wp; // rows past the current block hold W + G
  MatF Err(bs, C);
  V.resize(K, C);
  for (int64_t k1 = 0, blk = 0; k1 < K; k1 += bs, ++blk) {
    const int64_t k2 = std::min(K, k1 + bs), B = k2 - k1;
    const MatF &Ub = f.blockInverse[size_t(blk)];
    if (k1 > 0) {
      // W'_B = W_B + R_BB^-T G_B.
      MatF G = Wc.middleRows(k1, B) - Wp.middleRows(k1, B);
      f.R.block(k1, k1, B, B)
          .transpose()
          .triangularView<Eigen::Lower>()
          .solveInPlace(G);
      Wc.middleRows(k1, B) = Wp.middleRows(k1, B) + G;
    }
    Err.setZero();
    for (int64_t k = k1; k < k2; ++k) {
      const int64_t row = k - k1;
      if (k % r.group == 0)
        chooseGroups(Wc, cols, k, params, clip, r);
      for (int64_t c = 0; c < C; ++c) {
        const int64_t n = cols[size_t(c)];
        const int64_t p = (k / r.group) * r.N + n;
        GroupParams gp{r.scales[size_t(p)], r.zeros[size_t(p)]};
        float code = quantizeOne(Wc(k, c), gp, maxq);
        r.codes[size_t(k * r.N + n)] = uint8_t(code);
        const float q = dequantizeOne(code, gp.scale, gp.zero);
        V(k, c) = Wp(k, c) - q;
        // Row k's later weights of the head now, its later rows lazily.
        const MatD &A = steps[size_t(c / b)];
        const int64_t j = c % b, first = c - j;
        const double scaled = double(Wc(k, c) - q) / A(j, j);
        for (int64_t i = j + 1; i < b; ++i)
          Wc(k, first + i) -= float(scaled * A(j, i));
        for (int64_t i = j; i < b; ++i)
          Err(row, first + i) += float(scaled * A(j, i) / Ub(row, row));
      }
      // A rank-1 update of a few narrow rows: row by row, not as a GEMM.
      for (int64_t i = row + 1; i < B; ++i)
        Wc.row(k1 + i) -= Ub(row, i) * Err.row(row);
    }
    if (k2 < K)
      Wc.bottomRows(K - k2).noalias() +=
          f.R.block(k1, k2, B, K - k2).transpose() * V.middleRows(k1, B);
  }
}

/// BoA's sweep: step i quantizes the next `joint` columns (in their head's
/// order) of every head together (sweepColumns; the heads share H's
/// factor), then feeds each head's change D of those columns B to its
/// later columns R, the optimum given D: W_R -= D U'_BB^-1 U'_BR. Heads
/// are independent given H's factor: contiguous ranges of them run on the
/// threads.
void boaSweep(ColMatF &Wd, const std::vector<HeadPlan> &plans, int64_t d,
              int64_t joint, const SweepFactor &f,
              const UniformParams &params, ClipSearch clip,
              UniformResult &r) {
  const int64_t heads = int64_t(plans.size()), K = Wd.rows();
#ifdef _OPENMP
  const int64_t threads = omp_get_max_threads();
#else
  const int64_t threads = 1;
#endif
  const int64_t chunks = std::min<int64_t>(heads, threads);
#pragma omp parallel for schedule(static, 1)
  for (int64_t t = 0; t < chunks; ++t) {
    const int64_t h0 = heads * t / chunks, h1 = heads * (t + 1) / chunks;
    std::vector<int64_t> cols;
    std::vector<MatD> steps(static_cast<size_t>(h1 - h0));
    MatF Wp, V;
    for (int64_t i = 0; i < d; i += joint) {
      const int64_t b = std::min(joint, d - i), rest = d - i - b;
      cols.clear();
      for (int64_t h = h0; h < h1; ++h) {
        const HeadPlan &plan = plans[size_t(h)];
        for (int64_t c = 0; c < b; ++c)
          cols.push_back(h * d + plan.order[size_t(i + c)]);
        steps[size_t(h - h0)] = plan.Ur.block(i, i, b, b);
      }
      Wp.resize(K, int64_t(cols.size()));
      for (size_t c = 0; c < cols.size(); ++c)
        Wp.col(int64_t(c)) = Wd.col(cols[c]);
      sweepColumns(Wp, cols, steps, f, params, clip, r, V);
      for (int64_t h = h0; h < h1 && rest > 0; ++h) {
        const HeadPlan &plan = plans[size_t(h)];
        MatF T = steps[size_t(h - h0)]
                     .triangularView<Eigen::Upper>()
                     .solve(plan.Ur.block(i, i + b, b, rest))
                     .cast<float>();
        ColMatF update = V.middleCols((h - h0) * b, b) * T;
        for (int64_t j = 0; j < rest; ++j)
          Wd.col(h * d + plan.order[size_t(i + b + j)]) -= update.col(j);
      }
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
  if (!checkArguments(W, K, N, H, rows, params, options, err))
    return false;
  int64_t group;
  if (!resolveGroup("boaUniform", params.group, K, group, err))
    return false;
  UniformResult r;
  if (!quantizeUniformRTN(W, K, N, params, ClipSearch::MinMax, r, err))
    return false;
  r.codes.assign(size_t(K * N), 0);
  // Lazy blocks of whole groups (a group's parameters read all its rows).
  const int64_t block = group >= 128 ? group : 128 - 128 % group;
  std::vector<int64_t> identity(static_cast<size_t>(K));
  std::iota(identity.begin(), identity.end(), 0);
  SweepFactor f;
  if (!sweepFactor(H, K, identity, damp, block, f, "boaUniform", err))
    return false;
  // Column-major: BoA reads and updates whole columns.
  ColMatF Wd = Eigen::Map<const MatF>(W, K, N);
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
    if (!inverseCholeskyUpper(Mp.data(), d, damp, plan.Ur)) {
      err = "boaUniform: the row Hessian of head " + std::to_string(h) +
            " is not positive definite";
      return false;
    }
  }
  boaSweep(Wd, plans, d, options.jointColumns, f, params, clip, r);
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
