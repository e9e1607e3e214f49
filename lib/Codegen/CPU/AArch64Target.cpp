//===- AArch64Target.cpp - the NEON kernel target -------------------------===//

#include "qc/Codegen/CPUTargets.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace qc;

namespace {
/// `op` applied to each 16-byte half (`width` elements of every operand,
/// `outWidth` of the result), the halves put back into `into`.
Value byHalves(OpBuilder &b, Location loc, Value into, int64_t outWidth,
               ArrayRef<std::pair<Value, int64_t>> operands,
               function_ref<Value(ArrayRef<Value>)> op) {
  Value result = into;
  for (int64_t h = 0; h < 2; ++h) {
    SmallVector<Value> halves;
    for (auto [v, width] : operands)
      halves.push_back(vector::ExtractStridedSliceOp::create(
          b, loc, v, ArrayRef<int64_t>{h * width}, ArrayRef<int64_t>{width},
          ArrayRef<int64_t>{1}));
    result = vector::InsertStridedSliceOp::create(
        b, loc, op(halves), result, ArrayRef<int64_t>{h * outWidth},
        ArrayRef<int64_t>{1});
  }
  return result;
}
} // namespace

ArrayRef<StringRef> NeonTarget::flags() const {
  static const StringRef names[] = {"aarch64"};
  return names;
}

int NeonTarget::hostRank(const llvm::Triple &triple,
                         const llvm::StringMap<bool> &features) const {
  return triple.isAArch64() && features.lookup("dotprod") ? 20 : 0;
}

Value NeonTarget::dotAccumulate(OpBuilder &b, Location loc, Value partial,
                                Value codes, Value x) const {
  // sdot on two 16-byte halves; codes (< 16) are also valid s8.
  auto v4i32 = VectorType::get(
      {4}, cast<VectorType>(partial.getType()).getElementType());
  return byHalves(b, loc, partial, 4, {{partial, 4}, {codes, 16}, {x, 16}},
                  [&](ArrayRef<Value> h) {
                    return callIntrinsic(b, loc, "llvm.aarch64.neon.sdot",
                                         v4i32, h);
                  });
}

Value NeonTarget::lookup16(OpBuilder &b, Location loc, Value table,
                           Value idx) const {
  auto v16i8 = VectorType::get({16}, b.getI8Type());
  return byHalves(
      b, loc, idx, 16, {{table, 16}, {idx, 16}}, [&](ArrayRef<Value> h) {
        return callIntrinsic(b, loc, "llvm.aarch64.neon.tbl1", v16i8, h);
      });
}
