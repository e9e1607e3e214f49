//===- Hadamard.h - Randomized Hadamard rotations ---------------*- C++ -*-===//
//
// The orthogonal transforms of rotation-based outlier suppression (QuaRot):
// for a width K = m * 2^n with a known Hadamard matrix H_m,
//
//   T = diag(s) (H_m (x) H_{2^n}) / sqrt(K)
//
// with s a fixed-seed random sign vector, H_{2^n} Sylvester's matrix and
// (x) the Kronecker product (index k = i * 2^n + j). A row vector is
// rotated as x T: the signs, a fast Walsh-Hadamard transform over j, then
// H_m^T mixing over i. T T^T = I, so x W = (x T)(T^T W).
//
// H_m comes from Paley's constructions (I: m - 1 a prime = 3 mod 4; II:
// m / 2 - 1 a prime = 1 mod 4), which give every m the usual model widths
// need (12, 20, 28, 36, 44, 60, ...; not 52, which takes another
// construction).
//
//===----------------------------------------------------------------------===//

#ifndef QC_QUANT_HADAMARD_H
#define QC_QUANT_HADAMARD_H

#include <cstdint>
#include <optional>
#include <vector>

namespace qc {
namespace quant {

/// A Hadamard matrix of order `m` (entries +-1, H H^T = m I), row-major;
/// empty when neither Sylvester's nor Paley's construction gives one.
std::vector<int8_t> hadamardMatrix(int64_t m);

/// How the rotation of width K is computed.
struct HadamardPlan {
  int64_t K = 0;
  /// K = order * pow2, with `small` = H_order (order x order, row-major).
  int64_t order = 1, pow2 = 1;
  std::vector<int8_t> small;
  /// s / sqrt(K), one per input channel.
  std::vector<float> signs;
};

/// The plan for width `k` with the smallest Hadamard factor (of order at
/// most `maxOrder` when it is > 0: the mix costs `order` multiply-adds per
/// value), signs drawn from `seed` (the same on every platform); none when
/// k has no such factor.
std::optional<HadamardPlan> planHadamard(int64_t k, uint64_t seed,
                                         int64_t maxOrder = 0);

/// T as a dense K x K row-major matrix.
std::vector<float> denseTransform(const HadamardPlan &plan);

/// A random orthogonal K x K matrix (QR of a Gaussian one, row-major), for
/// widths without a Hadamard matrix.
std::vector<float> randomOrthogonal(int64_t k, uint64_t seed);

/// out = a (rows x inner) * b (inner x cols), all row-major.
std::vector<float> matmul(const std::vector<float> &a,
                          const std::vector<float> &b, int64_t rows,
                          int64_t inner, int64_t cols);

/// t^T (inner x inner) * w (inner x cols): a weight's rows rotated.
std::vector<float> transposedTimes(const std::vector<float> &t,
                                   const std::vector<float> &w, int64_t inner,
                                   int64_t cols);

} // namespace quant
} // namespace qc

#endif // QC_QUANT_HADAMARD_H
