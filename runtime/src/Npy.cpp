//===- Npy.cpp - Reading and writing NumPy .npy files ---------------------===//

#include "qcrt/Npy.h"
#include "qcrt/DTypes.h"

#include <array>

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              ".npy data is read and written without byte swapping");

namespace qc::npy {

namespace {

constexpr char kMagic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
constexpr size_t kAlign = 64;

// The C API's dtype of each DType (the .npy types: all but bf16); names,
// sizes and descriptors come from the one table (qcrt/DTypes.h).
constexpr qcrt_dtype kQcrtDType[] = {
    QCRT_F16, QCRT_F32, QCRT_F64, QCRT_I8,  QCRT_I16, QCRT_I32,
    QCRT_I64, QCRT_U8,  QCRT_U16, QCRT_U32, QCRT_U64, QCRT_BOOL};
constexpr size_t kNumNpyDTypes = sizeof(kQcrtDType) / sizeof(kQcrtDType[0]);

struct DTypeInfo {
  DType dtype;
  const char *name;  // manifest spelling
  const char *descr; // what NumPy writes
  size_t size;
};

DTypeInfo info(DType dtype) {
  const dtypes::DTypeInfo &d =
      *dtypes::findDType(kQcrtDType[static_cast<size_t>(dtype)]);
  return {dtype, d.name, d.npyDescr, d.size};
}

/// Every DType with its facts, for the searches by name and descriptor.
std::array<DTypeInfo, kNumNpyDTypes> allDTypes() {
  std::array<DTypeInfo, kNumNpyDTypes> all;
  for (size_t i = 0; i < kNumNpyDTypes; ++i)
    all[i] = info(static_cast<DType>(i));
  return all;
}

std::string format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char *fmt, ...) {
  char buffer[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buffer, sizeof(buffer), fmt, args);
  va_end(args);
  return buffer;
}

/// Keeps header excerpts in messages printable and on one line.
std::string printable(std::string_view text, size_t limit = 40) {
  std::string result;
  for (char c : text.substr(0, limit)) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f)
      result.push_back(c);
    else
      result += format("\\x%02x", byte);
  }
  if (text.size() > limit)
    result += "...";
  return result;
}

/// One value of the header dict. Only what .npy headers use is supported.
struct Value {
  enum Kind { String, Bool, Tuple } kind = String;
  std::string text;
  bool flag = false;
  std::vector<int64_t> items;
};

/// Recursive-descent parser for the Python dict literal in the header,
/// limited to string keys and string / True / False / int-tuple values.
class DictParser {
public:
  DictParser(std::string_view text, std::string &error)
      : text(text), error(error) {}

  bool parse(std::vector<std::pair<std::string, Value>> &entries) {
    skipSpace();
    if (!consume('{'))
      return fail("header does not start with '{'");
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (!peekIs('\'') && !peekIs('"'))
        return fail("expected a quoted key");
      if (!parseString(key))
        return false;
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' after key '" + printable(key) + "'");
      skipSpace();
      Value value;
      if (!parseValue(key, value))
        return false;
      entries.emplace_back(std::move(key), std::move(value));
      skipSpace();
      if (consume(','))
        continue;
      if (consume('}'))
        break;
      return fail("expected ',' or '}'");
    }
    // NumPy pads with spaces and ends with '\n'.
    skipSpace();
    if (pos != text.size())
      return fail("unexpected text after the header dict");
    return true;
  }

private:
  bool fail(const std::string &what) {
    error = format("malformed header at offset %zu: ", pos) + what;
    return false;
  }
  bool peekIs(char c) const { return pos < text.size() && text[pos] == c; }
  bool consume(char c) {
    if (!peekIs(c))
      return false;
    ++pos;
    return true;
  }
  bool consumeWord(std::string_view word) {
    if (text.substr(pos, word.size()) != word)
      return false;
    pos += word.size();
    return true;
  }
  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' ||
                                 text[pos] == '\t' || text[pos] == '\r'))
      ++pos;
  }

  bool parseString(std::string &out) {
    char quote = text[pos++];
    size_t start = pos;
    while (pos < text.size() && text[pos] != quote) {
      if (text[pos] == '\\')
        return fail("escapes in strings are not supported");
      ++pos;
    }
    if (pos == text.size())
      return fail("unterminated string");
    out = std::string(text.substr(start, pos - start));
    ++pos;
    return true;
  }

  bool parseValue(const std::string &key, Value &value) {
    if (peekIs('\'') || peekIs('"')) {
      value.kind = Value::String;
      return parseString(value.text);
    }
    if (consumeWord("True")) {
      value.kind = Value::Bool;
      value.flag = true;
      return true;
    }
    if (consumeWord("False")) {
      value.kind = Value::Bool;
      value.flag = false;
      return true;
    }
    if (consume('(')) {
      value.kind = Value::Tuple;
      bool trailingComma = false;
      while (true) {
        skipSpace();
        if (consume(')'))
          break;
        int64_t item;
        if (!parseInt(item))
          return false;
        value.items.push_back(item);
        trailingComma = false;
        skipSpace();
        if (consume(',')) {
          trailingComma = true;
          continue;
        }
        if (consume(')'))
          break;
        return fail("expected ',' or ')' in tuple");
      }
      // "(3)" is the integer 3 in Python, not a tuple.
      if (value.items.size() == 1 && !trailingComma)
        return fail("'" + printable(key) +
                    "' is a parenthesized integer, "
                    "not a tuple");
      return true;
    }
    if (peekIs('['))
      return fail("'" + printable(key) +
                  "' is a list (structured dtypes are not supported)");
    return fail("unsupported value for '" + printable(key) + "'");
  }

  bool parseInt(int64_t &out) {
    if (peekIs('-'))
      return fail("negative dimension");
    size_t start = pos;
    uint64_t value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_add_overflow(value, static_cast<uint64_t>(text[pos] - '0'),
                                 &value) ||
          value > static_cast<uint64_t>(INT64_MAX))
        return fail("dimension overflows int64");
      ++pos;
    }
    if (pos == start)
      return fail("expected an integer");
    consume('L'); // Python 2 long suffix, written by old NumPy versions.
    out = static_cast<int64_t>(value);
    return true;
  }

  std::string_view text;
  std::string &error;
  size_t pos = 0;
};

bool decodeDescr(const std::string &descr, DType &out, std::string &error) {
  std::string_view body = descr;
  char order = '=';
  if (!body.empty() && std::strchr("<>|=", body[0])) {
    order = body[0];
    body.remove_prefix(1);
  }
  for (const DTypeInfo &candidate : allDTypes()) {
    if (body != std::string_view(candidate.descr).substr(1))
      continue;
    if (order == '>' && candidate.size > 1) {
      error = "big-endian dtype '" + printable(descr) +
              "' is not supported (convert with .astype('" + candidate.descr +
              "'))";
      return false;
    }
    out = candidate.dtype;
    return true;
  }
  error = "unsupported dtype '" + printable(descr) +
          "' (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)";
  return false;
}

uint64_t readLE(const uint8_t *p, size_t n) {
  uint64_t value = 0;
  for (size_t i = n; i-- > 0;)
    value = (value << 8) | p[i];
  return value;
}

/// Checks magic and version and decodes the dict length. `size` may cover
/// just the first 12 bytes.
bool parsePreamble(const uint8_t *bytes, size_t size, int &major,
                   size_t &prefix, uint64_t &dictLength, std::string &error) {
  if (size < 10) {
    error = format("too short for an .npy file (%zu bytes)", size);
    return false;
  }
  if (std::memcmp(bytes, kMagic, sizeof(kMagic)) != 0) {
    error = "not an .npy file (bad magic)";
    return false;
  }
  major = bytes[6];
  int minor = bytes[7];
  if (major < 1 || major > 3 || minor != 0) {
    error = format("unsupported .npy format version %d.%d", major, minor);
    return false;
  }
  size_t lengthSize = major == 1 ? 2 : 4;
  prefix = 8 + lengthSize;
  if (size < prefix) {
    error = "truncated .npy header";
    return false;
  }
  dictLength = readLE(bytes + 8, lengthSize);
  return true;
}

bool computeBytes(DType dtype, const std::vector<int64_t> &shape,
                  uint64_t &elements, size_t &bytes, std::string &error) {
  elements = 1;
  for (int64_t dim : shape) {
    if (dim < 0) {
      error = format("negative dimension %" PRId64, dim);
      return false;
    }
    if (__builtin_mul_overflow(elements, static_cast<uint64_t>(dim),
                               &elements)) {
      error = "element count overflows";
      return false;
    }
  }
  uint64_t total;
  if (__builtin_mul_overflow(elements, info(dtype).size, &total) ||
      total > static_cast<uint64_t>(PTRDIFF_MAX) - kAlign) {
    error = "byte size overflows";
    return false;
  }
  bytes = static_cast<size_t>(total);
  return true;
}

bool writeAll(int fd, const void *data, size_t size) {
  const auto *bytes = static_cast<const uint8_t *>(data);
  while (size > 0) {
    // Large writes are split so no single call exceeds what Linux accepts.
    size_t chunk = size < (size_t(1) << 30) ? size : (size_t(1) << 30);
    ssize_t written = ::write(fd, bytes, chunk);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    bytes += written;
    size -= static_cast<size_t>(written);
  }
  return true;
}

/// pread()s exactly `size` bytes at `offset`; false with errno 0 on a short
/// file.
bool readAt(int fd, void *data, size_t size, uint64_t offset) {
  auto *bytes = static_cast<uint8_t *>(data);
  while (size > 0) {
    size_t chunk = size < (size_t(1) << 30) ? size : (size_t(1) << 30);
    ssize_t got = ::pread(fd, bytes, chunk, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    if (got == 0) {
      errno = 0;
      return false;
    }
    bytes += got;
    offset += static_cast<uint64_t>(got);
    size -= static_cast<size_t>(got);
  }
  return true;
}

float halfToFloat(uint16_t half) {
  int sign = half >> 15;
  int exponent = (half >> 10) & 0x1f;
  int mantissa = half & 0x3ff;
  float value;
  if (exponent == 0)
    value = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    value = mantissa ? NAN : INFINITY;
  else
    value = std::ldexp(static_cast<float>(mantissa + 1024), exponent - 25);
  return sign ? -value : value;
}

} // namespace

const char *dtypeName(DType dtype) { return info(dtype).name; }
size_t dtypeSize(DType dtype) { return info(dtype).size; }
const char *dtypeDescr(DType dtype) { return info(dtype).descr; }

bool dtypeFromName(std::string_view name, DType &out) {
  for (const DTypeInfo &candidate : allDTypes()) {
    if (name == candidate.name) {
      out = candidate.dtype;
      return true;
    }
  }
  return false;
}

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string result = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      result += ", ";
    result += std::to_string(shape[i]);
  }
  return result + "]";
}

bool Array::allocate(DType dtype, std::vector<int64_t> shape,
                     std::string &error) {
  uint64_t newElements;
  size_t newBytes;
  if (!computeBytes(dtype, shape, newElements, newBytes, error))
    return false;
  storage.reset();
  if (newBytes) {
    // aligned_alloc wants a multiple of the alignment.
    size_t rounded = (newBytes + kAlign - 1) / kAlign * kAlign;
    void *memory = std::aligned_alloc(kAlign, rounded);
    if (!memory) {
      error = format("out of memory allocating %zu bytes", newBytes);
      return false;
    }
    std::memset(memory, 0, rounded);
    storage.reset(static_cast<uint8_t *>(memory));
  }
  type = dtype;
  dims = std::move(shape);
  elements = newElements;
  bytes = newBytes;
  return true;
}

bool parseHeader(const void *data, size_t size, Header &out,
                 std::string &error) {
  const auto *bytes = static_cast<const uint8_t *>(data);
  int major;
  size_t prefix;
  uint64_t headerLength;
  if (!parsePreamble(bytes, size, major, prefix, headerLength, error))
    return false;
  if (headerLength > size - prefix) {
    error = format("truncated .npy header (needs %" PRIu64 " bytes, have %zu)",
                   headerLength, size - prefix);
    return false;
  }
  std::string_view dict(reinterpret_cast<const char *>(bytes + prefix),
                        static_cast<size_t>(headerLength));

  std::vector<std::pair<std::string, Value>> entries;
  if (!DictParser(dict, error).parse(entries))
    return false;
  const Value *descr = nullptr, *fortran = nullptr, *shape = nullptr;
  for (const auto &[key, value] : entries) {
    const Value **slot = key == "descr"           ? &descr
                         : key == "fortran_order" ? &fortran
                         : key == "shape"         ? &shape
                                                  : nullptr;
    if (!slot) {
      error = "unexpected key '" + printable(key) + "' in header";
      return false;
    }
    if (*slot) {
      error = "duplicate key '" + key + "' in header";
      return false;
    }
    *slot = &value;
  }
  if (!descr || !fortran || !shape) {
    error = std::string("header lacks '") +
            (!descr     ? "descr"
             : !fortran ? "fortran_order"
                        : "shape") +
            "'";
    return false;
  }
  if (descr->kind != Value::String) {
    error = "'descr' is not a string";
    return false;
  }
  if (fortran->kind != Value::Bool) {
    error = "'fortran_order' is not True or False";
    return false;
  }
  if (shape->kind != Value::Tuple) {
    error = "'shape' is not a tuple";
    return false;
  }
  if (!decodeDescr(descr->text, out.dtype, error))
    return false;
  if (fortran->flag) {
    error = "fortran_order=True arrays are not supported (save a C-ordered "
            "copy: np.ascontiguousarray)";
    return false;
  }
  out.majorVersion = major;
  out.shape = shape->items;
  out.dataOffset = prefix + static_cast<size_t>(headerLength);
  uint64_t elements;
  return computeBytes(out.dtype, out.shape, elements, out.dataBytes, error);
}

bool parseNpy(const void *data, size_t size, Array &out, std::string &error) {
  Header header;
  if (!parseHeader(data, size, header, error))
    return false;
  size_t available = size - header.dataOffset;
  if (available < header.dataBytes) {
    error = format("truncated data: expected %zu bytes, found %zu",
                   header.dataBytes, available);
    return false;
  }
  if (available > header.dataBytes) {
    error = format("%zu unexpected bytes after the array data",
                   available - header.dataBytes);
    return false;
  }
  if (!out.allocate(header.dtype, header.shape, error))
    return false;
  if (header.dataBytes)
    std::memcpy(out.data(),
                static_cast<const uint8_t *>(data) + header.dataOffset,
                header.dataBytes);
  return true;
}

bool readNpyFile(const std::string &path, Array &out, std::string &error) {
  auto fail = [&](const std::string &what) {
    error = path + ": " + what;
    return false;
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};

  struct stat st;
  if (fstat(fd, &st) != 0)
    return fail(std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return fail("not a regular file");
  auto fileSize = static_cast<uint64_t>(st.st_size);

  // Read the fixed prefix, then the dict whose length it gives.
  uint8_t prefix[12];
  size_t prefixSize = fileSize < sizeof(prefix) ? fileSize : sizeof(prefix);
  if (!readAt(fd, prefix, prefixSize, 0))
    return fail(format("read failed: %s",
                       errno ? std::strerror(errno) : "unexpected end"));
  int major;
  size_t prefixLength;
  uint64_t dictLength;
  if (!parsePreamble(prefix, prefixSize, major, prefixLength, dictLength,
                     error))
    return fail(error);
  uint64_t headerEnd = prefixLength + dictLength;
  if (headerEnd > fileSize)
    return fail(format("truncated .npy header (file is %" PRIu64
                       " bytes, header needs %" PRIu64 ")",
                       fileSize, headerEnd));
  std::string headerBytes(static_cast<size_t>(headerEnd), '\0');
  if (!readAt(fd, headerBytes.data(), headerBytes.size(), 0))
    return fail(format("read failed: %s",
                       errno ? std::strerror(errno) : "unexpected end"));
  Header header;
  if (!parseHeader(headerBytes.data(), headerBytes.size(), header, error))
    return fail(error);

  uint64_t available = fileSize - header.dataOffset;
  if (available < header.dataBytes)
    return fail(format("truncated data: expected %zu bytes, found %" PRIu64,
                       header.dataBytes, available));
  if (available > header.dataBytes)
    return fail(format("%" PRIu64 " unexpected bytes after the array data",
                       available - header.dataBytes));
  if (!out.allocate(header.dtype, header.shape, error))
    return fail(error);
  if (!readAt(fd, out.data(), header.dataBytes, header.dataOffset))
    return fail(format("read failed: %s",
                       errno ? std::strerror(errno) : "unexpected end"));
  return true;
}

std::string encodeHeader(DType dtype, const std::vector<int64_t> &shape) {
  std::string dict = "{'descr': '";
  dict += dtypeDescr(dtype);
  dict += "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      dict += ", ";
    dict += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    dict += ",";
  dict += "), }";

  // NumPy's layout: dict, spaces, '\n', so that the data starts on a
  // 64-byte boundary.
  for (int major : {1, 2}) {
    size_t prefix = major == 1 ? 10 : 12;
    size_t unpadded = prefix + dict.size() + 1;
    size_t padding = kAlign - unpadded % kAlign;
    if (padding == kAlign)
      padding = 0;
    size_t headerLength = dict.size() + padding + 1;
    if (major == 1 && headerLength > 0xffff)
      continue;
    std::string result(kMagic, sizeof(kMagic));
    result.push_back(static_cast<char>(major));
    result.push_back('\0');
    for (size_t i = 0; i < prefix - 8; ++i)
      result.push_back(static_cast<char>((headerLength >> (8 * i)) & 0xff));
    result += dict;
    result.append(padding, ' ');
    result.push_back('\n');
    return result;
  }
  return std::string(); // Unreachable: version 2 lengths are 32-bit.
}

std::string encodeNpy(DType dtype, const std::vector<int64_t> &shape,
                      const void *data) {
  std::string result = encodeHeader(dtype, shape);
  uint64_t elements;
  size_t bytes;
  std::string error;
  if (!computeBytes(dtype, shape, elements, bytes, error))
    return std::string();
  if (bytes)
    result.append(static_cast<const char *>(data), bytes);
  return result;
}

bool writeNpyTempFile(const std::string &path, DType dtype,
                      const std::vector<int64_t> &shape, const void *data,
                      std::string &tempPath, std::string &error) {
  tempPath.clear();
  uint64_t elements;
  size_t bytes;
  if (!computeBytes(dtype, shape, elements, bytes, error)) {
    error = path + ": " + error;
    return false;
  }
  // The temporary file must be in the destination directory so that the
  // final rename() is atomic (same file system).
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  static std::atomic<unsigned> counter{0};
  int fd = -1;
  std::string candidate;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    candidate = dir + "." + base + ".tmp." + std::to_string(getpid()) + "." +
                std::to_string(counter++);
    // 0666 & ~umask, like any file the user creates.
    fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                0666);
    if (fd < 0 && errno != EEXIST)
      break;
  }
  if (fd < 0) {
    error = path + ": cannot create a temporary file: " + std::strerror(errno);
    return false;
  }

  std::string header = encodeHeader(dtype, shape);
  bool ok = writeAll(fd, header.data(), header.size()) &&
            (bytes == 0 || writeAll(fd, data, bytes));
  int writeErrno = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    writeErrno = errno;
  }
  if (!ok) {
    ::unlink(candidate.c_str());
    error = path + ": write failed: " + std::strerror(writeErrno);
    return false;
  }
  tempPath = candidate;
  return true;
}

bool commitTempFile(const std::string &tempPath, const std::string &path,
                    std::string &error) {
  if (::rename(tempPath.c_str(), path.c_str()) == 0)
    return true;
  error = path +
          ": cannot move the written file into place: " + std::strerror(errno);
  ::unlink(tempPath.c_str());
  return false;
}

bool writeNpyFile(const std::string &path, DType dtype,
                  const std::vector<int64_t> &shape, const void *data,
                  std::string &error) {
  std::string tempPath;
  return writeNpyTempFile(path, dtype, shape, data, tempPath, error) &&
         commitTempFile(tempPath, path, error);
}

std::string fileNameForTensor(std::string_view name) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string result;
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                 (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
                 c == '-';
    if (plain) {
      result.push_back(c);
    } else {
      result.push_back('%');
      result.push_back(kHex[byte >> 4]);
      result.push_back(kHex[byte & 15]);
    }
  }
  return result + ".npy";
}

std::string formatValues(DType dtype, const void *data, uint64_t count,
                         size_t maxValues) {
  const auto *bytes = static_cast<const uint8_t *>(data);
  size_t size = dtypeSize(dtype);
  std::string result;
  uint64_t shown = count < maxValues ? count : maxValues;
  for (uint64_t i = 0; i < shown; ++i) {
    if (i)
      result += ", ";
    const uint8_t *p = bytes + i * size;
    auto load = [p](auto value) {
      std::memcpy(&value, p, sizeof(value));
      return value;
    };
    switch (dtype) {
    case DType::F16:
      result += format("%g", halfToFloat(load(uint16_t())));
      break;
    case DType::F32:
      result += format("%g", load(float()));
      break;
    case DType::F64:
      result += format("%g", load(double()));
      break;
    case DType::I8:
      result += std::to_string(load(int8_t()));
      break;
    case DType::I16:
      result += std::to_string(load(int16_t()));
      break;
    case DType::I32:
      result += std::to_string(load(int32_t()));
      break;
    case DType::I64:
      result += std::to_string(load(int64_t()));
      break;
    case DType::U8:
    case DType::Bool:
      result += std::to_string(load(uint8_t()));
      break;
    case DType::U16:
      result += std::to_string(load(uint16_t()));
      break;
    case DType::U32:
      result += std::to_string(load(uint32_t()));
      break;
    case DType::U64:
      result += std::to_string(load(uint64_t()));
      break;
    }
  }
  if (count > shown)
    result += shown ? ", ..." : "...";
  return result;
}

} // namespace qc::npy
