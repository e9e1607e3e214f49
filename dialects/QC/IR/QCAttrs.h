//===- QCAttrs.h - qc quantization scheme attributes ------------*- C++ -*-===//

#ifndef QC_QCATTRS_H
#define QC_QCATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/SmallVector.h"

#include "QC/IR/QCEnums.h.inc"

#include "QC/IR/QCAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "QC/IR/QCAttrs.h.inc"

namespace qc {

/// Parses a scheme's short name, the spelling of `qc-compile --quant` and of
/// recipes: `w4g128` (uniform, asymmetric, per-OC groups of 128), `w4` (one
/// group per column), suffix `s` symmetric, `ic` per-IC groups (`w3g128ic`),
/// `bcq3g128`, `cb2x8` (2 codebooks of 2^8 entries, vectors of 8) or
/// `cb1x16v8`, `fp8`, `mxfp4`, `amxfp4`, `dint4g128`. Scales are f16.
/// Returns a null attribute and sets `error` on malformed names.
QuantSchemeAttrInterface parseQuantScheme(mlir::MLIRContext *context,
                                          llvm::StringRef name,
                                          std::string &error);

/// The activation scheme `--act NAME` gives a layer whose weight is in
/// `scheme`: `auto` (int8 for uniform and BCQ weights, whose kernels take
/// it, float for the others), `f32` (float activations), `int8` and `int4`
/// (a scale per block of the largest divisor of the weight group up to 128
/// inputs: 128 for whole columns and non-uniform schemes), `int8t` /
/// `int4t` (a scale per token), `int8b<B>` / `int4b<B>` (per block of B),
/// `dint4`, `dint4t`, `dint4b<B>` (the same blocks, 4-bit dINT levels),
/// `mxfp4`, `amxfp4`, `int8s` (static per-tensor int8: the scale, 1 here, is the
/// caller's to calibrate, see isStaticActivationName). A null attribute for
/// float activations; failure with `error` on a malformed name.
mlir::FailureOr<ActivationAttr> activationFor(llvm::StringRef name,
                                              QuantSchemeAttrInterface scheme,
                                              std::string &error);

/// Whether `--act NAME` asks for static activations, whose scale comes from
/// calibration statistics.
inline bool isStaticActivationName(llvm::StringRef name) {
  return name == "int8s";
}

} // namespace qc

#endif // QC_QCATTRS_H
