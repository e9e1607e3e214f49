//===- ArtifactWriter.cpp - manifest and weights file writing -------------===//

#include "ArtifactWriter.h"
#include "qcrt/DTypes.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
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

WeightsPayload
qc::detail::layoutWeights(MutableArrayRef<ArtifactLayout> layouts) {
  WeightsPayload payload;
  uint64_t cursor = kWeightsPayloadOffset;
  uint64_t hash = 0xcbf29ce484222325ULL;
  static const char zeros[kWeightsAlignment] = {};
  // Bytes already placed, by their hash: equal bytes share an offset.
  DenseMap<uint64_t, SmallVector<size_t, 1>> placed;
  for (ArtifactLayout &layout : layouts) {
    for (ArtifactTensor &w : layout.weights) {
      payload.unsharedSize += w.data.size();
      SmallVector<size_t, 1> &same = placed[fnv1a64(w.data)];
      auto it = llvm::find_if(same, [&](size_t piece) {
        return payload.pieces[piece].second == w.data;
      });
      if (it != same.end()) {
        w.offset = payload.pieces[*it].first;
        continue;
      }
      uint64_t aligned = alignTo(cursor, kWeightsAlignment);
      // The hash covers the padding too: it is over the payload bytes.
      hash = fnv1a64(ArrayRef<char>(zeros, aligned - cursor), hash);
      w.offset = aligned;
      hash = fnv1a64(w.data, hash);
      cursor = aligned + w.data.size();
      same.push_back(payload.pieces.size());
      payload.pieces.push_back({aligned, w.data});
    }
  }
  payload.size = cursor - kWeightsPayloadOffset;
  payload.checksum = hash;
  for (ArtifactLayout &layout : layouts) {
    layout.payloadSize = payload.size;
    layout.checksum = payload.checksum;
  }
  return payload;
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

std::string qc::detail::manifestText(const ArtifactLayout &layout,
                                     ArrayRef<ArtifactLayout> others) {
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
  if (layout.planes)
    os << "planes " << layout.planes << "\n";
  for (const ArtifactLayout &other : others)
    os << "entry " << escapeName(other.entry) << "\n";
  os << "end\n";
  return s;
}

/// The interface of one entry as JSON fields.
static json::Object entryJSON(const ArtifactLayout &layout) {
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
  json::Array states;
  for (const ArtifactState &st : layout.states)
    states.push_back(json::Object{{"input", layout.inputs[st.input].name},
                                  {"output", layout.outputs[st.output].name}});
  json::Object fields{{"inputs", list(layout.inputs, false)},
                      {"outputs", list(layout.outputs, false)},
                      {"weight_tensors", list(layout.weights, true)},
                      {"states", std::move(states)}};
  if (layout.planes)
    fields["planes"] = static_cast<int64_t>(layout.planes);
  return fields;
}

std::string qc::detail::manifestJSON(ArrayRef<ArtifactLayout> layouts) {
  const ArtifactLayout &first = layouts.front();
  json::Object root{
      {"format", "qc-artifact"},
      {"format_version", 1},
      {"qc_version", QC_VERSION},
      {"library", "model.so"},
      {"weights",
       json::Object{{"file", "model.qcw"},
                    {"payload_bytes", static_cast<int64_t>(first.payloadSize)},
                    {"fnv1a64", utohexstr(first.checksum, true, 16)}}}};
  for (auto &field : entryJSON(first))
    root[field.first] = std::move(field.second);
  json::Array entries;
  for (const ArtifactLayout &layout : layouts.drop_front()) {
    json::Object entry = entryJSON(layout);
    entry["name"] = layout.entry;
    entries.push_back(std::move(entry));
  }
  root["entries"] = std::move(entries);
  std::string s;
  raw_string_ostream os(s);
  os << formatv("{0:2}", json::Value(std::move(root))) << "\n";
  return s;
}

Error qc::detail::writeWeightsFile(const WeightsPayload &payload,
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
  put(24, payload.size);
  put(32, payload.checksum);
  os.write(header, sizeof(header));
  uint64_t cursor = kWeightsPayloadOffset;
  for (const auto &[offset, bytes] : payload.pieces) {
    os.write_zeros(offset - cursor);
    os.write(bytes.data(), bytes.size());
    cursor = offset + bytes.size();
  }
  os.close();
  if (os.has_error())
    return createStringError(os.error(), "error writing '%s'", path.c_str());
  return Error::success();
}
