//===- GGUFReader.cpp - read GGUF files, dequantize ggml blocks -----------===//
//
// The file is memory-mapped; every count, length and offset is checked
// against what is left of it before use, so a truncated or corrupt file is an
// error message, never a read past the end. Little-endian GGUF version 2 and
// 3 (version 1 used 32-bit counts and is long gone).
//
// The dequantizers follow ggml's block layouts (ggml-common.h): the scale
// fields are f16, K-quants pack 256 elements into super-blocks with 6- or
// 8-bit sub-block scales.
//
//===----------------------------------------------------------------------===//

#include "qc/Import/GGUF.h"
#include "qc/Support/HalfFloat.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace qc;
using llvm::ArrayRef;
using llvm::StringRef;

namespace {

constexpr uint64_t kMaxDims = 4; // GGML_MAX_DIMS

/// Reads little-endian values from the front of a byte range, failing (and
/// remembering why) instead of reading past its end.
struct Cursor {
  const uint8_t *begin, *pos, *end;
  std::string error;

  uint64_t offset() const { return uint64_t(pos - begin); }
  uint64_t left() const { return uint64_t(end - pos); }
  bool need(uint64_t n, StringRef what) {
    if (!error.empty())
      return false;
    if (n <= left())
      return true;
    error = "truncated at byte " + std::to_string(offset()) + " (reading " +
            what.str() + ", " + std::to_string(n) + " bytes, " +
            std::to_string(left()) + " left)";
    return false;
  }
  template <typename T> bool read(T &out, StringRef what) {
    if (!need(sizeof(T), what))
      return false;
    std::memcpy(&out, pos, sizeof(T));
    pos += sizeof(T);
    return true;
  }
  bool readString(std::string &out, StringRef what) {
    uint64_t n;
    if (!read(n, what) || !need(n, what))
      return false;
    out.assign(reinterpret_cast<const char *>(pos), n);
    pos += n;
    return true;
  }
};

/// Bytes of one scalar of a metadata kind; 0 for strings and arrays.
uint64_t scalarBytes(uint32_t kind) {
  switch (kind) {
  case GGUFValue::U8:
  case GGUFValue::I8:
  case GGUFValue::Bool:
    return 1;
  case GGUFValue::U16:
  case GGUFValue::I16:
    return 2;
  case GGUFValue::U32:
  case GGUFValue::I32:
  case GGUFValue::F32:
    return 4;
  case GGUFValue::U64:
  case GGUFValue::I64:
  case GGUFValue::F64:
    return 8;
  default:
    return 0;
  }
}

/// Reads one scalar (not a string or array) of `kind` into `v`.
bool readScalar(Cursor &c, uint32_t kind, GGUFValue &v) {
  uint64_t n = scalarBytes(kind);
  if (!c.need(n, "a metadata value"))
    return false;
  uint64_t raw = 0;
  std::memcpy(&raw, c.pos, n);
  c.pos += n;
  switch (kind) {
  case GGUFValue::I8:
    v.integer = int8_t(raw);
    break;
  case GGUFValue::I16:
    v.integer = int16_t(raw);
    break;
  case GGUFValue::I32:
    v.integer = int32_t(raw);
    break;
  case GGUFValue::F32: {
    float f;
    std::memcpy(&f, &raw, 4);
    v.real = f;
    break;
  }
  case GGUFValue::F64:
    std::memcpy(&v.real, &raw, 8);
    break;
  default:
    v.integer = int64_t(raw);
    break; // unsigned, bool
  }
  return true;
}

bool readValue(Cursor &c, uint32_t kind, GGUFValue &v) {
  v.kind = GGUFValue::Kind(kind);
  if (kind == GGUFValue::String)
    return c.readString(v.string, "a metadata string");
  if (kind != GGUFValue::Array) {
    if (scalarBytes(kind) == 0) {
      c.error = "unknown metadata value type " + std::to_string(kind);
      return false;
    }
    return readScalar(c, kind, v);
  }
  uint32_t element;
  uint64_t count;
  if (!c.read(element, "an array's type") || !c.read(count, "an array's size"))
    return false;
  if (element == GGUFValue::Array) {
    c.error = "nested metadata arrays are not supported";
    return false;
  }
  v.elementKind = GGUFValue::Kind(element);
  // Every element takes at least one byte (a string at least eight).
  uint64_t least = element == GGUFValue::String ? 8 : scalarBytes(element);
  if (least == 0) {
    c.error = "unknown metadata array element type " + std::to_string(element);
    return false;
  }
  if (count > c.left() / least) {
    c.error = "an array of " + std::to_string(count) + " elements at byte " +
              std::to_string(c.offset()) +
              " does not fit in the file (truncated or corrupt)";
    return false;
  }
  for (uint64_t i = 0; i < count; ++i) {
    GGUFValue e;
    if (!readValue(c, element, e))
      return false;
    if (element == GGUFValue::String)
      v.strings.push_back(std::move(e.string));
    else if (element == GGUFValue::F32 || element == GGUFValue::F64)
      v.reals.push_back(e.real);
    else
      v.integers.push_back(e.integer);
  }
  return true;
}

} // namespace

//===----------------------------------------------------------------------===//
// ggml types
//===----------------------------------------------------------------------===//

namespace {
/// The ggml types qc reads: name, elements and bytes of a block.
struct GGMLTypeInfo {
  GGMLType type;
  const char *name;
  GGMLBlock block;
};
constexpr GGMLTypeInfo kReadable[] = {
    {GGMLType::F32, "F32", {1, 4}},       {GGMLType::F16, "F16", {1, 2}},
    {GGMLType::BF16, "BF16", {1, 2}},     {GGMLType::Q4_0, "Q4_0", {32, 18}},
    {GGMLType::Q4_1, "Q4_1", {32, 20}},   {GGMLType::Q5_0, "Q5_0", {32, 22}},
    {GGMLType::Q5_1, "Q5_1", {32, 24}},   {GGMLType::Q8_0, "Q8_0", {32, 34}},
    {GGMLType::Q2_K, "Q2_K", {256, 84}},  {GGMLType::Q3_K, "Q3_K", {256, 110}},
    {GGMLType::Q4_K, "Q4_K", {256, 144}}, {GGMLType::Q5_K, "Q5_K", {256, 176}},
    {GGMLType::Q6_K, "Q6_K", {256, 210}},
};

const GGMLTypeInfo *readable(uint32_t type) {
  for (const GGMLTypeInfo &info : kReadable)
    if (uint32_t(info.type) == type)
      return &info;
  return nullptr;
}
} // namespace

std::string qc::ggmlTypeName(uint32_t type) {
  if (const GGMLTypeInfo *info = readable(type))
    return info->name;
  // Types qc does not read, named for the error message.
  static const char *const others[] = {
      nullptr,   nullptr, nullptr,  nullptr, "Q4_2",    "Q4_3",
      nullptr,   nullptr, nullptr,  "Q8_1",  nullptr,   nullptr,
      nullptr,   nullptr, nullptr,  "Q8_K",  "IQ2_XXS", "IQ2_XS",
      "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S",   "IQ4_XS",
      "I8",      "I16",   "I32",    "I64",   "F64",     "IQ1_M"};
  if (type < std::size(others) && others[type])
    return std::string(others[type]) + " (type " + std::to_string(type) + ")";
  return std::to_string(type);
}

std::optional<GGMLBlock> qc::ggmlBlock(uint32_t type) {
  if (const GGMLTypeInfo *info = readable(type))
    return info->block;
  return std::nullopt;
}

namespace {

float f16At(const uint8_t *p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return halfBitsToFloat(h);
}

// 32-element blocks: byte j of qs holds element j (low nibble) and j + 16.
void dequantQ4(const uint8_t *b, float *y, bool hasMin) {
  float d = f16At(b), m = hasMin ? f16At(b + 2) : 0;
  const uint8_t *qs = b + (hasMin ? 4 : 2);
  int offset = hasMin ? 0 : 8;
  for (int j = 0; j < 16; ++j) {
    y[j] = float((qs[j] & 0xf) - offset) * d + m;
    y[j + 16] = float((qs[j] >> 4) - offset) * d + m;
  }
}

// Q5: the fifth bits of the 32 elements in a u32 after the scale(s).
void dequantQ5(const uint8_t *b, float *y, bool hasMin) {
  float d = f16At(b), m = hasMin ? f16At(b + 2) : 0;
  const uint8_t *p = b + (hasMin ? 4 : 2);
  uint32_t qh;
  std::memcpy(&qh, p, 4);
  const uint8_t *qs = p + 4;
  int offset = hasMin ? 0 : 16;
  for (int j = 0; j < 16; ++j) {
    int lo = (qs[j] & 0xf) | (((qh >> j) << 4) & 0x10);
    int hi = (qs[j] >> 4) | ((qh >> (j + 12)) & 0x10);
    y[j] = float(lo - offset) * d + m;
    y[j + 16] = float(hi - offset) * d + m;
  }
}

void dequantQ8_0(const uint8_t *b, float *y) {
  float d = f16At(b);
  for (int j = 0; j < 32; ++j)
    y[j] = float(int8_t(b[2 + j])) * d;
}

// Q2_K: scales[16] (4-bit scale | 4-bit min), qs[64], d, dmin.
void dequantQ2K(const uint8_t *b, float *y) {
  const uint8_t *scales = b, *q = b + 16;
  float d = f16At(b + 80), dmin = f16At(b + 82);
  int is = 0;
  for (int n = 0; n < 256; n += 128, q += 32)
    for (int shift = 0; shift < 8; shift += 2)
      for (int half = 0; half < 2; ++half) {
        uint8_t sc = scales[is++];
        float dl = d * float(sc & 0xf), ml = dmin * float(sc >> 4);
        for (int l = 0; l < 16; ++l)
          *y++ = dl * float((q[l + 16 * half] >> shift) & 3) - ml;
      }
}

// Q3_K: hmask[32], qs[64], scales[12] (16 6-bit scales), d.
void dequantQ3K(const uint8_t *b, float *y) {
  const uint8_t *hm = b, *q = b + 32, *packed = b + 96;
  float d = f16At(b + 108);
  int8_t scales[16];
  for (int i = 0; i < 16; ++i) {
    int low = i < 8 ? (packed[i] & 0xf) : (packed[i - 8] >> 4);
    int high = (packed[8 + i % 4] >> (2 * (i / 4))) & 3;
    scales[i] = int8_t((low | (high << 4)) - 32);
  }
  int is = 0;
  uint8_t m = 1;
  for (int n = 0; n < 256; n += 128, q += 32)
    for (int shift = 0; shift < 8; shift += 2, m <<= 1)
      for (int half = 0; half < 2; ++half) {
        float dl = d * float(scales[is++]);
        for (int l = 0; l < 16; ++l) {
          int idx = l + 16 * half;
          int v = ((q[idx] >> shift) & 3) - ((hm[idx] & m) ? 0 : 4);
          *y++ = dl * float(v);
        }
      }
}

// The 6-bit scale and min of sub-block j of Q4_K / Q5_K.
void scaleMinK4(int j, const uint8_t *q, uint8_t &sc, uint8_t &mn) {
  if (j < 4) {
    sc = q[j] & 63;
    mn = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
    mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Q4_K: d, dmin, scales[12], qs[128]. Q5_K adds qh[32] before qs.
void dequantQ45K(const uint8_t *b, float *y, bool five) {
  float d = f16At(b), dmin = f16At(b + 2);
  const uint8_t *scales = b + 4, *qh = b + 16, *q = b + (five ? 48 : 16);
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0, is = 0; j < 256; j += 64, q += 32, is += 2) {
    uint8_t sc, mn;
    scaleMinK4(is, scales, sc, mn);
    float d1 = d * sc, m1 = dmin * mn;
    scaleMinK4(is + 1, scales, sc, mn);
    float d2 = d * sc, m2 = dmin * mn;
    for (int l = 0; l < 32; ++l)
      *y++ = d1 * float((q[l] & 0xf) + (five && (qh[l] & u1) ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l)
      *y++ = d2 * float((q[l] >> 4) + (five && (qh[l] & u2) ? 16 : 0)) - m2;
    u1 <<= 2;
    u2 <<= 2;
  }
}

// Q6_K: ql[128], qh[64], scales[16] (int8), d.
void dequantQ6K(const uint8_t *b, float *y) {
  const uint8_t *ql = b, *qh = b + 128;
  const int8_t *sc = reinterpret_cast<const int8_t *>(b + 192);
  float d = f16At(b + 208);
  for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
    for (int l = 0; l < 32; ++l) {
      int is = l / 16;
      int q1 = ((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
      int q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
      int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * float(sc[is]) * float(q1);
      y[l + 32] = d * float(sc[is + 2]) * float(q2);
      y[l + 64] = d * float(sc[is + 4]) * float(q3);
      y[l + 96] = d * float(sc[is + 6]) * float(q4);
    }
}

} // namespace

void qc::dequantizeGGML(GGMLType type, ArrayRef<uint8_t> raw, int64_t count,
                        float *out) {
  GGMLBlock block = *ggmlBlock(uint32_t(type));
  const uint8_t *b = raw.data();
  for (int64_t i = 0; i < count; i += block.elements, b += block.bytes) {
    float *y = out + i;
    switch (type) {
    case GGMLType::F32:
      std::memcpy(y, b, 4);
      break;
    case GGMLType::F16:
      *y = f16At(b);
      break;
    case GGMLType::BF16: {
      uint16_t h;
      std::memcpy(&h, b, 2);
      *y = bfloat16BitsToFloat(h);
      break;
    }
    case GGMLType::Q4_0:
      dequantQ4(b, y, false);
      break;
    case GGMLType::Q4_1:
      dequantQ4(b, y, true);
      break;
    case GGMLType::Q5_0:
      dequantQ5(b, y, false);
      break;
    case GGMLType::Q5_1:
      dequantQ5(b, y, true);
      break;
    case GGMLType::Q8_0:
      dequantQ8_0(b, y);
      break;
    case GGMLType::Q2_K:
      dequantQ2K(b, y);
      break;
    case GGMLType::Q3_K:
      dequantQ3K(b, y);
      break;
    case GGMLType::Q4_K:
      dequantQ45K(b, y, false);
      break;
    case GGMLType::Q5_K:
      dequantQ45K(b, y, true);
      break;
    case GGMLType::Q6_K:
      dequantQ6K(b, y);
      break;
    }
  }
}

//===----------------------------------------------------------------------===//
// GGUFFile
//===----------------------------------------------------------------------===//

int64_t GGUFTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

namespace {

/// A name from the file as it may be printed (non-printable bytes escaped).
std::string printable(StringRef name) {
  std::string out;
  llvm::raw_string_ostream os(out);
  llvm::printEscapedString(name, os);
  return out;
}

/// Reads one tensor description and checks its shape and type.
std::string readTensorInfo(Cursor &c, GGUFTensor &t) {
  uint32_t nDims;
  if (!c.readString(t.name, "a tensor name") ||
      !c.read(nDims, "a tensor's rank"))
    return c.error;
  std::string shown = printable(t.name);
  if (nDims == 0 || nDims > kMaxDims)
    return "tensor '" + shown + "' has rank " + std::to_string(nDims) +
           " (1 to 4 expected)";
  uint64_t elements = 1;
  for (uint32_t i = 0; i < nDims; ++i) {
    uint64_t d;
    if (!c.read(d, "a tensor dimension"))
      return c.error;
    if (d == 0 || d > (uint64_t(1) << 40) || elements > (uint64_t(1) << 48) / d)
      return "tensor '" + shown + "' has an invalid dimension " +
             std::to_string(d);
    elements *= d;
    t.dims.push_back(int64_t(d));
  }
  if (!c.read(t.type, "a tensor type") || !c.read(t.offset, "a tensor offset"))
    return c.error;
  std::optional<GGMLBlock> block = ggmlBlock(t.type);
  if (!block)
    return "tensor '" + shown + "' has ggml type " + ggmlTypeName(t.type) +
           ", which qc does not read (F32, F16, BF16, Q4_0, Q4_1, Q5_0, "
           "Q5_1, Q8_0, Q2_K..Q6_K)";
  if (t.dims[0] % block->elements)
    return "tensor '" + shown + "': its rows of " + std::to_string(t.dims[0]) +
           " are not whole " + ggmlTypeName(t.type) + " blocks of " +
           std::to_string(block->elements);
  t.bytes = elements / uint64_t(block->elements) * uint64_t(block->bytes);
  return "";
}

} // namespace

std::string GGUFFile::open(StringRef path) {
  auto fail = [&](const std::string &msg) {
    return "'" + path.str() + "': " + msg;
  };
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
  if (!file)
    return fail("cannot read: " + file.getError().message());
  buffer = std::move(*file);
  const auto *bytes =
      reinterpret_cast<const uint8_t *>(buffer->getBufferStart());
  Cursor c{bytes, bytes, bytes + buffer->getBufferSize(), ""};

  uint32_t magic;
  if (!c.read(magic, "the magic") || std::memcmp(bytes, "GGUF", 4) != 0)
    return fail("not a GGUF file (no 'GGUF' magic)");
  if (!c.read(formatVersion, "the version"))
    return fail(c.error);
  if (formatVersion >= 0x10000)
    return fail("big-endian GGUF files are not supported");
  if (formatVersion != 2 && formatVersion != 3)
    return fail("GGUF version " + std::to_string(formatVersion) +
                " is not supported (2 and 3 are)");
  uint64_t nTensors, nKeys;
  if (!c.read(nTensors, "the tensor count") ||
      !c.read(nKeys, "the metadata count"))
    return fail(c.error);
  // A key-value pair takes at least 13 bytes, a tensor description 28.
  if (nKeys > c.left() / 13 || nTensors > c.left() / 28)
    return fail("header counts " + std::to_string(nKeys) + " keys and " +
                std::to_string(nTensors) +
                " tensors, more than the file can hold (truncated or "
                "corrupt)");

  for (uint64_t i = 0; i < nKeys; ++i) {
    std::string key;
    uint32_t kind;
    GGUFValue value;
    if (!c.readString(key, "a metadata key") ||
        !c.read(kind, "a metadata type") || !readValue(c, kind, value))
      return fail(c.error.empty() ? "bad metadata" : c.error);
    if (metadata.count(key))
      return fail("metadata key '" + printable(key) + "' appears twice");
    keyOrder.push_back(key);
    metadata[key] = std::move(value);
  }

  for (uint64_t i = 0; i < nTensors; ++i) {
    GGUFTensor t;
    std::string e = readTensorInfo(c, t);
    if (!e.empty())
      return fail(e);
    if (tensorIndex.count(t.name))
      return fail("tensor '" + printable(t.name) + "' appears twice");
    tensorIndex[t.name] = tensorList.size();
    tensorList.push_back(std::move(t));
  }

  uint64_t alignment = 32;
  if (const GGUFValue *a = get("general.alignment")) {
    if (!a->isInteger() || a->integer <= 0 ||
        !llvm::isPowerOf2_64(uint64_t(a->integer)))
      return fail("general.alignment is not a power of two");
    alignment = uint64_t(a->integer);
  }
  dataStart = llvm::alignTo(c.offset(), alignment);
  uint64_t size = buffer->getBufferSize();
  for (const GGUFTensor &t : tensorList) {
    if (t.offset % alignment)
      return fail("tensor '" + printable(t.name) + "' is not aligned to " +
                  std::to_string(alignment) + " bytes");
    if (dataStart > size || t.offset > size - dataStart ||
        t.bytes > size - dataStart - t.offset)
      return fail("tensor '" + printable(t.name) + "' (" +
                  std::to_string(t.bytes) + " bytes at " +
                  std::to_string(t.offset) +
                  ") lies past the end of the file (truncated)");
  }
  return "";
}

const GGUFValue *GGUFFile::get(StringRef key) const {
  auto it = metadata.find(key);
  return it == metadata.end() ? nullptr : &it->second;
}

std::optional<int64_t> GGUFFile::getInt(StringRef key) const {
  const GGUFValue *v = get(key);
  if (!v || !v->isInteger())
    return std::nullopt;
  return v->integer;
}

std::optional<double> GGUFFile::getFloat(StringRef key) const {
  const GGUFValue *v = get(key);
  if (!v)
    return std::nullopt;
  if (v->kind == GGUFValue::F32 || v->kind == GGUFValue::F64)
    return v->real;
  if (v->isInteger())
    return double(v->integer);
  return std::nullopt;
}

std::optional<std::string> GGUFFile::getString(StringRef key) const {
  const GGUFValue *v = get(key);
  if (!v || v->kind != GGUFValue::String)
    return std::nullopt;
  return v->string;
}

const GGUFTensor *GGUFFile::tensor(StringRef name) const {
  auto it = tensorIndex.find(name);
  return it == tensorIndex.end() ? nullptr : &tensorList[it->second];
}

ArrayRef<uint8_t> GGUFFile::data(const GGUFTensor &t) const {
  const auto *bytes =
      reinterpret_cast<const uint8_t *>(buffer->getBufferStart());
  return {bytes + dataStart + t.offset, size_t(t.bytes)};
}

std::string GGUFFile::dequantize(const GGUFTensor &t,
                                 std::vector<float> &out) const {
  if (!ggmlBlock(t.type))
    return "tensor '" + printable(t.name) + "' has unsupported type " +
           ggmlTypeName(t.type);
  out.resize(size_t(t.numElements()));
  dequantizeGGML(GGMLType(t.type), data(t), t.numElements(), out.data());
  return "";
}
