//===- KernelBodies.cpp - a kernel function's body from its role ----------===//

#include "Emitter.h"
#include "qc/Codegen/CPUKernels.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace qc;
using namespace qc::kernels;
using namespace qc::kernels::cpu;

namespace {
/// LLVM target features the kernels of `target` need: set on the generated
/// functions so that they compile whatever CPU the module targets.
void setTargetFeatures(func::FuncOp fn, const KernelTarget &target) {
  if (target.llvmFeatures().empty())
    return;
  fn->setAttr("target_features", LLVM::TargetFeaturesAttr::get(
                                     fn.getContext(), target.llvmFeatures()));
}

BodyBuilder bodyBuilder(StringRef role) {
  return llvm::StringSwitch<BodyBuilder>(role)
      .Case(kRoleActQuant, buildActQuant)
      .Case(kRoleActQuantStatic, buildActQuantStatic)
      .Case(kRoleActRange, buildActRange)
      .Case(kRoleColumns, buildColumnKernel)
      .Case(kRoleActFloat, buildActFloat)
      .Case(kRoleColumnsF32, buildColumnKernelF32)
      .Case(kRoleLutTables, buildLutTables)
      .Case(kRoleLutTiles, buildLutTiles)
      .Case(kRolePsumbook, buildPsumbook)
      .Case(kRoleCodeTables, buildCodeTables)
      .Case(kRoleCodeTiles, buildCodeTiles)
      .Case(kRolePsumbookLanes, buildPsumbookLanes)
      .Case(kRoleCodeLanes, buildCodeLaneTiles)
      .Case(kRolePermTables, buildPermTables)
      .Case(kRolePermTiles, buildPermTiles)
      .Default(nullptr);
}
} // namespace

bool qc::isKernelDeclaration(func::FuncOp fn) {
  return fn.isExternal() && fn->hasAttrOfType<StringAttr>(kRoleAttr);
}

LogicalResult qc::emitKernelBody(func::FuncOp fn) {
  StringRef role = fn->getAttrOfType<StringAttr>(kRoleAttr).getValue();
  std::optional<KernelShape> shape = KernelShape::of(fn);
  if (!shape)
    return fn.emitError("qc-emit-kernels: malformed ") << kShapeAttr;
  BodyBuilder build = bodyBuilder(role);
  if (!build)
    return fn.emitError("qc-emit-kernels: unknown role ") << role;
  // 8-bit codes in int8 dot products only where they do not saturate.
  if (role == kRoleColumns && shape->bits == 8 &&
      !shape->target->hasWideCodeDot())
    return fn.emitError("qc-emit-kernels: 8-bit codes need a wide u8 x s8 "
                        "dot product, which '")
           << shape->target->name() << "' does not have";
  // Every body: the entry block, a return and, for the functions with
  // ISA-specific code, the target's features (the activation quantizer and
  // copier and the LUT table builder are plain vector code for the module's
  // CPU).
  if (role != kRoleActQuant && role != kRoleActQuantStatic &&
      role != kRoleActRange && role != kRoleActFloat &&
      role != kRoleLutTables)
    setTargetFeatures(fn, *shape->target);
  Block *entry = fn.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockEnd(entry);
  build(b, fn.getLoc(), entry->getArguments(), *shape);
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, fn.getLoc());
  fn->removeAttr(kRoleAttr);
  fn->removeAttr(kShapeAttr);
  return success();
}
