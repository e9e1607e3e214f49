//===- ArtifactWriter.cpp - manifest and weights file writing -------------===//

#include "ArtifactWriter.h"
#include "qcrt/DTypes.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace qc::detail;

uint64_t qc::detail::fnv1a64(ArrayRef<char> bytes, uint64_t hash) {
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

int64_t qc::detail::manifestDTypeSize(StringRef d) {
  const dtypes::DTypeInfo *info =
      dtypes::findDType(std::string_view(d.data(), d.size()));
  return info ? static_cast<int64_t>(info->size) : 0;
}

void qc::detail::layoutWeights(ArtifactLayout &layout) {
  uint64_t cursor = kWeightsPayloadOffset;
  uint64_t hash = 0xcbf29ce484222325ULL;
  static const char zeros[kWeightsAlignment] = {};
  for (ArtifactTensor &w : layout.weights) {
    uint64_t aligned = alignTo(cursor, kWeightsAlignment);
    // The hash covers the padding too: it is over the payload bytes.
    hash = fnv1a64(ArrayRef<char>(zeros, aligned - cursor), hash);
    w.offset = aligned;
    hash = fnv1a64(w.data, hash);
    cursor = aligned + w.data.size();
  }
  layout.payloadSize = cursor - kWeightsPayloadOffset;
  layout.checksum = hash;
}

static std::string escapeName(StringRef name) {
  std::string out;
  for (unsigned char c : name) {
    if (isAlnum(c) || c == '_' || c == '.' || c == ':' || c == '/' || c == '-')
      out.push_back(c);
    else
      out += "%" + utohexstr(c, /*LowerCase=*/false, /*Width=*/2);
  }
  if (out.empty())
    out = "%00"; // never empty: keeps fields separable
  return out;
}

std::string qc::detail::manifestText(const ArtifactLayout &layout) {
  std::string s;
  raw_string_ostream os(s);
  os << "qc-artifact 1\n";
  os << "qc-version " << QC_VERSION << "\n";
  os << "weights model.qcw " << layout.payloadSize << " "
     << format_hex_no_prefix(layout.checksum, 16) << "\n";
  auto tensor = [&](StringRef kind, const ArtifactTensor &t) {
    os << kind << " " << escapeName(t.name) << " " << t.dtype << " "
       << t.shape.size();
    for (int64_t d : t.shape)
      os << " " << d;
  };
  for (const auto &t : layout.inputs) {
    tensor("input", t);
    os << "\n";
  }
  for (const auto &t : layout.outputs) {
    tensor("output", t);
    os << "\n";
  }
  for (const auto &t : layout.weights) {
    tensor("weight", t);
    os << " " << t.offset << " " << t.data.size() << "\n";
  }
  for (const ArtifactState &st : layout.states)
    os << "state " << escapeName(layout.inputs[st.input].name) << " "
       << escapeName(layout.outputs[st.output].name) << "\n";
  os << "end\n";
  return s;
}

std::string qc::detail::manifestJSON(const ArtifactLayout &layout) {
  auto list = [](const std::vector<ArtifactTensor> &ts, bool weights) {
    json::Array arr;
    for (const auto &t : ts) {
      json::Object o{{"name", t.name},
                     {"dtype", t.dtype},
                     {"shape", json::Array(t.shape)}};
      if (weights) {
        o["offset"] = static_cast<int64_t>(t.offset);
        o["bytes"] = static_cast<int64_t>(t.data.size());
      }
      arr.push_back(std::move(o));
    }
    return arr;
  };
  json::Object root{
      {"format", "qc-artifact"},
      {"format_version", 1},
      {"qc_version", QC_VERSION},
      {"library", "model.so"},
      {"weights",
       json::Object{{"file", "model.qcw"},
                    {"payload_bytes", static_cast<int64_t>(layout.payloadSize)},
                    {"fnv1a64", utohexstr(layout.checksum, true, 16)}}},
      {"inputs", list(layout.inputs, false)},
      {"outputs", list(layout.outputs, false)},
      {"weight_tensors", list(layout.weights, true)}};
  json::Array states;
  for (const ArtifactState &st : layout.states)
    states.push_back(json::Object{{"input", layout.inputs[st.input].name},
                                  {"output", layout.outputs[st.output].name}});
  root["states"] = std::move(states);
  std::string s;
  raw_string_ostream os(s);
  os << formatv("{0:2}", json::Value(std::move(root))) << "\n";
  return s;
}

Error qc::detail::writeWeightsFile(const ArtifactLayout &layout,
                                   const std::string &path) {
  std::error_code ec;
  raw_fd_ostream os(path, ec, sys::fs::OF_None);
  if (ec)
    return createStringError(ec, "cannot write '%s': %s", path.c_str(),
                             ec.message().c_str());
  char header[kWeightsPayloadOffset] = {};
  std::memcpy(header, "QCWEIGHT", 8);
  auto put = [&](size_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i)
      header[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  put(8, 1);
  put(16, kWeightsPayloadOffset);
  put(24, layout.payloadSize);
  put(32, layout.checksum);
  os.write(header, sizeof(header));
  uint64_t cursor = kWeightsPayloadOffset;
  for (const auto &w : layout.weights) {
    os.write_zeros(w.offset - cursor);
    os.write(w.data.data(), w.data.size());
    cursor = w.offset + w.data.size();
  }
  os.close();
  if (os.has_error())
    return createStringError(os.error(), "error writing '%s'", path.c_str());
  return Error::success();
}
