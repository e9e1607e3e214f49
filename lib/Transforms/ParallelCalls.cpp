//===- ParallelCalls.cpp - run row-range kernels on the runtime's threads -===//
//
// A generated kernel that computes the output rows [begin, end) takes them
// as its last two arguments and carries `qc.parallel = <align>`. After the
// lowering to the LLVM dialect, each call of such a kernel becomes a call of
// the runtime's `qcrt_parallel_for(task, ctx, begin, end, align)`: the other
// arguments are stored in a struct on the caller's stack (`ctx`), and a
// trampoline `<kernel>.task(ctx, b, e)` reloads them and calls the kernel on
// its range. Threading lives in the runtime; generated code has none.
//
//===----------------------------------------------------------------------===//

#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/Twine.h"

namespace qc {
#define GEN_PASS_DEF_PARALLELCALLSPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kParallelFor = "qcrt_parallel_for";

struct ParallelCallsPass : qc::impl::ParallelCallsPassBase<ParallelCallsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto voidTy = LLVM::LLVMVoidType::get(ctx);

    SmallVector<LLVM::LLVMFuncOp> kernels;
    module.walk([&](LLVM::LLVMFuncOp f) {
      if (f->hasAttr(qc::kParallelAttrName))
        kernels.push_back(f);
    });
    if (kernels.empty())
      return;

    OpBuilder top = OpBuilder::atBlockEnd(module.getBody());
    auto runtimeFn = module.lookupSymbol<LLVM::LLVMFuncOp>(kParallelFor);
    if (!runtimeFn)
      runtimeFn = LLVM::LLVMFuncOp::create(
          top, module.getLoc(), kParallelFor,
          LLVM::LLVMFunctionType::get(voidTy, {ptr, ptr, i64, i64, i64}));

    for (LLVM::LLVMFuncOp kernel : kernels) {
      auto align = kernel->getAttrOfType<IntegerAttr>(qc::kParallelAttrName);
      LLVM::LLVMFunctionType type = kernel.getFunctionType();
      unsigned n = type.getNumParams();
      if (!align || n < 2 || type.getParamType(n - 1) != i64 ||
          type.getParamType(n - 2) != i64 ||
          !isa<LLVM::LLVMVoidType>(type.getReturnType())) {
        kernel.emitError("qc-parallel-calls: a qc.parallel kernel returns "
                         "nothing and ends in (i64 begin, i64 end)");
        return signalPassFailure();
      }
      SmallVector<Type> fields(type.getParams().drop_back(2));
      auto ctxType = LLVM::LLVMStructType::getLiteral(ctx, fields);
      // The calls to rewrite, gathered before the trampoline adds its own.
      SmallVector<LLVM::CallOp> calls;
      module.walk([&](LLVM::CallOp call) {
        if (call.getCallee() == kernel.getSymName())
          calls.push_back(call);
      });
      LLVM::LLVMFuncOp task = buildTask(top, kernel, ctxType);
      for (LLVM::CallOp call : calls) {
        Location loc = call.getLoc();
        auto caller = call->getParentOfType<LLVM::LLVMFuncOp>();
        OpBuilder b = OpBuilder::atBlockBegin(&caller.getBody().front());
        Value one = LLVM::ConstantOp::create(b, loc, i64, 1);
        Value frame = LLVM::AllocaOp::create(b, loc, ptr, ctxType, one);
        b.setInsertionPoint(call);
        ValueRange args = call.getArgOperands();
        for (unsigned i = 0; i + 2 < n; ++i) {
          Value slot = LLVM::GEPOp::create(
              b, loc, ptr, ctxType, frame,
              ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
          LLVM::StoreOp::create(b, loc, args[i], slot);
        }
        Value fn = LLVM::AddressOfOp::create(b, loc, ptr, task.getSymName());
        Value alignValue =
            LLVM::ConstantOp::create(b, loc, i64, align.getInt());
        LLVM::CallOp::create(
            b, loc, runtimeFn,
            ValueRange{fn, frame, args[n - 2], args[n - 1], alignValue});
        call.erase();
      }
    }
  }

  /// `<kernel>.task(ptr ctx, i64 begin, i64 end)`: reloads the arguments and
  /// calls the kernel on [begin, end).
  LLVM::LLVMFuncOp buildTask(OpBuilder &top, LLVM::LLVMFuncOp kernel,
                             LLVM::LLVMStructType ctxType) {
    MLIRContext *ctx = kernel.getContext();
    Location loc = kernel.getLoc();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto task = LLVM::LLVMFuncOp::create(
        top, loc, (kernel.getSymName() + ".task").str(),
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                    {ptr, i64, i64}));
    task.setLinkage(LLVM::Linkage::Internal);
    Block *entry = task.addEntryBlock(top);
    OpBuilder b = OpBuilder::atBlockEnd(entry);
    SmallVector<Value> args;
    for (auto [i, field] : llvm::enumerate(ctxType.getBody())) {
      Value slot = LLVM::GEPOp::create(
          b, loc, ptr, ctxType, entry->getArgument(0),
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
      args.push_back(LLVM::LoadOp::create(b, loc, field, slot));
    }
    args.push_back(entry->getArgument(1));
    args.push_back(entry->getArgument(2));
    LLVM::CallOp::create(b, loc, kernel, args);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
    return task;
  }
};

} // namespace
