//===- Npy.h - Reading and writing NumPy .npy files -------------*- C++ -*-===//
//
// A small, dependency-free .npy reader/writer (library qcnpy) for the tools
// around the runtime. It handles format versions 1.0, 2.0 and 3.0,
// little-endian, C order, and the dtypes the artifact manifest can name
// (except bf16, which NumPy has no portable spelling for). Errors are
// reported as one-line strings; nothing throws.
//
//===----------------------------------------------------------------------===//

#ifndef QCRT_NPY_H
#define QCRT_NPY_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qc::npy {

enum class DType { F16, F32, F64, I8, I16, I32, I64, U8, U16, U32, U64, Bool };

/// The artifact manifest's spelling: "f16", "f32", ..., "bool".
const char *dtypeName(DType dtype);
/// Parses a manifest spelling; false for unknown names and for "bf16".
bool dtypeFromName(std::string_view name, DType &out);
size_t dtypeSize(DType dtype);
/// The descr NumPy writes: "<f4", "|i1", "|b1", ...
const char *dtypeDescr(DType dtype);

/// "[2, 3]"; "[]" for rank 0.
std::string formatShape(const std::vector<int64_t> &shape);

/// A dense, C-ordered array whose data is 64-byte aligned, so it can be
/// handed to generated code that assumes vector alignment.
class Array {
public:
  Array() = default;

  /// Allocates zero-filled storage for `shape`; false (with `error`) on
  /// negative dims, size overflow or allocation failure.
  bool allocate(DType dtype, std::vector<int64_t> shape, std::string &error);

  DType dtype() const { return type; }
  const std::vector<int64_t> &shape() const { return dims; }
  uint64_t numElements() const { return elements; }
  size_t byteSize() const { return bytes; }
  /// Null when byteSize() is 0.
  void *data() { return storage.get(); }
  const void *data() const { return storage.get(); }

private:
  struct FreeDeleter {
    void operator()(void *p) const { std::free(p); }
  };

  DType type = DType::F32;
  std::vector<int64_t> dims;
  uint64_t elements = 1;
  size_t bytes = 0;
  std::unique_ptr<uint8_t, FreeDeleter> storage;
};

/// The decoded header of an .npy file.
struct Header {
  int majorVersion = 1;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  size_t dataOffset = 0; ///< Where the array data starts in the file.
  size_t dataBytes = 0;  ///< Product of shape times the element size.
};

/// Decodes the header at the start of `bytes`. Rejects a bad magic, unknown
/// versions, malformed dicts, big-endian or unsupported dtypes and
/// fortran_order=True, each with its own message.
bool parseHeader(const void *bytes, size_t size, Header &out,
                 std::string &error);

/// Decodes a whole .npy image held in memory; the data must follow the
/// header exactly (no missing or trailing bytes).
bool parseNpy(const void *bytes, size_t size, Array &out, std::string &error);

/// Reads `path`; messages start with the path.
bool readNpyFile(const std::string &path, Array &out, std::string &error);

/// The full preamble (magic, version, length, dict, padding) NumPy would
/// write for this array; the data follows it, 64-byte aligned. Uses version
/// 1.0 unless the dict does not fit its 16-bit length.
std::string encodeHeader(DType dtype, const std::vector<int64_t> &shape);

/// Encodes a whole .npy image in memory (tests, small tensors).
std::string encodeNpy(DType dtype, const std::vector<int64_t> &shape,
                      const void *data);

/// Writes an .npy file under a temporary name in the destination's
/// directory and stores that name in `tempPath`; commitTempFile() renames it
/// into place. Splitting the two lets a tool write several files and publish
/// them only if all writes succeed. On failure the temporary file is gone.
bool writeNpyTempFile(const std::string &path, DType dtype,
                      const std::vector<int64_t> &shape, const void *data,
                      std::string &tempPath, std::string &error);
/// Renames `tempPath` to `path`; removes `tempPath` if that fails.
bool commitTempFile(const std::string &tempPath, const std::string &path,
                    std::string &error);

/// Atomic write: writeNpyTempFile() followed by commitTempFile().
bool writeNpyFile(const std::string &path, DType dtype,
                  const std::vector<int64_t> &shape, const void *data,
                  std::string &error);
inline bool writeNpyFile(const std::string &path, const Array &array,
                         std::string &error) {
  return writeNpyFile(path, array.dtype(), array.shape(), array.data(), error);
}

/// A file name for a tensor name: the manifest escaping (%XX for bytes
/// outside [A-Za-z0-9_.:/-]) with '/' escaped too, plus ".npy". Distinct
/// names give distinct file names.
std::string fileNameForTensor(std::string_view name);

/// The first `maxValues` elements as "1, 2.5, -3, ..." (f16 widened to
/// float, bool as 0/1), with ", ..." when there are more.
std::string formatValues(DType dtype, const void *data, uint64_t count,
                         size_t maxValues);

} // namespace qc::npy

#endif // QCRT_NPY_H
