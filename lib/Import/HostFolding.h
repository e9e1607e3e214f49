//===- HostFolding.h - import-time evaluation of known tensors --*- C++ -*-===//
//
// Helpers that compute tensors whose value is known at import time on the
// host, so that shape subgraphs (Shape -> Gather -> Unsqueeze -> Concat ->
// Reshape, with integer arithmetic in between) fold to constants.
//
//===----------------------------------------------------------------------===//

#ifndef QC_LIB_IMPORT_HOSTFOLDING_H
#define QC_LIB_IMPORT_HOSTFOLDING_H

#include "Importer.h"

#include "llvm/ADT/STLFunctionalExtras.h"

namespace qc {
namespace detail {

/// Largest result, in elements, folded on the host when folding could make
/// the data grow (a broadcast, a tile, a pad, arithmetic).
constexpr int64_t kMaxFoldElements = 4096;

/// Product of the dims (1 for a scalar).
int64_t shapeProduct(llvm::ArrayRef<int64_t> shape);
/// Row-major strides of a shape, in elements.
llvm::SmallVector<int64_t> rowMajorStrides(llvm::ArrayRef<int64_t> shape);
/// Numpy broadcast of the shapes; nullopt if they do not broadcast.
std::optional<llvm::SmallVector<int64_t>>
hostBroadcastShape(llvm::ArrayRef<llvm::SmallVector<int64_t>> shapes);
/// Flat index into a tensor of `shape` read at multi-index `idx` of its
/// numpy broadcast to a shape of rank idx.size().
int64_t broadcastFlatIndex(llvm::ArrayRef<int64_t> shape,
                           llvm::ArrayRef<int64_t> idx);
/// Calls `fn` with every multi-index of `shape`, in row-major order.
void forEachIndex(llvm::ArrayRef<int64_t> shape,
                  llvm::function_ref<void(llvm::ArrayRef<int64_t>)> fn);
/// A tensor of `shape` and src's dtype whose element at multi-index i is
/// src's flat element srcIndex(i), or fill's only element where srcIndex
/// returns a negative value (fill must then be given, with src's dtype).
HostTensor
hostRemap(const HostTensor &src, llvm::ArrayRef<int64_t> shape,
          llvm::function_ref<int64_t(llvm::ArrayRef<int64_t>)> srcIndex,
          const HostTensor *fill = nullptr);
/// The same data with another shape of the same element count.
HostTensor hostReshape(const HostTensor &src, llvm::ArrayRef<int64_t> shape);

} // namespace detail
} // namespace qc

#endif // QC_LIB_IMPORT_HOSTFOLDING_H
