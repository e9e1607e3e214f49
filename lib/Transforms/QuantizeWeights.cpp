//===- QuantizeWeights.cpp - One layer's weights in a scheme --------------===//

#include "qc/Transforms/QuantizeWeights.h"

#include "qc/Quant/AdaRound.h"
#include "qc/Quant/BCQ.h"
#include "qc/Quant/Codebook.h"
#include "qc/Quant/FloatFormats.h"
#include "qc/Quant/GPTQ.h"
#include "qc/Quant/Uniform.h"
#include "qc/Transforms/ConstantData.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <mutex>
#include <memory>
#include <map>

using namespace mlir;
using namespace qc;

namespace {

/// Rounds values through a scale's storage type, so that the report and
/// the run see the same numbers.
void roundAll(std::vector<float> &values, Type type) {
  for (float &v : values)
    v = roundToType(v, type);
}

// -- per-scheme quantizers (canonical layouts, see QCAttrs.td) ------------

/// aespa: the codes of an attention layer learned by AdaRound on its
/// attention objective (q/k: the Kronecker form of the row Hessians; v: one
/// Hessian per key/value head), then coordinate descent to a local minimum
/// of single-step moves.
bool aespa(const std::vector<float> &w, int64_t k, int64_t n,
           const quant::TapStats &stats,
           const quant::AttentionStats &attention,
           const quant::UniformParams &params, quant::ClipSearch clip,
           quant::UniformResult &r, std::string &err) {
  quant::QuadraticObjective objective;
  if (attention.rows.heads > 0) {
    objective.heads = attention.rows.heads;
    objective.headDim = attention.rows.headDim;
    objective.H.assign(size_t(objective.heads), stats.H.data());
    objective.M = attention.rows.M;
  } else {
    objective.heads = int64_t(attention.valueH.size());
    objective.headDim = n / objective.heads;
    objective.H = attention.valueH;
  }
  return quant::adaroundUniform(w.data(), k, n, objective, params, clip,
                                quant::AdaRoundOptions(), r, err) &&
         quant::coordinateDescentCodes(w.data(), k, n, objective,
                                       /*sweeps=*/20, r, err);
}

/// The query, key or value projection of an attention algorithm: BoA or
/// TurboBoA (q/k: boaUniform; v: gptqPerHead) or aespa, on `target` (the
/// weights, or their input-corrected version for q/k).
bool attentionLayer(const std::vector<float> &target, int64_t k, int64_t n,
                    const WeightQuantOptions &opt,
                    const quant::TapStats &stats,
                    const quant::AttentionStats &attention,
                    const quant::UniformParams &params,
                    quant::ClipSearch clip, quant::UniformResult &r,
                    std::string &err) {
  if (opt.algo == "aespa")
    return aespa(target, k, n, stats, attention, params, clip, r, err);
  if (attention.rows.heads == 0)
    return quant::gptqPerHead(target.data(), k, n, attention.valueH, params,
                              clip, opt.damp, r, err);
  quant::BoAOptions b;
  b.damp = opt.damp;
  b.rowOrder = opt.actOrder;
  b.jointColumns = opt.algo == "turboboa"
                       ? std::min(kTurboBoAJointColumns, attention.rows.headDim)
                       : 1;
  return quant::boaUniform(target.data(), k, n, stats.H.data(),
                           attention.rows, params, clip, b, r, err);
}

bool uniform(UniformAttr s, const std::vector<float> &w, int64_t k,
             int64_t n, const WeightQuantOptions &opt,
             const quant::TapStats *stats,
             const quant::AttentionStats *attention, QuantizedWeight &q,
             std::string &err) {
  quant::UniformParams params;
  params.bits = s.getBits();
  params.group = s.getGroup();
  params.perIC = s.getPerIc();
  params.symmetric = s.getSymmetric();
  quant::ClipSearch clip =
      opt.mseClip ? quant::ClipSearch::MSE : quant::ClipSearch::MinMax;
  quant::UniformResult r;
  const bool boa = algoUsesAttention(opt.algo) && attention && !params.perIC;
  const bool valueHeads = boa && attention->rows.heads == 0;
  // Quantize towards the weights that undo the error of the quantized
  // inputs (a value projection's objective reads P_h X, which the layer's
  // cross statistics do not describe).
  std::vector<float> corrected;
  const std::vector<float> &target = opt.inputCorrection &&
                                             opt.usesHessian() && !valueHeads &&
                                             stats && !stats->C.empty()
                                         ? corrected
                                         : w;
  if (&target == &corrected &&
      !quant::inputErrorTarget(w.data(), k, n, stats->H.data(),
                               stats->C.data(), opt.damp, corrected, err))
    return false;
  if (boa) {
    if (!attentionLayer(target, k, n, opt, *stats, *attention, params, clip,
                        r, err))
      return false;
    q.algo = opt.algo + (valueHeads ? "-value" : "");
  } else if (opt.usesHessian()) {
    quant::GPTQOptions g;
    g.damp = opt.damp;
    g.actOrder = opt.actOrder;
    quant::UniformResult init;
    if (opt.twoStage &&
        !quant::quantizeUniformHessianInit(target.data(), k, n, params,
                                           stats->H.data(), init, err))
      return false;
    if (!quant::gptqUniform(target.data(), k, n, stats->H.data(), params,
                            clip, g, opt.twoStage ? &init : nullptr, r, err))
      return false;
    // Stage 2's objective has the input error in it already (C): it reads
    // the float weights.
    if (opt.twoStage &&
        !quant::refineUniformScales(
            w.data(), k, n, stats->H.data(),
            stats->C.empty() ? nullptr : stats->C.data(), /*sweeps=*/20, r,
            err))
      return false;
    q.algo = opt.twoStage ? "gptq+2stage" : "gptq";
  } else {
    if (!quant::quantizeUniformRTN(w.data(), k, n, params, clip, r, err))
      return false;
    q.algo = "rtn";
  }
  if (&target == &corrected)
    q.algo += "+corr";
  q.codes.assign(r.codes.begin(), r.codes.end());
  q.codesShape = {k, n};
  roundAll(r.scales, s.getScaleType());
  q.scales = r.scales;
  if (!s.getSymmetric())
    q.zeros = r.zeros;
  return quant::dequantizeUniform(r, q.dequantized, err);
}

/// Canonical BCQ codes (bit p = plane p) of `planes` planes of `signs`.
std::vector<int32_t> planeCodes(const std::vector<int8_t> &signs, int planes,
                                int64_t count) {
  std::vector<int32_t> codes(count, 0);
  for (int p = 0; p < planes; ++p)
    for (int64_t i = 0; i < count; ++i)
      if (signs[p * count + i] > 0)
        codes[i] |= 1 << p;
  return codes;
}

/// Fills `q` with a BCQ fit: `codes`, r's scales and offsets (rounded to the
/// scheme's type), and the weights r reconstructs.
bool storeBCQ(BCQAttr s, quant::BCQResult &r, std::vector<int32_t> codes,
              int64_t k, int64_t n, QuantizedWeight &q, std::string &err) {
  q.codes = std::move(codes);
  q.codesShape = {k, n};
  roundAll(r.alphas, s.getScaleType());
  roundAll(r.offsets, s.getScaleType());
  q.scales = r.alphas;
  q.zeros = r.offsets;
  return quant::dequantizeBCQ(r, q.dequantized, err);
}

/// AnyBCQ fits by content. The entries of one artifact (qc-compile
/// --min-planes) quantize the same weights once per precision; the fit, the
/// costly part, runs for the first and is reused by the others. Kept compact:
/// the codes (all planes) and each precision's scales.
struct AnyBCQFit {
  std::vector<uint8_t> codes;
  std::vector<quant::BCQResult> precisions; // signs dropped
};

std::map<std::string, std::shared_ptr<const AnyBCQFit>> &anyBCQCache() {
  static std::map<std::string, std::shared_ptr<const AnyBCQFit>> cache;
  return cache;
}
std::mutex anyBCQCacheMutex;

/// The weights' bytes by two independent 64-bit hashes, and the fit's
/// parameters.
std::string anyBCQKey(const std::vector<float> &w, int64_t k, int64_t n,
                      int minPlanes, int stored, int64_t group, bool offset) {
  uint64_t fnv = 1469598103934665603ull, mix = 0x9e3779b97f4a7c15ull;
  const auto *bytes = reinterpret_cast<const uint8_t *>(w.data());
  for (size_t i = 0; i < w.size() * sizeof(float); ++i) {
    fnv = (fnv ^ bytes[i]) * 1099511628211ull;
    mix = (mix ^ bytes[i]) * 0xff51afd7ed558ccdull;
    mix ^= mix >> 29;
  }
  return llvm::formatv("{0:x16}{1:x16} {2}x{3} {4}..{5} g{6} {7}", fnv, mix,
                       k, n, minPlanes, stored, group, offset)
      .str();
}

std::shared_ptr<const AnyBCQFit>
fitAnyBCQCached(BCQAttr s, const std::vector<float> &w, int64_t k, int64_t n,
                int minPlanes, std::string &err) {
  const int stored = s.getPlanesInCodes();
  std::string key =
      anyBCQKey(w, k, n, minPlanes, stored, s.getGroup(), s.getOffset());
  {
    std::lock_guard<std::mutex> lock(anyBCQCacheMutex);
    auto it = anyBCQCache().find(key);
    if (it != anyBCQCache().end())
      return it->second;
  }
  std::vector<quant::BCQResult> fits;
  if (!quant::fitAnyBCQ(w.data(), k, n, minPlanes, stored, s.getGroup(),
                        s.getOffset(), /*alsIters=*/10, fits, err))
    return nullptr;
  auto fit = std::make_shared<AnyBCQFit>();
  std::vector<int32_t> codes = planeCodes(fits.back().signs, stored, k * n);
  fit->codes.assign(codes.begin(), codes.end());
  for (quant::BCQResult &r : fits) {
    r.signs.clear();
    fit->precisions.push_back(std::move(r));
  }
  std::lock_guard<std::mutex> lock(anyBCQCacheMutex);
  anyBCQCache()[key] = fit;
  return fit;
}

/// An AnyBCQ layer: the scheme's `planes` of a fit for every precision
/// from opt.minPlanes to its stored planes; the codes hold them all.
bool anyBCQ(BCQAttr s, const std::vector<float> &w, int64_t k, int64_t n,
            const WeightQuantOptions &opt, QuantizedWeight &q,
            std::string &err) {
  const int stored = s.getPlanesInCodes(), planes = s.getPlanes();
  if (opt.algo != "rtn" || planes < opt.minPlanes) {
    err = opt.algo != "rtn"
              ? "AnyBCQ (min-planes) fits the planes itself: algo=rtn only"
              : "AnyBCQ serves " + std::to_string(opt.minPlanes) + " to " +
                    std::to_string(stored) + " planes, not " +
                    std::to_string(planes);
    return false;
  }
  std::shared_ptr<const AnyBCQFit> fit =
      fitAnyBCQCached(s, w, k, n, opt.minPlanes, err);
  if (!fit)
    return false;
  // This precision's model: its scales, and the signs of its planes.
  quant::BCQResult r = fit->precisions[size_t(planes - opt.minPlanes)];
  r.signs.resize(size_t(planes * k * n));
  for (int p = 0; p < planes; ++p)
    for (int64_t i = 0; i < k * n; ++i)
      r.signs[size_t(p * k * n + i)] = (fit->codes[size_t(i)] >> p & 1) ? 1 : -1;
  q.algo = "anybcq";
  return storeBCQ(s, r,
                  std::vector<int32_t>(fit->codes.begin(), fit->codes.end()),
                  k, n, q, err);
}

bool bcq(BCQAttr s, const std::vector<float> &w, int64_t k, int64_t n,
         const WeightQuantOptions &opt, const quant::TapStats *stats,
         QuantizedWeight &q, std::string &err) {
  q.algo = "rtn";
  if (opt.minPlanes > 0)
    return anyBCQ(s, w, k, n, opt, q, err);
  quant::BCQResult r;
  if (!quant::fitBCQ(w.data(), k, n, s.getPlanes(), s.getGroup(),
                     s.getOffset(), /*alsIters=*/10, r, err))
    return false;
  if (opt.usesHessian()) {
    quant::GPTQOptions g;
    g.damp = opt.damp;
    g.actOrder = opt.actOrder;
    if (!quant::gptqBCQ(w.data(), k, n, stats->H.data(), g, r, err))
      return false;
    q.algo = "gptq";
  }
  return storeBCQ(s, r, planeCodes(r.signs, r.planes, k * n), k, n, q, err);
}

bool codebook(CodebookAttr s, const std::vector<float> &w, int64_t k,
              int64_t n, QuantizedWeight &q, std::string &err) {
  quant::CodebookParams params;
  params.vectorLen = s.getVectorSize();
  params.entries = s.getEntries();
  params.numCodebooks = s.getBooks();
  params.columnScale = true;
  params.seed = 0;
  quant::CodebookResult r;
  if (!quant::fitCodebook(w.data(), k, n, params, r, err))
    return false;
  q.codes.assign(r.indices.begin(), r.indices.end());
  q.codesShape = {static_cast<int64_t>(s.getBooks()), r.numVectorRows, n};
  q.codesType = IntegerType::get(s.getContext(), 32);
  // Codebooks are stored in f16 (see CodebookAttr::getStorageBytes).
  roundAll(r.codebooks, Float16Type::get(s.getContext()));
  if (r.columnScales.empty())
    r.columnScales.assign(n, 1.0f);
  roundAll(r.columnScales, s.getScaleType());
  q.codebook = r.codebooks;
  q.scales = r.columnScales;
  return quant::dequantizeCodebook(r, q.dequantized, err);
}

bool floats(FloatFormatAttr s, const std::vector<float> &w, int64_t k,
            int64_t n, QuantizedWeight &q, std::string &err) {
  q.codesShape = {k, n};
  switch (s.getFormat()) {
  case FloatFormat::fp8e4m3: {
    // One scale per column maps its absmax to 448, E4M3's largest value.
    q.scales.assign(n, 1.0f);
    for (int64_t c = 0; c < n; ++c) {
      float amax = 0;
      for (int64_t r = 0; r < k; ++r)
        amax = std::max(amax, std::fabs(w[r * n + c]));
      q.scales[c] = amax > 0 ? amax / 448.0f : 1.0f;
    }
    q.codes.resize(k * n);
    q.dequantized.resize(k * n);
    for (int64_t i = 0; i < k * n; ++i) {
      float scale = q.scales[i % n];
      uint8_t code = quant::quantizeFP8E4M3(w[i] / scale);
      q.codes[i] = code;
      q.dequantized[i] = quant::dequantizeFP8E4M3(code) * scale;
    }
    return true;
  }
  case FloatFormat::mxfp4: {
    quant::MXFP4Result r;
    if (!quant::quantizeMXFP4(w.data(), k, n, r, err))
      return false;
    q.codes.assign(r.codes.begin(), r.codes.end());
    for (uint8_t e : r.scaleExps)
      q.scales.push_back(quant::decodeE8M0(e));
    return quant::dequantizeMXFP4(r, q.dequantized, err);
  }
  case FloatFormat::amxfp4: {
    quant::AMXFP4Result r;
    if (!quant::quantizeAMXFP4(w.data(), k, n, r, err))
      return false;
    q.codes.assign(r.codes.begin(), r.codes.end());
    for (uint8_t e : r.posScaleExps)
      q.scales.push_back(quant::decodeE8M0(e));
    for (uint8_t e : r.negScaleExps)
      q.scales.push_back(quant::decodeE8M0(e));
    return quant::dequantizeAMXFP4(r, q.dequantized, err);
  }
  case FloatFormat::dint: {
    quant::DIntResult r;
    if (!quant::quantizeDInt(w.data(), k, n, s.getBits(), s.getBlock(), r,
                             err))
      return false;
    // dINT scales are stored in f16 (FloatFormatAttr::getStorageBytes).
    roundAll(r.scales, Float16Type::get(s.getContext()));
    q.codes.assign(r.codes.begin(), r.codes.end());
    q.scales = r.scales;
    return quant::dequantizeDInt(r, q.dequantized, err);
  }
  }
  err = "unknown float format";
  return false;
}


} // namespace

void qc::clearAnyBCQFits() {
  std::lock_guard<std::mutex> lock(anyBCQCacheMutex);
  anyBCQCache().clear();
}

bool qc::quantizeWeights(QuantSchemeAttrInterface scheme,
                         const std::vector<float> &w, int64_t k, int64_t n,
                         const WeightQuantOptions &options,
                         const quant::TapStats *stats, QuantizedWeight &q,
                         std::string &err,
                         const quant::AttentionStats *attention) {
  if (!isWeightQuantAlgo(options.algo)) {
    err = "unknown algo '" + options.algo + "' (" + kWeightQuantAlgos + ")";
    return false;
  }
  if (options.usesHessian()) {
    if (!stats) {
      err = "algo=" + options.algo +
            " needs calibration statistics for this layer";
      return false;
    }
    if (stats->K != k || stats->H.size() != size_t(k * k)) {
      err = "the calibration statistics are for K = " +
            std::to_string(stats->K) + ", the layer has K = " +
            std::to_string(k);
      return false;
    }
    if (stats->rows == 0) {
      err = "the calibration statistics saw no rows (empty calibration set)";
      return false;
    }
  }
  q = QuantizedWeight();
  bool ok =
      TypeSwitch<Attribute, bool>(scheme)
          .Case<UniformAttr>([&](UniformAttr s) {
            return uniform(s, w, k, n, options, stats,
                           attention && !attention->empty() ? attention
                                                            : nullptr,
                           q, err);
          })
          .Case<BCQAttr>([&](BCQAttr s) {
            return bcq(s, w, k, n, options, stats, q, err);
          })
          .Case<CodebookAttr>([&](CodebookAttr s) {
            return codebook(s, w, k, n, q, err);
          })
          .Case<FloatFormatAttr>(
              [&](FloatFormatAttr s) { return floats(s, w, k, n, q, err); })
          .Default([&](Attribute) {
            err = "no quantizer for this scheme";
            return false;
          });
  if (!ok)
    return false;
  if (q.algo.empty())
    q.algo = options.usesHessian()
                 ? "rtn (no " + options.algo + " for this scheme)"
                 : "rtn";
  for (float v : q.dequantized)
    if (!std::isfinite(v)) {
      err = "the quantized weight is not finite";
      return false;
    }
  return true;
}
