//===- HostTensor.cpp - ONNX element types and host-side tensor values ----===//
//
// The dtype helpers of the importer and HostTensor, the values it knows at
// import time (decoded from TensorProtos, computed by host folding).
//
//===----------------------------------------------------------------------===//

#include "HostTensor.h"
#include "qc/Support/HalfFloat.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/Endian.h"

#include <cstring>

using namespace mlir;
using namespace qc;
using namespace qc::detail;
using TP = onnx::TensorProto;

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

Type qc::detail::toMLIRType(MLIRContext *ctx, DType dtype) {
  Builder b(ctx);
  switch (dtype) {
  case TP::FLOAT:
    return b.getF32Type();
  case TP::DOUBLE:
    return b.getF64Type();
  case TP::FLOAT16:
    return b.getF16Type();
  case TP::BFLOAT16:
    return b.getBF16Type();
  case TP::INT8:
  case TP::UINT8:
    return b.getIntegerType(8);
  case TP::INT16:
  case TP::UINT16:
    return b.getIntegerType(16);
  case TP::INT32:
  case TP::UINT32:
    return b.getIntegerType(32);
  case TP::INT64:
  case TP::UINT64:
    return b.getIntegerType(64);
  case TP::BOOL:
    return b.getI1Type();
  default:
    return isNarrowType(dtype) ? b.getIntegerType(8) : Type();
  }
}

unsigned qc::detail::subByteIntBits(DType dtype) {
  switch (dtype) {
  case kDTypeInt4:
  case kDTypeUInt4:
    return 4;
  case kDTypeInt2:
  case kDTypeUInt2:
    return 2;
  default:
    return 0;
  }
}

const smallfloat::Format *qc::detail::smallFloatFormat(DType dtype) {
  switch (dtype) {
  case kDTypeF8E4M3FN:
    return &smallfloat::kE4M3FN;
  case kDTypeF8E4M3FNUZ:
    return &smallfloat::kE4M3FNUZ;
  case kDTypeF8E5M2:
    return &smallfloat::kE5M2;
  case kDTypeF8E5M2FNUZ:
    return &smallfloat::kE5M2FNUZ;
  case kDTypeF4E2M1:
    return &smallfloat::kE2M1;
  default:
    return nullptr;
  }
}

bool qc::detail::isNarrowType(DType dtype) {
  return subByteIntBits(dtype) || smallFloatFormat(dtype) ||
         dtype == kDTypeF8E8M0;
}

StringRef qc::detail::dtypeName(DType dtype) {
  switch (dtype) {
  case TP::FLOAT:
    return "f32";
  case TP::DOUBLE:
    return "f64";
  case TP::FLOAT16:
    return "f16";
  case TP::BFLOAT16:
    return "bf16";
  case TP::INT8:
    return "i8";
  case TP::UINT8:
    return "u8";
  case TP::INT16:
    return "i16";
  case TP::UINT16:
    return "u16";
  case TP::INT32:
    return "i32";
  case TP::UINT32:
    return "u32";
  case TP::INT64:
    return "i64";
  case TP::UINT64:
    return "u64";
  case TP::BOOL:
    return "bool";
  case kDTypeInt4:
    return "i4";
  case kDTypeUInt4:
    return "u4";
  case kDTypeInt2:
    return "i2";
  case kDTypeUInt2:
    return "u2";
  case kDTypeF8E4M3FN:
    return "f8e4m3fn";
  case kDTypeF8E4M3FNUZ:
    return "f8e4m3fnuz";
  case kDTypeF8E5M2:
    return "f8e5m2";
  case kDTypeF8E5M2FNUZ:
    return "f8e5m2fnuz";
  case kDTypeF4E2M1:
    return "f4e2m1";
  case kDTypeF8E8M0:
    return "f8e8m0";
  case TP::STRING:
    return "string";
  default:
    return "unsupported";
  }
}

int64_t qc::detail::dtypeSize(DType dtype) {
  switch (dtype) {
  case TP::DOUBLE:
  case TP::INT64:
  case TP::UINT64:
    return 8;
  case TP::FLOAT:
  case TP::INT32:
  case TP::UINT32:
    return 4;
  case TP::FLOAT16:
  case TP::BFLOAT16:
  case TP::INT16:
  case TP::UINT16:
    return 2;
  case TP::INT8:
  case TP::UINT8:
  case TP::BOOL:
    return 1;
  default:
    // Host tensors hold the narrow types unpacked, one byte a value (see
    // decodeTensor).
    return isNarrowType(dtype) ? 1 : 0;
  }
}

bool qc::detail::isUnsigned(DType d) {
  return d == TP::UINT8 || d == TP::UINT16 || d == TP::UINT32 ||
         d == TP::UINT64 || d == kDTypeUInt4 || d == kDTypeUInt2;
}
bool qc::detail::isFloat(DType d) {
  return d == TP::FLOAT || d == TP::DOUBLE || d == TP::FLOAT16 ||
         d == TP::BFLOAT16;
}
bool qc::detail::isBool(DType d) { return d == TP::BOOL; }
bool qc::detail::isInteger(DType d) {
  return d == TP::INT8 || d == TP::INT16 || d == TP::INT32 || d == TP::INT64 ||
         (isUnsigned(d) && !subByteIntBits(d));
}

//===----------------------------------------------------------------------===//
// Host tensors
//===----------------------------------------------------------------------===//

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}


template <typename T> static T load(const char *p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T> static void store(char *p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

int64_t HostTensor::getInt(int64_t i) const {
  const char *p = data.data() + i * dtypeSize(dtype);
  switch (dtype) {
  case TP::INT8:
  case kDTypeInt4:
  case kDTypeInt2:
    return load<int8_t>(p);
  case TP::UINT8:
  case kDTypeUInt4:
  case kDTypeUInt2:
  case TP::BOOL:
    return load<uint8_t>(p);
  case TP::INT16:
    return load<int16_t>(p);
  case TP::UINT16:
    return load<uint16_t>(p);
  case TP::INT32:
    return load<int32_t>(p);
  case TP::UINT32:
    return load<uint32_t>(p);
  case TP::INT64:
    return load<int64_t>(p);
  case TP::UINT64:
    return static_cast<int64_t>(load<uint64_t>(p));
  default:
    return static_cast<int64_t>(getDouble(i));
  }
}

double HostTensor::getDouble(int64_t i) const {
  const char *p = data.data() + i * dtypeSize(dtype);
  switch (dtype) {
  case TP::FLOAT:
    return load<float>(p);
  case TP::DOUBLE:
    return load<double>(p);
  case TP::FLOAT16:
    return qc::fromHalfBits(load<uint16_t>(p), false);
  case TP::BFLOAT16:
    return qc::fromHalfBits(load<uint16_t>(p), true);
  case TP::UINT64:
    return static_cast<double>(load<uint64_t>(p));
  case kDTypeF8E8M0:
    return smallfloat::decodeE8M0(load<uint8_t>(p));
  default:
    if (const smallfloat::Format *f = smallFloatFormat(dtype))
      return smallfloat::decode(load<uint8_t>(p), *f);
    return static_cast<double>(getInt(i));
  }
}

void HostTensor::setInt(int64_t i, int64_t v) {
  char *p = data.data() + i * dtypeSize(dtype);
  switch (dtype) {
  case TP::INT8:
  case TP::UINT8:
    return store<uint8_t>(p, static_cast<uint8_t>(v));
  case kDTypeInt4:
  case kDTypeInt2: {
    // Wrapped into the type's range, as its bits would be.
    unsigned shift = 64 - subByteIntBits(dtype);
    return store<int8_t>(p, static_cast<int8_t>(
                                static_cast<int64_t>(uint64_t(v) << shift) >>
                                shift));
  }
  case kDTypeUInt4:
  case kDTypeUInt2:
    return store<uint8_t>(
        p, static_cast<uint8_t>(v & ((1 << subByteIntBits(dtype)) - 1)));
  case TP::BOOL:
    return store<uint8_t>(p, v != 0);
  case TP::INT16:
  case TP::UINT16:
    return store<uint16_t>(p, static_cast<uint16_t>(v));
  case TP::INT32:
  case TP::UINT32:
    return store<uint32_t>(p, static_cast<uint32_t>(v));
  case TP::INT64:
  case TP::UINT64:
    return store<int64_t>(p, v);
  default:
    return setDouble(i, static_cast<double>(v));
  }
}

void HostTensor::setDouble(int64_t i, double v) {
  char *p = data.data() + i * dtypeSize(dtype);
  switch (dtype) {
  case TP::FLOAT:
    return store<float>(p, static_cast<float>(v));
  case TP::DOUBLE:
    return store<double>(p, v);
  case TP::FLOAT16:
    return store<uint16_t>(p, qc::toHalfBits(v, false));
  case TP::BFLOAT16:
    return store<uint16_t>(p, qc::toHalfBits(v, true));
  case kDTypeF8E8M0:
    return store<uint8_t>(p, smallfloat::encodeE8M0(
                                 static_cast<float>(v), /*saturate=*/true,
                                 smallfloat::E8M0Rounding::Up));
  default:
    // The narrow floats saturate, as Cast does by default.
    if (const smallfloat::Format *f = smallFloatFormat(dtype))
      return store<uint8_t>(p, smallfloat::encode(static_cast<float>(v), *f,
                                                  /*saturate=*/true));
    return setInt(i, static_cast<int64_t>(v));
  }
}

SmallVector<int64_t> HostTensor::toInts() const {
  SmallVector<int64_t> out;
  for (int64_t i = 0, e = numElements(); i < e; ++i)
    out.push_back(getInt(i));
  return out;
}

HostTensor HostTensor::fromInts(ArrayRef<int64_t> values,
                                ArrayRef<int64_t> shape, DType dtype) {
  HostTensor t;
  t.dtype = dtype;
  t.shape.assign(shape.begin(), shape.end());
  t.data.assign(values.size() * dtypeSize(dtype), 0);
  for (size_t i = 0; i < values.size(); ++i)
    t.setInt(i, values[i]);
  return t;
}

HostTensor HostTensor::fromDoubles(ArrayRef<double> values,
                                   ArrayRef<int64_t> shape, DType dtype) {
  HostTensor t;
  t.dtype = dtype;
  t.shape.assign(shape.begin(), shape.end());
  t.data.assign(values.size() * dtypeSize(dtype), 0);
  for (size_t i = 0; i < values.size(); ++i)
    t.setDouble(i, values[i]);
  return t;
}

/// The values of a tensor of `bits`-bit elements (int4 / uint4 / float4:
/// two a byte, int2 / uint2: four), the first in the lowest bits, from
/// raw_data or one packed byte per int32_data entry; unpacked into one
/// byte each, the signed integers sign-extended.
static std::string unpackSubByte(const onnx::TensorProto &proto,
                                 unsigned bits, int64_t n, HostTensor &out) {
  int64_t perByte = 8 / bits;
  int64_t bytes = (n + perByte - 1) / perByte;
  std::string packed;
  if (proto.has_raw_data()) {
    packed = proto.raw_data();
    if (static_cast<int64_t>(packed.size()) != bytes)
      return "raw data is " + std::to_string(packed.size()) +
             " bytes but the dims and type need " + std::to_string(bytes);
  } else {
    if (proto.int32_data_size() != bytes)
      return "int32_data holds " + std::to_string(proto.int32_data_size()) +
             " packed bytes but the dims and type need " +
             std::to_string(bytes);
    for (int64_t i = 0; i < bytes; ++i)
      packed.push_back(static_cast<char>(proto.int32_data(i) & 0xff));
  }
  bool isSigned = out.dtype == kDTypeInt4 || out.dtype == kDTypeInt2;
  int mask = (1 << bits) - 1;
  out.data.assign(n, 0);
  for (int64_t i = 0; i < n; ++i) {
    int v = (static_cast<uint8_t>(packed[i / perByte]) >>
             (bits * (i % perByte))) & mask;
    if (isSigned && v > mask / 2)
      v -= mask + 1;
    out.data[i] = static_cast<char>(v);
  }
  return "";
}

std::string qc::detail::decodeTensor(const onnx::TensorProto &proto,
                                     HostTensor &out) {
  out.dtype = proto.data_type();
  int64_t size = dtypeSize(out.dtype);
  if (size == 0)
    return "element type " + std::string(dtypeName(out.dtype)) + " (" +
           std::to_string(out.dtype) + ") is not supported";
  out.shape.clear();
  int64_t n = 1;
  for (int64_t d : proto.dims()) {
    if (d < 0)
      return "negative dimension " + std::to_string(d);
    if (d != 0 && n > (int64_t(1) << 40) / d)
      return "absurd shape: more than 2^40 elements";
    n *= d;
    out.shape.push_back(d);
  }
  auto mismatch = [&](int64_t found) {
    return "data holds " + std::to_string(found) +
           " elements but the dims say " + std::to_string(n);
  };
  unsigned bits = subByteIntBits(out.dtype);
  if (out.dtype == kDTypeF4E2M1)
    bits = 4;
  if (bits)
    return unpackSubByte(proto, bits, n, out);
  if (proto.has_raw_data()) {
    const std::string &raw = proto.raw_data();
    if (static_cast<int64_t>(raw.size()) != n * size)
      return "raw data is " + std::to_string(raw.size()) +
             " bytes but the dims and type need " + std::to_string(n * size);
    out.data.assign(raw.begin(), raw.end());
    if (out.dtype == TP::BOOL)
      for (char &c : out.data)
        c = c != 0;
    return "";
  }
  out.data.assign(n * size, 0);
  switch (out.dtype) {
  case TP::FLOAT:
    if (proto.float_data_size() != n)
      return mismatch(proto.float_data_size());
    for (int64_t i = 0; i < n; ++i)
      out.setDouble(i, proto.float_data(i));
    break;
  case TP::DOUBLE:
    if (proto.double_data_size() != n)
      return mismatch(proto.double_data_size());
    for (int64_t i = 0; i < n; ++i)
      out.setDouble(i, proto.double_data(i));
    break;
  case TP::INT64:
    if (proto.int64_data_size() != n)
      return mismatch(proto.int64_data_size());
    for (int64_t i = 0; i < n; ++i)
      out.setInt(i, proto.int64_data(i));
    break;
  case TP::UINT32:
  case TP::UINT64:
    if (proto.uint64_data_size() != n)
      return mismatch(proto.uint64_data_size());
    for (int64_t i = 0; i < n; ++i)
      out.setInt(i, static_cast<int64_t>(proto.uint64_data(i)));
    break;
  case TP::FLOAT16:
  case TP::BFLOAT16:
    // The int32 field holds the raw 16-bit patterns.
    if (proto.int32_data_size() != n)
      return mismatch(proto.int32_data_size());
    for (int64_t i = 0; i < n; ++i)
      store<uint16_t>(out.data.data() + 2 * i,
                      static_cast<uint16_t>(proto.int32_data(i)));
    break;
  default:
    if (proto.int32_data_size() != n)
      return mismatch(proto.int32_data_size());
    for (int64_t i = 0; i < n; ++i) {
      // The float8 types' int32 field holds their codes.
      if (isNarrowType(out.dtype))
        out.data[i] = static_cast<char>(proto.int32_data(i) & 0xff);
      else
        out.setInt(i, proto.int32_data(i));
    }
    break;
  }
  return "";
}
