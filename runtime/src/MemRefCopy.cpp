//===- MemRefCopy.cpp - memrefCopy for generated code ---------------------===//
//
// MLIR lowers memref.copy between non-contiguous layouts to a call of
// `memrefCopy`, normally provided by libmlir_c_runner_utils. The runtime must
// not link MLIR, so it provides the same symbol with the same semantics:
// both arguments point to an UnrankedMemRefType {int64_t rank; void *desc;}
// and src and dst have equal sizes.
//
//===----------------------------------------------------------------------===//

#include "qcrt.h"

#include <cstdint>
#include <cstring>
#include <vector>

namespace {

struct UnrankedMemRef {
  int64_t rank;
  void *descriptor;
};

/// The ranked descriptor fields, decoded: allocated, aligned, offset, sizes,
/// strides, each 8 bytes.
struct StridedView {
  char *aligned;
  int64_t offset;
  const int64_t *sizes;
  const int64_t *strides;
};

StridedView decode(const UnrankedMemRef &memref) {
  const auto *fields = static_cast<const int64_t *>(memref.descriptor);
  StridedView view;
  std::memcpy(&view.aligned, fields + 1, sizeof(view.aligned));
  view.offset = fields[2];
  view.sizes = fields + 3;
  view.strides = fields + 3 + memref.rank;
  return view;
}

bool isRowMajor(const StridedView &view, int64_t rank) {
  int64_t expected = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    if (view.sizes[d] != 1 && view.strides[d] != expected)
      return false;
    expected *= view.sizes[d];
  }
  return true;
}

} // namespace

extern "C" QCRT_API void memrefCopy(int64_t elemSize, void *srcArg,
                                    void *dstArg) {
  const auto &srcMemRef = *static_cast<const UnrankedMemRef *>(srcArg);
  const auto &dstMemRef = *static_cast<const UnrankedMemRef *>(dstArg);
  int64_t rank = srcMemRef.rank;
  StridedView src = decode(srcMemRef);
  StridedView dst = decode(dstMemRef);

  for (int64_t d = 0; d < rank; ++d)
    if (src.sizes[d] == 0)
      return;
  const char *srcPtr = src.aligned + src.offset * elemSize;
  char *dstPtr = dst.aligned + dst.offset * elemSize;
  if (rank == 0) {
    std::memcpy(dstPtr, srcPtr, elemSize);
    return;
  }
  if (isRowMajor(src, rank) && isRowMajor(dst, rank)) {
    int64_t count = 1;
    for (int64_t d = 0; d < rank; ++d)
      count *= src.sizes[d];
    std::memcpy(dstPtr, srcPtr, count * elemSize);
    return;
  }

  // Odometer over the outer dimensions; the innermost one is a memcpy when
  // both sides are unit-stride there, else an element loop.
  int64_t inner = rank - 1;
  int64_t innerSize = src.sizes[inner];
  int64_t srcInnerStride = src.strides[inner] * elemSize;
  int64_t dstInnerStride = dst.strides[inner] * elemSize;
  bool innerContiguous = src.strides[inner] == 1 && dst.strides[inner] == 1;
  std::vector<int64_t> index(rank, 0);
  while (true) {
    if (innerContiguous) {
      std::memcpy(dstPtr, srcPtr, innerSize * elemSize);
    } else {
      for (int64_t i = 0; i < innerSize; ++i)
        std::memcpy(dstPtr + i * dstInnerStride, srcPtr + i * srcInnerStride,
                    elemSize);
    }
    int64_t d = inner - 1;
    for (; d >= 0; --d) {
      srcPtr += src.strides[d] * elemSize;
      dstPtr += dst.strides[d] * elemSize;
      if (++index[d] < src.sizes[d])
        break;
      srcPtr -= src.strides[d] * src.sizes[d] * elemSize;
      dstPtr -= dst.strides[d] * src.sizes[d] * elemSize;
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}
