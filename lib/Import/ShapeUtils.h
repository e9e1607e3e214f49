//===- ShapeUtils.h - helpers of the shape and data-movement ops -*- C++ -*-===//
//
// Shared by OpsShape.cpp, OpsSlice.cpp, OpsGather.cpp, OpsPadTile.cpp and the
// loops (OpsControlFlow.cpp, OpsRecurrent.cpp):
// input checks, axis normalization, host-side folding decisions, index
// arithmetic and the generic every gather-like op is built from.
//
//===----------------------------------------------------------------------===//

#ifndef QC_LIB_IMPORT_SHAPEUTILS_H
#define QC_LIB_IMPORT_SHAPEUTILS_H

#include "HostFolding.h"
#include "Importer.h"

#include <optional>

namespace qc {
namespace detail {

using mlir::AffineMap;
using mlir::ArrayRef;
using mlir::FailureOr;
using mlir::Location;
using mlir::LogicalResult;
using mlir::OpBuilder;
using mlir::OpFoldResult;
using mlir::SmallVector;
using mlir::StringRef;
using mlir::Type;
using mlir::Value;
using mlir::ValueRange;
using mlir::function_ref;

/// Fails with a diagnostic unless inputs 0..n-1 are present.
LogicalResult requireInputs(NodeContext &nc, unsigned n);

/// Input i if it is present and of a float type, else null after the
/// diagnostic "expects a float input tensor".
Value floatInput(NodeContext &nc, unsigned i);

/// The static shape of input `i`.
SmallVector<int64_t> inputShape(NodeContext &nc, unsigned i);

/// `[a, b, c]` for messages.
std::string listStr(ArrayRef<int64_t> xs);

/// Index attributes of `xs` (offsets, sizes, strides of slices).
SmallVector<OpFoldResult> indexAttrs(OpBuilder &b, ArrayRef<int64_t> xs);

/// Step `t` (an index) of `v` along its first dimension, without that
/// dimension: what one iteration of a loop over a sequence reads.
Value extractStep(NodeContext &nc, Value v, Value t);
/// `dest` with `step` (its shape without the first dimension) written at
/// index `t` of the first dimension.
Value insertStep(NodeContext &nc, Value step, Value dest, Value t);

/// `offsets` of a slice of `sizes` with the offset of every empty dimension
/// at 0: an empty slice may start at the dimension's end in ONNX, which
/// tensor.extract_slice's verifier refuses.
SmallVector<int64_t> emptySafeOffsets(ArrayRef<int64_t> offsets,
                                      ArrayRef<int64_t> sizes);

/// Whether a result of `n` elements computed from constants that hold
/// `inputElems` elements in all is folded on the host: always when it is
/// small, and when it does not grow the data.
bool worthFolding(int64_t n, int64_t inputElems);

/// Fails with a diagnostic if a shape has a negative dim or an absurd size.
LogicalResult checkShape(NodeContext &nc, ArrayRef<int64_t> shape,
                         StringRef what);

/// Normalizes a list of axes against `rank`; fails on out-of-range and
/// repeated axes. The result keeps the given order.
FailureOr<SmallVector<int64_t>> normalizeAxes(NodeContext &nc,
                                              ArrayRef<int64_t> axes,
                                              int64_t rank);

/// An axis attribute normalized against `rank` (which must be >= 1).
FailureOr<int64_t> axisAttr(NodeContext &nc, int64_t dflt, int64_t rank);

/// A list of integers that moved from attribute `name` to input `index` at
/// opset `inputSince`; nullopt if absent.
FailureOr<std::optional<SmallVector<int64_t>>>
intsArg(NodeContext &nc, unsigned index, StringRef name, int64_t inputSince);

/// A scalar of MLIR type `elt` holding element `i` of a host tensor.
Value hostScalar(NodeContext &nc, const HostTensor &t, int64_t i, Type elt);

/// Element `i` (row-major) of a tensor value, read at the builder's point.
Value extractAt(NodeContext &nc, Value t, int64_t i);

/// An integer (or float, truncated) scalar as an index value.
Value toIndex(OpBuilder &b, Location l, Value v, DType d);

/// An index constant.
Value cidx(OpBuilder &b, Location l, int64_t v);

/// i < 0 ? i + n : i, clamped to [0, n-1]. ONNX leaves out-of-range indices
/// undefined; the clamp keeps every read in bounds.
Value wrapIndex(OpBuilder &b, Location l, Value i, int64_t n);

/// A body that sees the generic's inputs and the loop indices.
using IndexedBody = function_ref<Value(OpBuilder &, Location, ValueRange,
                                       ArrayRef<Value>)>;

/// One parallel linalg.generic over `shape` with the given inputs and input
/// maps; the body also gets linalg.index of every dim.
Value emitGeneric(NodeContext &nc, ArrayRef<int64_t> shape, Type elt,
                  ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                  IndexedBody body);

/// Binds output 0 to input 0 with another shape of the same element count;
/// a known input stays a known constant whatever its size.
LogicalResult bindReshaped(NodeContext &nc, ArrayRef<int64_t> shape);

/// Binds output `i` to a slice of input 0 (positive strides), folded when
/// the input is known.
void bindSlice(NodeContext &nc, unsigned i, ArrayRef<int64_t> offsets,
               ArrayRef<int64_t> sizes, ArrayRef<int64_t> strides);

/// One linalg.generic contraction of float tensors: out[outDims] +=
/// a[aDims] * b[bDims] over loop dims of the given `sizes`; dims not in
/// `outDims` are reductions.
Value contract(NodeContext &nc, Value a, ArrayRef<unsigned> aDims, Value b,
               ArrayRef<unsigned> bDims, ArrayRef<unsigned> outDims,
               ArrayRef<int64_t> sizes);

} // namespace detail
} // namespace qc

#endif // QC_LIB_IMPORT_SHAPEUTILS_H
