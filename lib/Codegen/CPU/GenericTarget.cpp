//===- GenericTarget.cpp - plain vector kernels, and the registration -----===//

#include "qc/Codegen/CPUTargets.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <mutex>

using namespace mlir;
using namespace qc;

ArrayRef<StringRef> GenericTarget::flags() const {
  static const StringRef names[] = {"generic"};
  return names;
}

Value GenericTarget::dotAccumulate(OpBuilder &b, Location loc, Value partial,
                                   Value codes, Value x) const {
  auto type = cast<VectorType>(partial.getType());
  int64_t lanes = type.getNumElements();
  auto wide = VectorType::get({4 * lanes}, type.getElementType());
  Value c = arith::ExtUIOp::create(b, loc, wide, codes);
  Value xx = arith::ExtSIOp::create(b, loc, wide, x);
  Value prod = arith::MulIOp::create(b, loc, c, xx);
  // Lane l sums the products of bytes 4l .. 4l + 3.
  Value result = partial;
  for (int64_t q = 0; q < 4; ++q) {
    SmallVector<int64_t> pick;
    for (int64_t l = 0; l < lanes; ++l)
      pick.push_back(4 * l + q);
    result = arith::AddIOp::create(
        b, loc, result, vector::ShuffleOp::create(b, loc, prod, prod, pick));
  }
  return result;
}

void qc::registerCPUKernelTargets() {
  // Once per process; the order is the order of the --target values in
  // messages.
  static std::once_flag once;
  std::call_once(once, [] {
    registerKernelTarget(std::make_unique<AVX2Target>());
    registerKernelTarget(std::make_unique<AVX512VNNITarget>());
    registerKernelTarget(std::make_unique<AVX512VBMITarget>());
    registerKernelTarget(std::make_unique<NeonTarget>());
    registerKernelTarget(std::make_unique<GenericTarget>());
  });
}
