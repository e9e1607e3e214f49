//===- Manifest.h - Parsed form of the artifact manifest --------*- C++ -*-===//
//
// The manifest (docs/artifact.md) is the contract between model.so and the
// runtime: it fixes the argument order of qc_entry and where each weight lives
// in model.qcw. The parser is strict because a lenient one would turn a
// compiler bug into silently wrong results.
//
//===----------------------------------------------------------------------===//

#ifndef QCRT_SRC_MANIFEST_H
#define QCRT_SRC_MANIFEST_H

#include "Status.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qc::rt {

/// The manifest format version this runtime reads.
constexpr unsigned kManifestVersion = 1;

/// One input, output or weight line.
struct TensorDecl {
  std::string name;        ///< Unescaped.
  std::string escapedName; ///< As written; printable, used in messages.
  qcrt_dtype dtype = QCRT_F32;
  std::vector<int64_t> dims;
  uint64_t numElements = 1;
  uint64_t byteSize = 0;
  uint64_t offset = 0; ///< Weights only: byte offset from the file start.
};

/// An input the model updates in place (a key-value cache) and the output
/// that names its new value (docs/artifact.md, `state` records).
struct StateDecl {
  size_t input = 0;
  size_t output = 0;
};

struct Manifest {
  unsigned formatVersion = 0;
  std::string qcVersion;
  std::string weightsFile; ///< Unescaped file name, relative to the artifact.
  uint64_t payloadBytes = 0;
  uint64_t checksum = 0;
  std::vector<TensorDecl> inputs;
  std::vector<TensorDecl> outputs;
  std::vector<TensorDecl> weights;
  std::vector<StateDecl> states;
  /// The artifact's further entry points (`entry` records, unescaped):
  /// listed by the default entry's manifest only.
  std::vector<std::string> entries;
  /// AnyBCQ: the bit-planes this entry computes with (`planes` record); 0
  /// when the artifact is not multi-precision.
  unsigned planes = 0;
  /// Whether output i is a state's new value (no entry argument of its own).
  bool isStateOutput(size_t i) const {
    for (const StateDecl &s : states)
      if (s.output == i)
        return true;
    return false;
  }
};

/// Parses manifest text. `source` names where the text came from and
/// prefixes every error message. Errors carry QCRT_ERR_MANIFEST.
Status parseManifest(std::string_view text, std::string_view source,
                     Manifest &out);

/// Reverses the manifest name escaping (%XX, upper-case hex). Returns false on
/// a malformed escape, a byte outside the allowed set, an empty name or an
/// escaped NUL (names are handed out as C strings).
bool unescapeName(std::string_view escaped, std::string &out);

/// Escapes every byte outside [A-Za-z0-9_.:/-] as %XX.
std::string escapeName(std::string_view name);

/// dtype helpers; the spelling is the manifest's.
const char *dtypeName(qcrt_dtype dtype);
size_t dtypeSize(qcrt_dtype dtype);
bool parseDType(std::string_view text, qcrt_dtype &out);

} // namespace qc::rt

#endif // QCRT_SRC_MANIFEST_H
