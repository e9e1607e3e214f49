//===- Codebook.cpp - Additive codebook (vector) quantization -------------===//

#include "qc/Quant/Codebook.h"

#include "QuantUtils.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace qc::quant;
using namespace qc::quant::detail;

namespace {

/// Uniform double in [0, 1) from the generator's raw output (portable,
/// unlike std::uniform_real_distribution).
double uniform01(std::mt19937_64 &rng) {
  return double(rng() >> 11) * (1.0 / 9007199254740992.0);
}

/// The vectors being clustered by one codebook: residuals in normalized
/// units, each with its valid length and weight (column scale squared).
struct VectorSet {
  int64_t count = 0, dim = 0;
  std::vector<double> data; // count x dim, padded with zeros
  std::vector<int64_t> len; // valid entries of each vector
  std::vector<double> weight;

  const double *vec(int64_t i) const { return &data[size_t(i * dim)]; }
  double *vec(int64_t i) { return &data[size_t(i * dim)]; }

  /// Squared distance of vector i to centroid c over its valid entries.
  double dist(int64_t i, const float *c) const {
    const double *x = vec(i);
    double d = 0.0;
    for (int64_t j = 0, e = len[size_t(i)]; j < e; ++j) {
      double t = x[j] - double(c[j]);
      d += t * t;
    }
    return d;
  }
};

/// Lloyd's algorithm for one codebook with k-means++ initialization.
class KMeans {
public:
  KMeans(const VectorSet &vs, int64_t entries, std::mt19937_64 &rng)
      : vs(vs), entries(entries), rng(rng),
        centroids(size_t(entries * vs.dim), 0.0f), assign(size_t(vs.count), 0) {
  }

  /// k-means++ seeding followed by the first assignment; returns the error.
  double init() {
    const int64_t n = vs.count, dim = vs.dim;
    std::vector<double> minDist(size_t(n),
                                std::numeric_limits<double>::infinity());
    int64_t pick = int64_t(rng() % uint64_t(n));
    for (int64_t e = 0; e < entries; ++e) {
      if (e > 0) {
        double total = 0.0;
        for (int64_t i = 0; i < n; ++i)
          total += vs.weight[size_t(i)] * minDist[size_t(i)];
        if (total > 0.0) {
          double target = uniform01(rng) * total, acc = 0.0;
          pick = -1;
          for (int64_t i = 0; i < n; ++i) {
            double p = vs.weight[size_t(i)] * minDist[size_t(i)];
            if (p <= 0.0)
              continue;
            acc += p;
            pick = i;
            if (acc > target)
              break;
          }
        } else {
          pick = int64_t(rng() % uint64_t(n));
        }
      }
      float *c = &centroids[size_t(e * dim)];
      const double *x = vs.vec(pick);
      for (int64_t j = 0; j < dim; ++j)
        c[j] = j < vs.len[size_t(pick)] ? float(x[j]) : 0.0f;
      for (int64_t i = 0; i < n; ++i)
        minDist[size_t(i)] = std::min(minDist[size_t(i)], vs.dist(i, c));
    }
    return assignAll();
  }

  /// One Lloyd iteration (centroid update, then reassignment); returns the
  /// error, which never exceeds the previous one.
  double iterate() {
    updateCentroids();
    return assignAll();
  }

  const std::vector<float> &getCentroids() const { return centroids; }
  const std::vector<uint32_t> &getAssignment() const { return assign; }

private:
  /// Assigns every vector to its nearest centroid (ties: lowest index).
  double assignAll() {
    double total = 0.0;
    for (int64_t i = 0; i < vs.count; ++i) {
      double best = std::numeric_limits<double>::infinity();
      uint32_t bestE = 0;
      for (int64_t e = 0; e < entries; ++e) {
        double d = vs.dist(i, &centroids[size_t(e * vs.dim)]);
        if (d < best) {
          best = d;
          bestE = uint32_t(e);
        }
      }
      assign[size_t(i)] = bestE;
      total += vs.weight[size_t(i)] * best;
    }
    return total;
  }

  /// Replaces each centroid by the weighted mean of its vectors (per entry,
  /// over the vectors long enough to have it), keeping the old centroid if
  /// float rounding would make its cluster's error larger.
  void updateCentroids() {
    const int64_t dim = vs.dim;
    std::vector<double> num(size_t(entries * dim), 0.0),
        den(size_t(entries * dim), 0.0);
    for (int64_t i = 0; i < vs.count; ++i) {
      const int64_t e = assign[size_t(i)];
      const double *x = vs.vec(i);
      const double w = vs.weight[size_t(i)];
      for (int64_t j = 0, l = vs.len[size_t(i)]; j < l; ++j) {
        num[size_t(e * dim + j)] += w * x[j];
        den[size_t(e * dim + j)] += w;
      }
    }
    std::vector<float> next = centroids;
    for (int64_t t = 0; t < entries * dim; ++t)
      if (den[size_t(t)] > 0.0)
        next[size_t(t)] = float(num[size_t(t)] / den[size_t(t)]);
    std::vector<double> oldErr(size_t(entries), 0.0),
        newErr(size_t(entries), 0.0);
    for (int64_t i = 0; i < vs.count; ++i) {
      const int64_t e = assign[size_t(i)];
      const double w = vs.weight[size_t(i)];
      oldErr[size_t(e)] += w * vs.dist(i, &centroids[size_t(e * dim)]);
      newErr[size_t(e)] += w * vs.dist(i, &next[size_t(e * dim)]);
    }
    for (int64_t e = 0; e < entries; ++e)
      if (newErr[size_t(e)] <= oldErr[size_t(e)])
        std::copy(next.begin() + e * dim, next.begin() + (e + 1) * dim,
                  centroids.begin() + e * dim);
  }

  const VectorSet &vs;
  int64_t entries;
  std::mt19937_64 &rng;
  std::vector<float> centroids; // entries x dim
  std::vector<uint32_t> assign;
};

} // namespace

bool qc::quant::fitCodebook(const float *W, int64_t K, int64_t N,
                            const CodebookParams &params, CodebookResult &out,
                            std::string &err,
                            std::vector<std::vector<double>> *errorTrace) {
  const char *fn = "fitCodebook";
  if (!checkMatrix(fn, W, K, N, err) ||
      !checkRange(fn, "vectorLen", params.vectorLen, 1, 1 << 20, err) ||
      !checkRange(fn, "entries", params.entries, 1, 1 << 16, err) ||
      !checkRange(fn, "numCodebooks", params.numCodebooks, 1, 4, err) ||
      !checkRange(fn, "kmeansIters", params.kmeansIters, 0, 1 << 20, err))
    return false;
  const int64_t v = params.vectorLen, E = params.entries;
  if (E * v > (int64_t(1) << 28)) {
    err = std::string(fn) + ": codebook too large (entries * vectorLen > "
                            "2^28)";
    return false;
  }
  const int64_t numVK = ceilDiv(K, v);
  if (!checkShape(fn, numVK * v, N, err, 2))
    return false;

  CodebookResult r;
  r.K = K;
  r.N = N;
  r.vectorLen = v;
  r.entries = E;
  r.numCodebooks = params.numCodebooks;
  r.numVectorRows = numVK;
  r.codebooks.assign(size_t(params.numCodebooks * E * v), 0.0f);
  r.indices.assign(size_t(params.numCodebooks * numVK * N), 0);

  std::vector<double> colScale(size_t(N), 1.0);
  if (params.columnScale) {
    r.columnScales.assign(size_t(N), 1.0f);
    for (int64_t n = 0; n < N; ++n) {
      double ss = 0.0;
      for (int64_t k = 0; k < K; ++k)
        ss += double(W[k * N + n]) * double(W[k * N + n]);
      float s = float(std::sqrt(ss / double(K)));
      if (!(s > 0.0f) || !std::isfinite(s))
        s = 1.0f;
      r.columnScales[size_t(n)] = s;
      colScale[size_t(n)] = double(s);
    }
  }

  // Vector i = vk * N + n holds rows vk*v .. vk*v+len-1 of column n.
  VectorSet vs;
  vs.count = numVK * N;
  vs.dim = v;
  vs.data.assign(size_t(vs.count * v), 0.0);
  vs.len.resize(size_t(vs.count));
  vs.weight.resize(size_t(vs.count));
  for (int64_t vk = 0; vk < numVK; ++vk)
    for (int64_t n = 0; n < N; ++n) {
      const int64_t i = vk * N + n, len = std::min(v, K - vk * v);
      const double s = colScale[size_t(n)];
      vs.len[size_t(i)] = len;
      vs.weight[size_t(i)] = s * s;
      for (int64_t j = 0; j < len; ++j)
        vs.data[size_t(i * v + j)] = double(W[(vk * v + j) * N + n]) / s;
    }

  std::mt19937_64 rng(params.seed);
  std::vector<std::vector<double>> trace(size_t(params.numCodebooks));
  for (int m = 0; m < params.numCodebooks; ++m) {
    KMeans km(vs, E, rng);
    trace[size_t(m)].push_back(km.init());
    for (int it = 0; it < params.kmeansIters; ++it)
      trace[size_t(m)].push_back(km.iterate());
    const std::vector<float> &cents = km.getCentroids();
    const std::vector<uint32_t> &assign = km.getAssignment();
    std::copy(cents.begin(), cents.end(),
              r.codebooks.begin() + int64_t(m) * E * v);
    for (int64_t i = 0; i < vs.count; ++i) {
      const uint32_t e = assign[size_t(i)];
      r.indices[size_t(int64_t(m) * vs.count + i)] = uint16_t(e);
      double *x = vs.vec(i);
      for (int64_t j = 0; j < v; ++j)
        x[j] = j < vs.len[size_t(i)] ? x[j] - double(cents[size_t(e * v + j)])
                                     : 0.0;
    }
  }
  if (errorTrace)
    *errorTrace = std::move(trace);
  out = std::move(r);
  return true;
}

bool qc::quant::verifyCodebook(const CodebookResult &q, std::string &err) {
  const char *fn = "verifyCodebook";
  if (!checkShape(fn, q.K, q.N, err) ||
      !checkRange(fn, "vectorLen", q.vectorLen, 1, 1 << 20, err) ||
      !checkRange(fn, "entries", q.entries, 1, 1 << 16, err) ||
      !checkRange(fn, "numCodebooks", q.numCodebooks, 1, 4, err))
    return false;
  if (q.numVectorRows != ceilDiv(q.K, q.vectorLen) ||
      q.codebooks.size() != size_t(q.numCodebooks * q.entries * q.vectorLen) ||
      q.indices.size() != size_t(q.numCodebooks * q.numVectorRows * q.N) ||
      (!q.columnScales.empty() && q.columnScales.size() != size_t(q.N))) {
    err = std::string(fn) + ": array sizes do not match the shape";
    return false;
  }
  for (uint16_t idx : q.indices)
    if (int64_t(idx) >= q.entries) {
      err = std::string(fn) + ": codebook index out of range";
      return false;
    }
  return true;
}

bool qc::quant::dequantizeCodebook(const CodebookResult &q,
                                   std::vector<float> &W, std::string &err) {
  if (!verifyCodebook(q, err))
    return false;
  const int64_t v = q.vectorLen;
  W.resize(size_t(q.K * q.N));
  for (int64_t k = 0; k < q.K; ++k) {
    const int64_t vk = k / v, j = k % v;
    for (int64_t n = 0; n < q.N; ++n) {
      float acc = 0.0f;
      for (int m = 0; m < q.numCodebooks; ++m) {
        const int64_t idx =
            q.indices[size_t((m * q.numVectorRows + vk) * q.N + n)];
        acc += q.codebooks[size_t((m * q.entries + idx) * v + j)];
      }
      W[size_t(k * q.N + n)] =
          q.columnScales.empty() ? acc : q.columnScales[size_t(n)] * acc;
    }
  }
  return true;
}
