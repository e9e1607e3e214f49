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
    return {};
  }
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
  case kDTypeInt4:
  case kDTypeUInt4:
    // Host tensors hold 4-bit values unpacked, one byte each (see
    // decodeTensor); only DequantizeLinear consumes them.
    return 1;
  default:
    return 0;
  }
}

bool qc::detail::isUnsigned(DType d) {
  return d == TP::UINT8 || d == TP::UINT16 || d == TP::UINT32 ||
         d == TP::UINT64;
}
bool qc::detail::isFloat(DType d) {
  return d == TP::FLOAT || d == TP::DOUBLE || d == TP::FLOAT16 ||
         d == TP::BFLOAT16;
}
bool qc::detail::isBool(DType d) { return d == TP::BOOL; }
bool qc::detail::isInteger(DType d) {
  return d == TP::INT8 || d == TP::INT16 || d == TP::INT32 || d == TP::INT64 ||
         isUnsigned(d);
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
    return load<int8_t>(p);
  case TP::UINT8:
  case kDTypeUInt4:
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
  default:
    return static_cast<double>(getInt(i));
  }
}

void HostTensor::setInt(int64_t i, int64_t v) {
  char *p = data.data() + i * dtypeSize(dtype);
  switch (dtype) {
  case TP::INT8:
  case TP::UINT8:
  case kDTypeInt4:
  case kDTypeUInt4:
    return store<uint8_t>(p, static_cast<uint8_t>(v));
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
  default:
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
  if (out.dtype == kDTypeInt4 || out.dtype == kDTypeUInt4) {
    // Two 4-bit values a byte, the first in the low nibble, in raw_data or
    // one packed byte per int32_data entry; unpacked (int4 sign-extended)
    // into one byte each.
    int64_t bytes = (n + 1) / 2;
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
    out.data.assign(n, 0);
    for (int64_t i = 0; i < n; ++i) {
      int v = (static_cast<uint8_t>(packed[i / 2]) >> (4 * (i % 2))) & 0xf;
      if (out.dtype == kDTypeInt4 && v >= 8)
        v -= 16;
      out.data[i] = static_cast<char>(v);
    }
    return "";
  }
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
    for (int64_t i = 0; i < n; ++i)
      out.setInt(i, proto.int32_data(i));
    break;
  }
  return "";
}
