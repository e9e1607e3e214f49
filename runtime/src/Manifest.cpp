//===- Manifest.cpp - Parser for the artifact manifest text ---------------===//

#include "Manifest.h"
#include "qcrt/DTypes.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

namespace qc::rt {

namespace {

bool isPlainNameByte(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
         c == '/' || c == '-';
}

int upperHexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Unsigned decimal without sign or spaces; false on overflow.
bool parseU64(std::string_view text, uint64_t &out) {
  if (text.empty() || text.size() > 20)
    return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    if (__builtin_mul_overflow(value, 10, &value) ||
        __builtin_add_overflow(value, static_cast<uint64_t>(c - '0'), &value))
      return false;
  }
  out = value;
  return true;
}

bool parseHex64(std::string_view text, uint64_t &out) {
  if (text.size() != 16)
    return false;
  uint64_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else
      return false;
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  out = value;
  return true;
}

std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t space = line.find(' ', start);
    if (space == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, space - start));
    start = space + 1;
  }
}

/// Parses the shared prefix of input/output/weight records:
/// `<kind> <name> <dtype> <rank> <d0> ... <dr-1>` followed by `trailing` more
/// fields. Returns an empty string on success, else the problem.
std::string parseTensor(const std::vector<std::string_view> &fields,
                        size_t trailing, TensorDecl &decl) {
  std::string_view kind = fields[0];
  if (fields.size() < 4 + trailing)
    return formatString("'%.*s' record needs at least %zu fields, found %zu",
                        static_cast<int>(kind.size()), kind.data(),
                        4 + trailing, fields.size());
  decl.escapedName = std::string(fields[1]);
  if (!unescapeName(fields[1], decl.name))
    return formatString("malformed name '%s' (allowed: [A-Za-z0-9_.:/-] and "
                        "%%XX escapes with upper-case hex, no %%00)",
                        decl.escapedName.c_str());
  const char *name = decl.escapedName.c_str();
  if (!parseDType(fields[2], decl.dtype))
    return formatString("%.*s '%s': unknown dtype '%.*s'",
                        static_cast<int>(kind.size()), kind.data(), name,
                        static_cast<int>(fields[2].size()), fields[2].data());
  uint64_t rank;
  if (!parseU64(fields[3], rank))
    return formatString("%.*s '%s': malformed rank '%.*s'",
                        static_cast<int>(kind.size()), kind.data(), name,
                        static_cast<int>(fields[3].size()), fields[3].data());
  // Compare without forming 4 + rank + trailing, which could overflow.
  if (rank != fields.size() - 4 - trailing)
    return formatString("%.*s '%s': rank %llu needs %llu fields, found %zu",
                        static_cast<int>(kind.size()), kind.data(), name,
                        static_cast<unsigned long long>(rank),
                        static_cast<unsigned long long>(rank) + 4 + trailing,
                        fields.size());
  decl.dims.clear();
  decl.numElements = 1;
  for (uint64_t i = 0; i < rank; ++i) {
    std::string_view field = fields[4 + i];
    uint64_t dim;
    if (!parseU64(field, dim) || dim > static_cast<uint64_t>(INT64_MAX))
      return formatString("%.*s '%s': malformed dimension %llu '%.*s'",
                          static_cast<int>(kind.size()), kind.data(), name,
                          static_cast<unsigned long long>(i),
                          static_cast<int>(field.size()), field.data());
    decl.dims.push_back(static_cast<int64_t>(dim));
    if (__builtin_mul_overflow(decl.numElements, dim, &decl.numElements))
      return formatString("%.*s '%s': element count overflows",
                          static_cast<int>(kind.size()), kind.data(), name);
  }
  // Byte sizes must fit in ptrdiff_t so that descriptors and pointer
  // arithmetic stay well-defined.
  if (__builtin_mul_overflow(decl.numElements, dtypeSize(decl.dtype),
                             &decl.byteSize) ||
      decl.byteSize > static_cast<uint64_t>(INT64_MAX))
    return formatString("%.*s '%s': byte size overflows",
                        static_cast<int>(kind.size()), kind.data(), name);
  return std::string();
}

} // namespace

const char *dtypeName(qcrt_dtype dtype) {
  const dtypes::DTypeInfo *info = dtypes::findDType(dtype);
  return info ? info->name : "?";
}

size_t dtypeSize(qcrt_dtype dtype) {
  const dtypes::DTypeInfo *info = dtypes::findDType(dtype);
  return info ? info->size : 0;
}

bool parseDType(std::string_view text, qcrt_dtype &out) {
  const dtypes::DTypeInfo *info = dtypes::findDType(text);
  if (info)
    out = info->dtype;
  return info != nullptr;
}

bool unescapeName(std::string_view escaped, std::string &out) {
  out.clear();
  if (escaped.empty())
    return false;
  for (size_t i = 0; i < escaped.size(); ++i) {
    char c = escaped[i];
    if (c == '%') {
      if (i + 2 >= escaped.size())
        return false;
      int high = upperHexValue(escaped[i + 1]);
      int low = upperHexValue(escaped[i + 2]);
      if (high < 0 || low < 0 || (high == 0 && low == 0))
        return false;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
      continue;
    }
    if (!isPlainNameByte(static_cast<unsigned char>(c)))
      return false;
    out.push_back(c);
  }
  return true;
}

std::string escapeName(std::string_view name) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string result;
  result.reserve(name.size());
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    if (isPlainNameByte(byte)) {
      result.push_back(c);
    } else {
      result.push_back('%');
      result.push_back(kHex[byte >> 4]);
      result.push_back(kHex[byte & 15]);
    }
  }
  return result;
}

namespace {
/// The index of the tensor named `escaped` in `decls`, or -1.
long findDecl(const std::vector<TensorDecl> &decls, std::string_view escaped) {
  for (size_t i = 0; i < decls.size(); ++i)
    if (decls[i].escapedName == escaped)
      return long(i);
  return -1;
}

/// `state <input> <output>`: both declared before, alike, not yet paired.
std::string parseState(const std::vector<std::string_view> &fields,
                       Manifest &out) {
  if (fields.size() != 3)
    return "expected 'state <input-name> <output-name>'";
  std::string in(fields[1]), outName(fields[2]);
  long i = findDecl(out.inputs, fields[1]);
  long o = findDecl(out.outputs, fields[2]);
  if (i < 0)
    return "state: no input '" + in + "' declared before it";
  if (o < 0)
    return "state: no output '" + outName + "' declared before it";
  const TensorDecl &a = out.inputs[size_t(i)], &b = out.outputs[size_t(o)];
  if (a.dtype != b.dtype || a.dims != b.dims)
    return "state: input '" + in + "' and output '" + outName +
           "' differ in dtype or shape";
  for (const StateDecl &st : out.states)
    if (st.input == size_t(i) || st.output == size_t(o))
      return "state: input '" + in + "' or output '" + outName +
             "' is already paired";
  out.states.push_back({size_t(i), size_t(o)});
  return "";
}
} // namespace

Status parseManifest(std::string_view text, std::string_view source,
                     Manifest &out) {
  out = Manifest();
  size_t lineNo = 0;
  auto fail = [&](const std::string &what) {
    return Status::error(QCRT_ERR_MANIFEST,
                         formatString("%.*s: manifest line %zu: %s",
                                      static_cast<int>(source.size()),
                                      source.data(), lineNo, what.c_str()));
  };

  auto failAtEnd = [&](const char *what) {
    return Status::error(QCRT_ERR_MANIFEST,
                         formatString("%.*s: manifest: %s",
                                      static_cast<int>(source.size()),
                                      source.data(), what));
  };

  bool sawVersion = false, sawWeights = false, sawEnd = false;
  std::unordered_set<std::string> inputNames, outputNames, weightNames;
  size_t pos = 0;
  while (pos < text.size()) {
    ++lineNo;
    size_t newline = text.find('\n', pos);
    std::string_view line = newline == std::string_view::npos
                                ? text.substr(pos)
                                : text.substr(pos, newline - pos);
    pos = newline == std::string_view::npos ? text.size() : newline + 1;

    if (sawEnd)
      return fail("text after the 'end' record");
    if (line.empty())
      return fail("empty line");
    for (char c : line) {
      auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte >= 0x7f)
        return fail(formatString("unexpected byte 0x%02X", byte));
    }
    std::vector<std::string_view> fields = splitFields(line);
    for (std::string_view field : fields)
      if (field.empty())
        return fail("empty field (fields are separated by single spaces)");
    std::string_view kind = fields[0];
    std::string kindStr(kind);

    if (lineNo == 1) {
      uint64_t version;
      if (kind != "qc-artifact" || fields.size() != 2 ||
          !parseU64(fields[1], version))
        return fail("expected 'qc-artifact <version>' (not a qc manifest?)");
      if (version != kManifestVersion)
        return fail(formatString(
            "unsupported artifact format version %llu (this runtime reads %u)",
            static_cast<unsigned long long>(version), kManifestVersion));
      out.formatVersion = kManifestVersion;
      continue;
    }

    if (kind == "qc-version") {
      if (sawVersion)
        return fail("duplicate 'qc-version' record");
      if (fields.size() != 2)
        return fail("expected 'qc-version <version>'");
      out.qcVersion = std::string(fields[1]);
      sawVersion = true;
    } else if (kind == "weights") {
      if (sawWeights)
        return fail("duplicate 'weights' record");
      if (fields.size() != 4)
        return fail(
            "expected 'weights <file> <payload-bytes> <fnv1a64-hex16>'");
      if (!unescapeName(fields[1], out.weightsFile) ||
          out.weightsFile.find('/') != std::string::npos ||
          out.weightsFile == "." || out.weightsFile == "..")
        return fail(formatString("weights file '%.*s' is not a plain file name",
                                 static_cast<int>(fields[1].size()),
                                 fields[1].data()));
      if (!parseU64(fields[2], out.payloadBytes))
        return fail(formatString("malformed payload size '%.*s'",
                                 static_cast<int>(fields[2].size()),
                                 fields[2].data()));
      if (!parseHex64(fields[3], out.checksum))
        return fail(
            formatString("malformed checksum '%.*s' (expected 16 hex digits)",
                         static_cast<int>(fields[3].size()), fields[3].data()));
      sawWeights = true;
    } else if (kind == "input" || kind == "output") {
      TensorDecl decl;
      std::string problem = parseTensor(fields, 0, decl);
      if (!problem.empty())
        return fail(problem);
      auto &names = kind == "input" ? inputNames : outputNames;
      if (!names.insert(decl.name).second)
        return fail(formatString("duplicate %s name '%s'", kindStr.c_str(),
                                 decl.escapedName.c_str()));
      (kind == "input" ? out.inputs : out.outputs).push_back(std::move(decl));
    } else if (kind == "weight") {
      TensorDecl decl;
      std::string problem = parseTensor(fields, 2, decl);
      if (!problem.empty())
        return fail(problem);
      const char *name = decl.escapedName.c_str();
      std::string_view offsetField = fields[fields.size() - 2];
      std::string_view nbytesField = fields[fields.size() - 1];
      uint64_t nbytes;
      if (!parseU64(offsetField, decl.offset))
        return fail(formatString("weight '%s': malformed offset '%.*s'", name,
                                 static_cast<int>(offsetField.size()),
                                 offsetField.data()));
      if (!parseU64(nbytesField, nbytes))
        return fail(formatString("weight '%s': malformed nbytes '%.*s'", name,
                                 static_cast<int>(nbytesField.size()),
                                 nbytesField.data()));
      if (decl.offset % 64 != 0)
        return fail(
            formatString("weight '%s': offset %llu is not a multiple of 64",
                         name, static_cast<unsigned long long>(decl.offset)));
      if (nbytes != decl.byteSize)
        return fail(formatString(
            "weight '%s': nbytes %llu does not match its shape and dtype "
            "(%llu bytes)",
            name, static_cast<unsigned long long>(nbytes),
            static_cast<unsigned long long>(decl.byteSize)));
      if (!weightNames.insert(decl.name).second)
        return fail(formatString("duplicate weight name '%s'", name));
      out.weights.push_back(std::move(decl));
    } else if (kind == "state") {
      std::string problem = parseState(fields, out);
      if (!problem.empty())
        return fail(problem);
    } else if (kind == "entry") {
      std::string name;
      if (fields.size() != 2 || !unescapeName(fields[1], name))
        return fail("expected 'entry <name>'");
      if (std::find(out.entries.begin(), out.entries.end(), name) !=
          out.entries.end())
        return fail("duplicate entry '" + name + "'");
      out.entries.push_back(std::move(name));
    } else if (kind == "planes") {
      uint64_t planes = 0;
      if (fields.size() != 2 || !parseU64(fields[1], planes) || planes < 1 ||
          planes > 8 || out.planes != 0)
        return fail("expected one 'planes <1..8>' record");
      out.planes = static_cast<unsigned>(planes);
    } else if (kind == "end") {
      if (fields.size() != 1)
        return fail("'end' takes no fields");
      sawEnd = true;
    } else if (kind == "qc-artifact") {
      return fail("duplicate 'qc-artifact' record");
    } else {
      // Names are escaped, so the record kind is printable.
      return fail(formatString("unknown record '%s'", kindStr.c_str()));
    }
  }

  if (lineNo == 0)
    return failAtEnd("empty manifest");
  if (!sawEnd)
    return failAtEnd("missing 'end' record (manifest truncated?)");
  if (!sawVersion)
    return failAtEnd("missing 'qc-version' record");
  if (!sawWeights)
    return failAtEnd("missing 'weights' record");
  return Status::success();
}

} // namespace qc::rt
