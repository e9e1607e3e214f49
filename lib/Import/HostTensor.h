//===- HostTensor.h - ONNX dtypes and host-side tensor values ---*- C++ -*-===//
//
// ONNX element types (DType) with their MLIR types, names and sizes, and
// HostTensor: a tensor whose value the importer knows at import time (shapes,
// axes, indices, constants), so that shape computations fold and every tensor
// type stays static.
//
//===----------------------------------------------------------------------===//

#ifndef QC_LIB_IMPORT_HOSTTENSOR_H
#define QC_LIB_IMPORT_HOSTTENSOR_H

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Types.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include "onnx/onnx_pb.h"
#include "qcrt/SmallFloat.h"

#include <string>
#include <vector>

namespace qc {
namespace detail {

/// ONNX element types (TensorProto::DataType values).
using DType = int32_t;
/// The 8-, 4- and 2-bit types of ONNX 1.14 - 1.20 (opsets 19 - 25), which
/// libonnx 1.12's enum lacks. Their values are one byte each in qc (an i8
/// tensor): the integers sign- or zero-extended, the floats' codes in the
/// low bits; only casts, (de)quantization and data movement take them.
constexpr DType kDTypeF8E4M3FN = 17;
constexpr DType kDTypeF8E4M3FNUZ = 18;
constexpr DType kDTypeF8E5M2 = 19;
constexpr DType kDTypeF8E5M2FNUZ = 20;
constexpr DType kDTypeUInt4 = 21;
constexpr DType kDTypeInt4 = 22;
constexpr DType kDTypeF4E2M1 = 23;
constexpr DType kDTypeF8E8M0 = 24;
constexpr DType kDTypeUInt2 = 25;
constexpr DType kDTypeInt2 = 26;

/// int4, uint4, int2, uint2: their width in bits, 0 for other types.
unsigned subByteIntBits(DType dtype);
/// The 8- and 4-bit float formats (not E8M0): its format, or null.
const smallfloat::Format *smallFloatFormat(DType dtype);
/// One of the types above (held a value a byte).
bool isNarrowType(DType dtype);
/// A float8 / float4 / E8M0 type.
inline bool isNarrowFloat(DType dtype) {
  return smallFloatFormat(dtype) || dtype == kDTypeF8E8M0;
}

/// MLIR element type of an ONNX dtype, or null if qc does not support it.
mlir::Type toMLIRType(mlir::MLIRContext *ctx, DType dtype);
/// Short name of an ONNX dtype as used in manifests ("f32", "u8", "bool").
llvm::StringRef dtypeName(DType dtype);
/// Size in bytes of one element, 0 if unsupported.
int64_t dtypeSize(DType dtype);
bool isUnsigned(DType dtype);
bool isFloat(DType dtype);
bool isBool(DType dtype);
bool isInteger(DType dtype); // signed or unsigned, not bool

/// A tensor whose value is known on the host at import time.
struct HostTensor {
  DType dtype = onnx::TensorProto::FLOAT;
  llvm::SmallVector<int64_t> shape;
  /// Row-major little-endian element bytes (bool: one byte per element).
  std::vector<char> data;

  int64_t numElements() const;
  /// Element i converted to int64 / double (any numeric dtype).
  int64_t getInt(int64_t i) const;
  double getDouble(int64_t i) const;
  /// All elements as int64 (for shapes, axes, indices).
  llvm::SmallVector<int64_t> toInts() const;
  /// Builders for the common cases.
  static HostTensor fromInts(llvm::ArrayRef<int64_t> values,
                             llvm::ArrayRef<int64_t> shape,
                             DType dtype = onnx::TensorProto::INT64);
  static HostTensor fromDoubles(llvm::ArrayRef<double> values,
                                llvm::ArrayRef<int64_t> shape, DType dtype);
  /// Sets element i from an int64 / double value (converted to dtype).
  void setInt(int64_t i, int64_t v);
  void setDouble(int64_t i, double v);
};

/// Decodes a TensorProto (raw_data or typed fields) into a HostTensor;
/// returns an error message if the data disagrees with the dims.
std::string decodeTensor(const onnx::TensorProto &proto, HostTensor &out);

} // namespace detail
} // namespace qc

#endif // QC_LIB_IMPORT_HOSTTENSOR_H
