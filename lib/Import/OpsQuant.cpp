//===- OpsQuant.cpp - quantized weights and quantize / dequantize ops ------===//
//
// Block-quantized weights are imported straight into qc.qlinear, in qc's
// canonical layout: one code per element, `codes` [K, N] (0 .. 2^bits - 1),
// `scales` and `zeros` [ceil(K / group), N] (the last group may be partial),
// `w[k][n] = scale * (code - zero)`.
//
//  - com.microsoft::MatMulNBits: B [N, k_blocks, blob_size] holds the codes
//    of each column packed along K, `8 / bits` codes a byte, the first in the
//    low bits (2, 4 and 8 bits, as onnxruntime packs them); scales
//    [N, k_blocks] and packed uint8 (or float) zero points are transposed to
//    [k_blocks, N]. Without zero points the zero is 2^(bits-1), qc's
//    symmetric scheme. A partial last block (K % block_size != 0) is a
//    partial last group; K < block_size is one group of K. accuracy_level
//    4 (int8 activations in onnxruntime) becomes the activation scheme
//    int8 with a scale per block_size inputs; lower levels keep the
//    activations in float.
//  - DequantizeLinear of a constant [K, N] 4 / 8-bit tensor blocked along K
//    (axis 0, block_size > 0), per column (axis 1) or per tensor: a
//    dequantizing linalg.generic over the canonical constants, tagged with
//    its scheme (kBlockDequantAttr; whole columns are group -1). A MatMul
//    whose B is such a generic becomes qc.qlinear on the same constants;
//    finishQuantOps erases the generics nothing else uses. Signed codes c
//    become c + 2^(bits-1), and their zero points likewise, so the
//    arithmetic is identical.
//  - A QDQ model's activations: QuantizeLinear of f32 to int8 / uint8 on a
//    constant scale and zero point, then DequantizeLinear with the same
//    ones, in front of such a MatMul: the qc.qlinear takes the float input
//    with the static activation scheme they make (#qc.act scale and
//    zero_point, uint8's shifted to int8's range), which rounds the same.
//  - onnxruntime's quantize_dynamic form of a MatMul: DynamicQuantizeLinear
//    of the input, MatMulInteger with a constant 8-bit weight (zero points
//    per tensor or per column), Cast to float, Mul by the input's scale
//    times the weight's: matched at that last Mul, it becomes qc.qlinear of
//    the float input with the weight's codes and uint8 activations
//    (#qc.act<kind = uint8>, DynamicQuantizeLinear's arithmetic).
//
// Every other DequantizeLinear (per tensor, per axis, other blockings,
// run-time data) becomes a plain float dequantization. QuantizeLinear (per
// tensor, axis or block; 8 / 16-bit outputs), DynamicQuantizeLinear,
// QLinearMatMul and MatMulInteger (per-tensor zero points) become float /
// integer generics with ONNX's rounding (half to even) and saturation
// (ConvInteger and QLinearConv: OpsConvPool.cpp).
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "QC/IR/QCAttrs.h"
#include "QC/IR/QCDialect.h"
#include "QC/IR/QCOps.h"
#include "qc/Transforms/ConstantData.h"

#include <cmath>
#include <limits>
#include <optional>

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

namespace {

/// Tags the dequantizing generic of a block-quantized DequantizeLinear; the
/// value is the qc scheme of its canonical operands (codes, scales[, zeros]).
constexpr llvm::StringLiteral kBlockDequantAttr = "qc.block_dequant";
/// Beside it: how the generic's result is laid out (WeightLayout).
constexpr llvm::StringLiteral kWeightLayoutAttr = "qc.weight_layout";
/// Tags the generic of a QuantizeLinear of float data to 8 bits with one
/// constant scale and zero point; the value is that quantization as a
/// static #qc.act (uint8 codes and zero point shifted by -128).
constexpr llvm::StringLiteral kStaticQuantAttr = "qc.static_quant";
/// Tags the generic of a DequantizeLinear undoing such a QuantizeLinear
/// (same scale and zero point): a MatMul reading it takes the quantized
/// float input with that activation scheme.
constexpr llvm::StringLiteral kStaticActAttr = "qc.static_act";

std::string layerName(NodeContext &nc) {
  if (!nc.node.name().empty())
    return nc.node.name();
  return nc.numOutputs() ? nc.node.output(0) : "";
}

std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool isFloatType(DType d) {
  return d == TP::FLOAT || d == TP::FLOAT16 || d == TP::BFLOAT16;
}

/// A [K, N] weight in qc's canonical uniform layout, on the host.
struct CanonicalWeight {
  int64_t k = 0, n = 0, group = 0; // group <= k; the last may be partial
  /// One scale per column (per tensor or per output channel): group = k,
  /// the scheme's group -1.
  bool wholeColumns = false;
  unsigned bits = 0;
  bool symmetric = false;
  DType scaleDType = TP::FLOAT;
  std::vector<uint8_t> codes; // [K, N]
  std::vector<double> scales; // [groups(), N]
  std::vector<double> zeros;  // [groups(), N] unless symmetric

  int64_t groups() const { return (k + group - 1) / group; }
};

struct CanonicalValues {
  Value codes, scales, zeros; // zeros null when symmetric
  qc::UniformAttr scheme;
};

CanonicalValues materializeCanonical(NodeContext &nc, const CanonicalWeight &w,
                                     StringRef hint) {
  CanonicalValues v;
  HostTensor codes;
  codes.dtype = TP::UINT8;
  codes.shape = {w.k, w.n};
  codes.data.assign(w.codes.begin(), w.codes.end());
  v.codes = nc.constant(codes, (hint + "_codes").str());
  SmallVector<int64_t> gshape = {w.groups(), w.n};
  v.scales =
      nc.constant(HostTensor::fromDoubles(w.scales, gshape, w.scaleDType),
                  (hint + "_scales").str());
  if (!w.symmetric)
    v.zeros =
        nc.constant(HostTensor::fromDoubles(w.zeros, gshape, w.scaleDType),
                    (hint + "_zeros").str());
  Type scaleType = toMLIRType(nc.ctx(), w.scaleDType);
  v.scheme = qc::UniformAttr::get(nc.ctx(), w.bits,
                                  w.wholeColumns ? -1 : w.group,
                                  /*perIC=*/false, w.symmetric, scaleType);
  return v;
}

/// y = a x dequant(w) (+ bias) as qc.qlinear; `a` is [..., K], quantized
/// by `act` when there is one.
Value emitQLinear(NodeContext &nc, Value a, const CanonicalValues &w,
                  Value bias, qc::ActivationAttr act = {},
                  StringRef layer = {}) {
  auto at = cast<RankedTensorType>(a.getType());
  int64_t k = at.getShape().back();
  int64_t n = cast<RankedTensorType>(w.codes.getType()).getDimSize(1);
  bool vec = at.getRank() == 1;
  if (vec)
    a = nc.reshape(a, {1, k});
  at = cast<RankedTensorType>(a.getType());
  SmallVector<int64_t> shape(at.getShape().drop_back());
  shape.push_back(n);
  auto type = RankedTensorType::get(shape, at.getElementType());
  Value y = qc::QLinearOp::create(
      nc.b, nc.loc, type, a, w.codes, w.scales, w.zeros, /*codebook=*/Value(),
      bias, cast<qc::QuantSchemeAttrInterface>(Attribute(w.scheme)),
      nc.b.getStringAttr(layer.empty() ? layerName(nc) : layer.str()));
  if (act)
    y.getDefiningOp<qc::QLinearOp>().setActAttr(act);
  if (vec)
    y = nc.reshape(y, {n});
  return y;
}

//===----------------------------------------------------------------------===//
// com.microsoft::MatMulNBits
//===----------------------------------------------------------------------===//

LogicalResult importMatMulNBits(NodeContext &nc) {
  if (nc.node.domain() != "com.microsoft") { // an op_type spelled "a::b"
    nc.error() << "unsupported op '" << nc.node.op_type() << "'";
    return failure();
  }
  for (StringRef name : {"K", "N", "block_size"})
    if (!nc.hasAttr(name)) {
      nc.error() << "missing required attribute '" << name << "'";
      return failure();
    }
  int64_t k = nc.attrInt("K", 0), n = nc.attrInt("N", 0);
  int64_t bits = nc.attrInt("bits", 4), bs = nc.attrInt("block_size", 0);
  if (k <= 0 || n <= 0 || k > (int64_t(1) << 32) || n > (int64_t(1) << 32)) {
    nc.error() << "K = " << k << " and N = " << n
               << " must be positive (and below 2^32)";
    return failure();
  }
  if (bits != 2 && bits != 4 && bits != 8) {
    nc.error() << "bits = " << bits
               << " is not supported (2, 4 and 8 are: the widths "
                  "onnxruntime packs)";
    return failure();
  }
  if (bs < 16 || (bs & (bs - 1)) != 0) {
    nc.error() << "block_size = " << bs
               << " must be a power of 2 not smaller than 16";
    return failure();
  }
  if (int64_t p = nc.attrInt("weight_prepacked", 0)) {
    nc.error() << "weight_prepacked = " << p
               << " (a device-specific layout of B) is not supported";
    return failure();
  }
  if (nc.numInputs() < 3 || nc.numInputs() > 6 || !nc.hasInput(0) ||
      !nc.hasInput(1) || !nc.hasInput(2)) {
    nc.error() << "expects inputs A, B, scales and optional zero_points, "
                  "g_idx, bias";
    return failure();
  }

  // A [..., K], float.
  DType ad = nc.inputDType(0);
  RankedTensorType at = nc.inputType(0);
  if (ad != TP::FLOAT) {
    nc.error() << "A is " << dtypeName(ad) << "; only f32 A is supported";
    return failure();
  }
  if (at.getRank() < 1 || at.getShape().back() != k) {
    nc.error() << "A has shape " << shapeStr(at.getShape())
               << " but attribute K = " << k;
    return failure();
  }

  int64_t kBlocks = (k + bs - 1) / bs, blob = bs * bits / 8;
  int64_t perByte = 8 / bits;

  // B: constant uint8 [N, k_blocks, blob_size].
  const HostTensor *bT = nc.inputConstant(1);
  if (!bT) {
    nc.error() << "B must be a constant (an initializer)";
    return failure();
  }
  SmallVector<int64_t> wantB = {n, kBlocks, blob};
  if (bT->dtype != TP::UINT8 ||
      ArrayRef<int64_t>(bT->shape) != ArrayRef<int64_t>(wantB)) {
    nc.error() << "B is " << dtypeName(bT->dtype) << " " << shapeStr(bT->shape)
               << " but K = " << k << ", N = " << n << ", bits = " << bits
               << ", block_size = " << bs << " need u8 " << shapeStr(wantB);
    return failure();
  }
  // scales: constant [N, k_blocks] or [N * k_blocks], A's type.
  const HostTensor *sT = nc.inputConstant(2);
  if (!sT) {
    nc.error() << "scales must be a constant (an initializer)";
    return failure();
  }
  auto shapeIs = [&](const HostTensor &t, int64_t rows, int64_t cols) {
    return ArrayRef<int64_t>(t.shape) == ArrayRef<int64_t>{rows, cols} ||
           ArrayRef<int64_t>(t.shape) == ArrayRef<int64_t>{rows * cols};
  };
  if (sT->dtype != ad || !shapeIs(*sT, n, kBlocks)) {
    nc.error() << "scales are " << dtypeName(sT->dtype) << " "
               << shapeStr(sT->shape) << " but need " << dtypeName(ad) << " "
               << shapeStr({n, kBlocks}) << " (N, k_blocks)";
    return failure();
  }

  CanonicalWeight w;
  w.k = k;
  w.n = n;
  w.group = std::min(bs, k); // K < block_size: one block, the whole axis
  w.bits = bits;
  w.scaleDType = ad;
  w.codes.assign(k * n, 0);
  w.scales.assign(kBlocks * n, 0.0);
  unsigned mask = (1u << bits) - 1;
  const auto *bytes = reinterpret_cast<const uint8_t *>(bT->data.data());
  for (int64_t col = 0; col < n; ++col)
    for (int64_t blk = 0; blk < kBlocks; ++blk) {
      const uint8_t *p = bytes + (col * kBlocks + blk) * blob;
      for (int64_t j = 0; j < blob; ++j)
        for (int64_t e = 0; e < perByte; ++e) {
          // The last block may be partial (K % block_size != 0): its
          // padding codes are dropped.
          int64_t row = blk * bs + j * perByte + e;
          if (row < k)
            w.codes[row * n + col] = (p[j] >> (bits * e)) & mask;
        }
      w.scales[blk * n + col] = sT->getDouble(col * kBlocks + blk);
    }

  // zero_points: packed uint8 [N, ceil(k_blocks * bits / 8)] or float
  // [N, k_blocks] (either possibly flat); absent: 2^(bits-1), symmetric.
  w.symmetric = !nc.hasInput(3);
  if (nc.hasInput(3)) {
    const HostTensor *zT = nc.inputConstant(3);
    if (!zT) {
      nc.error() << "zero_points must be a constant (an initializer)";
      return failure();
    }
    w.zeros.assign(kBlocks * n, 0.0);
    if (zT->dtype == TP::UINT8) {
      int64_t row = (kBlocks * bits + 7) / 8;
      if (!shapeIs(*zT, n, row)) {
        nc.error() << "packed zero_points have shape " << shapeStr(zT->shape)
                   << " but need " << shapeStr({n, row})
                   << " (N, ceil(k_blocks * bits / 8))";
        return failure();
      }
      const auto *z = reinterpret_cast<const uint8_t *>(zT->data.data());
      for (int64_t col = 0; col < n; ++col)
        for (int64_t blk = 0; blk < kBlocks; ++blk) {
          uint8_t byte = z[col * row + blk / perByte];
          w.zeros[blk * n + col] = (byte >> (bits * (blk % perByte))) & mask;
        }
    } else if (isFloatType(zT->dtype)) {
      if (zT->dtype != ad || !shapeIs(*zT, n, kBlocks)) {
        nc.error() << "float zero_points are " << dtypeName(zT->dtype) << " "
                   << shapeStr(zT->shape) << " but need " << dtypeName(ad)
                   << " " << shapeStr({n, kBlocks}) << " (N, k_blocks)";
        return failure();
      }
      // Any finite float: w = scale * (q - zero) (GGUF's Q4_1 minimum is
      // -scale * zero).
      for (int64_t col = 0; col < n; ++col)
        for (int64_t blk = 0; blk < kBlocks; ++blk) {
          double z = zT->getDouble(col * kBlocks + blk);
          if (!std::isfinite(z)) {
            nc.error() << "float zero point " << z << " (column " << col
                       << ", block " << blk << ") is not finite";
            return failure();
          }
          w.zeros[blk * n + col] = z;
        }
    } else {
      nc.error() << "zero_points are " << dtypeName(zT->dtype)
                 << "; expected u8 (packed) or A's float type";
      return failure();
    }
  }

  // g_idx: only the trivial order g_idx[k] = k / block_size.
  if (nc.hasInput(4)) {
    const HostTensor *gT = nc.inputConstant(4);
    if (!gT) {
      nc.error() << "g_idx must be a constant (an initializer)";
      return failure();
    }
    if (!isInteger(gT->dtype) || gT->numElements() != k) {
      nc.error() << "g_idx is " << dtypeName(gT->dtype) << " "
                 << shapeStr(gT->shape) << " but needs " << k
                 << " integers (K)";
      return failure();
    }
    for (int64_t i = 0; i < k; ++i)
      if (gT->getInt(i) != i / bs) {
        nc.error() << "g_idx[" << i << "] = " << gT->getInt(i)
                   << " but only the trivial order g_idx[k] = k / block_size "
                      "(here "
                   << i / bs << ") is supported (no act-order reordering)";
        return failure();
      }
  }

  Value bias;
  if (nc.hasInput(5)) {
    RankedTensorType bt = nc.inputType(5);
    if (nc.inputDType(5) != ad || bt.getRank() != 1 || bt.getDimSize(0) != n) {
      nc.error() << "bias is " << dtypeName(nc.inputDType(5)) << " "
                 << shapeStr(bt.getShape()) << " but needs " << dtypeName(ad)
                 << " [" << n << "]";
      return failure();
    }
    bias = nc.input(5);
  }

  CanonicalValues v = materializeCanonical(nc, w, nc.node.input(1));
  // accuracy_level 4 lets onnxruntime compute on int8 activations, one
  // scale per block of block_size inputs; 0 - 3 mean float activations.
  int64_t level = nc.attrInt("accuracy_level", 0);
  if (level < 0 || level > 4) {
    nc.error() << "accuracy_level = " << level << " is not in [0, 4]";
    return failure();
  }
  qc::ActivationAttr act;
  if (level == 4)
    act = qc::ActivationAttr::get(nc.ctx(), qc::ActKind::int8, w.group);
  nc.setOutput(0, emitQLinear(nc, nc.input(0), v, bias, act), ad);
  return success();
}

//===----------------------------------------------------------------------===//
// DequantizeLinear
//===----------------------------------------------------------------------===//

bool isQuantDType(DType d) {
  return d == TP::INT8 || d == TP::UINT8 || subByteIntBits(d) ||
         d == TP::INT16 || d == TP::UINT16 || d == TP::INT32;
}
bool isUnsignedQuant(DType d) {
  return d == TP::UINT8 || d == kDTypeUInt4 || d == kDTypeUInt2 ||
         d == TP::UINT16;
}
unsigned quantBits(DType d) {
  if (unsigned bits = subByteIntBits(d))
    return bits;
  switch (d) {
  case TP::INT8:
  case TP::UINT8:
    return 8;
  case TP::INT16:
  case TP::UINT16:
    return 16;
  default:
    return 32;
  }
}

/// Integer value as f32, through i32 (i64 for int32 data) so that x - zero
/// is exact before the conversion.
Value widenInt(OpBuilder &b, Location loc, Value v, bool isUnsigned,
               Type wide) {
  if (v.getType() == wide)
    return v;
  if (isUnsigned)
    return arith::ExtUIOp::create(b, loc, wide, v);
  return arith::ExtSIOp::create(b, loc, wide, v);
}

Value f32ToType(OpBuilder &b, Location loc, Value v, Type t) {
  if (t == v.getType())
    return v;
  return arith::TruncFOp::create(b, loc, t, v);
}

/// `v` (float, or an integer read as unsigned when `isUnsigned`) as f32.
Value toF32(OpBuilder &b, Location loc, Value v, bool isUnsigned = false) {
  Type f32 = b.getF32Type();
  if (v.getType() == f32)
    return v;
  if (isa<FloatType>(v.getType()))
    return arith::ExtFOp::create(b, loc, f32, v);
  return isUnsigned ? arith::UIToFPOp::create(b, loc, f32, v).getResult()
                    : arith::SIToFPOp::create(b, loc, f32, v).getResult();
}

/// How a quantization scale indexes x: one scale, one per index of `axis`,
/// or blocks of `blockSize` along `axis` (opset 21); `map` reads the scale
/// (and zero point, input 2, whose shape must be the scale's) from x's
/// indices. `prefix` names the inputs in errors (x_scale, y_zero_point).
struct ScaleIndexing {
  enum Kind { PerTensor, PerAxis, Blocked } kind = PerTensor;
  int64_t axis = 0, blockSize = 0;
  AffineMap map;
};

/// How a constant quantized tensor x is a [K, N] weight: `Direct` [K, N]
/// blocked along K (axis 0) or per column (axis 1); `Matrix` a 2-D tensor
/// with one scale, [K, N] here and transposed when a Gemm's transB reads
/// it; `Transposed` [N, K] per row (axis 0: Gemm's transB); `Filter` a
/// convolution's [F, C, kh, kw] (N = F, K = C * kh * kw) per output channel
/// (axis 0) or per tensor. In the last two x is [N, K] row-major.
enum class WeightLayout { Direct, Matrix, Transposed, Filter };

std::optional<WeightLayout> weightLayout(ArrayRef<int64_t> shape,
                                         const ScaleIndexing &indexing) {
  bool blocked = indexing.kind == ScaleIndexing::Blocked;
  bool perAxis = indexing.kind == ScaleIndexing::PerAxis;
  if (shape.size() == 2 && indexing.kind == ScaleIndexing::PerTensor)
    return WeightLayout::Matrix;
  if (shape.size() == 2 && (!perAxis || indexing.axis == 1) &&
      (!blocked || indexing.axis == 0))
    return WeightLayout::Direct;
  if (shape.size() == 2 && perAxis && indexing.axis == 0)
    return WeightLayout::Transposed;
  if (shape.size() == 4 && !blocked && (!perAxis || indexing.axis == 0))
    return WeightLayout::Filter;
  return std::nullopt;
}

StringRef layoutName(WeightLayout layout) {
  switch (layout) {
  case WeightLayout::Direct:
    return "direct";
  case WeightLayout::Matrix:
    return "matrix";
  case WeightLayout::Transposed:
    return "transposed";
  case WeightLayout::Filter:
    return "filter";
  }
  return "";
}

/// The maps from x's indices to the canonical codes [K, N] and scales
/// [groups, N] of a weight in `layout`.
std::pair<AffineMap, AffineMap> canonicalMaps(MLIRContext *ctx,
                                              ArrayRef<int64_t> shape,
                                              WeightLayout layout,
                                              int64_t group) {
  unsigned rank = shape.size();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  auto zero = getAffineConstantExpr(0, ctx);
  if (layout == WeightLayout::Direct || layout == WeightLayout::Matrix)
    return {AffineMap::get(rank, 0, {d(0), d(1)}, ctx),
            AffineMap::get(rank, 0, {d(0).floorDiv(group), d(1)}, ctx)};
  AffineExpr row = d(1);
  if (layout == WeightLayout::Filter)
    row = d(1) * (shape[2] * shape[3]) + d(2) * shape[3] + d(3);
  return {AffineMap::get(rank, 0, {row, d(0)}, ctx),
          AffineMap::get(rank, 0, {zero, d(0)}, ctx)};
}

/// The DequantizeLinear of a constant 4 / 8-bit tensor that is a weight
/// (weightLayout) as a tagged generic over canonical operands, or null if
/// the node does not have that form.
FailureOr<Value> tryBlockDequant(NodeContext &nc, const ScaleIndexing &indexing,
                                 DType outD) {
  const HostTensor *x = nc.inputConstant(0);
  const HostTensor *s = nc.inputConstant(1);
  const HostTensor *z = nc.hasInput(2) ? nc.inputConstant(2) : nullptr;
  if (!x || !s || (nc.hasInput(2) && !z) || quantBits(x->dtype) > 8 ||
      s->dtype != outD || x->numElements() == 0)
    return Value();
  std::optional<WeightLayout> layout = weightLayout(x->shape, indexing);
  if (!layout)
    return Value();
  bool direct =
      *layout == WeightLayout::Direct || *layout == WeightLayout::Matrix;
  int64_t n = direct ? x->shape[1] : x->shape[0];
  int64_t k = x->numElements() / n;
  bool blocked = indexing.kind == ScaleIndexing::Blocked;
  int64_t blockSize = blocked ? indexing.blockSize : k;
  int64_t blocks = (k + blockSize - 1) / blockSize;
  if (blocked && ArrayRef<int64_t>(s->shape) != ArrayRef<int64_t>{blocks, n})
    return Value();
  unsigned bits = quantBits(x->dtype);
  int64_t offset = isUnsignedQuant(x->dtype) ? 0 : int64_t(1) << (bits - 1);
  CanonicalWeight w;
  w.k = k;
  w.n = n;
  w.group = std::min(blockSize, k); // the last block may be partial
  w.wholeColumns = !blocked;
  w.bits = bits;
  w.scaleDType = outD;
  w.codes.resize(k * n);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c)
      w.codes[r * n + c] = static_cast<uint8_t>(
          x->getInt(direct ? r * n + c : c * k + r) + offset);
  // The scale (zero point) of canonical group g, column c.
  auto at = [&](int64_t g, int64_t c) -> int64_t {
    if (indexing.kind == ScaleIndexing::PerTensor)
      return 0;
    return blocked ? g * n + c : c;
  };
  w.scales.resize(blocks * n);
  for (int64_t g = 0; g < blocks; ++g)
    for (int64_t c = 0; c < n; ++c)
      w.scales[g * n + c] = s->getDouble(at(g, c));
  // The type's zero (0) is qc's symmetric zero 2^(bits-1) for signed data.
  bool zeroZeros =
      !z || llvm::all_of(llvm::seq<int64_t>(0, z->numElements()),
                         [&](int64_t i) { return z->getInt(i) == 0; });
  w.symmetric = zeroZeros && offset != 0;
  if (!w.symmetric) {
    w.zeros.resize(blocks * n);
    for (int64_t g = 0; g < blocks; ++g)
      for (int64_t c = 0; c < n; ++c)
        w.zeros[g * n + c] =
            static_cast<double>((z ? z->getInt(at(g, c)) : 0) + offset);
  }
  CanonicalValues v = materializeCanonical(nc, w, nc.node.input(0));

  Type elt = toMLIRType(nc.ctx(), outD);
  auto [codeMap, groupMap] =
      canonicalMaps(nc.ctx(), x->shape, *layout, w.group);
  AffineMap id = AffineMap::getMultiDimIdentityMap(x->shape.size(), nc.ctx());
  SmallVector<Value> ins = {v.codes, v.scales};
  SmallVector<AffineMap> maps = {codeMap, groupMap};
  if (v.zeros) {
    ins.push_back(v.zeros);
    maps.push_back(groupMap);
  }
  maps.push_back(id);
  double symZero = static_cast<double>(int64_t(1) << (bits - 1));
  SmallVector<utils::IteratorType> iters(x->shape.size(),
                                         utils::IteratorType::parallel);
  auto gen = linalg::GenericOp::create(
      nc.b, nc.loc, RankedTensorType::get(x->shape, elt), ins,
      ValueRange{nc.empty(x->shape, elt)}, maps, iters,
      [&](OpBuilder &b, Location l, ValueRange a) {
        Type f32 = b.getF32Type();
        Value code = arith::UIToFPOp::create(b, l, f32, a[0]);
        Value zero = a.size() > 3
                         ? (a[2].getType() == f32
                                ? a[2]
                                : (Value)arith::ExtFOp::create(b, l, f32, a[2]))
                         : (Value)arith::ConstantOp::create(
                               b, l, b.getF32FloatAttr(symZero));
        Value scale = a[1].getType() == f32
                          ? a[1]
                          : (Value)arith::ExtFOp::create(b, l, f32, a[1]);
        Value q = arith::SubFOp::create(b, l, code, zero);
        Value r = arith::MulFOp::create(b, l, q, scale);
        linalg::YieldOp::create(b, l, f32ToType(b, l, r, elt));
      });
  gen->setAttr(kBlockDequantAttr, v.scheme);
  gen->setAttr(kWeightLayoutAttr, nc.b.getStringAttr(layoutName(*layout)));
  return gen.getResult(0);
}

FailureOr<ScaleIndexing> scaleIndexing(NodeContext &nc, RankedTensorType xt,
                                       RankedTensorType st, StringRef prefix) {
  std::string scaleName = (prefix + "_scale").str();
  // A scalar and a one-element vector are the same per-tensor parameter.
  auto perTensor = [](RankedTensorType t) {
    return t.getRank() <= 1 && t.getNumElements() == 1;
  };
  if (nc.hasInput(2) && nc.inputType(2).getShape() != st.getShape() &&
      !(perTensor(nc.inputType(2)) && perTensor(st))) {
    nc.error() << prefix << "_zero_point has shape "
               << shapeStr(nc.inputType(2).getShape()) << " but "
               << scaleName << " has shape " << shapeStr(st.getShape());
    return failure();
  }
  ScaleIndexing r;
  int64_t rank = xt.getRank();
  r.blockSize = nc.opset() >= 21 ? nc.attrInt("block_size", 0) : 0;
  if (r.blockSize < 0) {
    nc.error() << "block_size = " << r.blockSize << " must not be negative";
    return failure();
  }
  MLIRContext *ctx = nc.ctx();
  SmallVector<AffineExpr> exprs;
  if (r.blockSize == 0 && st.getNumElements() == 1 && st.getRank() <= 1) {
    for (int64_t i = 0; i < st.getRank(); ++i)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    r.map = AffineMap::get(rank, 0, exprs, ctx);
    return r;
  }
  FailureOr<int64_t> a = nc.normalizeAxis(nc.attrInt("axis", 1), rank);
  if (failed(a))
    return failure();
  r.axis = *a;
  if (r.blockSize == 0) {
    r.kind = ScaleIndexing::PerAxis;
    if (st.getRank() != 1 || st.getDimSize(0) != xt.getDimSize(r.axis)) {
      nc.error() << "per-axis " << scaleName << " has shape "
                 << shapeStr(st.getShape()) << " but x has shape "
                 << shapeStr(xt.getShape()) << " and axis = " << r.axis;
      return failure();
    }
    exprs.push_back(getAffineDimExpr(r.axis, ctx));
    r.map = AffineMap::get(rank, 0, exprs, ctx);
    return r;
  }
  r.kind = ScaleIndexing::Blocked;
  bool ok = st.getRank() == rank;
  for (int64_t i = 0; ok && i < rank; ++i) {
    int64_t want = i == r.axis
                       ? (xt.getDimSize(i) + r.blockSize - 1) / r.blockSize
                       : xt.getDimSize(i);
    ok = st.getDimSize(i) == want;
  }
  if (!ok) {
    nc.error() << "blocked " << scaleName << " has shape "
               << shapeStr(st.getShape()) << " but x has shape "
               << shapeStr(xt.getShape()) << ", axis = " << r.axis
               << ", block_size = " << r.blockSize;
    return failure();
  }
  for (int64_t i = 0; i < rank; ++i)
    exprs.push_back(i == r.axis
                        ? getAffineDimExpr(i, ctx).floorDiv(r.blockSize)
                        : getAffineDimExpr(i, ctx));
  r.map = AffineMap::get(rank, 0, exprs, ctx);
  return r;
}

/// One elementwise generic over x (input 0) with its scale (input 1) and
/// zero point (input 2, null when absent) read through `indexing`; `body`
/// computes an `elt` from the three.
Value scaledGeneric(
    NodeContext &nc, const ScaleIndexing &indexing, Type elt,
    function_ref<Value(OpBuilder &, Location, Value, Value, Value)> body) {
  auto xt = cast<RankedTensorType>(nc.input(0).getType());
  int64_t rank = xt.getRank();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, nc.ctx());
  SmallVector<Value> ins = {nc.input(0), nc.input(1)};
  SmallVector<AffineMap> maps = {id, indexing.map};
  if (nc.hasInput(2)) {
    ins.push_back(nc.input(2));
    // A per-tensor zero point may be a scalar beside a [1] scale, or the
    // other way round.
    int64_t zeroRank = nc.inputType(2).getRank();
    maps.push_back(zeroRank == indexing.map.getNumResults()
                       ? indexing.map
                       : AffineMap::get(rank, 0,
                                        SmallVector<AffineExpr>(
                                            zeroRank, getAffineConstantExpr(
                                                          0, nc.ctx())),
                                        nc.ctx()));
  }
  maps.push_back(id);
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             nc.b, nc.loc, RankedTensorType::get(xt.getShape(), elt), ins,
             ValueRange{nc.empty(xt.getShape(), elt)}, maps, iters,
             [&](OpBuilder &b, Location l, ValueRange a) {
               Value zero = a.size() > 3 ? a[2] : Value();
               linalg::YieldOp::create(b, l, body(b, l, a[0], a[1], zero));
             })
      .getResult(0);
}

/// The zero point of an 8-bit (de)quantization as qc's int8 one (uint8's
/// shifted by -128), if input 2 is absent or a constant.
std::optional<int64_t> int8ZeroPoint(NodeContext &nc, DType d) {
  int64_t shift = d == TP::UINT8 ? -128 : 0;
  if (!nc.hasInput(2))
    return shift;
  const HostTensor *z = nc.inputConstant(2);
  if (!z || z->numElements() != 1)
    return std::nullopt;
  return z->getInt(0) + shift;
}

/// The scale of a per-tensor (de)quantization when it is a constant f32
/// that a static #qc.act can hold (positive, normal).
std::optional<float> staticScale(NodeContext &nc,
                                 const ScaleIndexing &indexing) {
  const HostTensor *s = nc.inputConstant(1);
  if (indexing.kind != ScaleIndexing::PerTensor || !s ||
      s->dtype != TP::FLOAT || s->numElements() != 1)
    return std::nullopt;
  auto scale = static_cast<float>(s->getDouble(0));
  if (!(scale >= std::numeric_limits<float>::min()) || std::isinf(scale))
    return std::nullopt;
  return scale;
}

/// A QuantizeLinear of f32 data to int8 / uint8 on one constant scale and
/// zero point, as the static activation scheme it is (null otherwise).
qc::ActivationAttr staticQuantization(NodeContext &nc,
                                      const ScaleIndexing &indexing,
                                      DType out) {
  if (nc.inputDType(0) != TP::FLOAT || (out != TP::INT8 && out != TP::UINT8))
    return {};
  std::optional<float> scale = staticScale(nc, indexing);
  std::optional<int64_t> zero = int8ZeroPoint(nc, out);
  if (!scale || !zero)
    return {};
  return qc::ActivationAttr::get(nc.ctx(), *scale, *zero);
}

/// The static scheme of the QuantizeLinear this DequantizeLinear undoes
/// (same scale and zero point), or null.
qc::ActivationAttr undoneQuantization(NodeContext &nc,
                                      const ScaleIndexing &indexing) {
  auto q = nc.input(0).getDefiningOp<linalg::GenericOp>();
  auto act = q ? q->getAttrOfType<qc::ActivationAttr>(kStaticQuantAttr)
               : qc::ActivationAttr();
  if (!act || nc.inputDType(1) != TP::FLOAT)
    return {};
  std::optional<float> scale = staticScale(nc, indexing);
  std::optional<int64_t> zero = int8ZeroPoint(nc, nc.inputDType(0));
  if (!scale || !zero || *scale != act.getStaticScale() ||
      *zero != act.getZeroPoint())
    return {};
  return act;
}

/// The DequantizeLinear of constant int32 values with f32 scales, per
/// tensor or per axis (a QDQ model's biases, stored as int32 on the scale
/// x_scale * w_scale): the f32 result as a host constant, computed as the
/// generic would ((x - zero) in int64, then to f32, times the scale), so
/// that the bias is a constant the convolution or the kernel's epilogue
/// takes (not a per-channel dequantization at run time). False where it
/// does not apply.
bool foldConstantInt32Dequant(NodeContext &nc, const ScaleIndexing &indexing) {
  const HostTensor *x = nc.inputConstant(0), *scale = nc.inputConstant(1);
  const HostTensor *zero = nc.hasInput(2) ? nc.inputConstant(2) : nullptr;
  if (!x || !scale || (nc.hasInput(2) && !zero) || x->dtype != TP::INT32 ||
      scale->dtype != TP::FLOAT || indexing.kind == ScaleIndexing::Blocked)
    return false;
  int64_t n = x->numElements(), stride = 1;
  for (int64_t d = x->shape.size() - 1; d > indexing.axis; --d)
    stride *= x->shape[d];
  bool perAxis = indexing.kind == ScaleIndexing::PerAxis;
  std::vector<double> values(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = perAxis ? i / stride % x->shape[indexing.axis] : 0;
    int64_t q = x->getInt(i) -
                (zero ? zero->getInt(zero->numElements() == 1 ? 0 : c) : 0);
    values[i] =
        static_cast<float>(q) *
        static_cast<float>(scale->getDouble(scale->numElements() == 1 ? 0 : c));
  }
  nc.setOutputConstant(0, HostTensor::fromDoubles(values, x->shape, TP::FLOAT));
  return true;
}

LogicalResult importDequantizeLinear(NodeContext &nc) {
  if (nc.numInputs() < 2 || !nc.hasInput(0) || !nc.hasInput(1)) {
    nc.error() << "expects inputs x, x_scale and optional x_zero_point";
    return failure();
  }
  DType xd = nc.inputDType(0), sd = nc.inputDType(1);
  if (!isQuantDType(xd) && !smallFloatFormat(xd)) {
    nc.error() << "x is " << dtypeName(xd)
               << "; supported: int2, uint2, int4, uint4, int8, uint8, "
                  "int16, uint16, int32, float8 (e4m3fn, e4m3fnuz, e5m2, "
                  "e5m2fnuz), float4 (e2m1)";
    return failure();
  }
  if (!isFloatType(sd)) {
    nc.error() << "x_scale is " << dtypeName(sd)
               << "; expected f32, f16 or bf16";
    return failure();
  }
  if (int64_t od = nc.attrInt("output_dtype", 0); od != 0 && od != sd) {
    nc.error() << "output_dtype " << dtypeName(od)
               << " differs from x_scale's type " << dtypeName(sd)
               << "; not supported";
    return failure();
  }
  if (nc.hasInput(2) && nc.inputDType(2) != xd) {
    nc.error() << "x_zero_point is " << dtypeName(nc.inputDType(2))
               << " but x is " << dtypeName(xd);
    return failure();
  }
  RankedTensorType xt = nc.inputType(0), st = nc.inputType(1);
  FailureOr<ScaleIndexing> indexing = scaleIndexing(nc, xt, st, "x");
  if (failed(indexing))
    return failure();
  if (smallFloatFormat(xd)) {
    // (decode(x) - decode(zero)) * scale; ONNX's float8 zero points are 0.
    Type elt = toMLIRType(nc.ctx(), sd);
    nc.setOutput(0,
                 scaledGeneric(nc, *indexing, elt,
                               [&](OpBuilder &b, Location l, Value x,
                                   Value scale, Value zero) {
                                 Value v = decodeNarrowFloat(b, l, x, xd);
                                 if (zero)
                                   v = arith::SubFOp::create(
                                       b, l, v,
                                       decodeNarrowFloat(b, l, zero, xd));
                                 Value r = arith::MulFOp::create(
                                     b, l, v, toF32(b, l, scale));
                                 return f32ToType(b, l, r, elt);
                               }),
                 sd);
    return success();
  }
  if (foldConstantInt32Dequant(nc, *indexing))
    return success();
  FailureOr<Value> fused = tryBlockDequant(nc, *indexing, sd);
  if (failed(fused))
    return failure();
  if (*fused) {
    nc.setOutput(0, *fused, sd);
    return success();
  }

  // A plain float dequantization: (x - zero) * scale, in f32.
  Type elt = toMLIRType(nc.ctx(), sd);
  bool uns = isUnsignedQuant(xd);
  Type wide = nc.b.getIntegerType(xd == TP::INT32 ? 64 : 32);
  Value out = scaledGeneric(
      nc, *indexing, elt,
      [&](OpBuilder &b, Location l, Value x, Value scale, Value zero) {
        Value q = widenInt(b, l, x, uns, wide);
        if (zero)
          q = arith::SubIOp::create(b, l, q, widenInt(b, l, zero, uns, wide));
        Value qf = arith::SIToFPOp::create(b, l, b.getF32Type(), q);
        Value r = arith::MulFOp::create(b, l, qf, toF32(b, l, scale));
        return f32ToType(b, l, r, elt);
      });
  if (qc::ActivationAttr act = undoneQuantization(nc, *indexing))
    out.getDefiningOp()->setAttr(kStaticActAttr, act);
  nc.setOutput(0, out, sd);
  return success();
}

//===----------------------------------------------------------------------===//
// MatMul on a block-dequantized weight
//===----------------------------------------------------------------------===//

/// The operands of a per-tensor [N, K] weight `v` (canonical as [K, N]
/// when read untransposed) for its transpose: the codes transposed on the
/// host, the one scale (zero point) repeated for the K columns.
std::optional<CanonicalValues> transposedCanonical(NodeContext &nc,
                                                   const CanonicalValues &v) {
  auto shape = cast<RankedTensorType>(v.codes.getType()).getShape();
  FailureOr<std::vector<char>> codes = qc::getConstantBytes(v.codes);
  FailureOr<std::vector<float>> scales = qc::getConstantFloats(v.scales);
  FailureOr<std::vector<float>> zeros =
      v.zeros ? qc::getConstantFloats(v.zeros) : std::vector<float>{};
  if (failed(codes) || failed(scales) || failed(zeros) || scales->empty())
    return std::nullopt;
  CanonicalWeight w;
  w.n = shape[0];
  w.k = shape[1];
  w.group = w.k;
  w.wholeColumns = true;
  w.bits = v.scheme.getBits();
  w.symmetric = v.scheme.getSymmetric();
  w.scaleDType = TP::FLOAT;
  w.codes.resize(w.k * w.n);
  for (int64_t r = 0; r < w.k; ++r)
    for (int64_t c = 0; c < w.n; ++c)
      w.codes[r * w.n + c] = static_cast<uint8_t>((*codes)[c * w.k + r]);
  w.scales.assign(w.n, (*scales)[0]);
  if (!w.symmetric)
    w.zeros.assign(w.n, zeros->empty() ? 0.0 : (*zeros)[0]);
  return materializeCanonical(nc, w, nc.node.input(1));
}

/// The tagged dequantizing generic defining `weight` when its result can be
/// read as `layout` ("direct" and "transposed" take a per-tensor "matrix"),
/// with that tag's layout; null otherwise.
std::pair<linalg::GenericOp, StringRef> taggedWeight(Value weight,
                                                     StringRef layout) {
  auto gen = weight.getDefiningOp<linalg::GenericOp>();
  auto name = gen ? gen->getAttrOfType<StringAttr>(kWeightLayoutAttr)
                  : nullptr;
  if (!name || !gen->getAttrOfType<qc::UniformAttr>(kBlockDequantAttr) ||
      (name.getValue() != layout &&
       !(name.getValue() == "matrix" && layout != "filter")))
    return {};
  return {gen, name.getValue()};
}

/// The canonical operands of `weight` read as `layout` (taggedWeight).
std::optional<CanonicalValues> canonicalOf(NodeContext &nc, Value weight,
                                           StringRef layout) {
  auto [gen, tagged] = taggedWeight(weight, layout);
  if (!gen)
    return std::nullopt;
  bool matrix = tagged == "matrix";
  auto scheme = gen->getAttrOfType<qc::UniformAttr>(kBlockDequantAttr);
  CanonicalValues v;
  v.codes = gen.getDpsInputOperand(0)->get();
  v.scales = gen.getDpsInputOperand(1)->get();
  if (gen.getNumDpsInputs() > 2)
    v.zeros = gen.getDpsInputOperand(2)->get();
  v.scheme = scheme;
  if (matrix && layout == "transposed")
    return transposedCanonical(nc, v);
  return v;
}

/// qc.qlinear for a MatMul whose B is a tagged block-dequantizing generic;
/// false (nothing emitted) if it is not that case.
bool tryQLinearMatMul(NodeContext &nc) {
  if (nc.numInputs() != 2 || !nc.hasInput(0) || !nc.hasInput(1) ||
      nc.inputConstant(1))
    return false;
  RankedTensorType at = nc.inputType(0), bt = nc.inputType(1);
  if (!isFloatType(nc.inputDType(0)) ||
      at.getElementType() != bt.getElementType() || at.getRank() < 1 ||
      at.getShape().back() != bt.getDimSize(0))
    return false;
  // A static QDQ pair in front (a QDQ model's activations): the layer takes
  // the float input and quantizes it itself.
  auto [input, act] = staticallyQuantized(nc.input(0));
  Value y = quantizedLinear(nc, input, act, nc.input(1), "direct");
  if (!y)
    return false;
  nc.setOutput(0, y, nc.inputDType(0));
  return true;
}

/// qc.qlinear (+ C) for a Gemm (alpha = beta = 1, A not transposed) whose
/// B is a tagged dequantizing generic, [K, N] or with transB [N, K]; false
/// (nothing emitted) otherwise.
bool tryQLinearGemm(NodeContext &nc) {
  if (nc.numInputs() < 2 || !nc.hasInput(0) || !nc.hasInput(1) ||
      nc.attrFloat("alpha", 1.0f) != 1.0f ||
      nc.attrFloat("beta", 1.0f) != 1.0f || nc.attrInt("transA", 0) != 0 ||
      nc.inputDType(0) != TP::FLOAT || nc.inputType(0).getRank() != 2 ||
      nc.inputType(1).getRank() != 2)
    return false;
  bool transB = nc.attrInt("transB", 0) != 0;
  RankedTensorType at = nc.inputType(0), bt = nc.inputType(1);
  int64_t n = bt.getDimSize(transB ? 0 : 1);
  if (at.getDimSize(1) != bt.getDimSize(transB ? 1 : 0))
    return false;
  // C broadcasts to [M, N] (unidirectionally, as ONNX says).
  if (nc.hasInput(2)) {
    RankedTensorType ct = nc.inputType(2);
    int64_t want[2] = {n, at.getDimSize(0)}; // from the last dimension
    if (nc.inputDType(2) != TP::FLOAT || ct.getRank() > 2 ||
        !llvm::all_of(llvm::seq<int64_t>(0, ct.getRank()), [&](int64_t i) {
          int64_t d = ct.getDimSize(ct.getRank() - 1 - i);
          return d == 1 || d == want[i];
        }))
      return false;
  }
  auto [input, act] = staticallyQuantized(nc.input(0));
  Value y = quantizedLinear(nc, input, act, nc.input(1),
                            transB ? "transposed" : "direct");
  if (!y)
    return false;
  auto yt = cast<RankedTensorType>(y.getType());
  if (nc.hasInput(2)) {
    y = nc.elementwiseTo({y, nc.input(2)}, yt.getShape(), yt.getElementType(),
                         [](OpBuilder &b, Location l, ValueRange a) -> Value {
                           return arith::AddFOp::create(b, l, a[0], a[1]);
                         });
  }
  nc.setOutput(0, y, TP::FLOAT);
  return true;
}

//===----------------------------------------------------------------------===//
// onnxruntime's quantize_dynamic form of a MatMul
//===----------------------------------------------------------------------===//

bool isNode(const onnx::NodeProto *node, StringRef opType) {
  return node && node->op_type() == opType &&
         (node->domain().empty() || node->domain() == "ai.onnx");
}

/// The constant of `name` as a per-column vector of N values: one value
/// (per tensor) repeated, or N of them; null if it is neither.
std::optional<std::vector<double>> perColumn(NodeContext &nc, StringRef name,
                                             int64_t n) {
  const HostTensor *t = nc.constantOf(name);
  if (!t || (t->numElements() != 1 && t->numElements() != n) ||
      t->shape.size() > 1)
    return std::nullopt;
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i)
    v[i] = t->getDouble(t->numElements() == 1 ? 0 : i);
  return v;
}

/// qc.qlinear with uint8 activations for the MatMulInteger `mm` of
/// DynamicQuantizeLinear `dql`'s outputs and a constant 8-bit [K, N] weight
/// with per-tensor or per-column zero points, whose result is scaled by
/// dql's scale times the constant `weightScale`; null if the weight side is
/// not constant or not of that form.
Value dynamicQuantLinear(NodeContext &nc, const onnx::NodeProto &dql,
                         const onnx::NodeProto &mm, StringRef weightScale) {
  Value x = nc.valueOf(dql.input(0));
  const HostTensor *w = nc.constantOf(mm.input(1));
  DType wd = nc.dtypeOf(mm.input(1));
  if (!x || nc.dtypeOf(dql.input(0)) != TP::FLOAT || !w ||
      (wd != TP::INT8 && wd != TP::UINT8) || w->shape.size() != 2 ||
      nc.dtypeOf(weightScale) != TP::FLOAT)
    return Value();
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t k = w->shape[0], n = w->shape[1];
  if (xt.getRank() < 1 || !xt.hasStaticShape() || xt.getShape().back() != k)
    return Value();
  std::optional<std::vector<double>> scales = perColumn(nc, weightScale, n);
  std::optional<std::vector<double>> zeros =
      mm.input_size() > 3 && !mm.input(3).empty()
          ? perColumn(nc, mm.input(3), n)
          : std::vector<double>(n, 0.0);
  if (!scales || !zeros ||
      (mm.input_size() > 3 && !mm.input(3).empty() &&
       nc.dtypeOf(mm.input(3)) != wd))
    return Value();
  // qc's codes are unsigned: int8 c and its zero point become c + 128.
  double shift = wd == TP::INT8 ? 128.0 : 0.0;
  CanonicalWeight cw;
  cw.k = k;
  cw.n = n;
  cw.group = k;
  cw.wholeColumns = true;
  cw.bits = 8;
  cw.codes.resize(k * n);
  for (int64_t i = 0; i < k * n; ++i)
    cw.codes[i] = static_cast<uint8_t>(w->getInt(i) + shift);
  cw.scales = *scales;
  cw.symmetric = llvm::all_of(*zeros, [&](double z) { return z + shift == 128; });
  if (!cw.symmetric)
    for (double z : *zeros)
      cw.zeros.push_back(z + shift);
  CanonicalValues v = materializeCanonical(nc, cw, mm.input(1));
  std::string layer = mm.name().empty() ? mm.output(0) : mm.name();
  return emitQLinear(nc, x, v, Value(),
                     qc::ActivationAttr::get(nc.ctx(), qc::ActKind::uint8, -1),
                     layer);
}

/// A Mul that finishes onnxruntime's quantize_dynamic form of x W:
///   (q, s, zp) = DynamicQuantizeLinear(x)
///   Mul(Cast<float>(MatMulInteger(q, Wq, zp, Wzp)), Mul(s, Ws))
/// (either operand order) with Wq, Wzp, Ws constants becomes qc.qlinear
/// of x with uint8 activations (#qc.act<kind = uint8>): the same
/// arithmetic on qc's int8 kernels. The integer ops before it stay
/// imported and die unused. False (nothing emitted) otherwise.
bool tryDynamicQuantMatMul(NodeContext &nc) {
  if (nc.numInputs() != 2 || !nc.hasInput(0) || !nc.hasInput(1))
    return false;
  for (unsigned side : {0u, 1u}) {
    const onnx::NodeProto *cast = nc.producer(nc.node.input(side));
    const onnx::NodeProto *scaled = nc.producer(nc.node.input(1 - side));
    if (!isNode(cast, "Cast") || cast->input_size() != 1 ||
        !isNode(scaled, "Mul") || scaled->input_size() != 2)
      continue;
    bool toFloat = llvm::any_of(cast->attribute(), [](const auto &a) {
      return a.name() == "to" && a.i() == TP::FLOAT;
    });
    const onnx::NodeProto *mm = nc.producer(cast->input(0));
    if (!toFloat || !isNode(mm, "MatMulInteger") || mm->input_size() < 3)
      continue;
    const onnx::NodeProto *dql = nc.producer(mm->input(0));
    if (!isNode(dql, "DynamicQuantizeLinear") || dql->output_size() != 3 ||
        mm->input(0) != dql->output(0) || mm->input(2) != dql->output(2))
      continue;
    int weightScale = scaled->input(0) == dql->output(1)   ? 1
                      : scaled->input(1) == dql->output(1) ? 0
                                                           : -1;
    if (weightScale < 0)
      continue;
    Value y = dynamicQuantLinear(nc, *dql, *mm, scaled->input(weightScale));
    if (!y)
      continue;
    nc.setOutput(0, y, TP::FLOAT);
    return true;
  }
  return false;
}

} // namespace

std::pair<Value, qc::ActivationAttr>
qc::detail::staticallyQuantized(Value x) {
  auto dq = x.getDefiningOp<linalg::GenericOp>();
  auto act = dq ? dq->getAttrOfType<qc::ActivationAttr>(kStaticActAttr)
                : qc::ActivationAttr();
  if (!act)
    return {x, {}};
  // DequantizeLinear(QuantizeLinear(raw)): the quantizing generic's input.
  auto q = dq.getDpsInputOperand(0)->get().getDefiningOp<linalg::GenericOp>();
  return {q.getDpsInputOperand(0)->get(), act};
}

Value qc::detail::quantizedLinear(NodeContext &nc, Value input,
                                  qc::ActivationAttr act, Value weight,
                                  StringRef layout) {
  std::optional<CanonicalValues> v = canonicalOf(nc, weight, layout);
  if (!v)
    return Value();
  return emitQLinear(nc, input, *v, Value(), act);
}

bool qc::detail::isQuantizedWeight(Value weight, StringRef layout) {
  return static_cast<bool>(taggedWeight(weight, layout).first);
}

void qc::detail::finishQuantOps(func::FuncOp func) {
  SmallVector<linalg::GenericOp> tagged;
  auto tags = {kBlockDequantAttr, kWeightLayoutAttr, kStaticQuantAttr,
               kStaticActAttr};
  func.walk([&](linalg::GenericOp op) {
    if (llvm::any_of(tags, [&](StringRef tag) { return op->hasAttr(tag); }))
      tagged.push_back(op);
  });
  // Users first: a QuantizeLinear's generic dies with its DequantizeLinear.
  for (linalg::GenericOp op : llvm::reverse(tagged)) {
    if (!op->use_empty()) {
      for (StringRef tag : tags)
        op->removeAttr(tag);
      continue;
    }
    Value init = op.getDpsInitOperand(0)->get();
    op->erase();
    if (Operation *def = init.getDefiningOp(); def && def->use_empty())
      def->erase();
  }
}

//===----------------------------------------------------------------------===//
// QuantizeLinear, DynamicQuantizeLinear, QLinearMatMul, MatMulInteger
//===----------------------------------------------------------------------===//

/// The range of an 8 / 16-bit quantized type.
std::pair<double, double> quantRange(DType d) {
  switch (d) {
  case TP::INT8:
    return {-128, 127};
  case TP::UINT8:
    return {0, 255};
  case TP::INT16:
    return {-32768, 32767};
  case kDTypeInt4:
    return {-8, 7};
  case kDTypeUInt4:
    return {0, 15};
  case kDTypeInt2:
    return {-2, 1};
  case kDTypeUInt2:
    return {0, 3};
  default:
    return {0, 65535};
  }
}

bool isIntegerQuantOutput(DType d) {
  return d == TP::INT8 || d == TP::UINT8 || d == TP::INT16 ||
         d == TP::UINT16 || subByteIntBits(d);
}

/// saturate(roundeven(v) + zero) in `out` (a 2 / 4 / 8 / 16-bit integer
/// type, the narrow ones held in i8): v and zero are f32.
Value saturateTo(OpBuilder &b, Location loc, Value v, Value zero, DType out) {
  auto [lo, hi] = quantRange(out);
  auto c = [&](double x) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(x));
  };
  Value q = math::RoundEvenOp::create(b, loc, v);
  if (zero)
    q = arith::AddFOp::create(b, loc, q, zero);
  q = arith::MinimumFOp::create(b, loc, arith::MaximumFOp::create(b, loc, q, c(lo)),
                                c(hi));
  Value i = arith::FPToSIOp::create(b, loc, b.getI32Type(), q);
  unsigned bits = std::max(8u, quantBits(out));
  return arith::TruncIOp::create(b, loc, b.getIntegerType(bits), i);
}

LogicalResult importQuantizeLinear(NodeContext &nc) {
  if (nc.numInputs() < 2 || !nc.hasInput(0) || !nc.hasInput(1)) {
    nc.error() << "expects inputs x, y_scale and optional y_zero_point";
    return failure();
  }
  DType xd = nc.inputDType(0), sd = nc.inputDType(1);
  if (!isFloatType(xd) || !isFloatType(sd)) {
    nc.error() << "x and y_scale must be f32, f16 or bf16, found "
               << dtypeName(xd) << " and " << dtypeName(sd);
    return failure();
  }
  DType out = nc.hasInput(2) ? nc.inputDType(2)
                             : nc.attrInt("output_dtype", TP::UINT8);
  if (out == 0)
    out = TP::UINT8;
  if (!isIntegerQuantOutput(out) && !smallFloatFormat(out)) {
    nc.error() << "the output is " << dtypeName(out)
               << "; supported: int2, uint2, int4, uint4, int8, uint8, "
                  "int16, uint16, float8 (e4m3fn, e4m3fnuz, e5m2, e5m2fnuz), "
                  "float4 (e2m1)";
    return failure();
  }
  RankedTensorType xt = nc.inputType(0), st = nc.inputType(1);
  FailureOr<ScaleIndexing> indexing = scaleIndexing(nc, xt, st, "y");
  if (failed(indexing))
    return failure();
  if (smallFloatFormat(out)) {
    // x / scale + decode(zero), rounded to the format (ties to even).
    CastOptions options;
    options.saturate = nc.attrInt("saturate", 1) != 0;
    Value y = scaledGeneric(
        nc, *indexing, toMLIRType(nc.ctx(), out),
        [&](OpBuilder &b, Location l, Value x, Value scale, Value zero) {
          Value v = arith::DivFOp::create(b, l, toF32(b, l, x),
                                          toF32(b, l, scale));
          if (zero)
            v = arith::AddFOp::create(b, l, v,
                                      decodeNarrowFloat(b, l, zero, out));
          return encodeNarrowFloat(b, l, v, out, options);
        });
    nc.setOutput(0, y, out);
    return success();
  }
  bool uns = isUnsignedQuant(out);
  Value y = scaledGeneric(
      nc, *indexing, toMLIRType(nc.ctx(), out),
      [&](OpBuilder &b, Location l, Value x, Value scale, Value zero) {
        Value v = arith::DivFOp::create(b, l, toF32(b, l, x),
                                        toF32(b, l, scale));
        return saturateTo(b, l, v, zero ? toF32(b, l, zero, uns) : Value(),
                          out);
      });
  if (qc::ActivationAttr act = staticQuantization(nc, *indexing, out))
    y.getDefiningOp()->setAttr(kStaticQuantAttr, act);
  nc.setOutput(0, y, out);
  return success();
}

/// DynamicQuantizeLinear: uint8 with scale (max(0, max x) - min(0, min x))
/// / 255 and zero point saturate(round(-min(0, min x) / scale)).
LogicalResult importDynamicQuantizeLinear(NodeContext &nc) {
  if (!nc.hasInput(0) || nc.inputDType(0) != TP::FLOAT) {
    nc.error() << "x must be f32";
    return failure();
  }
  Value x = nc.input(0);
  RankedTensorType xt = nc.inputType(0);
  SmallVector<int64_t> all = llvm::to_vector(llvm::seq<int64_t>(0, xt.getRank()));
  Type f32 = nc.b.getF32Type();
  auto combine = [](bool isMax) {
    return [isMax](OpBuilder &b, Location l, ValueRange a) -> Value {
      return isMax ? arith::MaximumFOp::create(b, l, a[0], a[1]).getResult()
                   : arith::MinimumFOp::create(b, l, a[0], a[1]).getResult();
    };
  };
  // max(0, max x) and min(0, min x): the reductions start from 0.
  Value hi = nc.reduce(x, all, false, nc.scalar(f32, 0.0), combine(true));
  Value lo = nc.reduce(x, all, false, nc.scalar(f32, 0.0), combine(false));
  Value scale = nc.elementwiseTo(
      {hi, lo}, {}, f32, [](OpBuilder &b, Location l, ValueRange a) -> Value {
        return arith::DivFOp::create(
            b, l, arith::SubFOp::create(b, l, a[0], a[1]),
            arith::ConstantOp::create(b, l, b.getF32FloatAttr(255.0f)));
      });
  // The zero point as an f32 integer in [0, 255].
  Value zeroF = nc.elementwiseTo(
      {lo, scale}, {}, f32, [](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value z = arith::NegFOp::create(
            b, l, arith::DivFOp::create(b, l, a[0], a[1]));
        auto c = [&](float v) {
          return arith::ConstantOp::create(b, l, b.getF32FloatAttr(v));
        };
        return math::RoundEvenOp::create(
            b, l,
            arith::MinimumFOp::create(
                b, l, arith::MaximumFOp::create(b, l, z, c(0)), c(255)));
      });
  Type i8 = nc.b.getIntegerType(8);
  Value y = nc.elementwiseTo(
      {x, scale, zeroF}, xt.getShape(), i8,
      [](OpBuilder &b, Location l, ValueRange a) -> Value {
        return saturateTo(b, l, arith::DivFOp::create(b, l, a[0], a[1]), a[2],
                          TP::UINT8);
      });
  Value zero = nc.elementwiseTo(
      {zeroF}, {}, i8, [](OpBuilder &b, Location l, ValueRange a) -> Value {
        return saturateTo(b, l, a[0], Value(), TP::UINT8);
      });
  nc.setOutput(0, y, TP::UINT8);
  nc.setOutput(1, scale, TP::FLOAT);
  nc.setOutput(2, zero, TP::UINT8);
  return success();
}

/// Input i (an integer tensor) minus zero point `zp` (input j, a scalar,
/// absent: 0; for `perColumn`, also one per column of input i's last
/// dimension) in `wide` (f32 or i32).
FailureOr<Value> centered(NodeContext &nc, unsigned i, int zp, Type wide,
                          bool perColumn = false) {
  DType d = nc.inputDType(i);
  if (d != TP::INT8 && d != TP::UINT8) {
    nc.error() << "input " << i << " is " << dtypeName(d)
               << "; expected int8 or uint8";
    return failure();
  }
  bool hasZero = zp >= 0 && nc.hasInput(zp);
  int64_t columns = nc.inputType(i).getRank() ? nc.inputType(i).getShape().back() : 1;
  bool columnZeros = hasZero && perColumn &&
                     nc.inputType(zp).getRank() == 1 &&
                     nc.inputType(zp).getNumElements() == columns &&
                     columns != 1;
  if (hasZero && (nc.inputDType(zp) != d ||
                  (nc.inputType(zp).getNumElements() != 1 && !columnZeros))) {
    nc.error() << "input " << zp << " must be one " << dtypeName(d)
               << " zero point"
               << (perColumn ? " or one per column" : " (per-tensor only)");
    return failure();
  }
  bool uns = isUnsignedQuant(d);
  SmallVector<Value> ins = {nc.input(i)};
  if (hasZero)
    ins.push_back(columnZeros ? nc.input(zp) : nc.reshape(nc.input(zp), {}));
  return nc.elementwiseTo(
      ins, nc.inputType(i).getShape(), wide,
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        auto widen = [&](Value v) -> Value {
          if (isa<FloatType>(wide))
            return toF32(b, l, v, uns);
          return widenInt(b, l, v, uns, wide);
        };
        Value v = widen(a[0]);
        if (a.size() < 2)
          return v;
        return isa<FloatType>(wide)
                   ? arith::SubFOp::create(b, l, v, widen(a[1])).getResult()
                   : arith::SubIOp::create(b, l, v, widen(a[1])).getResult();
      });
}

/// (input a - its zero point) x (input b - its zero point) in `wide`; b's
/// zero point may be one per column.
FailureOr<Value> centeredProduct(NodeContext &nc, unsigned a, int aZero,
                                 unsigned b, int bZero, Type wide) {
  FailureOr<Value> x = centered(nc, a, aZero, wide);
  if (failed(x))
    return failure();
  FailureOr<Value> y = centered(nc, b, bZero, wide, /*perColumn=*/true);
  if (failed(y))
    return failure();
  return emitMatMulOf(nc, *x, *y);
}

/// MatMulInteger: (A - a_zero_point) x (B - b_zero_point) in int32.
LogicalResult importMatMulInteger(NodeContext &nc) {
  FailureOr<Value> y = centeredProduct(nc, 0, 2, 1, 3, nc.b.getI32Type());
  if (failed(y))
    return failure();
  nc.setOutput(0, *y, TP::INT32);
  return success();
}

/// A per-tensor scale (input i) as a rank-0 f32 tensor.
FailureOr<Value> scalarScale(NodeContext &nc, unsigned i) {
  if (!nc.hasInput(i) || !isFloatType(nc.inputDType(i)) ||
      nc.inputType(i).getNumElements() != 1) {
    nc.error() << "input " << i
               << " must be one float scale (per-tensor quantization only)";
    return failure();
  }
  return nc.elementwiseTo({nc.reshape(nc.input(i), {})}, {},
                          nc.b.getF32Type(),
                          [](OpBuilder &b, Location l, ValueRange a) {
                            return toF32(b, l, a[0]);
                          });
}

/// QLinearMatMul: the integer product of the centered operands (exact in
/// f32 while its sums stay below 2^24), times a_scale * b_scale / y_scale,
/// requantized to y_zero_point's type.
LogicalResult importQLinearMatMul(NodeContext &nc) {
  if (nc.numInputs() != 8 || !nc.hasInput(7)) {
    nc.error() << "expects 8 inputs (a, a_scale, a_zero_point, b, b_scale, "
                  "b_zero_point, y_scale, y_zero_point)";
    return failure();
  }
  FailureOr<Value> as = scalarScale(nc, 1), bs = scalarScale(nc, 4),
                   ys = scalarScale(nc, 6);
  if (failed(as) || failed(bs) || failed(ys))
    return failure();
  DType out = nc.inputDType(7);
  if ((out != TP::INT8 && out != TP::UINT8) ||
      nc.inputType(7).getNumElements() != 1) {
    nc.error() << "y_zero_point must be one int8 or uint8 value";
    return failure();
  }
  FailureOr<Value> acc =
      centeredProduct(nc, 0, 2, 3, 5, nc.b.getF32Type());
  if (failed(acc))
    return failure();
  auto shape = cast<RankedTensorType>(acc->getType()).getShape();
  bool uns = isUnsignedQuant(out);
  Value y = nc.elementwiseTo(
      {*acc, *as, *bs, *ys, nc.reshape(nc.input(7), {})}, shape,
      toMLIRType(nc.ctx(), out),
      [&](OpBuilder &ob, Location l, ValueRange v) -> Value {
        Value m = arith::DivFOp::create(
            ob, l, arith::MulFOp::create(ob, l, v[1], v[2]), v[3]);
        return saturateTo(ob, l, arith::MulFOp::create(ob, l, v[0], m),
                          toF32(ob, l, v[4], uns), out);
      });
  nc.setOutput(0, y, out);
  return success();
}

void qc::detail::registerQuantOps(OpRegistry &r) {
  r.add("DequantizeLinear", importDequantizeLinear);
  r.add("QuantizeLinear", importQuantizeLinear);
  r.add("DynamicQuantizeLinear", importDynamicQuantizeLinear);
  r.add("MatMulInteger", importMatMulInteger);
  r.add("QLinearMatMul", importQLinearMatMul);
  r.add("com.microsoft::MatMulNBits", importMatMulNBits);
  // MatMul and Gemm on a quantized weight become qc.qlinear; the others
  // take the handlers registered before.
  auto wrap = [&](StringRef op, bool (*quantized)(NodeContext &)) {
    const OpHandler *registered = r.lookup(op);
    OpHandler base = registered ? *registered : OpHandler();
    r.add(op, [base, quantized, name = op.str()](NodeContext &nc)
                  -> LogicalResult {
      if (quantized(nc))
        return success();
      if (!base) {
        nc.error() << "unsupported op '" << name << "'";
        return failure();
      }
      return base(nc);
    });
  };
  wrap("MatMul", tryQLinearMatMul);
  wrap("Gemm", tryQLinearGemm);
  wrap("Mul", tryDynamicQuantMatMul);
}
