//===- AdaRound.cpp - Learned rounding on a quadratic objective -----------===//

#include "qc/Quant/AdaRound.h"

#include "QuantUtils.h"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>

using namespace qc::quant;
using namespace qc::quant::detail;

namespace {

using MatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                           Eigen::RowMajor>;
using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic,
                           Eigen::RowMajor>;
using ArrF = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic,
                          Eigen::RowMajor>;

// AdaRound's rectified sigmoid stretch, and Adam's constants.
constexpr float kZeta = 1.1f, kGamma = -0.1f;
constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f, kEps = 1e-8f;

bool checkObjective(const QuadraticObjective &o, int64_t K, int64_t N,
                    std::string &err) {
  const char *fn = "adaroundUniform";
  if (o.heads <= 0 || o.headDim <= 0 || o.heads * o.headDim != N ||
      int64_t(o.H.size()) != o.heads) {
    err = std::string(fn) + ": the objective does not cover the " +
          std::to_string(N) + " output columns in heads";
    return false;
  }
  for (size_t h = 0; h < o.H.size(); ++h)
    if ((h == 0 || o.H[h] != o.H[h - 1]) && !checkHessian(fn, o.H[h], K, err))
      return false;
  if (!o.M.empty() && o.M.size() != size_t(N * o.headDim)) {
    err = std::string(fn) + ": the output-side Hessians have the wrong size";
    return false;
  }
  for (double m : o.M)
    if (!std::isfinite(m)) {
      err = std::string(fn) + ": an output-side Hessian has a non-finite "
                              "entry";
      return false;
    }
  return true;
}

/// The objective's matrices in single precision: the distinct H's, which
/// one each head reads, and the M's.
struct Objective {
  std::vector<MatF> H;
  std::vector<size_t> headH;
  std::vector<MatF> M;
  int64_t d = 0;

  Objective(const QuadraticObjective &o, int64_t K) : d(o.headDim) {
    for (size_t h = 0; h < o.H.size(); ++h) {
      if (h == 0 || o.H[h] != o.H[h - 1])
        H.push_back(Eigen::Map<const MatD>(o.H[h], K, K).cast<float>());
      headH.push_back(H.size() - 1);
    }
    for (size_t h = 0; !o.M.empty() && h < o.H.size(); ++h)
      M.push_back(
          Eigen::Map<const MatD>(o.M.data() + h * d * d, d, d).cast<float>());
  }

  /// G = 2 H_h D_h M_h for every head.
  void gradient(const MatF &D, MatF &G) const {
    const int64_t heads = int64_t(headH.size());
    if (H.size() == 1) {
      G.noalias() = 2.0f * H[0] * D;
    } else {
      for (int64_t h = 0; h < heads; ++h)
        G.middleCols(h * d, d).noalias() =
            2.0f * H[headH[size_t(h)]] * D.middleCols(h * d, d);
    }
    if (M.empty())
      return;
    MatF block(G.rows(), d);
    for (int64_t h = 0; h < heads; ++h) {
      block.noalias() = G.middleCols(h * d, d) * M[size_t(h)];
      G.middleCols(h * d, d) = block;
    }
  }
};

/// The dequantized weights of `r`.
MatF dequantized(const UniformResult &r) {
  std::vector<float> w;
  std::string ignored;
  dequantizeUniform(r, w, ignored);
  return Eigen::Map<const MatF>(w.data(), r.K, r.N);
}

} // namespace

double qc::quant::quadraticError(const float *W, const float *What, int64_t K,
                                 int64_t N,
                                 const QuadraticObjective &objective) {
  const int64_t d = objective.headDim;
  MatD D = (Eigen::Map<const MatF>(What, K, N) -
            Eigen::Map<const MatF>(W, K, N))
               .cast<double>();
  double e = 0;
  for (int64_t h = 0; h < objective.heads; ++h) {
    auto Dh = D.middleCols(h * d, d);
    MatD HD = Eigen::Map<const MatD>(objective.H[size_t(h)], K, K) * Dh;
    MatD DtHD = Dh.transpose() * HD;
    if (objective.M.empty())
      e += DtHD.trace();
    else
      e += (DtHD.array() *
            Eigen::Map<const MatD>(objective.M.data() + h * d * d, d, d)
                .array())
               .sum();
  }
  return e;
}

bool qc::quant::coordinateDescentCodes(const float *W, int64_t K, int64_t N,
                                       const QuadraticObjective &objective,
                                       int sweeps, UniformResult &q,
                                       std::string &err, int64_t *moves) {
  const char *fn = "coordinateDescentCodes";
  if (!checkMatrix(fn, W, K, N, err) || !checkObjective(objective, K, N, err))
    return false;
  if (q.K != K || q.N != N || q.perIC) {
    err = std::string(fn) + ": needs per-OC codes of the layer's shape";
    return false;
  }
  const int64_t d = objective.headDim;
  const float maxq = float((1 << q.bits) - 1);
  Objective obj(objective, K);
  MatF D = dequantized(q) - Eigen::Map<const MatF>(W, K, N), G(K, N);
  obj.gradient(D, G); // 2 H D M
  G *= 0.5f;
  int64_t moved = 0;
  for (int s = 0; s < sweeps; ++s) {
    int64_t before = moved;
    // Heads are independent: their weights' products live in their own
    // columns of G.
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : moved)
    for (int64_t h = 0; h < objective.heads; ++h) {
      const MatF &H = obj.H[obj.headH[size_t(h)]];
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < d; ++j) {
          const int64_t n = h * d + j;
          const int64_t p = q.paramIndex(k, n);
          const float scale = q.scales[size_t(p)];
          const float m = obj.M.empty() ? 1.0f : obj.M[size_t(h)](j, j);
          const float curv = H(k, k) * m * scale * scale;
          uint8_t &code = q.codes[size_t(k * N + n)];
          float best = 0, step = 0;
          for (float dir : {-1.0f, 1.0f}) {
            const float c = float(code) + dir;
            if (c < 0 || c > maxq)
              continue;
            const float change = 2 * dir * scale * G(k, n) + curv;
            if (change < best) {
              best = change;
              step = dir;
            }
          }
          if (step == 0)
            continue;
          code = uint8_t(float(code) + step);
          ++moved;
          // G_h += delta H[:, k] M[j, :].
          const float delta = step * scale;
          if (obj.M.empty())
            G.col(n) += delta * H.col(k);
          else
            G.middleCols(h * d, d).noalias() +=
                delta * H.col(k) * obj.M[size_t(h)].row(j);
        }
    }
    if (moved == before)
      break;
  }
  if (moves)
    *moves = moved;
  return true;
}

bool qc::quant::adaroundUniform(const float *W, int64_t K, int64_t N,
                                const QuadraticObjective &objective,
                                const UniformParams &params, ClipSearch clip,
                                const AdaRoundOptions &options,
                                UniformResult &out, std::string &err,
                                double *finalError) {
  const char *fn = "adaroundUniform";
  if (!checkMatrix(fn, W, K, N, err) || !checkObjective(objective, K, N, err))
    return false;
  if (params.perIC) {
    err = std::string(fn) + ": per-IC groups are not supported";
    return false;
  }
  if (options.iterations < 0 || !(options.learningRate > 0) ||
      !(options.lambda >= 0) || !(options.warmup >= 0 && options.warmup <= 1)) {
    err = std::string(fn) + ": bad options";
    return false;
  }
  UniformResult rtn;
  if (!quantizeUniformRTN(W, K, N, params, clip, rtn, err))
    return false;
  MatF Wm = Eigen::Map<const MatF>(W, K, N);
  MatF Wrtn = dequantized(rtn);
  const double eRTN = quadraticError(W, Wrtn.data(), K, N, objective);

  if (finalError)
    *finalError = 1.0;
  if (!(eRTN > 0) || options.iterations == 0) {
    out = std::move(rtn);
    return true;
  }
  // Per weight: its group's scale and zero point, and floor(W / s) + z.
  const float maxq = float((1 << rtn.bits) - 1);
  ArrF S(K, N), Z(K, N), base(K, N), V(K, N);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      const int64_t p = rtn.paramIndex(k, n);
      S(k, n) = rtn.scales[size_t(p)];
      Z(k, n) = rtn.zeros[size_t(p)];
      const float x = W[k * N + n] / S(k, n), f = std::floor(x);
      base(k, n) = f + Z(k, n);
      // h(V) starts at the fractional part: round-to-nearest's soft value.
      const float p0 = (x - f - kGamma) / (kZeta - kGamma);
      V(k, n) = std::log(p0 / (1.0f - p0));
    }
  Objective obj(objective, K);
  ArrF m = ArrF::Zero(K, N), v = ArrF::Zero(K, N), Sig(K, N);
  MatF D(K, N), G(K, N);
  const int warm = int(options.warmup * options.iterations);
  const float scale = float(1.0 / eRTN);
  const float lambda = float(options.lambda / double(K * N));
  const float lr = float(options.learningRate);
  for (int it = 0; it < options.iterations; ++it) {
    // D = W^ - W at the soft rounding h(V).
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n) {
        const float sig = Sig(k, n) = 1.0f / (1.0f + std::exp(-V(k, n)));
        const float h =
            std::min(std::max(sig * (kZeta - kGamma) + kGamma, 0.0f), 1.0f);
        const float q = std::min(std::max(base(k, n) + h, 0.0f), maxq);
        D(k, n) = S(k, n) * (q - Z(k, n)) - W[k * N + n];
      }
    obj.gradient(D, G);
    float beta = 0;
    if (it >= warm) {
      const double t = double(it - warm) / double(options.iterations - warm);
      beta = float(options.betaEnd +
                   (options.betaStart - options.betaEnd) * (1.0 - t));
    }
    const float c1 = 1.0f - std::pow(kBeta1, float(it + 1));
    const float c2 = 1.0f - std::pow(kBeta2, float(it + 1));
    // The objective's gradient (zero where the code is clamped), the
    // regularizer's, through h(V), and Adam's step.
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n) {
        const float sig = Sig(k, n); // V has not moved since
        const float stretched = sig * (kZeta - kGamma) + kGamma;
        float g = 0; // h(V) is flat where it is clamped
        if (stretched > 0.0f && stretched < 1.0f) {
          const float q = base(k, n) + stretched;
          float dh = q > 0.0f && q < maxq ? G(k, n) * scale * S(k, n) : 0.0f;
          if (beta > 0) {
            const float u = 2.0f * stretched - 1.0f;
            dh -= lambda * beta * 2.0f * (u < 0 ? -1.0f : 1.0f) *
                  std::pow(std::abs(u), beta - 1.0f);
          }
          g = dh * sig * (1.0f - sig) * (kZeta - kGamma);
        }
        m(k, n) = kBeta1 * m(k, n) + (1.0f - kBeta1) * g;
        v(k, n) = kBeta2 * v(k, n) + (1.0f - kBeta2) * g * g;
        V(k, n) -= lr * (m(k, n) / c1) / (std::sqrt(v(k, n) / c2) + kEps);
      }
  }
  // Hard rounding: up where h(V) >= 1/2, which (zeta + gamma = 1) is where
  // V >= 0.
  UniformResult r = rtn;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      const float up = V(k, n) >= 0.0f ? 1.0f : 0.0f;
      r.codes[size_t(k * N + n)] =
          uint8_t(std::min(std::max(base(k, n) + up, 0.0f), maxq));
    }
  MatF Wr = dequantized(r);
  const double e = quadraticError(W, Wr.data(), K, N, objective);

  if (finalError)
    *finalError = std::min(e, eRTN) / eRTN;
  out = e <= eRTN ? std::move(r) : std::move(rtn);
  return true;
}
