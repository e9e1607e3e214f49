//===- DTypes.h - the one table of qc's element types -----------*- C++ -*-===//
//
// Every element type an artifact's interface and weights may have: its
// manifest spelling, its size, the descriptor NumPy writes for it (null where
// .npy has none) and the C API's enum. The runtime (manifest parser, .npy
// I/O) and the compiler (artifact writer) read their facts here. No MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef QCRT_DTYPES_H
#define QCRT_DTYPES_H

#include "qcrt.h"

#include <cstddef>
#include <string_view>

namespace qc::dtypes {

struct DTypeInfo {
  qcrt_dtype dtype;
  const char *name;     // manifest spelling
  size_t size;          // bytes per element
  const char *npyDescr; // what NumPy writes; null: .npy has no such type
};

/// Indexed by qcrt_dtype (docs/artifact.md lists them in this order).
inline constexpr DTypeInfo kDTypes[] = {
    {QCRT_F16, "f16", 2, "<f2"}, {QCRT_BF16, "bf16", 2, nullptr},
    {QCRT_F32, "f32", 4, "<f4"}, {QCRT_F64, "f64", 8, "<f8"},
    {QCRT_I8, "i8", 1, "|i1"},   {QCRT_I16, "i16", 2, "<i2"},
    {QCRT_I32, "i32", 4, "<i4"}, {QCRT_I64, "i64", 8, "<i8"},
    {QCRT_U8, "u8", 1, "|u1"},   {QCRT_U16, "u16", 2, "<u2"},
    {QCRT_U32, "u32", 4, "<u4"}, {QCRT_U64, "u64", 8, "<u8"},
    {QCRT_BOOL, "bool", 1, "|b1"},
    {QCRT_I4, "i4", 1, nullptr},
    {QCRT_U4, "u4", 1, nullptr},
    {QCRT_I2, "i2", 1, nullptr},
    {QCRT_U2, "u2", 1, nullptr},
    {QCRT_F8E4M3FN, "f8e4m3fn", 1, nullptr},
    {QCRT_F8E4M3FNUZ, "f8e4m3fnuz", 1, nullptr},
    {QCRT_F8E5M2, "f8e5m2", 1, nullptr},
    {QCRT_F8E5M2FNUZ, "f8e5m2fnuz", 1, nullptr},
    {QCRT_F4E2M1, "f4e2m1", 1, nullptr},
    {QCRT_F8E8M0, "f8e8m0", 1, nullptr}};
inline constexpr size_t kNumDTypes = sizeof(kDTypes) / sizeof(kDTypes[0]);

/// The entry of `dtype`, or null if it is out of range.
inline const DTypeInfo *findDType(qcrt_dtype dtype) {
  auto index = static_cast<size_t>(dtype);
  return index < kNumDTypes ? &kDTypes[index] : nullptr;
}

/// The entry spelled `name`, or null.
inline const DTypeInfo *findDType(std::string_view name) {
  for (const DTypeInfo &info : kDTypes)
    if (name == info.name)
      return &info;
  return nullptr;
}

} // namespace qc::dtypes

#endif // QCRT_DTYPES_H
