//===- KernelTarget.cpp - the kernel target registry ----------------------===//

#include "qc/Codegen/KernelTarget.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/ManagedStatic.h"
#include "llvm/Support/Mutex.h"
#include "llvm/TargetParser/Host.h"

#include <vector>

using namespace mlir;
using namespace qc;

KernelTarget::~KernelTarget() = default;

VectorType KernelTarget::dotPartialType(MLIRContext *ctx, int64_t lanes) const {
  return VectorType::get({lanes}, IntegerType::get(ctx, 32));
}

Value KernelTarget::lookup16(OpBuilder &, Location, Value, Value) const {
  llvm::report_fatal_error(llvm::Twine("kernel target '") + name() +
                           "' has no 16-byte table lookup");
}

Value KernelTarget::lookup128(OpBuilder &, Location, Value, Value,
                              Value) const {
  llvm::report_fatal_error(llvm::Twine("kernel target '") + name() +
                           "' has no 128-byte table lookup");
}

Value qc::callIntrinsic(OpBuilder &b, Location loc, StringRef name, Type result,
                        ValueRange args) {
  return LLVM::CallIntrinsicOp::create(b, loc, result, b.getStringAttr(name),
                                       args)
      .getResult(0);
}

namespace {
/// Registered targets in registration order (the order of the flags in
/// messages).
struct Registry {
  llvm::sys::SmartMutex<true> lock;
  std::vector<std::unique_ptr<KernelTarget>> targets;
};
llvm::ManagedStatic<Registry> registry;

/// The first registered target (in registration order) that `pred`
/// accepts, or null.
const KernelTarget *find(llvm::function_ref<bool(const KernelTarget &)> pred) {
  llvm::sys::SmartScopedLock<true> guard(registry->lock);
  for (const std::unique_ptr<KernelTarget> &t : registry->targets)
    if (pred(*t))
      return t.get();
  return nullptr;
}

/// Every registered target, in registration order.
std::vector<const KernelTarget *> allTargets() {
  std::vector<const KernelTarget *> all;
  find([&](const KernelTarget &t) {
    all.push_back(&t);
    return false;
  });
  return all;
}
} // namespace

void qc::registerKernelTarget(std::unique_ptr<KernelTarget> target) {
  llvm::sys::SmartScopedLock<true> guard(registry->lock);
  for (const std::unique_ptr<KernelTarget> &t : registry->targets)
    if (t->name() == target->name())
      return;
  registry->targets.push_back(std::move(target));
}

const KernelTarget *qc::lookupKernelTarget(StringRef name) {
  registerCPUKernelTargets();
  return find([&](const KernelTarget &t) { return t.name() == name; });
}

FailureOr<const KernelTarget *> qc::resolveKernelTarget(StringRef flag,
                                                        std::string &error) {
  registerCPUKernelTargets();
  if (flag == "host") {
    llvm::Triple triple(llvm::sys::getProcessTriple());
    llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
    const KernelTarget *best = nullptr;
    int bestRank = 0;
    for (const KernelTarget *t : allTargets())
      if (int rank = t->hostRank(triple, features); rank > bestRank)
        best = t, bestRank = rank;
    if (best)
      return best;
  } else if (const KernelTarget *t = find([&](const KernelTarget &t) {
               return llvm::is_contained(t.flags(), flag);
             })) {
    return t;
  }
  SmallVector<std::string> names = {"host"};
  for (const KernelTarget *t : allTargets())
    if (t->listed())
      for (StringRef f : t->flags())
        names.push_back(f.str());
  std::string last = names.pop_back_val();
  error = ("unknown kernel target '" + flag + "' (expected " +
           llvm::join(names, ", ") + " or " + last + ")")
              .str();
  return failure();
}
