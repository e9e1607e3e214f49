//===- TestTargets.cpp - a kernel target for tests only -------------------===//
//
// Adding a target is implementing KernelTarget and registering it. This one
// is the generic target with a token tile of 2: qc-select-kernel gives its
// dequant_i8 layers m_tile = 2 and the generators emit its functions
// (test/Codegen/test-target.test). It is not listed in messages.
//
//===----------------------------------------------------------------------===//

#include "qc/Codegen/CPUTargets.h"

using namespace mlir;
using namespace qc;

namespace {
class GenericTile2Target : public GenericTarget {
public:
  StringRef name() const override { return "generic_tile2"; }
  ArrayRef<StringRef> flags() const override {
    static const StringRef names[] = {"generic_tile2"};
    return names;
  }
  bool listed() const override { return false; }
  int hostRank(const llvm::Triple &,
               const llvm::StringMap<bool> &) const override {
    return 0;
  }
  int64_t defaultTokenTile() const override { return 2; }
};
} // namespace

void qc::registerTestKernelTargets() {
  registerKernelTarget(std::make_unique<GenericTile2Target>());
}
