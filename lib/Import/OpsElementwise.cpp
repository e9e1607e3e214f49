//===- OpsElementwise.cpp - ONNX elementwise ops to linalg.generic --------===//
//
// Every elementwise op becomes one linalg.generic over the numpy broadcast of
// its operands; the scalar body is chosen by element type (float, signed or
// unsigned integer, bool), which ONNX tracks and MLIR's signless integers do
// not.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

namespace {

using Body = NodeContext::ScalarBody;

/// Emits `op(inputs...)` with a body built from the inputs' dtype; the
/// result has dtype `outDType` (default: the first input's).
LogicalResult emitNary(NodeContext &nc, unsigned numInputs,
                       const std::function<Body(DType)> &makeBody,
                       std::optional<DType> outDType = std::nullopt) {
  if (foldHostElementwise(nc))
    return success();
  SmallVector<Value> operands;
  DType dtype = nc.inputDType(0);
  for (unsigned i = 0; i < numInputs; ++i) {
    if (!nc.hasInput(i)) {
      nc.error() << "expects " << numInputs << " inputs";
      return failure();
    }
    operands.push_back(nc.input(i));
  }
  DType out = outDType.value_or(dtype);
  Body body = makeBody(dtype);
  if (!body) {
    nc.error() << "element type " << dtypeName(dtype) << " is not supported";
    return failure();
  }
  FailureOr<Value> v =
      nc.elementwise(operands, toMLIRType(nc.ctx(), out), body);
  if (failed(v))
    return failure();
  nc.setOutput(0, *v, out);
  return success();
}

/// A float-only unary op given by a math/arith op builder.
template <typename OpTy> void addFloatUnary(OpRegistry &r, StringRef name) {
  r.add(name, [](NodeContext &nc) {
    return emitNary(nc, 1, [](DType d) -> Body {
      if (!isFloat(d))
        return nullptr;
      return [](OpBuilder &b, Location l, ValueRange a) -> Value {
        return OpTy::create(b, l, a[0]);
      };
    });
  });
}

/// Binary arithmetic with float / signed / unsigned variants.
template <typename FOp, typename SOp, typename UOp = SOp>
void addArith(OpRegistry &r, StringRef name) {
  r.add(name, [](NodeContext &nc) {
    return emitNary(nc, 2, [](DType d) -> Body {
      if (isFloat(d))
        return [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return FOp::create(b, l, a[0], a[1]);
        };
      if (isUnsigned(d))
        return [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return UOp::create(b, l, a[0], a[1]);
        };
      if (isInteger(d))
        return [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return SOp::create(b, l, a[0], a[1]);
        };
      return nullptr;
    });
  });
}

/// Integer division or remainder that cannot trap: a zero divisor gives 0
/// (ONNX leaves it undefined) and INT_MIN / -1 wraps, instead of the SIGFPE
/// the bare instruction raises.
template <typename IntOp>
Value safeIntDivRem(OpBuilder &b, Location l, Value lhs, Value rhs,
                    bool isSigned) {
  Type t = lhs.getType();
  unsigned width = t.getIntOrFloatBitWidth();
  auto cst = [&](const APInt &v) -> Value {
    return arith::ConstantOp::create(b, l, b.getIntegerAttr(t, v));
  };
  Value zero = cst(APInt::getZero(width));
  Value one = cst(APInt(width, 1));
  Value isZero =
      arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, rhs, zero);
  Value replace = isZero;
  if (isSigned) {
    Value minusOne = cst(APInt::getAllOnes(width));
    Value minValue = cst(APInt::getSignedMinValue(width));
    Value overflow = arith::AndIOp::create(
        b, l,
        arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, rhs, minusOne),
        arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, lhs, minValue));
    replace = arith::OrIOp::create(b, l, isZero, overflow);
  }
  Value divisor = arith::SelectOp::create(b, l, replace, one, rhs);
  Value result = IntOp::create(b, l, lhs, divisor);
  return arith::SelectOp::create(b, l, isZero, zero, result);
}

/// Div: integer variants guarded against traps.
void addDiv(OpRegistry &r) {
  r.add("Div", [](NodeContext &nc) {
    return emitNary(nc, 2, [](DType d) -> Body {
      if (isFloat(d))
        return [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return arith::DivFOp::create(b, l, a[0], a[1]);
        };
      if (!isInteger(d))
        return nullptr;
      bool isSigned = !isUnsigned(d);
      return [=](OpBuilder &b, Location l, ValueRange a) -> Value {
        return isSigned
                   ? safeIntDivRem<arith::DivSIOp>(b, l, a[0], a[1], true)
                   : safeIntDivRem<arith::DivUIOp>(b, l, a[0], a[1], false);
      };
    });
  });
}

/// Mod: fmod=1 is C's fmod (the sign of the dividend), fmod=0 the
/// mathematical modulo (the sign of the divisor, integers only).
LogicalResult importMod(NodeContext &nc) {
  bool fmod = nc.attrInt("fmod", 0) != 0;
  if (!fmod && isFloat(nc.inputDType(0))) {
    nc.error() << "fmod=0 is not defined for floating-point inputs";
    return failure();
  }
  return emitNary(nc, 2, [fmod](DType d) -> Body {
    if (isFloat(d))
      return [](OpBuilder &b, Location l, ValueRange a) -> Value {
        return arith::RemFOp::create(b, l, a[0], a[1]);
      };
    if (!isInteger(d))
      return nullptr;
    if (isUnsigned(d))
      return [](OpBuilder &b, Location l, ValueRange a) -> Value {
        return safeIntDivRem<arith::RemUIOp>(b, l, a[0], a[1], false);
      };
    return [fmod](OpBuilder &b, Location l, ValueRange a) -> Value {
      Value rem = safeIntDivRem<arith::RemSIOp>(b, l, a[0], a[1], true);
      if (fmod)
        return rem;
      // Move a non-zero remainder whose sign differs from the divisor's.
      Value zero = arith::ConstantOp::create(
          b, l, b.getIntegerAttr(rem.getType(), 0));
      Value nonZero =
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, rem, zero);
      Value remNeg =
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, rem, zero);
      Value divNeg =
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, a[1], zero);
      Value differ = arith::XOrIOp::create(b, l, remNeg, divNeg);
      Value fix = arith::AndIOp::create(b, l, nonZero, differ);
      Value moved = arith::AddIOp::create(b, l, rem, a[1]);
      return arith::SelectOp::create(b, l, fix, moved, rem);
    };
  });
}

void addCompare(OpRegistry &r, StringRef name, arith::CmpFPredicate fp,
                arith::CmpIPredicate sp, arith::CmpIPredicate up) {
  r.add(name, [=](NodeContext &nc) {
    return emitNary(
        nc, 2,
        [=](DType d) -> Body {
          if (isFloat(d))
            return [=](OpBuilder &b, Location l, ValueRange a) -> Value {
              return arith::CmpFOp::create(b, l, fp, a[0], a[1]);
            };
          bool u = isUnsigned(d) || isBool(d);
          return [=](OpBuilder &b, Location l, ValueRange a) -> Value {
            return arith::CmpIOp::create(b, l, u ? up : sp, a[0], a[1]);
          };
        },
        TP::BOOL);
  });
}

/// A float op of one input written as a scalar expression.
void addFloatExpr(OpRegistry &r, StringRef name,
                  std::function<Value(NodeContext &, OpBuilder &, Location,
                                      Value)>
                      expr) {
  r.add(name, [expr](NodeContext &nc) {
    return emitNary(nc, 1, [&](DType d) -> Body {
      if (!isFloat(d))
        return nullptr;
      return [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        return expr(nc, b, l, a[0]);
      };
    });
  });
}

Value fconst(OpBuilder &b, Location l, Type t, double v) {
  return arith::ConstantOp::create(b, l, b.getFloatAttr(t, v));
}

Value sigmoid(OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  Value neg = arith::NegFOp::create(b, l, x);
  Value e = math::ExpOp::create(b, l, neg);
  Value one = fconst(b, l, t, 1.0);
  Value den = arith::AddFOp::create(b, l, one, e);
  return arith::DivFOp::create(b, l, one, den);
}

/// Variadic Max / Min / Sum / Mean: one generic over all inputs.
void addVariadic(OpRegistry &r, StringRef name, bool isMax, bool isMin,
                 bool isMean) {
  r.add(name, [=](NodeContext &nc) {
    unsigned n = nc.numInputs();
    if (n == 0) {
      nc.error() << "expects at least one input";
      return failure();
    }
    DType d = nc.inputDType(0);
    return emitNary(nc, n, [=](DType) -> Body {
      return [=](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value acc = a[0];
        for (Value v : a.drop_front()) {
          if (isFloat(d)) {
            if (isMax)
              acc = arith::MaximumFOp::create(b, l, acc, v);
            else if (isMin)
              acc = arith::MinimumFOp::create(b, l, acc, v);
            else
              acc = arith::AddFOp::create(b, l, acc, v);
          } else if (isUnsigned(d)) {
            if (isMax)
              acc = arith::MaxUIOp::create(b, l, acc, v);
            else if (isMin)
              acc = arith::MinUIOp::create(b, l, acc, v);
            else
              acc = arith::AddIOp::create(b, l, acc, v);
          } else {
            if (isMax)
              acc = arith::MaxSIOp::create(b, l, acc, v);
            else if (isMin)
              acc = arith::MinSIOp::create(b, l, acc, v);
            else
              acc = arith::AddIOp::create(b, l, acc, v);
          }
        }
        if (isMean)
          acc = arith::DivFOp::create(b, l, acc,
                                      fconst(b, l, acc.getType(), a.size()));
        return acc;
      };
    });
  });
}

LogicalResult importPow(NodeContext &nc) {
  DType bd = nc.inputDType(0), ed = nc.inputDType(1);
  // x^2 and x^0.5 are common in exported norms; keep them exact and cheap.
  if (const HostTensor *e = nc.inputConstant(1);
      e && e->numElements() == 1 && isFloat(bd)) {
    double p = e->getDouble(0);
    if (p == 2.0 || p == 1.0 || p == 0.5) {
      Value x = nc.input(0);
      FailureOr<Value> v = nc.elementwise(
          ValueRange{x, nc.input(1)}, toMLIRType(nc.ctx(), bd),
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            if (p == 2.0)
              return arith::MulFOp::create(b, l, a[0], a[0]);
            if (p == 0.5)
              return math::SqrtOp::create(b, l, a[0]);
            return a[0];
          });
      if (failed(v))
        return failure();
      nc.setOutput(0, *v, bd);
      return success();
    }
  }
  if (!isFloat(bd) && !isInteger(bd)) {
    nc.error() << "element type " << dtypeName(bd) << " is not supported";
    return failure();
  }
  FailureOr<Value> v = nc.elementwise(
      ValueRange{nc.input(0), nc.input(1)}, toMLIRType(nc.ctx(), bd),
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        if (isFloat(bd)) {
          Value e = nc.convertScalar(b, l, a[1], ed, bd);
          return math::PowFOp::create(b, l, a[0], e);
        }
        // Integer base: compute in f64, round toward zero as onnxruntime.
        Value x = nc.convertScalar(b, l, a[0], bd, TP::DOUBLE);
        Value e = nc.convertScalar(b, l, a[1], ed, TP::DOUBLE);
        Value p = math::PowFOp::create(b, l, x, e);
        return nc.convertScalar(b, l, p, TP::DOUBLE, bd);
      });
  if (failed(v))
    return failure();
  nc.setOutput(0, *v, bd);
  return success();
}

LogicalResult importWhere(NodeContext &nc) {
  if (foldHostElementwise(nc))
    return success();
  DType d = nc.inputDType(1);
  FailureOr<Value> v = nc.elementwise(
      ValueRange{nc.input(0), nc.input(1), nc.input(2)},
      toMLIRType(nc.ctx(), d),
      [](OpBuilder &b, Location l, ValueRange a) -> Value {
        return arith::SelectOp::create(b, l, a[0], a[1], a[2]);
      });
  if (failed(v))
    return failure();
  nc.setOutput(0, *v, d);
  return success();
}

/// Casts input 0 to `to` (Cast, CastLike).
LogicalResult emitCast(NodeContext &nc, DType to) {
  DType from = nc.inputDType(0);
  if (!toMLIRType(nc.ctx(), to)) {
    nc.error() << "cast to element type " << dtypeName(to) << " (" << to
               << ") is not supported";
    return failure();
  }
  if (!toMLIRType(nc.ctx(), from)) {
    nc.error() << "cast from element type " << dtypeName(from)
               << " is not supported";
    return failure();
  }
  CastOptions options;
  options.saturate = nc.attrInt("saturate", 1) != 0;
  std::string rounding = nc.attrString("round_mode", "up");
  if (rounding == "down")
    options.rounding = qc::smallfloat::E8M0Rounding::Down;
  else if (rounding == "nearest")
    options.rounding = qc::smallfloat::E8M0Rounding::Nearest;
  else if (rounding != "up") {
    nc.error() << "round_mode '" << rounding
               << "' is not one of up, down, nearest";
    return failure();
  }
  // Casts of known integers fold (shape arithmetic often casts).
  if (const HostTensor *c = nc.inputConstant(0);
      c && c->numElements() <= 4096 && !isFloat(from) && !isFloat(to) &&
      !isNarrowFloat(from) && !isNarrowFloat(to)) {
    HostTensor t = HostTensor::fromInts(c->toInts(), c->shape, to);
    nc.setOutputConstant(0, std::move(t));
    return success();
  }
  // So do known integers cast to f32 / f64 where each converts exactly (a
  // window's size becoming Range's float limit).
  if (const HostTensor *c = nc.inputConstant(0);
      c && c->numElements() <= 4096 && !isFloat(from) && !isNarrowType(from) &&
      (to == TP::FLOAT || to == TP::DOUBLE)) {
    int64_t exact = to == TP::FLOAT ? int64_t(1) << 24 : int64_t(1) << 53;
    SmallVector<int64_t> ints = c->toInts();
    bool representable = llvm::all_of(ints, [&](int64_t v) {
      return isUnsigned(from) ? static_cast<uint64_t>(v) <= uint64_t(exact)
                              : v >= -exact && v <= exact;
    });
    if (representable) {
      HostTensor t =
          HostTensor::fromInts(SmallVector<int64_t>(ints.size()), c->shape, to);
      for (auto [i, v] : llvm::enumerate(ints))
        t.setDouble(i, static_cast<double>(v));
      nc.setOutputConstant(0, std::move(t));
      return success();
    }
  }
  nc.setOutput(0, nc.castTo(nc.input(0), from, to, options), to);
  return success();
}

LogicalResult importCast(NodeContext &nc) {
  return emitCast(nc, static_cast<DType>(nc.attrInt("to", TP::UNDEFINED)));
}

/// CastLike: Cast to the element type of input 1.
LogicalResult importCastLike(NodeContext &nc) {
  if (!nc.hasInput(1)) {
    nc.error() << "expects a target_type input";
    return failure();
  }
  return emitCast(nc, nc.inputDType(1));
}

LogicalResult importClip(NodeContext &nc) {
  DType d = nc.inputDType(0);
  Value x = nc.input(0);
  Type elt = toMLIRType(nc.ctx(), d);
  Value lo, hi;
  auto bound = [&](unsigned i, StringRef attr) -> Value {
    if (nc.opset() < 11) {
      if (!nc.hasAttr(attr))
        return {};
      return nc.scalar(elt, nc.attrFloat(attr, 0));
    }
    if (!nc.hasInput(i))
      return {};
    return tensor::ExtractOp::create(
        nc.b, nc.loc, nc.reshape(nc.input(i), {}), ValueRange{});
  };
  lo = bound(1, "min");
  hi = bound(2, "max");
  auto type = cast<RankedTensorType>(x.getType());
  Value out = nc.elementwiseTo(
      x, type.getShape(), elt,
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value v = a[0];
        if (isFloat(d)) {
          if (lo)
            v = arith::MaxNumFOp::create(b, l, v, lo);
          if (hi)
            v = arith::MinNumFOp::create(b, l, v, hi);
        } else if (isUnsigned(d)) {
          if (lo)
            v = arith::MaxUIOp::create(b, l, v, lo);
          if (hi)
            v = arith::MinUIOp::create(b, l, v, hi);
        } else {
          if (lo)
            v = arith::MaxSIOp::create(b, l, v, lo);
          if (hi)
            v = arith::MinSIOp::create(b, l, v, hi);
        }
        return v;
      });
  nc.setOutput(0, out, d);
  return success();
}

/// Dropout at inference: the identity, and an all-true mask if asked for.
LogicalResult importDropout(NodeContext &nc) {
  if (nc.hasInput(2)) {
    const HostTensor *training = nc.inputConstant(2);
    if (!training || training->getInt(0) != 0) {
      nc.error() << "training_mode must be a constant false (qc compiles "
                    "inference)";
      return failure();
    }
  }
  if (nc.hasOutput(1)) {
    RankedTensorType type = nc.inputType(0);
    nc.setOutput(1, nc.filled(type.getShape(), nc.scalar(nc.b.getI1Type(), 1)),
                 TP::BOOL);
  }
  nc.setOutput(0, nc.input(0), nc.inputDType(0));
  return success();
}

LogicalResult importIdentity(NodeContext &nc) {
  if (const HostTensor *c = nc.inputConstant(0)) {
    nc.setOutputConstant(0, *c);
    return success();
  }
  nc.setOutput(0, nc.input(0), nc.inputDType(0));
  return success();
}

/// BitCast (opset 26): the same bits read as type `to`, of the same width.
LogicalResult importBitCast(NodeContext &nc) {
  DType from = nc.inputDType(0);
  auto to = static_cast<DType>(nc.attrInt("to", TP::UNDEFINED));
  Type src = toMLIRType(nc.ctx(), from), dst = toMLIRType(nc.ctx(), to);
  if (!src || !dst || isNarrowType(from) || isNarrowType(to) ||
      from == TP::STRING || to == TP::STRING) {
    nc.error() << "bit cast from " << dtypeName(from) << " to "
               << dtypeName(to) << " is not supported";
    return failure();
  }
  if (dtypeSize(from) != dtypeSize(to)) {
    nc.error() << dtypeName(from) << " and " << dtypeName(to)
               << " differ in width; BitCast needs one width";
    return failure();
  }
  if (src == dst) { // signed <-> unsigned: the same bytes
    nc.setOutput(0, nc.input(0), to);
    return success();
  }
  auto type = cast<RankedTensorType>(nc.input(0).getType());
  nc.setOutput(0,
               nc.elementwiseTo(nc.input(0), type.getShape(), dst,
                                [&](OpBuilder &b, Location l, ValueRange a) {
                                  // bool is a byte holding 0 or 1.
                                  if (isBool(from))
                                    return arith::ExtUIOp::create(b, l, dst,
                                                                  a[0])
                                        .getResult();
                                  if (isBool(to))
                                    return arith::CmpIOp::create(
                                               b, l, arith::CmpIPredicate::ne,
                                               a[0],
                                               arith::ConstantOp::create(
                                                   b, l,
                                                   b.getIntegerAttr(src, 0)))
                                        .getResult();
                                  return arith::BitcastOp::create(b, l, dst,
                                                                  a[0])
                                      .getResult();
                                }),
               to);
  return success();
}

} // namespace

void qc::detail::registerElementwiseOps(OpRegistry &r) {
  addArith<arith::AddFOp, arith::AddIOp>(r, "Add");
  addArith<arith::SubFOp, arith::SubIOp>(r, "Sub");
  addArith<arith::MulFOp, arith::MulIOp>(r, "Mul");
  addDiv(r);
  r.add("Mod", importMod);
  r.add("Pow", importPow);
  r.add("Where", importWhere);
  r.add("Cast", importCast);
  r.add("CastLike", importCastLike);
  r.add("Clip", importClip);
  r.add("Identity", importIdentity);
  r.add("BitCast", importBitCast);
  r.add("Dropout", importDropout);

  addCompare(r, "Equal", arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq,
             arith::CmpIPredicate::eq);
  addCompare(r, "Less", arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
             arith::CmpIPredicate::ult);
  addCompare(r, "LessOrEqual", arith::CmpFPredicate::OLE,
             arith::CmpIPredicate::sle, arith::CmpIPredicate::ule);
  addCompare(r, "Greater", arith::CmpFPredicate::OGT,
             arith::CmpIPredicate::sgt, arith::CmpIPredicate::ugt);
  addCompare(r, "GreaterOrEqual", arith::CmpFPredicate::OGE,
             arith::CmpIPredicate::sge, arith::CmpIPredicate::uge);

  // And / Or / Xor on bool tensors; the same on integers as Bitwise*.
  auto bitOp = [&](StringRef name, bool (*accepts)(DType), auto makeOp) {
    r.add(name, [accepts, makeOp](NodeContext &nc) {
      return emitNary(nc, 2, [&](DType d) -> Body {
        if (!accepts(d))
          return nullptr;
        return [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          return makeOp(b, l, a[0], a[1]);
        };
      });
    });
  };
  auto andOp = [](OpBuilder &b, Location l, Value x, Value y) -> Value {
    return arith::AndIOp::create(b, l, x, y);
  };
  auto orOp = [](OpBuilder &b, Location l, Value x, Value y) -> Value {
    return arith::OrIOp::create(b, l, x, y);
  };
  auto xorOp = [](OpBuilder &b, Location l, Value x, Value y) -> Value {
    return arith::XOrIOp::create(b, l, x, y);
  };
  bitOp("And", isBool, andOp);
  bitOp("Or", isBool, orOp);
  bitOp("Xor", isBool, xorOp);
  bitOp("BitwiseAnd", isInteger, andOp);
  bitOp("BitwiseOr", isInteger, orOp);
  bitOp("BitwiseXor", isInteger, xorOp);
  r.add("BitwiseNot", [](NodeContext &nc) {
    return emitNary(nc, 1, [](DType d) -> Body {
      if (!isInteger(d))
        return nullptr;
      return [](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value ones = arith::ConstantOp::create(
            b, l, b.getIntegerAttr(a[0].getType(), -1));
        return arith::XOrIOp::create(b, l, a[0], ones);
      };
    });
  });
  r.add("Not", [](NodeContext &nc) {
    return emitNary(nc, 1, [](DType d) -> Body {
      if (!isBool(d))
        return nullptr;
      return [](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value t = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
        return arith::XOrIOp::create(b, l, a[0], t);
      };
    });
  });

  addFloatUnary<math::SqrtOp>(r, "Sqrt");
  addFloatUnary<math::ErfOp>(r, "Erf");
  addFloatUnary<math::TanhOp>(r, "Tanh");
  addFloatUnary<math::ExpOp>(r, "Exp");
  addFloatUnary<math::LogOp>(r, "Log");
  addFloatUnary<math::CosOp>(r, "Cos");
  addFloatUnary<math::SinOp>(r, "Sin");
  addFloatUnary<math::TanOp>(r, "Tan");
  addFloatUnary<math::FloorOp>(r, "Floor");
  addFloatUnary<math::CeilOp>(r, "Ceil");
  addFloatUnary<math::RoundEvenOp>(r, "Round");
  addFloatUnary<math::AtanOp>(r, "Atan");
  addFloatUnary<math::AsinOp>(r, "Asin");
  addFloatUnary<math::AcosOp>(r, "Acos");
  addFloatUnary<math::SinhOp>(r, "Sinh");
  addFloatUnary<math::CoshOp>(r, "Cosh");
  addFloatUnary<math::AsinhOp>(r, "Asinh");
  addFloatUnary<math::AcoshOp>(r, "Acosh");
  addFloatUnary<math::AtanhOp>(r, "Atanh");

  r.add("Neg", [](NodeContext &nc) {
    return emitNary(nc, 1, [](DType d) -> Body {
      if (isFloat(d))
        return [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return arith::NegFOp::create(b, l, a[0]);
        };
      if (!isInteger(d) || isUnsigned(d))
        return nullptr;
      return [](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value z = arith::ConstantOp::create(b, l, b.getZeroAttr(a[0].getType()));
        return arith::SubIOp::create(b, l, z, a[0]);
      };
    });
  });
  r.add("Abs", [](NodeContext &nc) {
    return emitNary(nc, 1, [](DType d) -> Body {
      if (isFloat(d))
        return [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return math::AbsFOp::create(b, l, a[0]);
        };
      if (isUnsigned(d))
        return [](OpBuilder &, Location, ValueRange a) -> Value {
          return a[0];
        };
      if (!isInteger(d))
        return nullptr;
      return [](OpBuilder &b, Location l, ValueRange a) -> Value {
        return math::AbsIOp::create(b, l, a[0]);
      };
    });
  });
  addFloatExpr(r, "Reciprocal", [](NodeContext &, OpBuilder &b, Location l,
                                   Value x) -> Value {
    return arith::DivFOp::create(b, l, fconst(b, l, x.getType(), 1.0), x);
  });
  addFloatExpr(r, "Sigmoid",
               [](NodeContext &, OpBuilder &b, Location l, Value x) -> Value {
                 return sigmoid(b, l, x);
               });
  r.add("Relu", [](NodeContext &nc) {
    return emitNary(nc, 1, [](DType d) -> Body {
      if (isFloat(d))
        return [](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value z = fconst(b, l, a[0].getType(), 0.0);
          return arith::MaxNumFOp::create(b, l, a[0], z);
        };
      if (!isInteger(d))
        return nullptr;
      return [](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value z = arith::ConstantOp::create(b, l, b.getZeroAttr(a[0].getType()));
        return arith::MaxSIOp::create(b, l, a[0], z);
      };
    });
  });
  addFloatExpr(r, "LeakyRelu",
               [](NodeContext &nc, OpBuilder &b, Location l, Value x) -> Value {
                 Type t = x.getType();
                 Value z = fconst(b, l, t, 0.0);
                 Value ax = arith::MulFOp::create(
                     b, l, x, fconst(b, l, t, nc.attrFloat("alpha", 0.01f)));
                 Value pos = arith::CmpFOp::create(
                     b, l, arith::CmpFPredicate::OGT, x, z);
                 return arith::SelectOp::create(b, l, pos, x, ax);
               });
  addFloatExpr(r, "Elu",
               [](NodeContext &nc, OpBuilder &b, Location l, Value x) -> Value {
                 Type t = x.getType();
                 Value z = fconst(b, l, t, 0.0);
                 Value em1 = math::ExpM1Op::create(b, l, x);
                 Value neg = arith::MulFOp::create(
                     b, l, em1, fconst(b, l, t, nc.attrFloat("alpha", 1.0f)));
                 Value pos = arith::CmpFOp::create(
                     b, l, arith::CmpFPredicate::OGE, x, z);
                 return arith::SelectOp::create(b, l, pos, x, neg);
               });
  addFloatExpr(r, "Selu",
               [](NodeContext &nc, OpBuilder &b, Location l, Value x) -> Value {
                 Type t = x.getType();
                 double alpha = nc.attrFloat("alpha", 1.67326319217681884765625f);
                 double gamma = nc.attrFloat("gamma", 1.05070102214813232421875f);
                 Value z = fconst(b, l, t, 0.0);
                 Value em1 = math::ExpM1Op::create(b, l, x);
                 Value neg =
                     arith::MulFOp::create(b, l, em1, fconst(b, l, t, alpha));
                 Value pos = arith::CmpFOp::create(
                     b, l, arith::CmpFPredicate::OGT, x, z);
                 Value s = arith::SelectOp::create(b, l, pos, x, neg);
                 return arith::MulFOp::create(b, l, s, fconst(b, l, t, gamma));
               });
  addFloatExpr(r, "Softplus",
               [](NodeContext &, OpBuilder &b, Location l, Value x) -> Value {
                 return math::Log1pOp::create(b, l,
                                              math::ExpOp::create(b, l, x));
               });
  addFloatExpr(r, "ThresholdedRelu",
               [](NodeContext &nc, OpBuilder &b, Location l, Value x) -> Value {
                 Type t = x.getType();
                 Value above = arith::CmpFOp::create(
                     b, l, arith::CmpFPredicate::OGT, x,
                     fconst(b, l, t, nc.attrFloat("alpha", 1.0f)));
                 return arith::SelectOp::create(b, l, above, x,
                                                fconst(b, l, t, 0.0));
               });
  addFloatExpr(r, "Shrink",
               [](NodeContext &nc, OpBuilder &b, Location l, Value x) -> Value {
                 Type t = x.getType();
                 double lambd = nc.attrFloat("lambd", 0.5f);
                 Value bias = fconst(b, l, t, nc.attrFloat("bias", 0.0f));
                 Value below = arith::CmpFOp::create(
                     b, l, arith::CmpFPredicate::OLT, x, fconst(b, l, t, -lambd));
                 Value above = arith::CmpFOp::create(
                     b, l, arith::CmpFPredicate::OGT, x, fconst(b, l, t, lambd));
                 Value y = arith::SelectOp::create(
                     b, l, above, arith::SubFOp::create(b, l, x, bias),
                     fconst(b, l, t, 0.0));
                 return arith::SelectOp::create(
                     b, l, below, arith::AddFOp::create(b, l, x, bias), y);
               });
  addFloatExpr(r, "Celu",
               [](NodeContext &nc, OpBuilder &b, Location l, Value x) -> Value {
                 // max(0, x) + min(0, alpha (exp(x / alpha) - 1))
                 Type t = x.getType();
                 Value alpha = fconst(b, l, t, nc.attrFloat("alpha", 1.0f));
                 Value z = fconst(b, l, t, 0.0);
                 Value e = arith::MulFOp::create(
                     b, l, alpha,
                     math::ExpM1Op::create(
                         b, l, arith::DivFOp::create(b, l, x, alpha)));
                 return arith::AddFOp::create(
                     b, l, arith::MaxNumFOp::create(b, l, x, z),
                     arith::MinNumFOp::create(b, l, e, z));
               });
  addFloatExpr(r, "Swish",
               [](NodeContext &nc, OpBuilder &b, Location l, Value x) -> Value {
                 Value ax = arith::MulFOp::create(
                     b, l, x,
                     fconst(b, l, x.getType(), nc.attrFloat("alpha", 1.0f)));
                 return arith::MulFOp::create(b, l, x, sigmoid(b, l, ax));
               });
  addFloatExpr(r, "Mish",
               [](NodeContext &, OpBuilder &b, Location l, Value x) -> Value {
                 Value sp = math::Log1pOp::create(b, l,
                                                  math::ExpOp::create(b, l, x));
                 return arith::MulFOp::create(b, l, x,
                                              math::TanhOp::create(b, l, sp));
               });
  addFloatExpr(r, "Softsign",
               [](NodeContext &, OpBuilder &b, Location l, Value x) -> Value {
                 Type t = x.getType();
                 Value d = arith::AddFOp::create(
                     b, l, fconst(b, l, t, 1.0), math::AbsFOp::create(b, l, x));
                 return arith::DivFOp::create(b, l, x, d);
               });
  addFloatExpr(r, "HardSigmoid",
               [](NodeContext &nc, OpBuilder &b, Location l, Value x) -> Value {
                 Type t = x.getType();
                 Value v = arith::AddFOp::create(
                     b, l,
                     arith::MulFOp::create(
                         b, l, x, fconst(b, l, t, nc.attrFloat("alpha", 0.2f))),
                     fconst(b, l, t, nc.attrFloat("beta", 0.5f)));
                 v = arith::MaxNumFOp::create(b, l, v, fconst(b, l, t, 0.0));
                 return arith::MinNumFOp::create(b, l, v, fconst(b, l, t, 1.0));
               });
  addFloatExpr(r, "HardSwish",
               [](NodeContext &, OpBuilder &b, Location l, Value x) -> Value {
                 Type t = x.getType();
                 Value v = arith::AddFOp::create(
                     b, l, arith::MulFOp::create(b, l, x, fconst(b, l, t, 1.0 / 6)),
                     fconst(b, l, t, 0.5));
                 v = arith::MaxNumFOp::create(b, l, v, fconst(b, l, t, 0.0));
                 v = arith::MinNumFOp::create(b, l, v, fconst(b, l, t, 1.0));
                 return arith::MulFOp::create(b, l, x, v);
               });
  addFloatExpr(r, "Gelu",
               [](NodeContext &nc, OpBuilder &b, Location l, Value x) -> Value {
                 Type t = x.getType();
                 Value half = fconst(b, l, t, 0.5), one = fconst(b, l, t, 1.0);
                 Value inner;
                 if (nc.attrString("approximate", "none") == "tanh") {
                   // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
                   Value x3 = arith::MulFOp::create(
                       b, l, x, arith::MulFOp::create(b, l, x, x));
                   Value s = arith::AddFOp::create(
                       b, l, x,
                       arith::MulFOp::create(b, l, x3,
                                             fconst(b, l, t, 0.044715)));
                   s = arith::MulFOp::create(
                       b, l, s, fconst(b, l, t, 0.7978845608028654));
                   inner = math::TanhOp::create(b, l, s);
                 } else {
                   Value s = arith::MulFOp::create(
                       b, l, x, fconst(b, l, t, 0.7071067811865476));
                   inner = math::ErfOp::create(b, l, s);
                 }
                 Value v = arith::AddFOp::create(b, l, one, inner);
                 return arith::MulFOp::create(
                     b, l, arith::MulFOp::create(b, l, x, half), v);
               });
  r.add("Sign", [](NodeContext &nc) {
    return emitNary(nc, 1, [](DType d) -> Body {
      if (!isFloat(d) && !isInteger(d))
        return nullptr;
      return [d](OpBuilder &b, Location l, ValueRange a) -> Value {
        Type t = a[0].getType();
        Value z = arith::ConstantOp::create(b, l, b.getZeroAttr(t));
        Value one = arith::ConstantOp::create(b, l, b.getOneAttr(t));
        Value pos, neg;
        if (isFloat(d)) {
          pos = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, a[0], z);
          neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, a[0], z);
          Value m1 = arith::NegFOp::create(b, l, one);
          return arith::SelectOp::create(
              b, l, pos, one, arith::SelectOp::create(b, l, neg, m1, z));
        }
        pos = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, a[0], z);
        if (isUnsigned(d))
          return arith::SelectOp::create(b, l, pos, one, z);
        neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, a[0], z);
        Value m1 = arith::SubIOp::create(b, l, z, one);
        return arith::SelectOp::create(
            b, l, neg, m1, arith::SelectOp::create(b, l, pos, one, z));
      };
    });
  });
  r.add("IsNaN", [](NodeContext &nc) {
    return emitNary(
        nc, 1,
        [](DType d) -> Body {
          if (!isFloat(d))
            return nullptr;
          return [](OpBuilder &b, Location l, ValueRange a) -> Value {
            return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, a[0],
                                         a[0]);
          };
        },
        TP::BOOL);
  });
  r.add("IsInf", [](NodeContext &nc) {
    bool positive = nc.attrInt("detect_positive", 1) != 0;
    bool negative = nc.attrInt("detect_negative", 1) != 0;
    return emitNary(
        nc, 1,
        [=](DType d) -> Body {
          if (!isFloat(d))
            return nullptr;
          return [=](OpBuilder &b, Location l, ValueRange a) -> Value {
            Type t = a[0].getType();
            auto is = [&](double v) -> Value {
              return arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                           a[0], fconst(b, l, t, v));
            };
            Value none =
                arith::ConstantOp::create(b, l, b.getBoolAttr(false));
            Value pos = positive ? is(INFINITY) : none;
            Value neg = negative ? is(-INFINITY) : none;
            return arith::OrIOp::create(b, l, pos, neg);
          };
        },
        TP::BOOL);
  });
  r.add("BitShift", [](NodeContext &nc) {
    std::string direction = nc.attrString("direction", "");
    if (direction != "LEFT" && direction != "RIGHT") {
      nc.error() << "direction must be \"LEFT\" or \"RIGHT\", not \""
                 << direction << "\"";
      return failure();
    }
    bool left = direction == "LEFT";
    return emitNary(nc, 2, [=](DType d) -> Body {
      if (!isUnsigned(d))
        return nullptr;
      return [=](OpBuilder &b, Location l, ValueRange a) -> Value {
        // A shift by the width or more gives 0 (numpy), not poison.
        Type t = a[0].getType();
        Value width = arith::ConstantOp::create(
            b, l, b.getIntegerAttr(t, t.getIntOrFloatBitWidth()));
        Value shifted =
            left ? (Value)arith::ShLIOp::create(b, l, a[0], a[1])
                 : (Value)arith::ShRUIOp::create(b, l, a[0], a[1]);
        Value inRange = arith::CmpIOp::create(
            b, l, arith::CmpIPredicate::ult, a[1], width);
        return arith::SelectOp::create(
            b, l, inRange, shifted,
            arith::ConstantOp::create(b, l, b.getZeroAttr(t)));
      };
    });
  });
  r.add("PRelu", [](NodeContext &nc) {
    return emitNary(nc, 2, [](DType d) -> Body {
      if (!isFloat(d))
        return nullptr;
      return [](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value z = fconst(b, l, a[0].getType(), 0.0);
        Value pos =
            arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, a[0], z);
        return arith::SelectOp::create(b, l, pos, a[0],
                                       arith::MulFOp::create(b, l, a[0], a[1]));
      };
    });
  });
  addVariadic(r, "Max", true, false, false);
  addVariadic(r, "Min", false, true, false);
  addVariadic(r, "Sum", false, false, false);
  addVariadic(r, "Mean", false, false, true);
}
