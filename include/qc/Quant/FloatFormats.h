//===- FloatFormats.h - FP8, MXFP4, AMXFP4 and dINT formats -----*- C++ -*-===//
//
// Element formats: FP8 E4M3 (OCP "E4M3FN": bias 7, no infinities, NaN =
// S.1111.111, max 448), E2M1 (FP4: +-{0, 0.5, 1, 1.5, 2, 3, 4, 6}) and E8M0
// (power-of-two scale 2^(e - 127), 255 = NaN). Block formats quantize W
// (K x N, see Uniform.h) in blocks of 32 consecutive rows along K within one
// output column (the last block of a column is shorter when 32 does not
// divide K).
//
//===----------------------------------------------------------------------===//

#ifndef QC_QUANT_FLOATFORMATS_H
#define QC_QUANT_FLOATFORMATS_H

#include <cstdint>
#include <string>
#include <vector>

namespace qc {
namespace quant {

//===----------------------------------------------------------------------===//
// Scalar formats
//===----------------------------------------------------------------------===//

/// Rounds `x` to FP8 E4M3 (round-to-nearest-even; finite values and
/// infinities beyond +-448 saturate to +-448; NaN gives 0x7F/0xFF by sign).
uint8_t quantizeFP8E4M3(float x);
/// The value of an FP8 E4M3 code (NaN for S.1111.111).
float dequantizeFP8E4M3(uint8_t code);

/// Rounds `x` to E2M1 (round-to-nearest-even on the E2M1 grid, saturating
/// to +-6; NaN gives 0). Returns the 4-bit code: bit 3 = sign, bits 0..2
/// index {0, 0.5, 1, 1.5, 2, 3, 4, 6}.
uint8_t quantizeE2M1(float x);
/// The value of the low 4 bits of `code` as E2M1.
float dequantizeE2M1(uint8_t code);

/// 2^(e - 127) for an E8M0 code `e` (NaN for 255).
float decodeE8M0(uint8_t e);

/// Elements per MX block.
constexpr int64_t kMXBlockSize = 32;

//===----------------------------------------------------------------------===//
// MXFP4 (OCP MX v1.0)
//===----------------------------------------------------------------------===//

/// MXFP4: per block a shared E8M0 scale X = 2^(floor(log2(amax)) - 2)
/// (emax of E2M1 is 2; 2^-127 for an all-zero block) and E2M1 elements
/// round-to-nearest-even(w / X) saturated to +-6: w ~ X * e2m1(code).
struct MXFP4Result {
  int64_t K = 0, N = 0;
  /// E2M1 codes (0..15), K x N row-major.
  std::vector<uint8_t> codes;
  /// E8M0 scale codes, [ceil(K/32)][N] row-major.
  std::vector<uint8_t> scaleExps;
};

/// Quantizes W to MXFP4. Returns false on bad arguments (null/empty input,
/// non-finite weights).
bool quantizeMXFP4(const float *W, int64_t K, int64_t N, MXFP4Result &out,
                   std::string &err);
/// Reconstructs W (resized to K*N).
bool dequantizeMXFP4(const MXFP4Result &q, std::vector<float> &W,
                     std::string &err);

//===----------------------------------------------------------------------===//
// AMXFP4 (asymmetric MX, after Lee et al., "AMXFP4")
//===----------------------------------------------------------------------===//

/// AMXFP4 as defined here: MXFP4 with two E8M0 shared scales per block, one
/// for the non-negative and one for the negative elements. Xp is chosen by
/// the MX rule from the largest positive value of the block and Xn from the
/// largest magnitude among its negative values (2^-127 when there is none);
/// an element w >= 0 is stored as E2M1 code of w / Xp, w < 0 as the code of
/// w / Xn (sign bit set), and decodes as e2m1(code) * (sign ? Xn : Xp).
struct AMXFP4Result {
  int64_t K = 0, N = 0;
  /// E2M1 codes (0..15), K x N row-major; the sign bit selects the scale.
  std::vector<uint8_t> codes;
  /// E8M0 scale codes for non-negative elements, [ceil(K/32)][N].
  std::vector<uint8_t> posScaleExps;
  /// E8M0 scale codes for negative elements, [ceil(K/32)][N].
  std::vector<uint8_t> negScaleExps;
};

/// Quantizes W to AMXFP4. Returns false on bad arguments.
bool quantizeAMXFP4(const float *W, int64_t K, int64_t N, AMXFP4Result &out,
                    std::string &err);
/// Reconstructs W (resized to K*N).
bool dequantizeAMXFP4(const AMXFP4Result &q, std::vector<float> &W,
                      std::string &err);

//===----------------------------------------------------------------------===//
// dINT (integer grid with denormal levels)
//===----------------------------------------------------------------------===//

/// dINT with b bits: a symmetric integer grid whose two levels nearest zero
/// are +-1/2 (in units of the scale). With M = 2^(b-1), code c in
/// [0, 2^b - 1] and v = c - M, the level is 0 for v = 0, sign(v) / 2 for
/// |v| = 1 and sign(v) * (|v| - 1) for 2 <= |v| <= M - 1; the spare code
/// c = 0 (v = -M) is never produced and decodes as 0. So 4 bits give
/// {0, +-0.5, +-1, ..., +-6} and 2 bits {0, +-0.5}. The largest level is
/// L = M - 2 (0.5 for b = 2); per per-OC group scale = absmax / L (1 for an
/// all-zero group) and each weight goes to the level nearest w / scale,
/// ties to the smaller magnitude.
struct DIntResult {
  int64_t K = 0, N = 0;
  int bits = 0;
  /// Resolved per-OC group size along K (> 0).
  int64_t group = 0;
  /// Codes, K x N row-major.
  std::vector<uint8_t> codes;
  /// Scales, [ceil(K/group)][N] row-major.
  std::vector<float> scales;
};

/// The dINT level of `code` for `bits` (in units of the scale; 0 for codes
/// out of range).
float dintLevel(int bits, int code);

/// Quantizes W to dINT with per-OC groups (group -1/0 = whole K). Returns
/// false on bad arguments (bits outside 2..8, group < -1, ...).
bool quantizeDInt(const float *W, int64_t K, int64_t N, int bits, int64_t group,
                  DIntResult &out, std::string &err);
/// Reconstructs W (resized to K*N).
bool dequantizeDInt(const DIntResult &q, std::vector<float> &W,
                    std::string &err);

} // namespace quant
} // namespace qc

#endif // QC_QUANT_FLOATFORMATS_H
