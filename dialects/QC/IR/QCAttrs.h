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

} // namespace qc

#endif // QC_QCATTRS_H
