//===- OutlineKernels.cpp - one function per loop nest --------------------===//

#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/Twine.h"

namespace qc {
#define GEN_PASS_DEF_OUTLINEKERNELSPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// The static trip count of `loop`, or 0 where it is not static.
int64_t staticTripCount(scf::ForOp loop) {
  std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
  std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
  std::optional<int64_t> step = getConstantIntValue(loop.getStep());
  if (!lb || !ub || !step || *step <= 0 || *ub <= *lb)
    return 0;
  return (*ub - *lb + *step - 1) / *step;
}

/// Makes the outlined kernel of the parallel loop `loop` run the iterations
/// [begin, end) given as two trailing index arguments, marks it qc.parallel
/// (one iteration per unit) and passes it the whole range at `call`; the
/// runtime splits the range over its threads (qc-parallel-calls). A loop
/// of fewer than two iterations is left as it is.
void splitIterations(RewriterBase &rewriter, func::FuncOp kernel,
                     scf::ForOp loop, func::CallOp call) {
  loop->removeAttr(qc::kParallelLoopAttrName);
  int64_t trips = staticTripCount(loop);
  if (trips < 2)
    return;
  Location loc = loop.getLoc();
  Block &entry = kernel.getBody().front();
  Type index = rewriter.getIndexType();
  Value begin = entry.addArgument(index, loc);
  Value end = entry.addArgument(index, loc);
  kernel.setType(rewriter.getFunctionType(entry.getArgumentTypes(),
                                          kernel.getResultTypes()));
  rewriter.setInsertionPoint(loop);
  Value lb = loop.getLowerBound(), step = loop.getStep();
  auto at = [&](Value iteration) {
    return arith::AddIOp::create(
        rewriter, loc, lb,
        arith::MulIOp::create(rewriter, loc, iteration, step));
  };
  Value newUb =
      arith::MinSIOp::create(rewriter, loc, loop.getUpperBound(), at(end));
  rewriter.modifyOpInPlace(loop, [&] {
    loop.setLowerBound(at(begin));
    loop.setUpperBound(newUb);
  });
  kernel->setAttr(qc::kParallelAttrName, rewriter.getI64IntegerAttr(1));

  rewriter.setInsertionPoint(call);
  SmallVector<Value> operands = call.getOperands();
  operands.push_back(arith::ConstantIndexOp::create(rewriter, loc, 0));
  operands.push_back(arith::ConstantIndexOp::create(rewriter, loc, trips));
  rewriter.modifyOpInPlace(call,
                           [&] { call.getOperandsMutable().assign(operands); });
}

/// Clones into `op` the vector constants its nested ops use from outside
/// (the canonicalizer hoists constants to the function's entry), one clone
/// per block, so that an outlined kernel materializes them instead of
/// taking vectors by value. Scalar constants stay arguments: kernels that
/// differ only in them still share one function.
void sinkVectorConstants(RewriterBase &rewriter, Operation *op) {
  DenseMap<std::pair<Operation *, Block *>, Value> clones;
  op->walk([&](Operation *user) {
    if (user == op)
      return; // its own operands are outside the kernel
    for (OpOperand &use : user->getOpOperands()) {
      Operation *def = use.get().getDefiningOp();
      if (!def || op->isAncestor(def) ||
          !isa<VectorType>(use.get().getType()) ||
          !def->hasTrait<OpTrait::ConstantLike>())
        continue;
      Block *block = user->getBlock();
      Value &clone = clones[{def, block}];
      if (!clone) {
        rewriter.setInsertionPointToStart(block);
        clone = rewriter.clone(*def)->getResult(0);
      }
      rewriter.modifyOpInPlace(user, [&] { use.set(clone); });
    }
  });
}

/// Outlined kernels with the same code (a layer's loop nests in every block
/// of a model) share one function, so the code is compiled once: a new
/// kernel equal to an earlier one is erased and its call redirected.
class KernelDeduplicator {
public:
  /// Returns the earlier kernel equal to `kernel`, or records `kernel` and
  /// returns null.
  func::FuncOp findOrRecord(func::FuncOp kernel) {
    SmallVector<func::FuncOp> &bucket = seen[hash(kernel)];
    for (func::FuncOp other : bucket)
      if (same(kernel, other))
        return other;
    bucket.push_back(kernel);
    return nullptr;
  }

private:
  static size_t hash(func::FuncOp kernel) {
    llvm::hash_code h = hash_value(kernel.getFunctionType());
    kernel.getBody().walk([&](Operation *op) {
      h = llvm::hash_combine(
          h, OperationEquivalence::computeHash(
                 op, OperationEquivalence::ignoreHashValue,
                 OperationEquivalence::ignoreHashValue,
                 OperationEquivalence::IgnoreLocations));
    });
    return h;
  }
  static bool same(func::FuncOp a, func::FuncOp b) {
    return a.getFunctionType() == b.getFunctionType() &&
           a->getAttr(qc::kParallelAttrName) ==
               b->getAttr(qc::kParallelAttrName) &&
           OperationEquivalence::isRegionEquivalentTo(
               &a.getBody(), &b.getBody(),
               OperationEquivalence::IgnoreLocations);
  }

  llvm::DenseMap<size_t, SmallVector<func::FuncOp>> seen;
};

struct OutlineKernelsPass
    : qc::impl::OutlineKernelsPassBase<OutlineKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func || func.isExternal())
      return; // Nothing to outline.
    if (!func.getBody().hasOneBlock()) {
      func.emitError("qc-outline-kernels: the entry function must have one "
                     "block");
      return signalPassFailure();
    }
    SmallVector<Operation *> kernels;
    for (Operation &op : func.getBody().front())
      if (op.getNumRegions() > 0 && op.getNumResults() == 0)
        kernels.push_back(&op);

    IRRewriter rewriter(&getContext());
    KernelDeduplicator dedup;
    unsigned index = 0;
    for (Operation *op : kernels) {
      sinkVectorConstants(rewriter, op);
      // Wrap the op in a region, outline the region, then dissolve the
      // wrapper so that the entry is left with a plain call.
      rewriter.setInsertionPoint(op);
      auto wrapper =
          scf::ExecuteRegionOp::create(rewriter, op->getLoc(), TypeRange{});
      Block *body = rewriter.createBlock(&wrapper.getRegion());
      rewriter.setInsertionPointToEnd(body);
      auto yield = scf::YieldOp::create(rewriter, op->getLoc());
      op->moveBefore(yield);
      std::string name = (Twine(entry) + "_kernel" + Twine(index++)).str();
      func::CallOp call;
      FailureOr<func::FuncOp> kernel = outlineSingleBlockRegion(
          rewriter, op->getLoc(), wrapper.getRegion(), name, &call);
      if (failed(kernel)) {
        op->emitError("qc-outline-kernels: cannot outline this loop nest");
        return signalPassFailure();
      }
      kernel->setPrivate();
      if (auto loop = dyn_cast<scf::ForOp>(op))
        if (loop->hasAttr(qc::kParallelLoopAttrName))
          splitIterations(rewriter, *kernel, loop, call);
      kernel->getOperation()->setAttr(
          "passthrough",
          rewriter.getArrayAttr({rewriter.getStringAttr("noinline")}));
      if (func::FuncOp earlier = dedup.findOrRecord(*kernel)) {
        call.setCallee(earlier.getSymName());
        rewriter.eraseOp(*kernel);
      }
      Block &region = wrapper.getRegion().front();
      rewriter.eraseOp(region.getTerminator());
      rewriter.inlineBlockBefore(&region, wrapper);
      rewriter.eraseOp(wrapper);
    }
  }
};

} // namespace
