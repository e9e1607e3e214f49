//===- Microscaling.cpp - the shared scale of an MXFP4 block --------------===//

#include "qc/Codegen/Microscaling.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

std::pair<Value, Value> qc::mxfp4BlockScale(OpBuilder &b, Location loc,
                                            Value maxAbs) {
  auto i32c = [&](int32_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
  };
  // 2^e as an f32 from an i32 exponent in [-126, 127].
  auto powerOfTwo = [&](Value e) {
    Value biased = arith::AddIOp::create(b, loc, e, i32c(127));
    return arith::BitcastOp::create(
               b, loc, b.getF32Type(),
               arith::ShLIOp::create(b, loc, biased, i32c(23)))
        .getResult();
  };
  Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), maxAbs);
  Value p = arith::SubIOp::create(
      b, loc,
      arith::AndIOp::create(b, loc,
                            arith::ShRUIOp::create(b, loc, bits, i32c(23)),
                            i32c(0xff)),
      i32c(127 + 2));
  p = arith::MinSIOp::create(b, loc,
                             arith::MaxSIOp::create(b, loc, p, i32c(-126)),
                             i32c(126));
  return {powerOfTwo(arith::SubIOp::create(b, loc, i32c(0), p)),
          powerOfTwo(p)};
}
