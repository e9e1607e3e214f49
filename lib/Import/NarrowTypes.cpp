//===- NarrowTypes.cpp - float8 / float4 / E8M0 codes and sub-byte integers ===//
//
// The arith ops that turn the narrow ONNX types' one-byte values (see
// HostTensor.h) into f32 / integers and back: the same arithmetic as
// qcrt/SmallFloat.h, whose host copy the unit tests hold it to. Codes are
// handled as i32 bit patterns; f32 <-> code goes through the f32 bits, so
// nothing here needs an 8-bit float type in MLIR or LLVM.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

using namespace mlir;
using namespace qc;
using namespace qc::detail;
namespace sf = qc::smallfloat;

namespace {

/// i32 arithmetic on scalars, spelled short.
struct I32 {
  OpBuilder &b;
  Location loc;

  Type type() { return b.getI32Type(); }
  Value c(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(int32_t(v)));
  }
  Value shl(Value x, int64_t n) { return arith::ShLIOp::create(b, loc, x, c(n)); }
  Value shr(Value x, int64_t n) { return arith::ShRUIOp::create(b, loc, x, c(n)); }
  Value band(Value x, int64_t m) { return arith::AndIOp::create(b, loc, x, c(m)); }
  Value bor(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, int64_t v) {
    return arith::CmpIOp::create(b, loc, p, x, c(v));
  }
  Value select(Value cond, Value x, Value y) {
    return arith::SelectOp::create(b, loc, cond, x, y);
  }
  Value select(Value cond, int64_t x, Value y) { return select(cond, c(x), y); }
  Value bitsOf(Value f) {
    return arith::BitcastOp::create(b, loc, type(), f);
  }
  Value floatOf(Value i) {
    return arith::BitcastOp::create(b, loc, b.getF32Type(), i);
  }
  Value toI8(Value i) {
    return arith::TruncIOp::create(b, loc, b.getIntegerType(8), i);
  }
};

Value f32Const(OpBuilder &b, Location loc, float v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

/// The f32 of a float8 / float4 code (zero-extended to i32).
Value decodeFormat(I32 &i, Value code, const sf::Format &f) {
  unsigned m = f.mantissaBits;
  Value sign = i.shl(i.shr(code, f.signShift()), 31);
  Value magnitude = i.band(code, (1 << f.signShift()) - 1);
  Value e = i.shr(magnitude, m);
  Value mantissa = i.band(magnitude, (1 << m) - 1);
  // Normal: the exponent rebiased, the mantissa moved to f32's top bits.
  Value normal = i.add(i.shl(magnitude, 23 - m), i.c((127 - f.bias) << 23));
  // Subnormal: mantissa * 2^(1 - bias - M), exact in f32.
  Value sub = arith::MulFOp::create(
      i.b, i.loc, arith::UIToFPOp::create(i.b, i.loc, i.b.getF32Type(), mantissa),
      f32Const(i.b, i.loc, std::ldexp(1.0f, 1 - f.bias - int(m))));
  Value bits = i.select(i.cmp(arith::CmpIPredicate::eq, e, 0), i.bitsOf(sub),
                        normal);
  bits = i.bor(bits, sign);
  int64_t nan = 0x7fc00000;
  switch (f.specials) {
  case sf::Specials::IEEE: {
    Value special = i.cmp(arith::CmpIPredicate::eq, e, (1 << f.exponentBits) - 1);
    Value inf = i.bor(sign, i.c(0x7f800000));
    Value isInf = i.cmp(arith::CmpIPredicate::eq, mantissa, 0);
    bits = i.select(special, i.select(isInf, inf, i.c(nan)), bits);
    break;
  }
  case sf::Specials::FN:
    bits = i.select(i.cmp(arith::CmpIPredicate::eq, magnitude,
                          (1 << f.signShift()) - 1),
                    nan, bits);
    break;
  case sf::Specials::FNUZ:
    bits = i.select(i.cmp(arith::CmpIPredicate::eq, code, 0x80), nan, bits);
    break;
  case sf::Specials::Finite:
    break;
  }
  return i.floatOf(bits);
}

/// The code nearest f32 `x`, ties to even; overflow as sf::encode.
Value encodeFormat(I32 &i, Value x, const sf::Format &f, bool saturate) {
  unsigned m = f.mantissaBits, shift = 23 - m;
  Value u = i.bitsOf(x);
  Value sign = i.shr(u, 31);
  Value a = i.band(u, 0x7fffffff);
  // Subnormal (or zero) results: the count of 2^(1 - bias - M) steps.
  Value scaled = arith::MulFOp::create(
      i.b, i.loc, i.floatOf(a),
      f32Const(i.b, i.loc, std::ldexp(1.0f, f.bias - 1 + int(m))));
  Value sub = arith::FPToSIOp::create(
      i.b, i.loc, i.type(), math::RoundEvenOp::create(i.b, i.loc, scaled));
  // Normal results: round f32's mantissa to M bits, rebias the exponent.
  Value lsb = i.band(i.shr(a, shift), 1);
  Value rounded = i.add(i.add(a, i.c((1 << (shift - 1)) - 1)), lsb);
  Value normal =
      arith::SubIOp::create(i.b, i.loc, i.shr(rounded, shift),
                            i.c(int64_t(127 - f.bias) << m));
  Value code = i.select(
      i.cmp(arith::CmpIPredicate::ult, a, int64_t(128 - f.bias) << 23), sub,
      normal);
  Value over = i.cmp(arith::CmpIPredicate::sgt, code, f.maxCode());
  bool fnuz = f.specials == sf::Specials::FNUZ;
  bool overflowIsNaN = !saturate && (f.specials == sf::Specials::FN || fnuz);
  if (saturate || f.specials == sf::Specials::Finite)
    code = i.select(over, f.maxCode(), code);
  else if (f.specials == sf::Specials::IEEE)
    code = i.select(over, f.infCode(), code);
  Value result = i.bor(code, i.shl(sign, f.signShift()));
  if (fnuz) // no negative zero
    result = i.select(i.cmp(arith::CmpIPredicate::eq, code, 0), 0, result);
  // NaN codes (the sign kept where the format has signed NaNs).
  Value nanCode = fnuz ? i.c(f.nanCode(0))
                       : i.select(i.cmp(arith::CmpIPredicate::ne, sign, 0),
                                  f.nanCode(1), i.c(f.nanCode(0)));
  if (overflowIsNaN)
    result = i.select(over, nanCode, result);
  Value isNaN = i.cmp(arith::CmpIPredicate::ugt, a, 0x7f800000);
  return i.toI8(i.select(isNaN, nanCode, result));
}

} // namespace

Value qc::detail::decodeNarrowFloat(OpBuilder &b, Location loc, Value code,
                                    DType dtype) {
  I32 i{b, loc};
  Value c = arith::ExtUIOp::create(b, loc, i.type(), code);
  if (const sf::Format *f = smallFloatFormat(dtype))
    return decodeFormat(i, c, *f);
  // E8M0: 2^(c - 127); 0 is 2^-127 (an f32 subnormal), 0xff NaN.
  Value bits = i.select(i.cmp(arith::CmpIPredicate::eq, c, 0), 0x400000,
                        i.shl(c, 23));
  bits = i.select(i.cmp(arith::CmpIPredicate::eq, c, 0xff), 0x7fc00000, bits);
  return i.floatOf(bits);
}

Value qc::detail::encodeNarrowFloat(OpBuilder &b, Location loc, Value x,
                                    DType dtype, const CastOptions &options) {
  I32 i{b, loc};
  if (const sf::Format *f = smallFloatFormat(dtype))
    return encodeFormat(i, x, *f, options.saturate);
  // E8M0 (as sf::encodeE8M0): f32's exponent field, raised by the rounding.
  Value u = i.bitsOf(x);
  Value e = i.band(i.shr(u, 23), 0xff);
  Value up = i.c(0);
  if (options.rounding == sf::E8M0Rounding::Up) {
    up = arith::ExtUIOp::create(
        b, loc, i.type(),
        i.cmp(arith::CmpIPredicate::ne, i.band(u, 0x7fffff), 0));
  } else if (options.rounding == sf::E8M0Rounding::Nearest) {
    Value guard = i.cmp(arith::CmpIPredicate::ne, i.band(u, 0x400000), 0);
    Value rest = i.cmp(arith::CmpIPredicate::ne, i.band(u, 0x3fffff), 0);
    Value lsb = i.cmp(arith::CmpIPredicate::ne, e, 0);
    Value r = arith::AndIOp::create(
        b, loc, guard, arith::OrIOp::create(b, loc, rest, lsb));
    up = arith::ExtUIOp::create(b, loc, i.type(), r);
  }
  if (options.saturate)
    up = i.select(i.cmp(arith::CmpIPredicate::eq, e, 0xfe), 0, up);
  Value code = i.select(i.cmp(arith::CmpIPredicate::eq, e, 0xff), 0xff,
                        i.add(e, up));
  return i.toI8(code);
}

Value qc::detail::wrapSubByteInt(OpBuilder &b, Location loc, Value v,
                                 DType dtype) {
  I32 i{b, loc};
  unsigned bits = subByteIntBits(dtype);
  if (isUnsigned(dtype))
    return i.toI8(i.band(v, (1 << bits) - 1));
  // Sign-extend the low `bits` bits: the value's two's-complement wrap.
  Value high = i.shl(v, 32 - bits);
  return i.toI8(arith::ShRSIOp::create(b, loc, high, i.c(32 - bits)));
}
