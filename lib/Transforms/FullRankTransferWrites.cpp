//===- FullRankTransferWrites.cpp - partial writes one-shot bufferizes right =//
//
// One-shot bufferization asks a `vector.transfer_write` on a tensor whether
// it reads its destination; MLIR 22 answers "no" when the indices are zero
// and every pair of (tensor, vector) sizes zipped from the leading
// dimensions has the vector's at least as large. With a vector of lower
// rank than the tensor the pairs are misaligned: `vector<16xf32>` written
// at [0, 0] of `tensor<1x88xf32>` compares 1 with 16 and counts as a full
// overwrite. When the destination is bufferized out of place (it is read
// again later), the new buffer is then not initialized from it and the
// other 72 columns are garbage: a matmul's first column tile whose
// accumulator, a zero fill, was shared with another layer produced wrong
// outputs (PP-OCR's classifier, two squeeze-excitation layers of one
// shape). This pass gives such writes the tensor's rank (leading unit
// dimensions through vector.shape_cast), which the check reads right.
//
//===----------------------------------------------------------------------===//

#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

namespace qc {
#define GEN_PASS_DEF_FULLRANKTRANSFERWRITESPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// Whether upstream's check would call `write` a full overwrite of its
/// destination when it is not one (the leading-dimension zip).
bool misjudgedAsFull(vector::TransferWriteOp write) {
  auto type = dyn_cast<RankedTensorType>(write.getBase().getType());
  VectorType vt = write.getVectorType();
  if (!type || !type.hasStaticShape() || write.getMask() ||
      vt.getRank() == 0 || vt.getRank() >= type.getRank() ||
      !write.getPermutationMap().isMinorIdentity())
    return false;
  for (Value index : write.getIndices())
    if (getConstantIntValue(index) != 0)
      return false;
  ArrayRef<int64_t> shape = type.getShape(), sizes = vt.getShape();
  for (auto [d, v] : llvm::zip(shape, sizes))
    if (d > v)
      return false; // Upstream sees the partial write already.
  int64_t lead = type.getRank() - vt.getRank();
  bool full = llvm::all_of(shape.take_front(lead),
                           [](int64_t d) { return d == 1; });
  for (auto [d, v] : llvm::zip(shape.drop_front(lead), sizes))
    full &= d <= v;
  return !full;
}

/// `write` with its vector shape-cast to the destination's rank.
void expandToFullRank(OpBuilder &b, vector::TransferWriteOp write) {
  auto type = cast<RankedTensorType>(write.getBase().getType());
  VectorType vt = write.getVectorType();
  int64_t lead = type.getRank() - vt.getRank();
  SmallVector<int64_t> shape(lead, 1);
  llvm::append_range(shape, vt.getShape());
  SmallVector<bool> inBounds(lead, true);
  for (unsigned i = 0; i < vt.getRank(); ++i)
    inBounds.push_back(write.isDimInBounds(i));
  b.setInsertionPoint(write);
  Value full = vector::ShapeCastOp::create(
      b, write.getLoc(), VectorType::get(shape, vt.getElementType()),
      write.getVector());
  auto wide = vector::TransferWriteOp::create(
      b, write.getLoc(), full, write.getBase(), write.getIndices(),
      b.getMultiDimIdentityMap(type.getRank()), ArrayRef<bool>(inBounds));
  write.getResult().replaceAllUsesWith(wide.getResult());
  write.erase();
}

struct FullRankTransferWritesPass
    : qc::impl::FullRankTransferWritesPassBase<FullRankTransferWritesPass> {
  void runOnOperation() override {
    SmallVector<vector::TransferWriteOp> writes;
    getOperation().walk([&](vector::TransferWriteOp write) {
      if (misjudgedAsFull(write))
        writes.push_back(write);
    });
    OpBuilder b(&getContext());
    for (vector::TransferWriteOp write : writes)
      expandToFullRank(b, write);
    numExpanded += writes.size();
  }
};

} // namespace
