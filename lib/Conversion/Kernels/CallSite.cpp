//===- CallSite.cpp - what every generated kernel's call site does -------===//

#include "Kernels.h"
#include "QC/IR/QCOps.h"
#include "qc/Codegen/DynamicQuant.h"
#include "qc/Conversion/Passes.h"
#include "qc/Transforms/ConstantData.h"
#include "qc/Transforms/ConvAsLinear.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace qc;
using namespace qc::kernels;

Value kernels::resourceConstant(OpBuilder &b, Location loc,
                                ArrayRef<int64_t> shape, Type elt,
                                ArrayRef<char> bytes, StringRef key) {
  AsmResourceBlob blob =
      HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(uint64_t));
  auto attr = DenseResourceElementsAttr::get(RankedTensorType::get(shape, elt),
                                             key, std::move(blob));
  return arith::ConstantOp::create(b, loc, attr);
}

Value kernels::readOnlyBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
      /*readOnly=*/true);
}

Value kernels::activationBuffer(OpBuilder &b, Location loc, Value input,
                               int64_t m, int64_t k, StringRef layer) {
  Value x = readOnlyBuffer(b, loc, flattenInput(b, loc, input, m, k));
  x.getDefiningOp()->setAttr("qc.read_by", b.getStringAttr(layer));
  return x;
}

Value kernels::allocBuffer(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                           Type elt) {
  return memref::AllocOp::create(b, loc, MemRefType::get(shape, elt),
                                 b.getI64IntegerAttr(64));
}

/// [..., K] <-> [M, K]: the reassociation that keeps the last dimension.
static SmallVector<ReassociationIndices> flatGroups(int64_t rank) {
  SmallVector<ReassociationIndices> groups(2);
  for (int64_t d = 0; d + 1 < rank; ++d)
    groups[0].push_back(d);
  groups[1].push_back(rank - 1);
  return groups;
}

Value kernels::flattenInput(OpBuilder &b, Location loc, Value x, int64_t m,
                            int64_t k) {
  auto type = cast<RankedTensorType>(x.getType());
  auto flat = RankedTensorType::get({m, k}, type.getElementType());
  if (type.getRank() == 1)
    return tensor::ExpandShapeOp::create(
        b, loc, flat, x, ArrayRef<ReassociationIndices>{{0, 1}});
  if (type.getRank() > 2)
    return tensor::CollapseShapeOp::create(b, loc, flat, x,
                                           flatGroups(type.getRank()));
  return x;
}

Value kernels::outputTensor(OpBuilder &b, Location loc, Value buffer,
                            int64_t m, int64_t n, RankedTensorType outType) {
  auto bufType = cast<MemRefType>(buffer.getType());
  Value y = bufferization::ToTensorOp::create(
      b, loc,
      RankedTensorType::get(bufType.getShape(), bufType.getElementType()),
      buffer, /*restrict=*/true, /*writable=*/true);
  if (bufType.getShape()[1] != n)
    y = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({m, n}, bufType.getElementType()), y,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(m), b.getIndexAttr(n)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  if (outType.getRank() == 1)
    return tensor::CollapseShapeOp::create(
        b, loc, y, ArrayRef<ReassociationIndices>{{0, 1}});
  if (outType.getRank() > 2)
    return tensor::ExpandShapeOp::create(b, loc, outType, y,
                                         flatGroups(outType.getRank()));
  return y;
}

func::FuncOp kernels::declareKernel(ModuleOp module, Location loc,
                                    const KernelShape &s, StringRef role,
                                    StringRef prefix, TypeRange types,
                                    bool parallel, int64_t align) {
  std::string name = (prefix + s.suffix()).str();
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder top = OpBuilder::atBlockEnd(module.getBody());
  MLIRContext *ctx = module.getContext();
  auto fn =
      func::FuncOp::create(top, loc, name, FunctionType::get(ctx, types, {}));
  fn.setPrivate();
  fn->setAttr(kRoleAttr, top.getStringAttr(role));
  if (parallel)
    fn->setAttr(kParallelAttrName, top.getI64IntegerAttr(align));
  s.attach(fn);
  return fn;
}

/// An identity-indexed generic over `init`'s shape computing `body` from the
/// inputs read through `maps` (the output's identity map last).
static Value
buildGeneric(OpBuilder &b, Location loc, ValueRange inputs, Value init,
             SmallVector<AffineMap> maps,
             ArrayRef<utils::IteratorType> iterators,
             function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  return linalg::GenericOp::create(
             b, loc, init.getType(), inputs, init, maps, iterators,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l, body(nb, l, args));
             })
      .getResult(0);
}

/// A static int8 layer's quantization (`x` f32 -> its int8 code).
using QuantizeFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// The int8 codes of the tensor `x`, elementwise.
static Value quantizeTensor(OpBuilder &b, Location loc, Value x,
                            QuantizeFn quantize) {
  auto type = cast<RankedTensorType>(x.getType());
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  return buildGeneric(
      b, loc, x,
      tensor::EmptyOp::create(b, loc, type.getShape(), b.getI8Type()), {id, id},
      SmallVector<utils::IteratorType>(type.getRank(),
                                       utils::IteratorType::parallel),
      quantize);
}

/// Where `image` is a tensor.pad by a constant, the int8 codes of its
/// source padded by the constant's code (folded); else null.
static Value quantizedPad(OpBuilder &b, Location loc, Value image,
                          QuantizeFn quantize) {
  auto pad = image.getDefiningOp<tensor::PadOp>();
  FloatAttr value;
  if (!pad || !pad.getConstantPaddingValue() ||
      !matchPattern(pad.getConstantPaddingValue(), m_Constant(&value)))
    return {};
  // The pad value anew, outside the pad's region (it may be defined inside).
  Value padValue = arith::ConstantOp::create(b, loc, value);
  Value code = quantize(b, loc, padValue);
  return tensor::PadOp::create(
      b, loc,
      RankedTensorType::get(pad.getResultType().getShape(), b.getI8Type()),
      quantizeTensor(b, loc, pad.getSource(), quantize), pad.getMixedLowPad(),
      pad.getMixedHighPad(), code);
}

/// A static int8 layer's kernel buffers from its int8 `rows` (or the image
/// its kernel gathers them from) and their code sums `sums` ([M] i32):
/// `xq` the rows, `xs` the scale everywhere, `xsum` the scale times each
/// row's code sum (group 0; the padding groups' scales are 0).
static ActivationBuffers codeSumBuffers(OpBuilder &b, Location loc,
                                        QLinearOp op, const KernelShape &s,
                                        Value rows, Value sums, float scale) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  auto par = utils::IteratorType::parallel;
  AffineExpr m = getAffineDimExpr(0, ctx), k = getAffineDimExpr(1, ctx);
  Value xsum = buildGeneric(
      b, loc, sums,
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{s.m, s.groups()}, f32),
      {AffineMap::get(2, 0, {m}, ctx), AffineMap::get(2, 0, {m, k}, ctx)},
      {par, par}, [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        Value first = arith::CmpIOp::create(
            nb, l, arith::CmpIPredicate::eq, linalg::IndexOp::create(nb, l, 1),
            arith::ConstantIndexOp::create(nb, l, 0));
        Value sum = arith::MulFOp::create(
            nb, l, arith::SIToFPOp::create(nb, l, f32, a[0]),
            arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(scale)));
        return arith::SelectOp::create(
            nb, l, first, sum,
            arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0f)));
      });
  Value xs = linalg::FillOp::create(
                 b, loc,
                 arith::ConstantOp::create(b, loc, b.getF32FloatAttr(scale))
                     .getResult(),
                 ValueRange{tensor::EmptyOp::create(
                     b, loc, ArrayRef<int64_t>{s.m, s.actBlocks()}, f32)})
                 .getResult(0);
  ActivationBuffers a;
  a.xq = readOnlyBuffer(b, loc, rows);
  a.xs = readOnlyBuffer(b, loc, xs);
  a.xsum = readOnlyBuffer(b, loc, xsum);
  // Each layer's reads its own (as activationBuffer's): CSE would merge
  // equal reads of two layers, and the kernels' reads are invisible to the
  // buffer analyses (test/E2E/conv-int8-gather.test).
  for (Value v : {a.xq, a.xs, a.xsum})
    v.getDefiningOp()->setAttr("qc.read_by", b.getStringAttr(op.getLayer()));
  return a;
}

/// Sums of int8 (or i32) `codes` (the first input; others only give loop
/// extents) over the loops of `maps` marked reduction, into an i32 tensor
/// of `shape` (the output map's).
static Value codeSums(OpBuilder &b, Location loc, ValueRange codes,
                      ArrayRef<int64_t> shape, ArrayRef<AffineMap> maps,
                      ArrayRef<utils::IteratorType> iterators) {
  Type i32 = b.getI32Type();
  Value zero = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  Value init =
      linalg::FillOp::create(
          b, loc, zero, ValueRange{tensor::EmptyOp::create(b, loc, shape, i32)})
          .getResult(0);
  return buildGeneric(b, loc, codes, init, llvm::to_vector(maps), iterators,
                      [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                        Value v = a[0];
                        if (v.getType() != i32)
                          v = arith::ExtSIOp::create(nb, l, i32, v);
                        return arith::AddIOp::create(nb, l, v, a.back());
                      });
}

/// Whether the kernel can gather the rows of `gather` (loops n, oh, ow, i,
/// j, c) itself: runs of an NHWC image of a multiple of 32 channels, read
/// through affine indices, of at most 2^31 values.
static bool kernelGathersRows(const KernelShape &s, linalg::GenericOp gather) {
  auto it = cast<RankedTensorType>(gather.getDpsInputs()[0].getType());
  auto gt = cast<RankedTensorType>(gather.getResult(0).getType());
  AffineMap map = gather.getIndexingMapsArray().front();
  return it.getRank() == 4 && it.getDimSize(3) % 32 == 0 && s.k % 32 == 0 &&
         gt.getRank() == 6 && gt.getDimSize(5) == it.getDimSize(3) &&
         map.getNumResults() == 4 &&
         map.getResult(3) == getAffineDimExpr(5, map.getContext()) &&
         llvm::all_of(map.getResults(),
                      [](AffineExpr e) { return e.isPureAffine(); }) &&
         it.getNumElements() <= std::numeric_limits<int32_t>::max();
}

/// The kernel gathers the rows itself (KernelShape::gathered, where
/// kernelGathersRows) from `image`, the int8 codes of the NHWC image
/// `gather` reads: the row bases and block offsets are compile-time tables
/// of the gather's map, and each row's code sum is a kh x kw window sum of
/// the pixels' channel sums (no [M, K] rows are written).
static ActivationBuffers imageRows(OpBuilder &b, Location loc, QLinearOp op,
                                   const KernelShape &s,
                                   linalg::GenericOp gather, Value image,
                                   float scale) {
  auto it = cast<RankedTensorType>(image.getType());
  auto gt = cast<RankedTensorType>(gather.getResult(0).getType());
  AffineMap map = gather.getIndexingMapsArray().front();
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> is = it.getShape(), gs = gt.getShape();
  int64_t strides[4] = {is[1] * is[2] * is[3], is[2] * is[3], is[3], 1};
  auto offset = [&](ArrayRef<int64_t> loops) {
    int64_t at = 0;
    for (auto [r, v] : llvm::enumerate(map.compose(loops)))
      at += strides[r] * v;
    return at;
  };
  int64_t origin = offset({0, 0, 0, 0, 0, 0});
  std::vector<int32_t> rowBase, blockOff;
  for (int64_t n = 0; n < gs[0]; ++n)
    for (int64_t y = 0; y < gs[1]; ++y)
      for (int64_t x = 0; x < gs[2]; ++x)
        rowBase.push_back(static_cast<int32_t>(offset({n, y, x, 0, 0, 0})));
  for (int64_t i = 0; i < gs[3]; ++i)
    for (int64_t j = 0; j < gs[4]; ++j)
      for (int64_t c = 0; c < gs[5]; c += 32)
        blockOff.push_back(
            static_cast<int32_t>(offset({0, 0, 0, i, j, c}) - origin));

  // Row sums: each pixel's channel sum, then the window's sum of those.
  auto par = utils::IteratorType::parallel,
       red = utils::IteratorType::reduction;
  SmallVector<AffineExpr> d;
  for (unsigned i = 0; i < 5; ++i)
    d.push_back(getAffineDimExpr(i, ctx));
  Value pixels =
      codeSums(b, loc, image, is.drop_back(),
               {b.getMultiDimIdentityMap(4),
                AffineMap::get(4, 0, ArrayRef(d).take_front(3), ctx)},
               {par, par, par, red});
  SmallVector<AffineExpr> window;
  for (AffineExpr e : map.getResults().drop_back())
    window.push_back(e.replaceDims(d));
  // A [kh, kw] operand of zeros names the window's loops, which the other
  // maps only use in sums (linalg needs every loop's extent from a map).
  auto kernelShape = RankedTensorType::get(gs.slice(3, 2), b.getI32Type());
  Value taps = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(kernelShape, b.getI32IntegerAttr(0)));
  Value sums = codeSums(b, loc, {pixels, taps}, gs.take_front(3),
                        {AffineMap::get(5, 0, window, ctx),
                         AffineMap::get(5, 0, {d[3], d[4]}, ctx),
                         AffineMap::get(5, 0, ArrayRef(d).take_front(3), ctx)},
                        {par, par, par, red, red});
  sums = tensor::CollapseShapeOp::create(
      b, loc, RankedTensorType::get({s.m}, b.getI32Type()), sums,
      SmallVector<ReassociationIndices>{{0, 1, 2}});
  Value flat = tensor::CollapseShapeOp::create(
      b, loc, RankedTensorType::get({it.getNumElements()}, b.getI8Type()),
      image, SmallVector<ReassociationIndices>{{0, 1, 2, 3}});
  ActivationBuffers a = codeSumBuffers(b, loc, op, s, flat, sums, scale);
  // Layers of one kernel shape may read images of different sizes
  // (ResNet-50's stride-2 and stride-1 3 x 3 layers of 784 rows, 1152 inputs
  // and 128 outputs read 57 x 57 and 30 x 30 images): the kernel takes any.
  a.xq = memref::CastOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, b.getI8Type()), a.xq);
  std::string layer = op.getLayer().str();
  a.rowBase =
      constantBuffer(b, loc, {s.m}, b.getI32Type(), rowBase, layer + ".krows");
  a.blockOff = constantBuffer(b, loc, {static_cast<int64_t>(blockOff.size())},
                              b.getI32Type(), blockOff, layer + ".kblocks");
  return a;
}

/// A static int8 layer whose input is an im2col view (a gather) with one
/// weight group per column takes int8 codes without a quantizer pass: a
/// padded image quantized before its pad, else as it is gathered. Where the
/// image's channels are a multiple of 32 the kernel gathers its rows itself
/// (imageRows); else the rows are gathered into [M, K'] int8 buffers with
/// their code sums. Null buffers where the layer is not such a one.
static ActivationBuffers gatheredCodes(OpBuilder &b, Location loc, QLinearOp op,
                                       const KernelShape &s, float scale,
                                       int64_t zeroPoint) {
  linalg::GenericOp gather = im2colOf(op.getInput());
  MLIRContext *ctx = b.getContext();
  if (!gather || s.group != s.paddedK())
    return {};
  Type i8 = b.getI8Type();
  auto par = utils::IteratorType::parallel;
  auto gt = cast<RankedTensorType>(gather.getResult(0).getType());
  auto quantize = [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
    auto cst = [&](float v) {
      return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(v));
    };
    Value q = buildStaticCode(nb, l, a[0], cst(scale),
                              cst(static_cast<float>(zeroPoint)), cst(-128.0f),
                              cst(127.0f));
    return arith::FPToSIOp::create(nb, l, i8, q);
  };
  Value image = gather.getDpsInputs()[0];
  SmallVector<AffineMap> maps = gather.getIndexingMapsArray();
  // Rows that are runs of the image's last dimension (NHWC).
  bool runs = maps.front().getResults().back() == getAffineDimExpr(5, ctx);
  // A padded image (a 3 x 3 convolution's; the RGB stem's, whose NCHW rows
  // are no runs) is quantized before its pad, once per value instead of
  // once per gathered copy (kh x kw of them). The pad keeps elementwise
  // fusion from folding the quantization back into a gather.
  Value padded = quantizedPad(b, loc, image, quantize);
  if (runs && kernelGathersRows(s, gather))
    return imageRows(b, loc, op, s, gather,
                     padded ? padded : quantizeTensor(b, loc, image, quantize),
                     scale);
  Value codes;
  if (padded)
    codes = buildGeneric(
        b, loc, padded, tensor::EmptyOp::create(b, loc, gt.getShape(), i8),
        maps, gather.getIteratorTypesArray(),
        [](OpBuilder &, Location, ValueRange a) -> Value { return a[0]; });
  else if (runs)
    codes = buildGeneric(b, loc, image,
                         tensor::EmptyOp::create(b, loc, gt.getShape(), i8),
                         maps, gather.getIteratorTypesArray(), quantize);
  else
    return {};
  Value flat = tensor::CollapseShapeOp::create(
      b, loc, RankedTensorType::get({s.m, s.k}, i8), codes,
      SmallVector<ReassociationIndices>{{0, 1, 2}, {3, 4, 5}});
  Value rows = flat;
  if (s.activationK() != s.k) {
    SmallVector<OpFoldResult> lo = {b.getIndexAttr(0), b.getIndexAttr(0)};
    SmallVector<OpFoldResult> hi = {b.getIndexAttr(0),
                                    b.getIndexAttr(s.activationK() - s.k)};
    rows = tensor::PadOp::create(
        b, loc, RankedTensorType::get({s.m, s.activationK()}, i8), flat, lo, hi,
        Value(arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0))));
  }
  // Each row's code sum.
  AffineExpr m = getAffineDimExpr(0, ctx), k = getAffineDimExpr(1, ctx);
  Value sums = codeSums(
      b, loc, flat, {s.m},
      {AffineMap::get(2, 0, {m, k}, ctx), AffineMap::get(2, 0, {m}, ctx)},
      {par, utils::IteratorType::reduction});
  return codeSumBuffers(b, loc, op, s, rows, sums, scale);
}

ActivationBuffers kernels::quantizeActivations(OpBuilder &b, Location loc,
                                               ModuleOp module, QLinearOp op,
                                               const KernelShape &s) {
  MLIRContext *ctx = b.getContext();
  Type f32 = Float32Type::get(ctx), i8 = IntegerType::get(ctx, 8);
  ActivationAttr act = op.getActAttr();
  if (act && act.isStatic()) {
    ActivationBuffers g =
        gatheredCodes(b, loc, op, s, act.getStaticScale(), act.getZeroPoint());
    if (g.xq)
      return g;
  }
  ActivationBuffers a;
  a.xq = allocBuffer(b, loc, {s.m, s.activationK()}, i8);
  a.xs = allocBuffer(b, loc, {s.m, s.actBlocks()}, f32);
  a.xsum = allocBuffer(b, loc, {s.m, s.groups()}, f32);
  Value x = activationBuffer(b, loc, op.getInput(), s.m, s.k, op.getLayer());
  if (act && act.isStatic()) {
    // One function for every layer of the shape: the scale and zero point
    // are its argument.
    std::vector<float> params = {act.getStaticScale(),
                                 static_cast<float>(act.getZeroPoint())};
    Value p = constantBuffer(b, loc, {2}, f32, params,
                             (op.getLayer() + ".kact").str());
    callActivationKernel(b, loc, module, s, kRoleActQuantStatic, "qc_actqs_",
                         {x, a.xq, a.xs, a.xsum, p});
    return a;
  }
  if (act && act.getKind() == ActKind::uint8) {
    // The static quantizer on the tensor's DynamicQuantizeLinear parameters
    // (uint8 codes q are the int8 codes q - 128 on the zero point zp - 128),
    // from each row's range by a generated kernel, then the rows' together.
    Value rows = allocBuffer(b, loc, {s.m, 2}, f32);
    callActivationKernel(b, loc, module, s, kRoleActRange, "qc_actr_",
                         {x, rows});
    Value rowsT = bufferization::ToTensorOp::create(
        b, loc, RankedTensorType::get({s.m, 2}, f32), rows, /*restrict=*/true,
        /*writable=*/true);
    auto [hi, lo] = buildTensorRange(b, loc, rowsT);
    DynamicQuantParams params = buildDynamicQuantParams(b, loc, hi, lo);
    a.scale = params.scale;
    a.zeroPoint = arith::SubFOp::create(
        b, loc, params.zeroPoint,
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(128.0f)));
    Value p = readOnlyBuffer(
        b, loc,
        tensor::FromElementsOp::create(b, loc, ValueRange{a.scale, a.zeroPoint}));
    callActivationKernel(b, loc, module, s, kRoleActQuantStatic, "qc_actqs_",
                         {x, a.xq, a.xs, a.xsum, p});
    return a;
  }
  callActivationKernel(b, loc, module, s, kRoleActQuant, "qc_actq_",
                       {x, a.xq, a.xs, a.xsum});
  return a;
}

void kernels::callActivationKernel(OpBuilder &b, Location loc,
                                   ModuleOp module, const KernelShape &s,
                                   StringRef role, StringRef prefix,
                                   SmallVector<Value> args) {
  // Below this the threads' start-up costs more than the rows.
  constexpr int64_t kMinRows = 16, kMinElements = 1 << 15;
  bool parallel = s.m >= kMinRows && s.m * s.activationK() >= kMinElements;
  if (parallel) {
    args.push_back(arith::ConstantIndexOp::create(b, loc, 0));
    args.push_back(arith::ConstantIndexOp::create(b, loc, s.m));
  }
  func::FuncOp fn = declareKernel(module, loc, s, role, prefix,
                                  ValueRange(args).getTypes(), parallel);
  func::CallOp::create(b, loc, fn, args);
}

void kernels::callRangeKernel(OpBuilder &b, Location loc, QLinearOp op,
                              const KernelShape &s, StringRef role,
                              StringRef prefix, SmallVector<Value> args,
                              int64_t ranges, Value y, int64_t align) {
  args.push_back(arith::ConstantIndexOp::create(b, loc, 0));
  args.push_back(arith::ConstantIndexOp::create(b, loc, ranges));
  func::FuncOp kernel =
      declareKernel(op->getParentOfType<ModuleOp>(), loc, s, role, prefix,
                    ValueRange(args).getTypes(), /*parallel=*/true, align);
  func::CallOp::create(b, loc, kernel, args);
  replaceLayer(op, outputTensor(b, loc, y, s.m, s.n,
                                cast<RankedTensorType>(op.getType())));
}

LogicalResult kernels::checkActivations(QLinearOp op, KernelShape &s,
                                        KernelInput input, StringRef pass,
                                        StringRef what) {
  ActivationAttr act = op.getActAttr();
  auto name = [&] { return act ? act.getShortName() : std::string("f32"); };
  if (input != KernelInput::Int8Codes) {
    if (act && act.getKind() == ActKind::amxfp4 &&
        input == KernelInput::RoundedFloat) {
      s.act = act.getKind();
      return success();
    }
    if (act)
      return layerError(op, pass)
             << what << " computes on float activations, the layer's are "
             << name();
    return success();
  }
  // The rows of [0, K) a block spans: blocks of at least K rows are the
  // whole row (the kernel's padding rows are zeros).
  auto span = [&](int64_t block) {
    return block == -1 ? s.k : std::min(block, s.k);
  };
  // A static scale, or uint8's one per tensor, is every block's.
  if (act && (act.isStatic() || act.getKind() == ActKind::uint8))
    return success();
  // int4, dint4 and mxfp4 activations take int8 codes too (-7 .. 7; twice
  // the dINT levels or the E2M1 values, -12 .. 12).
  if (act && act.getKind() == ActKind::amxfp4)
    return layerError(op, pass)
           << what << " computes on int8 codes, the layer's amxfp4 "
                      "activations have a scale for each sign";
  if (act)
    s.act = act.getKind();
  if (act && span(act.getBlock()) == span(s.actBlock))
    return success();
  // A scale per token over smaller kernel blocks: the quantizer shares the
  // row's scale among them.
  if (act && act.getKind() != ActKind::mxfp4 && span(act.getBlock()) == s.k) {
    s.rowScale = true;
    return success();
  }
  return layerError(op, pass)
         << what << " computes on int8 activations in blocks of "
         << s.actBlock << ", the layer's are " << name();
}

InFlightDiagnostic kernels::layerError(QLinearOp op, StringRef what) {
  return op.emitError() << what << ": layer '" << op.getLayer() << "': ";
}

void kernels::replaceLayer(Operation *op, Value result) {
  SmallVector<Operation *> constants;
  for (Value v : op->getOperands())
    if (Operation *def = v.getDefiningOp<arith::ConstantOp>())
      constants.push_back(def);
  op->getResult(0).replaceAllUsesWith(result);
  op->erase();
  // The canonical weights are dead now; left alone they would still be
  // outlined into the artifact.
  for (Operation *def : constants)
    if (def->use_empty())
      def->erase();
}

FailureOr<KernelShape> kernels::kernelShapeOf(QLinearOp op, int64_t group,
                                              int64_t bits, StringRef what) {
  auto inType = cast<RankedTensorType>(op.getInput().getType());
  KernelAttr kernel = op.getKernelAttr();
  if (!kernel || !inType.hasStaticShape() || !op.getType().hasStaticShape() ||
      !inType.getElementType().isF32())
    return op.emitError() << what << ": layer '" << op.getLayer()
                          << "' needs a kernel choice, static shapes and "
                             "an f32 input";
  KernelShape s;
  s.k = op.getInFeatures();
  s.n = op.getOutFeatures();
  s.m = inType.getNumElements() / std::max<int64_t>(s.k, 1);
  s.bits = bits;
  s.actBlock = kernel.getActBlock();
  s.mTile = std::clamp<int64_t>(kernel.getMTile(), 1, 8);
  s.target = lookupKernelTarget(kernel.getIsa());
  if (!s.target)
    return layerError(op, what)
           << "unknown kernel target '" << kernel.getIsa() << "'";
  if (s.k <= 0 || s.n <= 0 || s.m <= 0)
    return layerError(op, what) << "empty weight or input";
  // One group for the whole column: the padded column.
  s.group = group == -1 ? s.paddedK() : group;
  // Activation blocks of whole 32-row blocks, inside one weight group (a
  // block of the whole row for whole-column groups).
  if (s.actBlock < 32 || s.actBlock % 32 != 0 ||
      s.activationK() % s.actBlock != 0 ||
      (group != -1 && group % s.actBlock != 0))
    return layerError(op, what)
           << "act_block " << s.actBlock
           << " must be a multiple of 32 that divides the padded K "
           << s.activationK() << " and the group " << group;
  return s;
}

FailureOr<LayerConstants> kernels::readConstants(QLinearOp op, StringRef what) {
  auto fail = [&](StringRef why) { return layerError(op, what) << why; };
  int64_t k = op.getInFeatures(), n = op.getOutFeatures();
  LayerConstants c;
  FailureOr<std::vector<char>> codes = getConstantBytes(op.getCodes());
  FailureOr<std::vector<float>> scales = getConstantFloats(op.getScales());
  if (failed(codes) || failed(scales) ||
      !op.getCodes().getType().getElementType().isInteger(8) ||
      codes->size() != static_cast<size_t>(k * n))
    return fail("codes (i8, one per weight) and scales must be constants");
  c.codes = std::move(*codes);
  c.scales = std::move(*scales);
  if (Value z = op.getZeros()) {
    FailureOr<std::vector<float>> zf = getConstantFloats(z);
    if (failed(zf))
      return fail("zero points / offsets must be constants");
    c.zeros = std::move(*zf);
  }
  FailureOr<std::vector<float>> bias = readBias(op, what);
  if (failed(bias))
    return failure();
  c.bias = std::move(*bias);
  return c;
}

FailureOr<std::vector<float>> kernels::readBias(QLinearOp op, StringRef what) {
  int64_t n = op.getOutFeatures();
  Value bv = op.getBias();
  if (!bv)
    return std::vector<float>(n, 0.0f);
  FailureOr<std::vector<float>> bias = getConstantFloats(bv);
  if (failed(bias) || bias->size() != static_cast<size_t>(n))
    return layerError(op, what)
           << "bias must be a float constant of N elements";
  return bias;
}

SmallVector<QLinearOp> kernels::layersWithKernel(ModuleOp module,
                                                 KernelKind kind) {
  SmallVector<QLinearOp> ops;
  module.walk([&](QLinearOp op) {
    if (KernelAttr kernel = op.getKernelAttr())
      if (kernel.getKind() == kind)
        ops.push_back(op);
  });
  return ops;
}
