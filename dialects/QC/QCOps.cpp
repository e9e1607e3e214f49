//===- QCOps.cpp - qc dialect operations: verifiers and builders ----------===//

#include "QC/QCOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace qc;

LogicalResult LinearOp::verify() {
  auto inputType = getInput().getType();
  auto weightType = getWeight().getType();
  auto resultType = getResult().getType();
  if (weightType.getRank() != 2)
    return emitOpError("expects a rank-2 weight [K, N], found rank ")
           << weightType.getRank();
  if (inputType.getRank() < 1)
    return emitOpError("expects an input of rank >= 1");
  Type elt = inputType.getElementType();
  if (!isa<FloatType>(elt))
    return emitOpError("expects a floating-point input, found ") << elt;
  if (weightType.getElementType() != elt ||
      resultType.getElementType() != elt)
    return emitOpError("expects input, weight and result of one element "
                       "type, found ")
           << elt << ", " << weightType.getElementType() << " and "
           << resultType.getElementType();
  int64_t k = weightType.getDimSize(0), n = weightType.getDimSize(1);
  int64_t inK = inputType.getDimSize(inputType.getRank() - 1);
  if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(inK) && k != inK)
    return emitOpError("input has ")
           << inK << " features but the weight expects K = " << k;
  if (resultType.getRank() != inputType.getRank())
    return emitOpError("expects a result of the input's rank ")
           << inputType.getRank() << ", found " << resultType.getRank();
  for (int64_t i = 0, e = inputType.getRank() - 1; i < e; ++i)
    if (resultType.getDimSize(i) != inputType.getDimSize(i))
      return emitOpError("result dimension ")
             << i << " is " << resultType.getDimSize(i)
             << " but the input's is " << inputType.getDimSize(i);
  if (resultType.getDimSize(resultType.getRank() - 1) != n)
    return emitOpError("result has ")
           << resultType.getDimSize(resultType.getRank() - 1)
           << " features but the weight gives N = " << n;
  if (Value bias = getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() != 1 || biasType.getDimSize(0) != n ||
        biasType.getElementType() != elt)
      return emitOpError("expects a bias of type ")
             << RankedTensorType::get({n}, elt) << ", found " << biasType;
  }
  return success();
}

#define GET_OP_CLASSES
#include "QC/QCOps.cpp.inc"
