//===- QCOps.cpp - qc dialect operations: verifiers and builders ----------===//

#include "QC/IR/QCOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;
using namespace qc;

LogicalResult LinearOp::verify() {
  auto inputType = getInput().getType();
  auto weightType = getWeight().getType();
  auto resultType = getResult().getType();
  if (std::optional<int64_t> panel = getPanel()) {
    if (weightType.getRank() != 3 || weightType.getDimSize(2) != *panel)
      return emitOpError("with panel ")
             << *panel << " expects a weight [N / " << *panel << ", K, "
             << *panel << "], found " << weightType;
  } else if (weightType.getRank() != 2) {
    return emitOpError("expects a rank-2 weight [K, N], found rank ")
           << weightType.getRank();
  }
  if (inputType.getRank() < 1)
    return emitOpError("expects an input of rank >= 1");
  Type elt = inputType.getElementType();
  if (!isa<FloatType>(elt))
    return emitOpError("expects a floating-point input, found ") << elt;
  if (weightType.getElementType() != elt ||
      resultType.getElementType() != elt)
    return emitOpError("expects input, weight and result of one element "
                       "type, found ")
           << elt << ", " << weightType.getElementType() << " and "
           << resultType.getElementType();
  int64_t k = getInFeatures(), n = getOutFeatures();
  int64_t inK = inputType.getDimSize(inputType.getRank() - 1);
  if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(inK) && k != inK)
    return emitOpError("input has ")
           << inK << " features but the weight expects K = " << k;
  if (resultType.getRank() != inputType.getRank())
    return emitOpError("expects a result of the input's rank ")
           << inputType.getRank() << ", found " << resultType.getRank();
  for (int64_t i = 0, e = inputType.getRank() - 1; i < e; ++i)
    if (resultType.getDimSize(i) != inputType.getDimSize(i))
      return emitOpError("result dimension ")
             << i << " is " << resultType.getDimSize(i)
             << " but the input's is " << inputType.getDimSize(i);
  if (resultType.getDimSize(resultType.getRank() - 1) != n)
    return emitOpError("result has ")
           << resultType.getDimSize(resultType.getRank() - 1)
           << " features but the weight gives N = " << n;
  if (Value bias = getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() != 1 || biasType.getDimSize(0) != n ||
        biasType.getElementType() != elt)
      return emitOpError("expects a bias of type ")
             << RankedTensorType::get({n}, elt) << ", found " << biasType;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// QLinearOp
//===----------------------------------------------------------------------===//

int64_t QLinearOp::getInFeatures() {
  auto type = getInput().getType();
  return type.getDimSize(type.getRank() - 1);
}

int64_t QLinearOp::getOutFeatures() {
  auto type = getResult().getType();
  return type.getDimSize(type.getRank() - 1);
}

unsigned QLinearOp::getPackableCodeBits() {
  if (isa<CodebookAttr>(getScheme()))
    return 0;
  double bits = getScheme().getCodeBits();
  for (unsigned b : {2u, 4u, 8u})
    if (bits == b)
      return b;
  return 0;
}

LogicalResult HadamardOp::verify() {
  RankedTensorType in = getInput().getType(), signs = getSigns().getType(),
                   mix = getMix().getType();
  if (in.getRank() < 1 || ShapedType::isDynamic(in.getShape().back()))
    return emitOpError("expects an input of rank >= 1 with a static last "
                       "dimension");
  int64_t k = in.getShape().back();
  if (signs.getRank() != 1 || signs.getDimSize(0) != k)
    return emitOpError("expects ") << k << " signs, found " << signs;
  if (mix.getRank() != 2 || !mix.hasStaticShape() ||
      mix.getDimSize(0) != mix.getDimSize(1) || mix.getDimSize(0) < 1)
    return emitOpError("expects a square mix [M, M], found ") << mix;
  int64_t m = mix.getDimSize(0);
  if (k % m != 0 || !llvm::isPowerOf2_64(k / m))
    return emitOpError("expects K = ")
           << k << " to be the mix's order " << m
           << " times a power of two";
  return success();
}

LogicalResult QLinearOp::verify() {
  auto inputType = getInput().getType();
  auto resultType = getResult().getType();
  if (inputType.getRank() < 1 || resultType.getRank() != inputType.getRank())
    return emitOpError("expects input and result of one rank >= 1");
  Type elt = inputType.getElementType();
  if (!isa<FloatType>(elt) || resultType.getElementType() != elt)
    return emitOpError("expects a floating-point input and a result of the "
                       "same element type");
  for (int64_t i = 0, e = inputType.getRank() - 1; i < e; ++i)
    if (resultType.getDimSize(i) != inputType.getDimSize(i))
      return emitOpError("result dimension ")
             << i << " is " << resultType.getDimSize(i)
             << " but the input's is " << inputType.getDimSize(i);
  int64_t k = getInFeatures(), n = getOutFeatures();
  if (ShapedType::isDynamic(k) || ShapedType::isDynamic(n))
    return emitOpError("expects static K and N");
  QuantSchemeAttrInterface scheme = getScheme();
  if (failed(scheme.verifyShape(k, n, [&] { return emitOpError(); })))
    return failure();

  SmallVector<int64_t> codes, scales, zeros, codebook;
  scheme.getOperandShapes(k, n, codes, scales, zeros, codebook);
  auto check = [&](Value v, ArrayRef<int64_t> shape,
                   StringRef what) -> LogicalResult {
    if (shape.empty()) {
      if (v)
        return emitOpError("scheme ")
               << scheme << " takes no " << what << " operand";
      return success();
    }
    if (!v)
      return emitOpError("scheme ") << scheme << " needs a " << what
                                    << " operand";
    auto type = cast<RankedTensorType>(v.getType());
    if (type.getShape() != shape)
      return emitOpError() << what << " must have shape ["
                           << llvm::make_range(shape.begin(), shape.end())
                           << "] for K = " << k << ", N = " << n
                           << ", found " << type;
    return success();
  };
  if (getPacked() && getBitplanes())
    return emitOpError("codes cannot be both packed and bit-planes");
  if (getBitplanes()) {
    auto bcq = dyn_cast<BCQAttr>(scheme);
    if (!bcq)
      return emitOpError("bit-plane codes need a BCQ scheme, found ")
             << scheme;
    codes.assign({(k + 7) / 8, static_cast<int64_t>(bcq.getPlanes()), n});
  }
  if (getTileN() && !getPacked())
    return emitOpError("tile_n needs packed codes");
  if (getPacked()) {
    unsigned bits = getPackableCodeBits();
    if (bits == 0)
      return emitOpError("scheme ") << scheme << " has no packed layout";
    if (std::optional<int64_t> tile = getTileN()) {
      if (*tile < 1)
        return emitOpError("tile_n must be positive, found ") << *tile;
      codes.assign({(n + *tile - 1) / *tile, (k + 7) / 8, *tile,
                    static_cast<int64_t>(bits)});
    } else {
      codes.assign({n, (k * bits + 7) / 8});
    }
  }
  if (failed(check(getCodes(), codes, "codes")) ||
      failed(check(getScales(), scales, "scales")) ||
      failed(check(getZeros(), zeros, "zeros")) ||
      failed(check(getCodebook(), codebook, "codebook")))
    return failure();
  if (!getCodes().getType().getElementType().isInteger())
    return emitOpError("expects integer codes, found ")
           << getCodes().getType().getElementType();
  if (!isa<FloatType>(getScales().getType().getElementType()))
    return emitOpError("expects floating-point scales");
  if (Value bias = getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() != 1 || biasType.getDimSize(0) != n ||
        biasType.getElementType() != elt)
      return emitOpError("expects a bias of type ")
             << RankedTensorType::get({n}, elt) << ", found " << biasType;
  }
  return success();
}
LogicalResult ObserveOp::verify() {
  auto type = cast<RankedTensorType>(getInput().getType());
  if (type.getRank() < 1 || !type.getElementType().isF32())
    return emitOpError("expects an f32 tensor of rank >= 1, found ") << type;
  // The attribute is an i64; its getter reads it unsigned.
  if (static_cast<int64_t>(getTap()) < 0)
    return emitOpError("tap index must be >= 0, found ")
           << static_cast<int64_t>(getTap());
  if (getLayers().empty())
    return emitOpError("names no layer");
  return success();
}

LogicalResult CachedAttentionOp::verify() {
  auto q = cast<RankedTensorType>(getQuery().getType());
  auto k = cast<RankedTensorType>(getKey().getType());
  auto c = cast<RankedTensorType>(getKeyCache().getType());
  if (!q.hasStaticShape() || !k.hasStaticShape() || !c.hasStaticShape() ||
      q.getRank() != 4 || k.getRank() != 4 || c.getRank() != 4)
    return emitOpError("expects statically shaped rank-4 query, key and "
                       "caches");
  int64_t b = q.getDimSize(0), h = q.getDimSize(1), s = q.getDimSize(2),
          d = q.getDimSize(3), kv = k.getDimSize(1), t = c.getDimSize(2);
  if (h == 0 || kv == 0 || h % kv != 0)
    return emitOpError("query heads ")
           << h << " must be a positive multiple of the key heads " << kv;
  if (k.getDimSize(0) != b || k.getDimSize(2) != s || k.getDimSize(3) != d)
    return emitOpError("expects key and value of shape [")
           << b << ", " << kv << ", " << s << ", " << d << "], found " << k;
  if (c.getDimSize(0) != b || c.getDimSize(1) != kv)
    return emitOpError("expects caches of shape [")
           << b << ", " << kv << ", T, W], found " << c;
  if (getMixedPrecision())
    return verifyMixedCaches(c, d);
  if (!inferKVCacheLayout(c.getElementType(), c.getDimSize(3), d)) {
    InFlightDiagnostic diag = emitOpError("caches ")
                              << c << " store rows of " << d
                              << " values in no known format: f32 or f16 [.., "
                              << d << "]";
    if (kvCacheFormatFits(KVCacheFormat::Int8, d))
      return diag << ", i8 [.., "
                  << KVCacheLayout{KVCacheFormat::Int8, d}.rowWidth()
                  << "] (int8) or [.., "
                  << KVCacheLayout{KVCacheFormat::Int4, d}.rowWidth()
                  << "] (int4)";
    return diag << " (int8 and int4 need a head size that is a multiple of "
                << kKVCacheGroup << ")";
  }
  if (s < 1 || t < s)
    return emitOpError("the cache length ")
           << t << " must hold the step's " << s << " positions";
  return success();
}

LogicalResult CachedAttentionOp::verifyMixedCaches(RankedTensorType c,
                                                   int64_t d) {
  KVCacheLayout mikv{KVCacheFormat::MiKV, d};
  if (!kvCacheFormatFits(KVCacheFormat::MiKV, d))
    return emitOpError("mixed-precision caches need a head size that is a "
                       "multiple of ")
           << kKVCacheGroup << ", not " << d;
  if (!c.getElementType().isInteger(8) || c.getDimSize(3) != mikv.rowWidth())
    return emitOpError("mixed-precision caches of head size ")
           << d << " are i8 [.., " << mikv.rowWidth() << "], found " << c;
  int64_t s = cast<RankedTensorType>(getQuery().getType()).getDimSize(2);
  if (c.getDimSize(2) < std::max(kMiKVMinLength, s))
    return emitOpError("mixed-precision caches hold at least ")
           << kMiKVMinLength << " positions and the step's " << s
           << ", not " << c.getDimSize(2);
  return success();
}

KVCacheLayout CachedAttentionOp::getCacheLayout() {
  auto c = cast<RankedTensorType>(getKeyCache().getType());
  int64_t d = cast<RankedTensorType>(getQuery().getType()).getDimSize(3);
  if (getMixedPrecision())
    return {KVCacheFormat::MiKV, d};
  return inferKVCacheLayout(c.getElementType(), c.getDimSize(3), d)
      .value_or(KVCacheLayout{KVCacheFormat::F32, d});
}

#define GET_OP_CLASSES
#include "QC/IR/QCOps.cpp.inc"
