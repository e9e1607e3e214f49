//===- Codebook.h - Additive codebook (vector) quantization -----*- C++ -*-===//
//
// Simplified AQLM-style vector quantization. Vectors are `vectorLen`
// consecutive weights along K within one output column; when K is not a
// multiple of vectorLen the last vector of each column is shorter (the
// missing tail is ignored by distances and centroid updates). With numCodebooks
// M > 1 the codebooks are additive: codebook m quantizes the residual left by
// codebooks 0..m-1. See Uniform.h for the matrix conventions.
//
//===----------------------------------------------------------------------===//

#ifndef QC_QUANT_CODEBOOK_H
#define QC_QUANT_CODEBOOK_H

#include <cstdint>
#include <string>
#include <vector>

namespace qc {
namespace quant {

/// Parameters of fitCodebook.
struct CodebookParams {
  /// Weights per vector along K, >= 1.
  int64_t vectorLen = 8;
  /// Entries per codebook, 1..65536 (indices are stored as uint16).
  int64_t entries = 256;
  /// Number of additive codebooks M, 1..4.
  int numCodebooks = 1;
  /// Lloyd iterations per codebook after k-means++ initialization, >= 0.
  int kmeansIters = 10;
  /// Seed of the std::mt19937_64 used by k-means++.
  uint64_t seed = 0;
  /// Normalize each output column by its RMS before clustering and store
  /// the scale. Clustering is then weighted by scale^2, so it minimizes the
  /// squared error of the reconstructed (unnormalized) weights.
  bool columnScale = false;
};

/// A codebook-quantized K x N matrix:
///   w[k][n] = colScale[n] * sum_m codebooks[m][idx[m][k/v][n]][k % v].
struct CodebookResult {
  int64_t K = 0, N = 0;
  int64_t vectorLen = 0;
  int64_t entries = 0;
  int numCodebooks = 0;
  /// ceil(K / vectorLen).
  int64_t numVectorRows = 0;
  /// Codebooks, [M][entries][vectorLen] row-major.
  std::vector<float> codebooks;
  /// Indices, [M][numVectorRows][N] row-major.
  std::vector<uint16_t> indices;
  /// Per-output-column scales [N]; empty when no column scaling was used.
  std::vector<float> columnScales;
};

/// Fits additive codebooks to W (K x N) with k-means++ initialization and
/// Lloyd iterations. If `errorTrace` is given, (*errorTrace)[m] receives the
/// total squared reconstruction error (of the unnormalized weights, with
/// codebooks 0..m) after initialization and after each iteration of
/// codebook m (kmeansIters + 1 values); it is non-increasing within each
/// codebook and, for kmeansIters >= 1, across codebooks. Deterministic for a
/// given seed. Returns false and sets `err` on bad arguments.
bool fitCodebook(const float *W, int64_t K, int64_t N,
                 const CodebookParams &params, CodebookResult &out,
                 std::string &err,
                 std::vector<std::vector<double>> *errorTrace = nullptr);

/// Reconstructs W (resized to K*N) from `q`. Returns false on inconsistent
/// input.
bool dequantizeCodebook(const CodebookResult &q, std::vector<float> &W,
                        std::string &err);

/// Checks the internal consistency of `q` (sizes, index range).
bool verifyCodebook(const CodebookResult &q, std::string &err);

} // namespace quant
} // namespace qc

#endif // QC_QUANT_CODEBOOK_H
