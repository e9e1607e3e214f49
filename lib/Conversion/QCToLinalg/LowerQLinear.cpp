//===- LowerQLinear.cpp - reference dequantize lowering of qc.qlinear -----===//

#include "QC/IR/QCOps.h"
#include "qc/Codegen/DynamicQuant.h"
#include "qc/Codegen/Microscaling.h"
#include "qc/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/TypeSwitch.h"

namespace qc {
#define GEN_PASS_DEF_LOWERQLINEARPASS
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {

/// Builds the dequantized [K, N] weight of one qc.qlinear.
class Dequantizer {
public:
  Dequantizer(OpBuilder &b, QLinearOp op)
      : b(b), op(op), loc(op.getLoc()), ctx(b.getContext()),
        elt(op.getType().getElementType()), k(op.getInFeatures()),
        n(op.getOutFeatures()) {}

  FailureOr<Value> build() {
    return TypeSwitch<Attribute, FailureOr<Value>>(op.getScheme())
        .Case<UniformAttr>([&](UniformAttr s) { return uniform(s); })
        .Case<BCQAttr>([&](BCQAttr s) { return bcq(s); })
        .Case<CodebookAttr>([&](CodebookAttr s) { return codebook(s); })
        .Case<FloatFormatAttr>([&](FloatFormatAttr s) { return floats(s); })
        .Default([&](Attribute) -> FailureOr<Value> {
          return op.emitOpError("qc-lower-qlinear: no reference lowering "
                                "for scheme ")
                 << op.getScheme();
        });
  }

private:
  OpBuilder &b;
  QLinearOp op;
  Location loc;
  MLIRContext *ctx;
  Type elt;
  int64_t k, n;

  AffineExpr dk() { return getAffineDimExpr(0, ctx); }
  AffineExpr dn() { return getAffineDimExpr(1, ctx); }
  AffineMap map(ArrayRef<AffineExpr> exprs) {
    return AffineMap::get(2, 0, exprs, ctx);
  }
  /// (k, n) -> (k / group, n): the per-OC group of an element.
  AffineMap ocGroupMap(int64_t group) {
    int64_t g = group == -1 ? k : group;
    return map({dk().floorDiv(g), dn()});
  }

  /// Element value as f32 (scales and zero points may be f16 / bf16).
  Value toF32(Value v) {
    Type f32 = b.getF32Type();
    if (v.getType() == f32)
      return v;
    return arith::ExtFOp::create(b, loc, f32, v);
  }
  /// An integer code (any width) as an unsigned value in f32.
  Value codeToF32(Value code) {
    return arith::UIToFPOp::create(b, loc, b.getF32Type(), code);
  }
  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value index(Value v) {
    auto width = cast<IntegerType>(v.getType()).getWidth();
    Value wide = v;
    if (width < 64)
      wide = arith::ExtUIOp::create(b, loc, b.getI64Type(), v);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), wide);
  }
  Value fromF32(Value v) {
    if (elt == b.getF32Type())
      return v;
    if (elt.getIntOrFloatBitWidth() < 32)
      return arith::TruncFOp::create(b, loc, elt, v);
    return arith::ExtFOp::create(b, loc, elt, v);
  }
  /// Index `i` of dimension `dim` of a rank-3 operand, that dimension
  /// dropped: [a, b, c] -> [b, c] for dim 0, [a, c] for dim 1.
  Value slice(Value v, int64_t i, unsigned dim = 0) {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape(type.getShape());
    SmallVector<OpFoldResult> offsets(3, b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes;
    for (int64_t d : shape)
      sizes.push_back(b.getIndexAttr(d));
    offsets[dim] = b.getIndexAttr(i);
    sizes[dim] = b.getIndexAttr(1);
    shape.erase(shape.begin() + dim);
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    return tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get(shape, type.getElementType()), v, offsets,
        sizes, strides);
  }

  /// One elementwise generic over [K, N] with the given inputs and maps.
  /// When the op's codes are packed and input 0 is the codes, the body still
  /// sees one code per element: it is extracted from its byte here.
  Value generic(ValueRange inputs, ArrayRef<AffineMap> maps,
                function_ref<Value(ValueRange)> body) {
    Value empty = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{k, n}, elt);
    SmallVector<AffineMap> allMaps(maps.begin(), maps.end());
    allMaps.push_back(map({dk(), dn()}));
    unsigned bits = op.getPacked() ? op.getPackableCodeBits() : 0;
    bool unpack = bits != 0 && !inputs.empty() && inputs[0] == op.getCodes();
    int64_t perByte = unpack ? 8 / bits : 1;
    if (unpack) {
      if (std::optional<int64_t> tile = op.getTileN())
        // [n / T][k / 8][n % T][(k % 8) * bits / 8]
        allMaps[0] = map({dn().floorDiv(*tile), dk().floorDiv(8), dn() % *tile,
                          (dk() % 8).floorDiv(perByte)});
      else
        allMaps[0] = map({dn(), dk().floorDiv(perByte)});
    }
    return linalg::GenericOp::create(
               b, loc, empty.getType(), inputs, ValueRange{empty}, allMaps,
               ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                             utils::IteratorType::parallel},
               [&](OpBuilder &nested, Location l, ValueRange args) {
                 OpBuilder::InsertionGuard guard(b);
                 b.setInsertionPointToEnd(nested.getInsertionBlock());
                 SmallVector<Value> values(args.drop_back());
                 if (unpack)
                   values[0] = unpackCode(values[0], bits, perByte);
                 Value result = fromF32(body(values));
                 linalg::YieldOp::create(b, loc, result);
               })
        .getResult(0);
  }

  /// The code of element k inside its byte: (byte >> (k % perByte) * bits)
  /// & (2^bits - 1).
  Value unpackCode(Value byte, unsigned bits, int64_t perByte) {
    if (perByte == 1)
      return byte;
    Type t = byte.getType();
    Value kIdx = linalg::IndexOp::create(b, loc, 0);
    Value slot = arith::RemUIOp::create(
        b, loc, kIdx, arith::ConstantIndexOp::create(b, loc, perByte));
    Value shift = arith::MulIOp::create(
        b, loc, arith::IndexCastOp::create(b, loc, t, slot),
        arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, bits)));
    Value mask =
        arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, (1 << bits) - 1));
    return arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, byte, shift), mask);
  }

  FailureOr<Value> uniform(UniformAttr s) {
    AffineMap groupMap;
    if (s.getPerIc()) {
      int64_t g = s.getGroup() == -1 ? n : s.getGroup();
      groupMap = map({dk(), dn().floorDiv(g)});
    } else {
      groupMap = ocGroupMap(s.getGroup());
    }
    SmallVector<Value> inputs = {op.getCodes(), op.getScales()};
    SmallVector<AffineMap> maps = {map({dk(), dn()}), groupMap};
    if (Value zeros = op.getZeros()) {
      inputs.push_back(zeros);
      maps.push_back(groupMap);
    }
    double symmetricZero = static_cast<double>(1u << (s.getBits() - 1));
    return generic(inputs, maps, [&](ValueRange a) -> Value {
      Value zero = a.size() > 2 ? toF32(a[2]) : f32(symmetricZero);
      Value q = arith::SubFOp::create(b, loc, codeToF32(a[0]), zero);
      return arith::MulFOp::create(b, loc, q, toF32(a[1]));
    });
  }

  FailureOr<Value> bcq(BCQAttr s) {
    AffineMap groupMap = ocGroupMap(s.getGroup());
    unsigned planes = s.getPlanes();
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    if (op.getBitplanes()) {
      // Plane i's byte of row k: [k / 8][i][n]; its bit k % 8. Rebuild the
      // canonical code (bit i = plane i) so the body below is shared.
      for (unsigned i = 0; i < planes; ++i) {
        inputs.push_back(slice(op.getCodes(), i, /*dim=*/1));
        maps.push_back(map({dk().floorDiv(8), dn()}));
      }
    } else {
      inputs.push_back(op.getCodes());
      maps.push_back(map({dk(), dn()}));
    }
    unsigned codeInputs = inputs.size();
    for (unsigned i = 0; i < planes; ++i) {
      inputs.push_back(slice(op.getScales(), i));
      maps.push_back(groupMap);
    }
    if (Value offsets = op.getZeros()) {
      inputs.push_back(offsets);
      maps.push_back(groupMap);
    }
    return generic(inputs, maps, [&](ValueRange all) -> Value {
      Type codeType = all[0].getType();
      Value one = arith::ConstantOp::create(b, loc,
                                            b.getIntegerAttr(codeType, 1));
      // The bit of plane i of this element.
      auto planeBit = [&](unsigned i) -> Value {
        if (op.getBitplanes()) {
          Value row = linalg::IndexOp::create(b, loc, 0);
          Value lane = arith::IndexCastOp::create(
              b, loc, codeType,
              arith::RemUIOp::create(b, loc, row,
                                     arith::ConstantIndexOp::create(b, loc, 8)));
          return arith::AndIOp::create(
              b, loc, arith::ShRUIOp::create(b, loc, all[i], lane), one);
        }
        Value shift = arith::ConstantOp::create(
            b, loc, b.getIntegerAttr(codeType, i));
        return arith::AndIOp::create(
            b, loc, arith::ShRUIOp::create(b, loc, all[0], shift), one);
      };
      ValueRange a = all.drop_front(codeInputs - 1);
      Value w = a.size() > planes + 1 ? toF32(a[planes + 1]) : f32(0.0);
      for (unsigned i = 0; i < planes; ++i) {
        // b_i = +1 if bit i is set, else -1: alpha * (2 * bit - 1).
        Value bit = planeBit(i);
        Value sign = arith::SubFOp::create(
            b, loc, arith::MulFOp::create(b, loc, codeToF32(bit), f32(2.0)),
            f32(1.0));
        w = arith::AddFOp::create(
            b, loc, w, arith::MulFOp::create(b, loc, sign, toF32(a[1 + i])));
      }
      return w;
    });
  }

  FailureOr<Value> codebook(CodebookAttr s) {
    int64_t v = s.getVectorSize();
    Value book = op.getCodebook();
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    for (unsigned m = 0; m < s.getBooks(); ++m) {
      inputs.push_back(slice(op.getCodes(), m));
      maps.push_back(map({dk().floorDiv(v), dn()}));
    }
    inputs.push_back(op.getScales());
    maps.push_back(map({dn()}));
    unsigned books = s.getBooks();
    return generic(inputs, maps, [&](ValueRange a) -> Value {
      Value kIdx = linalg::IndexOp::create(b, loc, 0);
      Value lane = arith::RemUIOp::create(
          b, loc, kIdx, arith::ConstantIndexOp::create(b, loc, v));
      Value w = f32(0.0);
      for (unsigned m = 0; m < books; ++m) {
        Value entry = index(a[m]);
        Value c = tensor::ExtractOp::create(
            b, loc, book,
            ValueRange{arith::ConstantIndexOp::create(b, loc, m), entry,
                       lane});
        w = arith::AddFOp::create(b, loc, w, toF32(c));
      }
      return arith::MulFOp::create(b, loc, w, toF32(a[books]));
    });
  }

  /// A constant table of the values of every code of an APFloat format.
  Value decodeTable(const llvm::fltSemantics &sem, unsigned bits) {
    SmallVector<float> values;
    for (unsigned c = 0; c < (1u << bits); ++c) {
      llvm::APFloat f(sem, llvm::APInt(bits, c));
      values.push_back(f.convertToFloat());
    }
    auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                      b.getF32Type());
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef<float>(values)));
  }

  FailureOr<Value> floats(FloatFormatAttr s) {
    switch (s.getFormat()) {
    case FloatFormat::fp8e4m3:
    case FloatFormat::mxfp4: {
      bool fp8 = s.getFormat() == FloatFormat::fp8e4m3;
      Value table = fp8 ? decodeTable(llvm::APFloat::Float8E4M3FN(), 8)
                        : decodeTable(llvm::APFloat::Float4E2M1FN(), 4);
      AffineMap scaleMap = fp8 ? map({b.getAffineConstantExpr(0), dn()})
                               : ocGroupMap(s.getBlock());
      return generic({op.getCodes(), op.getScales()},
                     {map({dk(), dn()}), scaleMap},
                     [&](ValueRange a) -> Value {
                       Value mask = arith::ConstantOp::create(
                           b, loc,
                           b.getIntegerAttr(a[0].getType(), fp8 ? 0xff : 0xf));
                       Value code = arith::AndIOp::create(b, loc, a[0], mask);
                       Value value = tensor::ExtractOp::create(
                           b, loc, table, ValueRange{index(code)});
                       return arith::MulFOp::create(b, loc, value, toF32(a[1]));
                     });
    }
    case FloatFormat::amxfp4: {
      // The sign bit of the E2M1 code selects the block's negative scale.
      Value table = decodeTable(llvm::APFloat::Float4E2M1FN(), 4);
      AffineMap blockMap = ocGroupMap(s.getBlock());
      return generic({op.getCodes(), slice(op.getScales(), 0),
                      slice(op.getScales(), 1)},
                     {map({dk(), dn()}), blockMap, blockMap},
                     [&](ValueRange a) -> Value {
                       Type t = a[0].getType();
                       Value code = arith::AndIOp::create(
                           b, loc, a[0],
                           arith::ConstantOp::create(
                               b, loc, b.getIntegerAttr(t, 0xf)));
                       Value negative = arith::CmpIOp::create(
                           b, loc, arith::CmpIPredicate::uge, code,
                           arith::ConstantOp::create(
                               b, loc, b.getIntegerAttr(t, 8)));
                       Value value = tensor::ExtractOp::create(
                           b, loc, table, ValueRange{index(code)});
                       Value scale = arith::SelectOp::create(
                           b, loc, negative, toF32(a[2]), toF32(a[1]));
                       return arith::MulFOp::create(b, loc, value, scale);
                     });
    }
    case FloatFormat::dint: {
      // Levels of the b-bit dINT grid (see FloatFormatAttr): with
      // M = 2^(b-1) and v = code - M: 0, +-1/2 for |v| = 1, +-(|v| - 1)
      // above; code 0 is unused and decodes as 0.
      int64_t levels = int64_t(1) << s.getBits();
      int64_t half = levels / 2;
      SmallVector<float> values;
      for (int64_t c = 0; c < levels; ++c) {
        int64_t v = c - half;
        float sign = v < 0 ? -1.0f : 1.0f;
        int64_t mag = v < 0 ? -v : v;
        values.push_back(c == 0 || v == 0 ? 0.0f
                         : mag == 1       ? sign * 0.5f
                                          : sign * static_cast<float>(mag - 1));
      }
      auto tableType = RankedTensorType::get({levels}, b.getF32Type());
      Value table = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(tableType, ArrayRef<float>(values)));
      return generic({op.getCodes(), op.getScales()},
                     {map({dk(), dn()}), ocGroupMap(s.getBlock())},
                     [&](ValueRange a) -> Value {
                       Value code = arith::AndIOp::create(
                           b, loc, a[0],
                           arith::ConstantOp::create(
                               b, loc,
                               b.getIntegerAttr(a[0].getType(), levels - 1)));
                       Value value = tensor::ExtractOp::create(
                           b, loc, table, ValueRange{index(code)});
                       return arith::MulFOp::create(b, loc, value, toF32(a[1]));
                     });
    }
    }
    return op.emitOpError("qc-lower-qlinear: unknown float format in ") << s;
  }
};

/// The input of one qc.qlinear quantized by its activation scheme and
/// returned to floats: what the scheme's kernels compute on. The input's
/// last dimension is split into blocks ([..., blocks, block], zero-padded),
/// each block's max |x| reduced and every element rounded to the scheme's
/// grid by it (ActivationAttr's description gives the formulas).
class ActivationQuantizer {
public:
  ActivationQuantizer(OpBuilder &b, QLinearOp op, ActivationAttr act)
      : b(b), op(op), act(act), loc(op.getLoc()) {}

  FailureOr<Value> build() {
    auto type = cast<RankedTensorType>(op.getInput().getType());
    if (act.isStatic()) {
      elt = type.getElementType();
      return quantizedElementwise(type, f32(act.getStaticScale()),
                                  f32(static_cast<double>(act.getZeroPoint())),
                                  -128.0, 127.0);
    }
    if (act.getKind() == ActKind::uint8) {
      elt = type.getElementType();
      auto [hi, lo] = buildTensorRange(b, loc, op.getInput());
      DynamicQuantParams p = buildDynamicQuantParams(b, loc, hi, lo);
      return quantizedElementwise(type, p.scale, p.zeroPoint, 0.0, 255.0);
    }
    if (!type.hasStaticShape())
      return op.emitOpError("qc-lower-qlinear: activation scheme ")
             << act << " needs a static input shape";
    elt = type.getElementType();
    int64_t rank = type.getRank(), k = type.getShape().back();
    int64_t block = act.getBlock() == -1 ? k : std::min(act.getBlock(), k);
    int64_t blocks = (k + block - 1) / block;
    Value x = op.getInput();
    SmallVector<int64_t> padded(type.getShape());
    padded.back() = blocks * block;
    if (padded.back() != k) {
      SmallVector<OpFoldResult> low(rank, b.getIndexAttr(0)),
          high(rank, b.getIndexAttr(0));
      high.back() = b.getIndexAttr(padded.back() - k);
      x = tensor::PadOp::create(b, loc, RankedTensorType::get(padded, elt), x,
                                low, high, constant(elt, 0.0))
              .getResult();
    }
    SmallVector<int64_t> split(type.getShape());
    split.back() = blocks;
    split.push_back(block);
    SmallVector<ReassociationIndices> groups;
    for (int64_t d = 0; d + 1 < rank; ++d)
      groups.push_back({d});
    groups.push_back({rank - 1, rank});
    auto splitType = RankedTensorType::get(split, elt);
    Value tiled =
        tensor::ExpandShapeOp::create(b, loc, splitType, x, groups);
    // amxfp4 scales each sign by its own block max, the others |x|'s.
    SmallVector<Value> maxes;
    if (act.getKind() == ActKind::amxfp4)
      maxes = {blockMax(tiled, split, Side::Positive),
               blockMax(tiled, split, Side::Negative)};
    else
      maxes = {blockMax(tiled, split, Side::Both)};
    Value quantized = roundToGrid(tiled, maxes, split);
    Value flat = tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get(padded, elt), quantized, groups);
    if (padded.back() == k)
      return flat;
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
        strides(rank, b.getIndexAttr(1)), sizes;
    for (int64_t d : type.getShape())
      sizes.push_back(b.getIndexAttr(d));
    return tensor::ExtractSliceOp::create(b, loc, type, flat, offsets, sizes,
                                          strides)
        .getResult();
  }

private:
  OpBuilder &b;
  QLinearOp op;
  ActivationAttr act;

  /// One scale and zero point (f32 scalars) for the tensor: (clamp(
  /// roundeven(x / scale) + zp, lo, hi) - zp) * scale, element by element
  /// (any shape): static int8 ([-128, 127]) and uint8 ([0, 255]).
  Value quantizedElementwise(RankedTensorType type, Value scale, Value zp,
                             double lo, double hi) {
    Value x = op.getInput();
    SmallVector<Value> dynamic;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        dynamic.push_back(tensor::DimOp::create(b, loc, x, d));
    Value empty = tensor::EmptyOp::create(b, loc, type, dynamic);
    auto id = AffineMap::getMultiDimIdentityMap(type.getRank(),
                                                b.getContext());
    SmallVector<utils::IteratorType> iters(type.getRank(),
                                           utils::IteratorType::parallel);
    return linalg::GenericOp::create(
               b, loc, type, x, empty, SmallVector<AffineMap>{id, id}, iters,
               [&](OpBuilder &nested, Location, ValueRange args) {
                 OpBuilder::InsertionGuard guard(b);
                 b.setInsertionPointToEnd(nested.getInsertionBlock());
                 Value q = math::RoundEvenOp::create(
                     b, loc, arith::DivFOp::create(b, loc, toF32(args[0]), scale));
                 q = arith::AddFOp::create(b, loc, q, zp);
                 q = arith::MinimumFOp::create(
                     b, loc, arith::MaximumFOp::create(b, loc, q, f32(lo)),
                     f32(hi));
                 Value v = arith::MulFOp::create(
                     b, loc, arith::SubFOp::create(b, loc, q, zp), scale);
                 if (!elt.isF32())
                   v = arith::TruncFOp::create(b, loc, elt, v);
                 linalg::YieldOp::create(b, loc, v);
               })
        .getResult(0);
  }
  Location loc;
  Type elt;

  Value constant(Type type, double v) {
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, v));
  }
  Value f32(double v) { return constant(b.getF32Type(), v); }
  Value toF32(Value v) {
    return v.getType().isF32()
               ? v
               : arith::ExtFOp::create(b, loc, b.getF32Type(), v).getResult();
  }

  /// Which values a block max reads.
  enum class Side { Both, Positive, Negative };

  /// [..., blocks, block] -> [..., blocks]: max |x| of each block (f32),
  /// or of its positive values, or of its negative values' magnitudes (0
  /// when it has none).
  Value blockMax(Value tiled, ArrayRef<int64_t> split, Side side) {
    int64_t rank = split.size();
    SmallVector<int64_t> outShape(split.drop_back());
    Value init = linalg::FillOp::create(
                     b, loc, f32(0.0),
                     tensor::EmptyOp::create(b, loc, outShape, b.getF32Type())
                         .getResult())
                     .getResult(0);
    SmallVector<utils::IteratorType> iters(rank - 1,
                                           utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    MLIRContext *ctx = b.getContext();
    SmallVector<AffineMap> maps = {
        AffineMap::getMultiDimIdentityMap(rank, ctx),
        AffineMap::getMultiDimIdentityMap(rank, ctx).dropResult(rank - 1)};
    return linalg::GenericOp::create(
               b, loc, init.getType(), tiled, init, maps, iters,
               [&](OpBuilder &nested, Location, ValueRange args) {
                 OpBuilder::InsertionGuard guard(b);
                 b.setInsertionPointToEnd(nested.getInsertionBlock());
                 Value x = toF32(args[0]);
                 Value v =
                     side == Side::Both
                         ? math::AbsFOp::create(b, loc, x).getResult()
                         : arith::MaximumFOp::create(
                               b, loc,
                               side == Side::Positive
                                   ? x
                                   : arith::NegFOp::create(b, loc, x)
                                         .getResult(),
                               f32(0.0))
                               .getResult();
                 linalg::YieldOp::create(
                     b, loc,
                     ValueRange{arith::MaximumFOp::create(b, loc, args[1], v)});
               })
        .getResult(0);
  }

  /// Every element of `tiled` on the scheme's grid for its block's max
  /// (amxfp4: its positive and its negative max).
  Value roundToGrid(Value tiled, ValueRange maxes, ArrayRef<int64_t> split) {
    int64_t rank = split.size();
    MLIRContext *ctx = b.getContext();
    Value empty = tensor::EmptyOp::create(b, loc, split, elt);
    SmallVector<Value> inputs = {tiled};
    llvm::append_range(inputs, maxes);
    SmallVector<AffineMap> maps(
        maxes.size(),
        AffineMap::getMultiDimIdentityMap(rank, ctx).dropResult(rank - 1));
    maps.insert(maps.begin(), AffineMap::getMultiDimIdentityMap(rank, ctx));
    maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
    SmallVector<utils::IteratorType> iters(rank,
                                           utils::IteratorType::parallel);
    return linalg::GenericOp::create(
               b, loc, empty.getType(), inputs, empty, maps, iters,
               [&](OpBuilder &nested, Location, ValueRange args) {
                 OpBuilder::InsertionGuard guard(b);
                 b.setInsertionPointToEnd(nested.getInsertionBlock());
                 Value x = toF32(args[0]);
                 Value v = rounded(x, args.slice(1, maxes.size()));
                 if (!elt.isF32())
                   v = arith::TruncFOp::create(b, loc, elt, v);
                 linalg::YieldOp::create(b, loc, v);
               })
        .getResult(0);
  }

  /// x on the scheme's grid for its block's max (maxes).
  Value rounded(Value x, ValueRange maxes) {
    switch (act.getKind()) {
    case ActKind::mxfp4:
      return microscaled(x, maxes[0]);
    case ActKind::amxfp4: {
      Value negative = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                             x, f32(0.0));
      return arith::SelectOp::create(b, loc, negative,
                                     microscaled(x, maxes[1]),
                                     microscaled(x, maxes[0]));
    }
    case ActKind::dint4:
      return dint(x, maxes[0]);
    case ActKind::int8:
    case ActKind::int4:
    case ActKind::uint8: // per tensor: quantizedElementwise
      break;
    }
    return integer(x, maxes[0]);
  }

  /// dint4: a = min(|x| * (6 / max), 6) to 0 (a <= 1/4), 1/2 (a <= 3/4)
  /// or ceil(a - 1/2), with x's sign, times max / 6.
  Value dint(Value x, Value amax) {
    Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                           amax, f32(1e-30));
    Value inv = arith::SelectOp::create(
        b, loc, positive, arith::DivFOp::create(b, loc, f32(6.0), amax),
        f32(0.0));
    Value a = arith::MinimumFOp::create(
        b, loc, math::AbsFOp::create(b, loc, arith::MulFOp::create(b, loc, x, inv)),
        f32(6.0));
    auto atMost = [&](double bound) {
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, a,
                                   f32(bound));
    };
    Value level = arith::SelectOp::create(
        b, loc, atMost(0.25), f32(0.0),
        arith::SelectOp::create(
            b, loc, atMost(0.75), f32(0.5),
            math::CeilOp::create(b, loc,
                                 arith::SubFOp::create(b, loc, a, f32(0.5)))));
    return arith::MulFOp::create(
        b, loc, math::CopySignOp::create(b, loc, level, x),
        arith::DivFOp::create(b, loc, amax, f32(6.0)));
  }

  /// int8 / int4: roundeven(x * (L / max)) clamped to +-L, times max / L.
  Value integer(Value x, Value amax) {
    auto limit = static_cast<double>(act.getIntLimit());
    Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                           amax, f32(1e-30));
    Value inv = arith::SelectOp::create(
        b, loc, positive, arith::DivFOp::create(b, loc, f32(limit), amax),
        f32(0.0));
    Value q = math::RoundEvenOp::create(
        b, loc, arith::MulFOp::create(b, loc, x, inv));
    q = arith::MinimumFOp::create(
        b, loc, arith::MaximumFOp::create(b, loc, q, f32(-limit)), f32(limit));
    return arith::MulFOp::create(
        b, loc, q, arith::DivFOp::create(b, loc, amax, f32(limit)));
  }

  /// mxfp4: x / 2^(floor(log2 max) - 2) rounded to the nearest E2M1 value
  /// (the exponent read from max's bits and clamped to [-126, 126], so that
  /// the scale and its inverse are normal f32), scaled back.
  Value microscaled(Value x, Value amax) {
    auto [inv, scale] = mxfp4BlockScale(b, loc, amax);
    Value a = arith::MinimumFOp::create(
        b, loc, math::AbsFOp::create(b, loc, arith::MulFOp::create(b, loc, x, inv)),
        f32(6.0));
    auto stepRound = [&](double step) {
      return arith::MulFOp::create(
          b, loc,
          math::RoundEvenOp::create(
              b, loc, arith::MulFOp::create(b, loc, a, f32(1.0 / step))),
          f32(step));
    };
    auto below = [&](double bound) {
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a,
                                   f32(bound));
    };
    Value r = arith::SelectOp::create(
        b, loc, below(2.0), stepRound(0.5),
        arith::SelectOp::create(b, loc, below(4.0), stepRound(1.0),
                                stepRound(2.0)));
    Value zero = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE,
                                       amax, f32(0.0));
    Value v = arith::MulFOp::create(
        b, loc, math::CopySignOp::create(b, loc, r, x), scale);
    return arith::SelectOp::create(b, loc, zero, f32(0.0), v);
  }
};

struct LowerQLinearPass : qc::impl::LowerQLinearPassBase<LowerQLinearPass> {
  void runOnOperation() override {
    SmallVector<QLinearOp> ops;
    getOperation().walk([&](QLinearOp op) { ops.push_back(op); });
    OpBuilder b(&getContext());
    for (QLinearOp op : ops) {
      b.setInsertionPoint(op);
      FailureOr<Value> weight = Dequantizer(b, op).build();
      if (failed(weight))
        return signalPassFailure();
      FailureOr<Value> input = op.getInput();
      if (ActivationAttr act = op.getActAttr())
        input = ActivationQuantizer(b, op, act).build();
      if (failed(input))
        return signalPassFailure();
      auto linear = LinearOp::create(b, op.getLoc(), op.getType(), *input,
                                     *weight, op.getBias(), op.getLayerAttr());
      op.replaceAllUsesWith(linear.getResult());
      op.erase();
    }
  }
};

} // namespace
