//===- SweepFactor.cpp - GPTQ's factor of the Hessian ---------------------===//

#include "SweepFactor.h"

#include <Eigen/Cholesky>

#include <algorithm>

using namespace qc::quant::detail;

namespace {

/// The lower half of the damped Hessian in processing order, reversed, in
/// single precision: A(i, j) = Hp(r_i, r_j) + lambda [i == j], r_i = K-1-i,
/// Hp = H in the order `perm` with dead channels decoupled (see GPTQ.h).
void reversedDampedHessian(const double *H, int64_t K,
                           const std::vector<int64_t> &perm, double damp,
                           MatF &A) {
  auto live = [&](int64_t a) { return H[perm[size_t(a)] * (K + 1)] > 0; };
  double meanDiag = 0;
  for (int64_t a = 0; a < K; ++a)
    meanDiag += live(a) ? H[perm[size_t(a)] * (K + 1)] : 1.0;
  const float lambda = float(damp * meanDiag / double(K));
  A.resize(K, K);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < K; ++i) {
    const int64_t a = K - 1 - i;
    const double *row = H + perm[size_t(a)] * K;
    for (int64_t j = 0; j < i; ++j) {
      const int64_t b = K - 1 - j;
      A(i, j) = live(a) && live(b) ? float(row[perm[size_t(b)]]) : 0.0f;
    }
    A(i, i) = (live(a) ? float(row[perm[size_t(a)]]) : 1.0f) + lambda;
  }
}

} // namespace

bool qc::quant::detail::choleskyInPlace(MatF &A) {
  const int64_t n = A.rows(), nb = 128;
  for (int64_t k = 0; k < n; k += nb) {
    const int64_t b = std::min(nb, n - k), rest = n - k - b;
    Eigen::Ref<MatF> a11 = A.block(k, k, b, b);
    Eigen::LLT<Eigen::Ref<MatF>> diag(a11); // in place
    if (diag.info() != Eigen::Success)
      return false;
    if (rest == 0)
      break;
    auto L11 = A.block(k, k, b, b).triangularView<Eigen::Lower>();
    const int64_t numPanels = (rest + nb - 1) / nb;
    // A21 <- A21 L11^-T, a panel of rows at a time.
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < numPanels; ++p) {
      const int64_t r0 = k + b + p * nb, rows = std::min(nb, n - r0);
      L11.transpose().solveInPlace<Eigen::OnTheRight>(
          A.block(r0, k, rows, b));
    }
    // A22 <- A22 - A21 A21^T on and below the diagonal: panel p updates its
    // rows up to its last column.
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t p = numPanels - 1; p >= 0; --p) {
      const int64_t r0 = k + b + p * nb, rows = std::min(nb, n - r0);
      const int64_t cols = r0 + rows - (k + b);
      A.block(r0, k + b, rows, cols).noalias() -=
          A.block(r0, k, rows, b) * A.block(k + b, k, cols, b).transpose();
    }
  }
  return true;
}

bool qc::quant::detail::sweepFactor(const double *H, int64_t K,
                                    const std::vector<int64_t> &perm,
                                    double damp, int64_t blockSize,
                                    SweepFactor &f, const char *fn,
                                    std::string &err) {
  MatF A;
  for (int attempt = 0; attempt < 4; ++attempt, damp *= 10) {
    reversedDampedHessian(H, K, perm, damp, A);
    // A's lower half becomes L; its upper half is never written or read.
    if (!choleskyInPlace(A) || !(A.diagonal().array() > 0).all())
      continue;
    // R(i, j) = L(K-1-i, K-1-j) (R = J L J) is upper triangular.
    f.R.resize(K, K);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < K; ++i) {
      const float *l = &A(K - 1 - i, 0);
      float *r = &f.R(i, 0);
      std::fill(r, r + i, 0.0f);
      for (int64_t j = i; j < K; ++j)
        r[j] = l[K - 1 - j];
    }
    if (!f.R.allFinite())
      continue;
    f.blockSize = blockSize;
    f.blockInverse.clear();
    for (int64_t i1 = 0; i1 < K; i1 += blockSize) {
      const int64_t B = std::min(blockSize, K - i1);
      MatF Ub = MatF::Identity(B, B);
      f.R.block(i1, i1, B, B).triangularView<Eigen::Upper>().solveInPlace(Ub);
      f.blockInverse.push_back(Ub.triangularView<Eigen::Upper>());
    }
    return true;
  }
  err = std::string(fn) +
        ": the Hessian is not positive definite even with relative damping " +
        std::to_string(damp / 10);
  return false;
}
