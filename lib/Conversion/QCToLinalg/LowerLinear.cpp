//===- LowerLinear.cpp - qc.linear to linalg.matmul -----------------------===//

#include "QC/IR/QCOps.h"
#include "qc/Conversion/Passes.h"
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace qc {
#define GEN_PASS_DEF_LOWERLINEARPASS
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// A zero-filled [shape] accumulator.
Value zeros(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Type elt) {
  Value zero = arith::ConstantOp::create(b, loc, elt, b.getZeroAttr(elt));
  Value empty = tensor::EmptyOp::create(b, loc, shape, elt);
  return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
}

/// x [M, K] times w [K, N].
Value matmul(OpBuilder &b, Location loc, Value x, Value w, int64_t m,
             int64_t n) {
  Type elt = cast<RankedTensorType>(x.getType()).getElementType();
  return linalg::MatmulOp::create(b, loc, ValueRange{x, w},
                                  ValueRange{zeros(b, loc, {m, n}, elt)})
      .getResult(0);
}

/// x [M, K] times the panel weight w [N / P, K, P]: a linalg.contract over
/// (m, panel, column, k) into [M, N / P, P], collapsed to [M, N].
Value panelMatmul(OpBuilder &b, Location loc, Value x, Value w, int64_t m,
                  int64_t n, int64_t p) {
  Type elt = cast<RankedTensorType>(x.getType()).getElementType();
  auto type = RankedTensorType::get({m, n / p, p}, elt);
  auto product = linalg::ContractOp::create(
      b, loc, TypeRange{type}, ValueRange{x, w},
      ValueRange{zeros(b, loc, type.getShape(), elt)},
      b.getAffineMapArrayAttr(qc::panelMatmulMaps(b.getContext())));
  return tensor::CollapseShapeOp::create(
      b, loc, RankedTensorType::get({m, n}, elt), product.getResult(0),
      ArrayRef<ReassociationIndices>{{0}, {1, 2}});
}

struct LowerLinearPattern : OpConversionPattern<qc::LinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(qc::LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    Type elt = resultType.getElementType();
    int64_t rank = inputType.getRank();
    int64_t k = op.getInFeatures(), n = op.getOutFeatures();

    // Flatten [..., K] to [M, K].
    Value flat = input;
    int64_t m = 1;
    for (int64_t d : inputType.getShape().drop_back())
      m = ShapedType::isDynamic(d) || ShapedType::isDynamic(m)
              ? ShapedType::kDynamic
              : m * d;
    if (rank != 2) {
      SmallVector<ReassociationIndices> reassoc(2);
      for (int64_t i = 0; i < rank - 1; ++i)
        reassoc[0].push_back(i);
      reassoc[1].push_back(rank - 1);
      if (rank == 1)
        reassoc = {{0, 1}};
      if (rank == 1)
        flat = tensor::ExpandShapeOp::create(
            rewriter, loc, RankedTensorType::get({1, k}, elt), input,
            ArrayRef<ReassociationIndices>{{0, 1}});
      else
        flat = tensor::CollapseShapeOp::create(rewriter, loc, input, reassoc);
    }
    if (rank == 1)
      m = 1;
    if (ShapedType::isDynamic(m))
      return rewriter.notifyMatchFailure(op, "dynamic leading dimensions");

    auto flatType = RankedTensorType::get({m, n}, elt);
    Value out = op.getPanel()
                    ? panelMatmul(rewriter, loc, flat, adaptor.getWeight(), m,
                                  n, *op.getPanel())
                    : matmul(rewriter, loc, flat, adaptor.getWeight(), m, n);

    if (Value bias = adaptor.getBias()) {
      MLIRContext *ctx = rewriter.getContext();
      AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
      AffineMap col = AffineMap::get(2, 0, getAffineDimExpr(1, ctx));
      out = linalg::GenericOp::create(
                rewriter, loc, flatType, ValueRange{out, bias}, ValueRange{out},
                ArrayRef<AffineMap>{id, col, id},
                ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                              utils::IteratorType::parallel},
                [&](OpBuilder &b, Location l, ValueRange args) {
                  Value s = arith::AddFOp::create(b, l, args[0], args[1]);
                  linalg::YieldOp::create(b, l, s);
                })
                .getResult(0);
    }

    if (rank != 2) {
      SmallVector<ReassociationIndices> reassoc(2);
      for (int64_t i = 0; i < rank - 1; ++i)
        reassoc[0].push_back(i);
      reassoc[1].push_back(rank - 1);
      if (rank == 1)
        out = tensor::CollapseShapeOp::create(
            rewriter, loc, resultType, out,
            ArrayRef<ReassociationIndices>{{0, 1}});
      else
        out = tensor::ExpandShapeOp::create(rewriter, loc, resultType, out,
                                            reassoc);
    }
    rewriter.replaceOp(op, out);
    return success();
  }
};

struct LowerLinearPass : qc::impl::LowerLinearPassBase<LowerLinearPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<qc::QCDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(ctx);
    patterns.add<LowerLinearPattern>(ctx);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
