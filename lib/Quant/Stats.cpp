//===- Stats.cpp - Calibration statistics of linear-layer inputs ----------===//

#include "qc/Quant/Stats.h"
#include "qc/Support/AtomicFile.h"

#include <Eigen/Core>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

using namespace qc::quant;

namespace {

constexpr char kMagic[8] = {'Q', 'C', 'S', 'T', 'A', 'T', 'S', '\0'};
/// 2: H and C stored in single precision (1: double, still read).
constexpr uint32_t kVersion = 2;

using MatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                           Eigen::RowMajor>;
using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic,
                           Eigen::RowMajor>;

uint64_t fnv1a(const char *bytes, size_t size) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) {
    h ^= static_cast<unsigned char>(bytes[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

template <typename T> void put(std::string &out, T value) {
  char buf[sizeof(T)];
  std::memcpy(buf, &value, sizeof(T));
  out.append(buf, sizeof(T));
}

template <typename T> void putArray(std::string &out, const std::vector<T> &v) {
  out.append(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
}

/// Sums in single precision; false if one does not fit.
bool putSingle(std::string &out, const std::vector<double> &v) {
  std::vector<float> f(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    f[i] = float(v[i]);
    if (!std::isfinite(f[i]))
      return false;
  }
  putArray(out, f);
  return true;
}

/// A bounds-checked reader over the file's first `size` bytes.
struct Reader {
  const std::string &data;
  size_t size;
  size_t pos = 0;
  bool ok = true;
  template <typename T> T get() {
    T value{};
    if (!ok || size - pos < sizeof(T)) {
      ok = false;
      return value;
    }
    std::memcpy(&value, data.data() + pos, sizeof(T));
    pos += sizeof(T);
    return value;
  }
  template <typename T> bool getArray(std::vector<T> &v, uint64_t count) {
    if (!ok || count > (size - pos) / sizeof(T)) {
      ok = false;
      return false;
    }
    v.resize(size_t(count));
    std::memcpy(v.data(), data.data() + pos, size_t(count) * sizeof(T));
    pos += size_t(count) * sizeof(T);
    return true;
  }
  /// `count` sums, stored in double (version 1) or single precision.
  bool getSums(std::vector<double> &v, uint64_t count, uint32_t version) {
    if (version == 1)
      return getArray(v, count);
    std::vector<float> f;
    if (!getArray(f, count))
      return false;
    v.assign(f.begin(), f.end());
    return true;
  }
};

} // namespace

void TapStats::reset(int64_t k, bool withCross) {
  K = k;
  rows = 0;
  H.assign(size_t(k * k), 0.0);
  C.assign(withCross ? size_t(k * k) : 0, 0.0);
  absMax.assign(size_t(k), 0.0f);
  meanAbs.assign(size_t(k), 0.0f);
}

bool TapStats::accumulate(const float *x, int64_t n, int64_t rowStride,
                          const float *xFloat, std::string &err) {
  if (n <= 0)
    return true;
  using Strided = Eigen::Map<const MatF, 0, Eigen::OuterStride<>>;
  Strided X(x, n, K, Eigen::OuterStride<>(rowStride));
  if (!X.allFinite()) {
    err = "a calibration input of layer '" +
          (layers.empty() ? std::string("?") : layers.front()) +
          "' is not finite (NaN or Inf)";
    return false;
  }
  // x^T x in single precision per call (a matrix product, the expensive
  // part), summed in double across calls.
  MatF G = MatF::Zero(K, K);
  G.selfadjointView<Eigen::Lower>().rankUpdate(X.transpose());
  Eigen::Map<MatD> Hm(H.data(), K, K);
  MatD Gd = G.cast<double>();
  Hm.triangularView<Eigen::Lower>() += Gd;
  Hm.triangularView<Eigen::StrictlyUpper>() = Hm.transpose();
  if (xFloat && !C.empty()) {
    Strided XF(xFloat, n, K, Eigen::OuterStride<>(rowStride));
    MatF Cf = X.transpose() * XF;
    Eigen::Map<MatD>(C.data(), K, K) += Cf.cast<double>();
  }
  double total = double(rows) + double(n);
  for (int64_t k = 0; k < K; ++k) {
    float amax = absMax[size_t(k)];
    double sum = 0;
    for (int64_t r = 0; r < n; ++r) {
      float v = std::fabs(X(r, k));
      amax = std::max(amax, v);
      sum += v;
    }
    absMax[size_t(k)] = amax;
    meanAbs[size_t(k)] =
        float((double(meanAbs[size_t(k)]) * double(rows) + sum) / total);
  }
  rows += uint64_t(n);
  return true;
}

void TapStats::merge(const TapStats &other) {
  if (other.rows == 0)
    return;
  double total = double(rows) + double(other.rows);
  for (size_t i = 0; i < H.size(); ++i)
    H[i] += other.H[i];
  for (size_t i = 0; i < C.size() && i < other.C.size(); ++i)
    C[i] += other.C[i];
  for (int64_t k = 0; k < K; ++k) {
    absMax[size_t(k)] = std::max(absMax[size_t(k)], other.absMax[size_t(k)]);
    meanAbs[size_t(k)] =
        float((double(meanAbs[size_t(k)]) * double(rows) +
               double(other.meanAbs[size_t(k)]) * double(other.rows)) /
              total);
  }
  rows += other.rows;
}

const TapStats *CalibrationStats::lookup(const std::string &layer) const {
  auto it = tapOfLayer.find(layer);
  return it == tapOfLayer.end() ? nullptr : &taps[it->second];
}

bool CalibrationStats::index(std::string &err) {
  tapOfLayer.clear();
  for (size_t t = 0; t < taps.size(); ++t)
    for (const std::string &layer : taps[t].layers)
      if (!tapOfLayer.emplace(layer, t).second) {
        err = "layer '" + layer + "' has statistics twice";
        return false;
      }
  return true;
}

bool qc::quant::writeStats(const std::string &path,
                           const CalibrationStats &stats, std::string &err) {
  std::string out(kMagic, sizeof(kMagic));
  put<uint32_t>(out, kVersion);
  put<uint32_t>(out, uint32_t(stats.taps.size()));
  for (const TapStats &t : stats.taps) {
    put<uint32_t>(out, uint32_t(t.layers.size()));
    for (const std::string &name : t.layers) {
      put<uint32_t>(out, uint32_t(name.size()));
      out += name;
    }
    put<uint64_t>(out, uint64_t(t.K));
    put<uint64_t>(out, t.rows);
    put<uint32_t>(out, t.C.empty() ? 0u : 1u);
    if (!putSingle(out, t.H) || !putSingle(out, t.C)) {
      err = "the statistics of '" + t.layers.front() +
            "' exceed single precision";
      return false;
    }
    putArray(out, t.absMax);
    putArray(out, t.meanAbs);
  }
  put<uint64_t>(out, fnv1a(out.data(), out.size()));

  return writeFileAtomically(path, out, err);
}

bool qc::quant::readStats(const std::string &path, CalibrationStats &stats,
                          std::string &err) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    err = "cannot open statistics file '" + path + "'";
    return false;
  }
  std::string data((std::istreambuf_iterator<char>(f)),
                   std::istreambuf_iterator<char>());
  auto fail = [&](const std::string &what) {
    err = path + ": " + what;
    return false;
  };
  if (data.size() < sizeof(kMagic) + 16 ||
      std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0)
    return fail("not a qc statistics file (bad magic)");
  uint64_t stored;
  const size_t bodySize = data.size() - 8;
  std::memcpy(&stored, data.data() + bodySize, 8);
  if (fnv1a(data.data(), bodySize) != stored)
    return fail("checksum mismatch (truncated or corrupted)");
  Reader r{data, bodySize, sizeof(kMagic)};
  const uint32_t version = r.get<uint32_t>();
  if (version != 1 && version != kVersion)
    return fail("unsupported statistics version " + std::to_string(version));
  uint32_t numTaps = r.get<uint32_t>();
  CalibrationStats s;
  for (uint32_t i = 0; i < numTaps && r.ok; ++i) {
    TapStats t;
    uint32_t numNames = r.get<uint32_t>();
    for (uint32_t j = 0; j < numNames && r.ok; ++j) {
      uint32_t len = r.get<uint32_t>();
      std::vector<char> name;
      r.getArray(name, len);
      t.layers.emplace_back(name.begin(), name.end());
    }
    uint64_t K = r.get<uint64_t>();
    t.rows = r.get<uint64_t>();
    uint32_t flags = r.get<uint32_t>();
    if (!r.ok || K == 0 || K > (1u << 20))
      return fail("tap " + std::to_string(i) + " has a bad size");
    t.K = int64_t(K);
    r.getSums(t.H, K * K, version);
    if (flags & 1)
      r.getSums(t.C, K * K, version);
    r.getArray(t.absMax, K);
    r.getArray(t.meanAbs, K);
    if (!r.ok)
      break;
    for (double v : t.H)
      if (!std::isfinite(v))
        return fail("tap " + std::to_string(i) + " has a non-finite entry");
    for (double v : t.C)
      if (!std::isfinite(v))
        return fail("tap " + std::to_string(i) + " has a non-finite entry");
    s.taps.push_back(std::move(t));
  }
  if (!r.ok || r.pos != bodySize)
    return fail("malformed (sizes disagree with the file length)");
  if (!s.index(err)) {
    err = path + ": " + err;
    return false;
  }
  stats = std::move(s);
  return true;
}
