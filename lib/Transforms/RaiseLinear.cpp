//===- RaiseLinear.cpp - constant-weight matmuls to qc.linear -------------===//

#include "QC/IR/QCOps.h"
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qc {
#define GEN_PASS_DEF_RAISELINEARPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// The ONNX node name carried by a location, if any.
std::optional<std::string> getNodeName(Location loc) {
  std::optional<std::string> name;
  loc->walk([&](Location l) {
    if (auto nameLoc = dyn_cast<NameLoc>(l)) {
      name = nameLoc.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name;
}

/// Whether `v` is a zero fill (the accumulator the importer creates).
bool isZeroFill(Value v) {
  auto fill = v.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  return matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
}

/// matmul(collapse(x), W) [-> expand]  ==>  qc.linear(x, W)
struct RaiseMatmul : OpRewritePattern<linalg::MatmulOp> {
  RaiseMatmul(MLIRContext *ctx, int64_t &counter, llvm::Statistic &raised)
      : OpRewritePattern(ctx), counter(counter), raised(raised) {}

  LogicalResult matchAndRewrite(linalg::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2)
      return rewriter.notifyMatchFailure(op, "not a plain tensor matmul");
    // Only the default (non-transposed, non-broadcast) form.
    if (op.hasUserDefinedMaps())
      return rewriter.notifyMatchFailure(op, "custom indexing maps");
    Value lhs = op.getDpsInputs()[0], weight = op.getDpsInputs()[1];
    auto weightCst = weight.getDefiningOp<arith::ConstantOp>();
    if (!weightCst)
      return rewriter.notifyMatchFailure(op, "weight is not a constant");
    if (!isZeroFill(op.getDpsInits()[0]))
      return rewriter.notifyMatchFailure(op, "accumulates into a non-zero init");
    auto resultType = cast<RankedTensorType>(op.getResult(0).getType());
    if (!isa<FloatType>(resultType.getElementType()))
      return rewriter.notifyMatchFailure(op, "not floating point");

    // Look through the flattening of leading dimensions.
    Value input = lhs;
    if (auto collapse = lhs.getDefiningOp<tensor::CollapseShapeOp>()) {
      auto srcType = collapse.getSrcType();
      auto reassoc = collapse.getReassociationIndices();
      if (reassoc.size() == 2 && reassoc[1].size() == 1 &&
          reassoc[1][0] == srcType.getRank() - 1)
        input = collapse.getSrc();
    }
    auto inputType = cast<RankedTensorType>(input.getType());
    Operation *replaced = op;
    RankedTensorType linearType = resultType;
    if (input != lhs) {
      // The matmul's result must be unflattened back to the input's leading
      // dimensions, otherwise keep the flat form.
      tensor::ExpandShapeOp expand;
      if (op->hasOneUse())
        expand = dyn_cast<tensor::ExpandShapeOp>(*op->user_begin());
      SmallVector<int64_t> shape(inputType.getShape().drop_back());
      shape.push_back(resultType.getDimSize(1));
      if (!expand || expand.getResultType().getShape() != ArrayRef(shape)) {
        input = lhs;
      } else {
        replaced = expand;
        linearType = expand.getResultType();
      }
    }

    std::string layer =
        getNodeName(op.getLoc()).value_or("linear_" + std::to_string(counter));
    ++counter;
    auto linear = qc::LinearOp::create(rewriter, op.getLoc(), linearType, input,
                                   weight, /*bias=*/Value(),
                                   rewriter.getStringAttr(layer));
    rewriter.replaceOp(replaced, linear.getResult());
    if (replaced != op.getOperation())
      rewriter.eraseOp(op);
    ++raised;
    return success();
  }

  int64_t &counter;
  llvm::Statistic &raised;
};

struct RaiseLinearPass : qc::impl::RaiseLinearPassBase<RaiseLinearPass> {
  void runOnOperation() override {
    int64_t counter = 0;
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseMatmul>(&getContext(), counter, numRaised);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
