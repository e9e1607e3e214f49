//===- RaiseLinear.cpp - constant-weight matmuls to qc.linear -------------===//

#include "QC/IR/QCOps.h"
#include "qc/Transforms/ConstantData.h"
#include "qc/Transforms/ConvAsLinear.h"
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

/// Whether `op` is a convolution qc-raise-linear{convs} can raise: tensor
/// semantics, static f32 operands and a constant filter.
bool isRaisableConv(linalg::LinalgOp op) {
  Value x = op.getDpsInputs()[0], filter = op.getDpsInputs()[1];
  Value init = op.getDpsInits()[0];
  auto xt = cast<RankedTensorType>(x.getType());
  auto ft = cast<RankedTensorType>(filter.getType());
  auto ot = cast<RankedTensorType>(init.getType());
  return op.hasPureTensorSemantics() &&
         filter.getDefiningOp<arith::ConstantOp>() &&
         xt.getElementType().isF32() && ft.getElementType().isF32() &&
         ot.getElementType().isF32() && xt.hasStaticShape() &&
         ot.hasStaticShape();
}

/// [d0, d1, rest] -> [d0, d1, 1, rest]: a 1-D convolution's operand as the
/// 2-D one of a 1-high image.
Value withUnitHeight(OpBuilder &b, Location loc, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  auto shape = llvm::to_vector(t.getShape());
  shape.insert(shape.begin() + 2, 1);
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, t.getElementType()), v,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
}

/// conv_2d_nchw_fchw (or conv_1d_ncw_fcw)(x, W) into init  ==>
///   qc.linear(im2col(x), W as [C * kh * kw, F]) transposed to NCHW + init
/// (init: the bias broadcast or zeros), so that convolutions are quantized
/// and run on the layers' kernels like any linear layer. A 1-D convolution
/// is the 2-D one of a 1-high image (x, init expanded, the result collapsed).
template <typename ConvOp>
struct RaiseConv : OpRewritePattern<ConvOp> {
  RaiseConv(MLIRContext *ctx, int64_t &counter, llvm::Statistic &raised)
      : OpRewritePattern<ConvOp>(ctx), counter(counter), raised(raised) {}

  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (!isRaisableConv(op))
      return rewriter.notifyMatchFailure(op, "not a static f32 convolution "
                                             "with a constant filter");
    Value x = op.getDpsInputs()[0], filter = op.getDpsInputs()[1];
    Value init = op.getDpsInits()[0];
    FailureOr<std::vector<float>> w = qc::getConstantFloats(filter);
    if (failed(w))
      return rewriter.notifyMatchFailure(op, "unreadable filter");
    auto ft = cast<RankedTensorType>(filter.getType());
    int64_t f = ft.getDimSize(0), k = ft.getNumElements() / f;
    // [F, C, kh, kw] -> [C * kh * kw, F].
    std::vector<float> weight = qc::filterColumns<float>(*w, f, k);
    std::string layer =
        getNodeName(op.getLoc()).value_or("conv_" + std::to_string(counter));
    ++counter;
    Location loc = op.getLoc();
    SmallVector<int64_t> kernel(ft.getShape().drop_front(2));
    SmallVector<int64_t> strides(op.getStrides().template getValues<int64_t>());
    SmallVector<int64_t> dilations(
        op.getDilations().template getValues<int64_t>());
    bool oneD = kernel.size() == 1;
    if (oneD) {
      kernel.insert(kernel.begin(), 1);
      strides.insert(strides.begin(), 1);
      dilations.insert(dilations.begin(), 1);
      x = withUnitHeight(rewriter, loc, x);
      init = withUnitHeight(rewriter, loc, init);
    }
    auto ot = cast<RankedTensorType>(init.getType());
    Value cols = qc::im2colView(rewriter, loc, x, ot.getShape().drop_front(2),
                                kernel, strides, dilations);
    Value wc = qc::floatConstant(
        rewriter, loc, RankedTensorType::get({k, f}, rewriter.getF32Type()),
        layer + ".im2col", weight);
    int64_t n = ot.getDimSize(0), oh = ot.getDimSize(2), ow = ot.getDimSize(3);
    auto linearType = RankedTensorType::get({n, oh, ow, f},
                                            rewriter.getF32Type());
    Value y = qc::LinearOp::create(rewriter, loc, linearType, cols, wc,
                                   /*bias=*/Value(),
                                   rewriter.getStringAttr(layer));
    Value out = qc::nhwcToNchwPlus(rewriter, loc, y, init);
    if (oneD)
      out = tensor::CollapseShapeOp::create(
          rewriter, loc, out,
          SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    rewriter.replaceOp(op, out);
    ++raised;
    return success();
  }

  int64_t &counter;
  llvm::Statistic &raised;
};

struct RaiseLinearPass : qc::impl::RaiseLinearPassBase<RaiseLinearPass> {
  using Base::Base;

  void runOnOperation() override {
    int64_t counter = 0;
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseMatmul>(&getContext(), counter, numRaised);
    if (convs)
      patterns.add<RaiseConv<linalg::Conv1DNcwFcwOp>,
                   RaiseConv<linalg::Conv2DNchwFchwOp>>(&getContext(), counter,
                                                        numRaised);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
