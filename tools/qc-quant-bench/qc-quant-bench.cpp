//===- qc-quant-bench.cpp - time the quantization numerics ----------------===//
//
// A benchmark, not a test: times RTN, GPTQ and the two-stage refinement of
// one synthetic K x N layer (Gaussian weights; H = X^T X of T Gaussian rows
// with correlated channels), and prints the Hessian-weighted error of each.
//
//   qc-quant-bench [--k 4096] [--n 4096] [--bits 4] [--group 128] [--rows 8192]
//                  [--clip 1|0]   (1: MSE clipping search, 0: min-max)
//                  [--two-stage 1|0]
//                  [--boa-heads H]  (also BoA with H heads of N/H columns,
//                                    row Hessians from AR(1) rows as well)
//                  [--boa-joint J]  (and TurboBoA's J columns per step)
//                  [--aespa-iters I] [--aespa-lambda-x1000 L]
//                                   (and aespa: AdaRound on BoA's objective)
//
//===----------------------------------------------------------------------===//

#include "qc/Quant/AdaRound.h"
#include "qc/Quant/BoA.h"
#include "qc/Quant/GPTQ.h"
#include "qc/Quant/Stats.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

using namespace qc::quant;

namespace {

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

} // namespace

int main(int argc, char **argv) {
  int64_t K = 4096, N = 4096, rows = 8192;
  UniformParams params;
  ClipSearch clip = ClipSearch::MSE;
  bool twoStage = true;
  int64_t boaHeads = 0, boaJoint = 0, aespaIters = 0, aespaLambda = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    long long v = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--k"))
      K = v;
    else if (!std::strcmp(argv[i], "--n"))
      N = v;
    else if (!std::strcmp(argv[i], "--bits"))
      params.bits = int(v);
    else if (!std::strcmp(argv[i], "--group"))
      params.group = v;
    else if (!std::strcmp(argv[i], "--rows"))
      rows = v;
    else if (!std::strcmp(argv[i], "--clip"))
      clip = v ? ClipSearch::MSE : ClipSearch::MinMax;
    else if (!std::strcmp(argv[i], "--two-stage"))
      twoStage = v != 0;
    else if (!std::strcmp(argv[i], "--boa-heads"))
      boaHeads = v;
    else if (!std::strcmp(argv[i], "--boa-joint"))
      boaJoint = v;
    else if (!std::strcmp(argv[i], "--aespa-iters"))
      aespaIters = v;
    else if (!std::strcmp(argv[i], "--aespa-lambda-x1000"))
      aespaLambda = v;
    else {
      std::fprintf(stderr, "qc-quant-bench: unknown flag '%s'\n", argv[i]);
      return 1;
    }
  }
  if (K <= 0 || N <= 0 || rows <= 0 || boaHeads < 0 || boaJoint < 0 ||
      (boaHeads > 0 && N % boaHeads != 0) || (boaJoint > 0 && !boaHeads)) {
    std::fprintf(stderr, "qc-quant-bench: sizes must be positive, "
                         "--boa-heads divide N and --boa-joint come with "
                         "it\n");
    return 1;
  }
  std::mt19937_64 rng(0);
  std::normal_distribution<float> normal;
  std::vector<float> W(size_t(K * N));
  for (float &w : W)
    w = 0.02f * normal(rng);
  // H from rows of an AR(1)-correlated input, accumulated as calibration
  // does (TapStats::accumulate, in chunks of 512 rows).
  TapStats stats;
  stats.layers = {"bench"};
  stats.reset(K, false);
  std::vector<float> X(size_t(512 * K));
  auto t0 = std::chrono::steady_clock::now();
  std::string err;
  for (int64_t done = 0; done < rows; done += 512) {
    int64_t r = std::min<int64_t>(512, rows - done);
    for (int64_t i = 0; i < r; ++i) {
      float prev = normal(rng);
      for (int64_t k = 0; k < K; ++k) {
        prev = 0.8f * prev + 0.6f * normal(rng);
        X[size_t(i * K + k)] = prev;
      }
    }
    if (!stats.accumulate(X.data(), r, K, nullptr, err)) {
      std::fprintf(stderr, "qc-quant-bench: %s\n", err.c_str());
      return 1;
    }
  }
  double tStats = seconds(t0);
  std::printf("layer %lld x %lld, w%dg%lld, H from %lld rows (%.2f s)\n",
              (long long)K, (long long)N, params.bits,
              (long long)params.group, (long long)rows, tStats);

  auto report = [&](const char *what, double t, const UniformResult &q) {
    std::vector<float> deq;
    dequantizeUniform(q, deq, err);
    double e = hessianError(W.data(), deq.data(), K, N, stats.H.data()) /
               double(rows);
    std::printf("%-22s %8.3f s   H-weighted error / row %.4e\n", what, t, e);
  };
  UniformResult rtn, gptq, init, refined;
  t0 = std::chrono::steady_clock::now();
  quantizeUniformRTN(W.data(), K, N, params, clip, rtn, err);
  report(clip == ClipSearch::MSE ? "rtn (mse clip)" : "rtn (min-max)",
         seconds(t0), rtn);
  t0 = std::chrono::steady_clock::now();
  if (!gptqUniform(W.data(), K, N, stats.H.data(), params, clip,
                   GPTQOptions(), nullptr, gptq, err)) {
    std::fprintf(stderr, "qc-quant-bench: %s\n", err.c_str());
    return 1;
  }
  report("gptq", seconds(t0), gptq);
  if (boaHeads > 0) {
    // Row Hessians: the covariance of AR(1) rows of each head's width.
    const int64_t d = N / boaHeads;
    RowHessians rowH;
    rowH.heads = boaHeads;
    rowH.headDim = d;
    for (int64_t h = 0; h < boaHeads; ++h) {
      TapStats m;
      m.reset(d, false);
      std::vector<float> Y(size_t(4 * d * d));
      for (int64_t i = 0; i < 4 * d; ++i) {
        float prev = normal(rng);
        for (int64_t j = 0; j < d; ++j) {
          prev = 0.8f * prev + 0.6f * normal(rng);
          Y[size_t(i * d + j)] = prev;
        }
      }
      m.accumulate(Y.data(), 4 * d, d, nullptr, err);
      rowH.M.insert(rowH.M.end(), m.H.begin(), m.H.end());
    }
    auto runBoA = [&](const char *what, int64_t joint) {
      UniformResult q;
      BoAOptions options;
      options.jointColumns = joint;
      auto start = std::chrono::steady_clock::now();
      if (!boaUniform(W.data(), K, N, stats.H.data(), rowH, params, clip,
                      options, q, err)) {
        std::fprintf(stderr, "qc-quant-bench: %s\n", err.c_str());
        return false;
      }
      report(what, seconds(start), q);
      std::vector<float> deq;
      dequantizeUniform(q, deq, err);
      std::printf("%-22s            Kronecker error / row %.4e\n", "",
                  kroneckerError(W.data(), deq.data(), K, N, stats.H.data(),
                                 rowH) /
                      double(rows));
      return true;
    };
    std::vector<float> gptqDeq;
    dequantizeUniform(gptq, gptqDeq, err);
    std::printf("%-22s            Kronecker error / row %.4e\n", "gptq",
                kroneckerError(W.data(), gptqDeq.data(), K, N,
                               stats.H.data(), rowH) /
                    double(rows));
    if (!runBoA("boa", 1))
      return 1;
    if (boaJoint > 1 &&
        !runBoA(("turboboa (" + std::to_string(boaJoint) + " columns)")
                    .c_str(),
                boaJoint))
      return 1;
    if (aespaIters > 0) {
      QuadraticObjective objective;
      objective.heads = boaHeads;
      objective.headDim = d;
      objective.H.assign(size_t(boaHeads), stats.H.data());
      objective.M = rowH.M;
      AdaRoundOptions options;
      options.iterations = int(aespaIters);
      options.lambda = double(aespaLambda) / 1000.0;
      UniformResult q;
      double relative = 0;
      t0 = std::chrono::steady_clock::now();
      if (!adaroundUniform(W.data(), K, N, objective, params, clip, options,
                           q, err, &relative)) {
        std::fprintf(stderr, "qc-quant-bench: %s\n", err.c_str());
        return 1;
      }
      report("aespa (adaround)", seconds(t0), q);
      std::vector<float> deq;
      dequantizeUniform(q, deq, err);
      std::printf("%-22s            Kronecker error / row %.4e (%.3f of "
                  "rtn's)\n",
                  "",
                  kroneckerError(W.data(), deq.data(), K, N, stats.H.data(),
                                 rowH) /
                      double(rows),
                  relative);
    }
  }
  if (!twoStage)
    return 0;
  t0 = std::chrono::steady_clock::now();
  quantizeUniformHessianInit(W.data(), K, N, params, stats.H.data(), init,
                             err);
  gptqUniform(W.data(), K, N, stats.H.data(), params, clip, GPTQOptions(),
              &init, refined, err);
  refineUniformScales(W.data(), K, N, stats.H.data(), nullptr, 20, refined,
                      err);
  report("gptq + two-stage", seconds(t0), refined);
  return 0;
}
