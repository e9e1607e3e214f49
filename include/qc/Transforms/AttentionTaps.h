//===- AttentionTaps.h - Calibration taps for BoA's statistics --*- C++ -*-===//
//
// qc-insert-observe{attention=true}: finds the attention score products
// (linalg.batch_matmul Q~ x K~^T whose operands each come from exactly one
// qc.linear, both reading the same input) and taps what BoA needs
// (qc/Quant/BoA.h): the post-rotary queries and keys as the product reads
// them, as rows of all heads of a position, and, where the queries pass
// through a rotate-half rotary embedding x * cos + rotate_half(x) * sin,
// its tables as rows [cos_t, sin_t]. For the product of those scores'
// probabilities P with the values, it taps the rows of P_h X (X the value
// projection's input), per key/value head the rows of the query heads that
// share it: BoA's attention-aware Hessian of the value projection.
//
//===----------------------------------------------------------------------===//

#ifndef QC_TRANSFORMS_ATTENTIONTAPS_H
#define QC_TRANSFORMS_ATTENTIONTAPS_H

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>

namespace qc {

/// Inserts the taps, numbered from `nextTap` on (advanced past them), and
/// returns how many attentions it found. Layers matching `excluded` (a
/// predicate on the layer name) get no tap.
int64_t insertAttentionTaps(mlir::ModuleOp module, int64_t &nextTap,
                            llvm::function_ref<bool(llvm::StringRef)> excluded);

} // namespace qc

#endif // QC_TRANSFORMS_ATTENTIONTAPS_H
