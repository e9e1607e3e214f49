//===- SweepFactor.h - GPTQ's factor of the Hessian -------------*- C++ -*-===//
//
// The Cholesky factorization GPTQ's sweep runs on, shared by GPTQ and BoA
// (internal to QCQuant).
//
//===----------------------------------------------------------------------===//

#ifndef QC_LIB_QUANT_SWEEPFACTOR_H
#define QC_LIB_QUANT_SWEEPFACTOR_H

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

namespace qc {
namespace quant {
namespace detail {

using MatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                           Eigen::RowMajor>;

/// The lower Cholesky factor of the symmetric matrix whose lower half is in
/// A, in place (the upper half is neither read nor written); false when A is
/// not numerically positive definite. Right-looking and blocked, with the
/// triangular solves and the trailing updates split into row panels that run
/// in parallel (Eigen's LLT runs them on one thread).
bool choleskyInPlace(MatF &A);

/// What the GPTQ sweep needs of the damped Hp + lambda I = R R^T, R upper
/// triangular (the Cholesky factor of the reversed matrix, reversed).
///
/// GPTQ's reference inverts: with H^-1 = U^T U (U = R^-1 upper) it feeds the
/// scaled error e_i = (w'_i - q_i) / U(i, i) of row i forward as
/// w'_j -= U(i, j) e_i. Here only the diagonal blocks of U (one per lazy
/// block of rows, `blockInverse`) are formed. Across blocks the updates go
/// through R itself: with W - Q = U^T E (so E = R^T (W - Q)), rows 2 after
/// the rows 1 quantized so far hold, in the reference,
///   W'_2 = W_2 - U_12^T E_1 = W_2 + R_22^-T (R_12^T (W_1 - Q_1)),
/// and the rows of the next block B need only its own diagonal block:
///   W'_B = W_B + R_BB^-T G_B,  G = R_12^T (W_1 - Q_1)
/// (R_22^-T is lower triangular). G accumulates lazily, one matrix product
/// per block as the reference's updates; each block adds one small
/// triangular solve. So every row is quantized from the reference's values.
struct SweepFactor {
  MatF R;
  int64_t blockSize = 0;
  /// U_BB = R_BB^-1 of each block, upper triangular.
  std::vector<MatF> blockInverse;
};

/// SweepFactor of the reversed damped Hessian H (K x K) with its channels
/// in the order `perm`, dead channels (H[k][k] = 0) decoupled, damping
/// `damp` relative to the mean diagonal, raised tenfold up to three times;
/// single precision, as GPTQ's reference (the damping keeps it well
/// conditioned). `fn` names the caller in `err`.
bool sweepFactor(const double *H, int64_t K, const std::vector<int64_t> &perm,
                 double damp, int64_t blockSize, SweepFactor &f,
                 const char *fn, std::string &err);

} // namespace detail
} // namespace quant
} // namespace qc

#endif // QC_LIB_QUANT_SWEEPFACTOR_H
