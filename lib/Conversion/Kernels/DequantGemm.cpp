//===- DequantGemm.cpp - call sites of the dequant_i8 kernels -------------===//
//
// A qc.qlinear with kernel `dequant_i8` becomes, on tensors: a flattening of
// its input to [M, K], calls of two generated functions on buffers (the
// activation quantizer and the column kernel, declared here and given their
// bodies by qc-emit-dequant-gemm, see DequantGemmBodies.cpp) and the output
// as a tensor again. The weights are repacked here, at compile time, into
// new dense_resource constants: codes in kernel blocks (quant::
// packKernelBlocks), scales and scale * zero per column as f32 [N, G'].
//
//===----------------------------------------------------------------------===//

#include "DequantGemm.h"
#include "QC/QCOps.h"
#include "qc/Conversion/Passes.h"
#include "qc/Quant/Packing.h"
#include "qc/Transforms/ConstantData.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

namespace qc {
#define GEN_PASS_DEF_GENDEQUANTGEMM
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;
using namespace qc::kernels;

namespace {

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

template <typename T>
Value resourceConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                       Type elt, const std::vector<T> &data,
                       const std::string &key) {
  AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef<char>(reinterpret_cast<const char *>(data.data()),
                     data.size() * sizeof(T)),
      alignof(uint64_t));
  auto attr = DenseResourceElementsAttr::get(RankedTensorType::get(shape, elt),
                                             key, std::move(blob));
  return arith::ConstantOp::create(b, loc, attr);
}

/// Declares @qc_actq_* or @qc_dqi8_* (see DequantGemmBodies.cpp).
func::FuncOp declare(OpBuilder &top, Location loc, const KernelShape &s,
                     StringRef role) {
  MLIRContext *ctx = top.getContext();
  Type f32 = Float32Type::get(ctx), i8 = IntegerType::get(ctx, 8);
  auto xq = MemRefType::get({s.m, s.paddedK()}, i8);
  auto xs = MemRefType::get({s.m, s.actBlocks()}, f32);
  auto xsum = MemRefType::get({s.m, s.groups()}, f32);
  SmallVector<Type> types;
  std::string name;
  if (role == kRoleActQuant) {
    name = "qc_actq_" + s.suffix();
    types = {MemRefType::get({s.m, s.k}, f32), xq, xs, xsum};
  } else {
    name = "qc_dqi8_" + s.suffix();
    Type index = IndexType::get(ctx);
    types = {xq,
             xs,
             xsum,
             MemRefType::get({s.n, s.columnBytes()}, i8),
             MemRefType::get({s.n, s.groups()}, f32),
             MemRefType::get({s.n, s.groups()}, f32),
             MemRefType::get({s.n}, f32),
             MemRefType::get({s.m, s.n}, f32),
             index,
             index};
  }
  auto fn = func::FuncOp::create(top, loc, name,
                                 FunctionType::get(ctx, types, {}));
  fn.setPrivate();
  fn->setAttr(kRoleAttr, top.getStringAttr(role));
  if (role == kRoleColumns)
    fn->setAttr(kParallelAttrName, top.getI64IntegerAttr(1));
  s.attach(fn);
  return fn;
}

Value readOnlyBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
      /*readOnly=*/true);
}

struct GenDequantGemmPass
    : qc::impl::GenDequantGemmBase<GenDequantGemmPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<QLinearOp> ops;
    module.walk([&](QLinearOp op) {
      if (KernelAttr kernel = op.getKernelAttr())
        if (kernel.getKind() == KernelKind::dequant_i8)
          ops.push_back(op);
    });
    llvm::StringMap<std::pair<func::FuncOp, func::FuncOp>> built;
    for (QLinearOp op : ops)
      if (failed(lower(op, built)))
        return signalPassFailure();
  }

  LogicalResult
  lower(QLinearOp op,
        llvm::StringMap<std::pair<func::FuncOp, func::FuncOp>> &built) {
    auto fail = [&](const Twine &why) {
      return op.emitError() << "qc-gen-dequant-gemm: layer '" << op.getLayer()
                            << "': " << why;
    };
    KernelAttr kernel = op.getKernelAttr();
    auto scheme = dyn_cast<UniformAttr>(op.getScheme());
    if (!scheme || scheme.getPerIc() || scheme.getBits() < 2 ||
        scheme.getBits() > 4 || op.getPacked() || op.getBitplanes())
      return fail("dequant_i8 needs canonical uniform per-output-channel "
                  "codes of 2, 3 or 4 bits");
    auto inType = cast<RankedTensorType>(op.getInput().getType());
    if (!inType.hasStaticShape() || !op.getType().hasStaticShape())
      return fail("dequant_i8 needs static shapes");
    KernelShape s;
    s.k = op.getInFeatures();
    s.n = op.getOutFeatures();
    s.m = inType.getNumElements() / std::max<int64_t>(s.k, 1);
    s.bits = scheme.getBits();
    s.group = scheme.getGroup() == -1 ? 0 : scheme.getGroup();
    s.actBlock = kernel.getActBlock();
    s.mTile = std::clamp<int64_t>(kernel.getMTile(), 1, 8);
    s.isa = kernel.getIsa();
    if (s.k <= 0 || s.n <= 0 || s.m <= 0)
      return fail("empty weight or input");
    if (!llvm::is_contained({32, 64, 128}, s.actBlock) ||
        (s.group != 0 && s.group % s.actBlock != 0))
      return fail(llvm::formatv("act_block {0} must be 32, 64 or 128 and "
                                "divide the group {1}",
                                s.actBlock, scheme.getGroup()));
    if (s.group == 0)
      s.group = s.paddedK(); // one group: the whole (padded) column

    FailureOr<std::vector<char>> codeBytes = getConstantBytes(op.getCodes());
    FailureOr<std::vector<float>> scales = getConstantFloats(op.getScales());
    if (failed(codeBytes) || failed(scales) ||
        codeBytes->size() != static_cast<size_t>(s.k * s.n))
      return fail("codes and scales must be constants");
    std::vector<float> zeros;
    if (Value z = op.getZeros()) {
      FailureOr<std::vector<float>> zf = getConstantFloats(z);
      if (failed(zf))
        return fail("zero points must be constants");
      zeros = std::move(*zf);
    }
    std::vector<float> bias(s.n, 0.0f);
    if (Value bv = op.getBias()) {
      FailureOr<std::vector<float>> bf = getConstantFloats(bv);
      if (failed(bf) || bf->size() != static_cast<size_t>(s.n))
        return fail("bias must be an f32 constant of N elements");
      bias = std::move(*bf);
    }

    // Compile-time repacking: codes into kernel blocks; scales and
    // scale * zero per column, f32, padded with zero groups.
    std::vector<uint8_t> packed;
    std::string err;
    if (!quant::packKernelBlocks(
            reinterpret_cast<const uint8_t *>(codeBytes->data()), s.k, s.n,
            static_cast<int>(s.bits), packed, err))
      return fail(err);
    // The last group may be partial (K not a multiple of the group).
    int64_t realGroups = scheme.getGroup() == -1
                             ? 1
                             : (s.k + scheme.getGroup() - 1) /
                                   scheme.getGroup();
    if (scales->size() != static_cast<size_t>(realGroups * s.n) ||
        (!zeros.empty() && zeros.size() != scales->size()))
      return fail("scales / zero points do not match the scheme's shape");
    float symmetricZero = static_cast<float>(1u << (s.bits - 1));
    std::vector<float> ws(s.n * s.groups(), 0.0f), zc(s.n * s.groups(), 0.0f);
    for (int64_t g = 0; g < realGroups; ++g)
      for (int64_t col = 0; col < s.n; ++col) {
        float scale = (*scales)[g * s.n + col];
        float zero = zeros.empty() ? symmetricZero : zeros[g * s.n + col];
        ws[col * s.groups() + g] = scale;
        zc[col * s.groups() + g] = scale * zero;
      }

    ModuleOp module = getOperation();
    std::string key = s.suffix();
    auto it = built.find(key);
    if (it == built.end()) {
      OpBuilder top = OpBuilder::atBlockEnd(module.getBody());
      func::FuncOp actQuant = declare(top, op.getLoc(), s, kRoleActQuant);
      func::FuncOp columns = declare(top, op.getLoc(), s, kRoleColumns);
      it = built.try_emplace(key, actQuant, columns).first;
    }
    auto [actQuant, columnKernel] = it->second;

    OpBuilder b(op);
    Location loc = op.getLoc();
    auto idx = [&](int64_t v) {
      return arith::ConstantIndexOp::create(b, loc, v).getResult();
    };
    MLIRContext *ctx = b.getContext();
    Type f32 = b.getF32Type(), i8 = b.getI8Type();
    std::string layer = op.getLayer().str();
    // The input as [M, K].
    Value x = op.getInput();
    auto flatType = RankedTensorType::get({s.m, s.k}, f32);
    if (inType.getElementType() != f32)
      return fail("dequant_i8 needs an f32 input");
    if (inType.getRank() == 1)
      x = tensor::ExpandShapeOp::create(b, loc, flatType, x,
                                        ArrayRef<ReassociationIndices>{{0, 1}});
    else if (inType.getRank() > 2) {
      SmallVector<ReassociationIndices> reassoc(2);
      for (int64_t d = 0; d + 1 < inType.getRank(); ++d)
        reassoc[0].push_back(d);
      reassoc[1].push_back(inType.getRank() - 1);
      x = tensor::CollapseShapeOp::create(b, loc, flatType, x, reassoc);
    }
    Value xBuf = readOnlyBuffer(b, loc, x);
    auto alloc = [&](ArrayRef<int64_t> shape, Type elt) {
      return memref::AllocOp::create(b, loc, MemRefType::get(shape, elt),
                                     b.getI64IntegerAttr(64))
          .getResult();
    };
    Value xq = alloc({s.m, s.paddedK()}, i8);
    Value xs = alloc({s.m, s.actBlocks()}, f32);
    Value xsum = alloc({s.m, s.groups()}, f32);
    func::CallOp::create(b, loc, actQuant, ValueRange{xBuf, xq, xs, xsum});
    Value codes = readOnlyBuffer(
        b, loc,
        resourceConstant(b, loc, {s.n, s.columnBytes()}, i8, packed,
                         layer + ".kblocks"));
    Value scaleBuf = readOnlyBuffer(
        b, loc,
        resourceConstant(b, loc, {s.n, s.groups()}, f32, ws,
                         layer + ".kscales"));
    Value zeroBuf = readOnlyBuffer(
        b, loc,
        resourceConstant(b, loc, {s.n, s.groups()}, f32, zc,
                         layer + ".kzeros"));
    Value biasBuf = readOnlyBuffer(
        b, loc, resourceConstant(b, loc, {s.n}, f32, bias, layer + ".kbias"));
    Value yBuf = alloc({s.m, s.n}, f32);
    func::CallOp::create(b, loc, columnKernel,
                         ValueRange{xq, xs, xsum, codes, scaleBuf, zeroBuf,
                                    biasBuf, yBuf, idx(0), idx(s.n)});
    Value y = bufferization::ToTensorOp::create(
        b, loc, RankedTensorType::get({s.m, s.n}, f32), yBuf,
        /*restrict=*/true, /*writable=*/true);
    auto outType = cast<RankedTensorType>(op.getType());
    if (outType.getRank() == 1)
      y = tensor::CollapseShapeOp::create(
          b, loc, y, ArrayRef<ReassociationIndices>{{0, 1}});
    else if (outType.getRank() > 2) {
      SmallVector<ReassociationIndices> reassoc(2);
      for (int64_t d = 0; d + 1 < outType.getRank(); ++d)
        reassoc[0].push_back(d);
      reassoc[1].push_back(outType.getRank() - 1);
      y = tensor::ExpandShapeOp::create(b, loc, outType, y, reassoc);
    }
    (void)ctx;
    SmallVector<Operation *> operands;
    for (Value v : op->getOperands())
      if (Operation *def = v.getDefiningOp<arith::ConstantOp>())
        operands.push_back(def);
    op.replaceAllUsesWith(y);
    op.erase();
    // The canonical weights are dead now; left alone they would still be
    // outlined into the artifact.
    for (Operation *def : operands)
      if (def->use_empty())
        def->erase();
    return success();
  }
};

} // namespace
