//===- ConstantData.cpp - element data of constant tensors ----------------===//

#include "qc/Transforms/ConstantData.h"
#include "QC/IR/QCOps.h"
#include "qc/Support/HalfFloat.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;

FailureOr<std::vector<char>> qc::getConstantBytes(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  auto type = cst ? dyn_cast<RankedTensorType>(cst.getType()) : nullptr;
  if (!type || !type.getElementType().isIntOrFloat())
    return failure();
  size_t eltBytes = (type.getElementTypeBitWidth() + 7) / 8;
  size_t size = type.getNumElements() * eltBytes;
  ArrayRef<char> data;
  if (auto res = dyn_cast<DenseResourceElementsAttr>(cst.getValue())) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return failure();
    data = blob->getData();
  } else if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue())) {
    if (type.getElementTypeBitWidth() == 1)
      return failure(); // Bit-packed booleans: not element bytes.
    data = dense.getRawData();
    if (dense.isSplat() && data.size() == eltBytes) {
      std::vector<char> out(size);
      for (size_t i = 0; i < size; i += eltBytes)
        std::memcpy(out.data() + i, data.data(), eltBytes);
      return out;
    }
  } else {
    return failure();
  }
  if (data.size() != size)
    return failure();
  return std::vector<char>(data.begin(), data.end());
}

FailureOr<std::vector<float>> qc::getConstantFloats(Value v) {
  FailureOr<std::vector<char>> bytes = getConstantBytes(v);
  if (failed(bytes))
    return failure();
  Type elt = cast<RankedTensorType>(v.getType()).getElementType();
  std::vector<float> out;
  if (elt.isF32()) {
    out.resize(bytes->size() / 4);
    std::memcpy(out.data(), bytes->data(), out.size() * 4);
    return out;
  }
  if (!elt.isF16() && !elt.isBF16())
    return failure();
  for (size_t i = 0; i + 1 < bytes->size(); i += 2) {
    uint16_t raw;
    std::memcpy(&raw, bytes->data() + i, 2);
    out.push_back(static_cast<float>(fromHalfBits(raw, elt.isBF16())));
  }
  return out;
}

uint16_t qc::toHalfBits(float v, Type type) {
  return toHalfBits(static_cast<double>(v), type.isBF16());
}

float qc::roundToType(float v, Type type) {
  if (type.isF32())
    return v;
  return static_cast<float>(
      fromHalfBits(toHalfBits(v, type), type.isBF16()));
}

Value qc::bytesConstant(OpBuilder &b, Location loc, RankedTensorType type,
                        StringRef name, ArrayRef<char> bytes) {
  AsmResourceBlob blob =
      HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(uint64_t));
  return arith::ConstantOp::create(
      b, loc, DenseResourceElementsAttr::get(type, name, std::move(blob)));
}

Value qc::floatConstant(OpBuilder &b, Location loc, RankedTensorType type,
                        StringRef name, ArrayRef<float> values) {
  return bytesConstant(
      b, loc, type, name,
      ArrayRef<char>(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(float)));
}

void qc::replaceConstant(OpBuilder &b, OpOperand &operand,
                         ArrayRef<float> values, StringRef name) {
  Value old = operand.get();
  operand.set(floatConstant(b, old.getLoc(),
                            cast<RankedTensorType>(old.getType()), name,
                            values));
  if (old.use_empty())
    old.getDefiningOp()->erase();
}

std::optional<unsigned>
qc::channelConstantOperand(linalg::GenericOp generic, Value bodyValue,
                           int64_t k) {
  auto arg = dyn_cast<BlockArgument>(bodyValue);
  if (!arg || arg.getOwner() != generic.getBody() ||
      arg.getArgNumber() >= generic.getNumDpsInputs())
    return std::nullopt;
  OpOperand *operand = generic.getDpsInputOperand(arg.getArgNumber());
  auto type = dyn_cast<RankedTensorType>(operand->get().getType());
  AffineMap map = generic.getMatchingIndexingMap(operand);
  if (!operand->get().getDefiningOp<arith::ConstantOp>() || !type ||
      type.getShape() != ArrayRef<int64_t>{k} ||
      !type.getElementType().isF32() || map.getNumResults() != 1 ||
      map.getResult(0) != getAffineDimExpr(map.getNumDims() - 1,
                                           generic.getContext()))
    return std::nullopt;
  return operand->getOperandNumber();
}

bool qc::hasRewritableWeight(LinearOp linear) {
  return !linear.getPanel() &&
         linear.getWeight().getDefiningOp<arith::ConstantOp>() &&
         linear.getWeight().getType().getElementType().isF32() &&
         (!linear.getBias() ||
          linear.getBias().getDefiningOp<arith::ConstantOp>());
}
