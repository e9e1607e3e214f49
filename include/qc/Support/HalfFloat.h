//===- HalfFloat.h - f16 / bf16 bits to and from floats ---------*- C++ -*-===//
//
// The one conversion between IEEE half / bfloat16 storage and floats of the
// compiler (weights, scales, ONNX tensors): LLVM's APFloat, rounding to
// nearest even. The runtime has its own (no LLVM there).
//
//===----------------------------------------------------------------------===//

#ifndef QC_SUPPORT_HALFFLOAT_H
#define QC_SUPPORT_HALFFLOAT_H

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"

#include <cstdint>

namespace qc {

/// The f16 (or, with `bf16`, bfloat16) bits nearest to `v` (ties to even).
inline uint16_t toHalfBits(double v, bool bf16) {
  llvm::APFloat f(v);
  bool lost;
  f.convert(bf16 ? llvm::APFloat::BFloat() : llvm::APFloat::IEEEhalf(),
            llvm::APFloat::rmNearestTiesToEven, &lost);
  return static_cast<uint16_t>(f.bitcastToAPInt().getZExtValue());
}

/// The value of f16 (or bfloat16) bits, exactly.
inline double fromHalfBits(uint16_t bits, bool bf16) {
  return llvm::APFloat(bf16 ? llvm::APFloat::BFloat()
                            : llvm::APFloat::IEEEhalf(),
                       llvm::APInt(16, bits))
      .convertToDouble();
}

} // namespace qc

#endif // QC_SUPPORT_HALFFLOAT_H
