//===- LowerObserve.cpp - qc.observe to a call of the runtime observer ----===//

#include "QC/IR/QCOps.h"
#include "qc/Conversion/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"

namespace qc {
#define GEN_PASS_DEF_LOWEROBSERVEPASS
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// The runtime's entry point. A memref argument of an external function is
/// passed as its expanded descriptor: (allocated, aligned, offset, rows,
/// cols, row stride, col stride).
constexpr llvm::StringLiteral kObserveFn = "qcrt_observe";

struct LowerObservePass : qc::impl::LowerObservePassBase<LowerObservePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<qc::ObserveOp> taps;
    module.walk([&](qc::ObserveOp op) { taps.push_back(op); });
    if (taps.empty())
      return;
    MLIRContext *ctx = &getContext();
    auto memrefType = MemRefType::get(
        {ShapedType::kDynamic, ShapedType::kDynamic}, Float32Type::get(ctx),
        StridedLayoutAttr::get(
            ctx, ShapedType::kDynamic,
            {ShapedType::kDynamic, ShapedType::kDynamic}));
    auto fnType =
        FunctionType::get(ctx, {IntegerType::get(ctx, 64), memrefType}, {});
    if (!module.lookupSymbol<func::FuncOp>(kObserveFn)) {
      OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
      auto decl =
          func::FuncOp::create(b, module.getLoc(), kObserveFn, fnType);
      decl.setPrivate();
    }
    for (qc::ObserveOp op : taps) {
      OpBuilder b(op);
      Location loc = op.getLoc();
      Value x = op.getInput();
      auto type = cast<RankedTensorType>(x.getType());
      if (!type.hasStaticShape()) {
        op.emitError("qc-lower-observe: needs a static shape, found ")
            << type;
        return signalPassFailure();
      }
      int64_t k = type.getShape().back();
      int64_t m = type.getNumElements() / std::max<int64_t>(k, 1);
      if (type.getRank() != 2) {
        SmallVector<ReassociationIndices> reassoc(2);
        for (int64_t d = 0; d + 1 < type.getRank(); ++d)
          reassoc[0].push_back(d);
        reassoc[1].push_back(type.getRank() - 1);
        if (type.getRank() == 1)
          reassoc = {{0}};
        auto flat = RankedTensorType::get({m, k}, type.getElementType());
        if (type.getRank() == 1)
          x = tensor::ExpandShapeOp::create(b, loc, flat, x,
                                            ArrayRef<ReassociationIndices>{
                                                {0, 1}});
        else
          x = tensor::CollapseShapeOp::create(b, loc, flat, x, reassoc);
      }
      auto staticMemref =
          MemRefType::get({m, k}, type.getElementType());
      Value buffer = bufferization::ToBufferOp::create(
          b, loc, staticMemref, x, /*readOnly=*/true);
      Value cast = memref::CastOp::create(b, loc, memrefType, buffer);
      Value tap = arith::ConstantIntOp::create(b, loc, op.getTap(), 64);
      func::CallOp::create(b, loc, kObserveFn, TypeRange{},
                           ValueRange{tap, cast});
      op.erase();
    }
  }
};

} // namespace
