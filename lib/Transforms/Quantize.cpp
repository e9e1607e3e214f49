//===- Quantize.cpp - qc.linear to qc.qlinear by post-training quantization ===//

#include "QC/IR/QCAttrs.h"
#include "QC/IR/QCOps.h"
#include "qc/Quant/GPTQ.h"
#include "qc/Support/Progress.h"
#include "qc/Transforms/ConstantData.h"
#include "qc/Transforms/Passes.h"
#include "qc/Transforms/QuantizeWeights.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Regex.h"

#include <algorithm>
#include <limits>
#include <random>

namespace qc {
#define GEN_PASS_DEF_QUANTIZEPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {

struct QuantizePass : qc::impl::QuantizePassBase<QuantizePass> {
  using Base::Base;

  quant::CalibrationStats calibration;
  WeightQuantOptions options;
  unsigned numAnyBCQ = 0;
  /// Layers with BoA's attention statistics.
  unsigned numAttention = 0;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (!isWeightQuantAlgo(algo)) {
      module.emitError() << "qc-quantize: unknown algo '" << algo
                         << "' (" << kWeightQuantAlgos << ")";
      return signalPassFailure();
    }
    if (isStaticActivationName(act) && stats.empty()) {
      module.emitError() << "qc-quantize: act=" << act
                         << " (static int8 activations) takes its scales "
                            "from calibration statistics (stats=FILE, from "
                            "qc-calibrate)";
      return signalPassFailure();
    }
    if (algoUsesHessian(algo) && stats.empty()) {
      module.emitError() << "qc-quantize: algo=" << algo
                         << " needs calibration statistics (stats=FILE, "
                            "from qc-calibrate)";
      return signalPassFailure();
    }
    if (inputCorrection && !algoUsesHessian(algo)) {
      module.emitError() << "qc-quantize: input-correction needs calibration "
                            "statistics (algo="
                         << algo << ")";
      return signalPassFailure();
    }
    if (twoStage && !algoUsesHessian(algo)) {
      module.emitError()
          << "qc-quantize: two-stage needs algo=gptq, boa, turboboa or aespa";
      return signalPassFailure();
    }
    if (!stats.empty()) {
      std::string statsError;
      if (!quant::readStats(stats, calibration, statsError)) {
        module.emitError() << "qc-quantize: " << statsError;
        return signalPassFailure();
      }
    }
    options.algo = algo;
    options.mseClip = clip == "mse";
    options.twoStage = twoStage;
    options.inputCorrection = inputCorrection;
    options.actOrder = actOrder;
    options.damp = damp;
    options.minPlanes = static_cast<int>(minPlanes);
    if (minPlanes > 8 || (planes != 0 && planes < minPlanes) ||
        (planes != 0 && minPlanes == 0)) {
      module.emitError() << "qc-quantize: AnyBCQ needs 1 <= min-planes <= "
                            "planes <= 8 (min-planes="
                         << unsigned(minPlanes) << ", planes="
                         << unsigned(planes) << ")";
      return signalPassFailure();
    }
    if (minPlanes > 0 && algo != "rtn") {
      module.emitError() << "qc-quantize: AnyBCQ (min-planes) fits the "
                            "planes itself, with algo=rtn only";
      return signalPassFailure();
    }
    if (clip != "mse" && clip != "minmax") {
      module.emitError() << "qc-quantize: clip must be mse or minmax, found '"
                         << clip << "'";
      return signalPassFailure();
    }
    std::string error;
    QuantSchemeAttrInterface defaultScheme =
        parseQuantScheme(ctx, scheme, error);
    if (!defaultScheme || failed(activationFor(act, defaultScheme, error))) {
      module.emitError() << "qc-quantize: " << error;
      return signalPassFailure();
    }
    // Overrides and exclusions, each with a use count.
    struct Rule {
      std::string pattern;
      llvm::Regex regex;
      QuantSchemeAttrInterface scheme; // null: keep in float
      unsigned uses = 0;
    };
    std::vector<Rule> rules;
    auto addRule = [&](StringRef pattern,
                       QuantSchemeAttrInterface s) -> LogicalResult {
      Rule rule{pattern.str(), llvm::Regex(("^(" + pattern + ")$").str()), s};
      std::string regexError;
      if (!rule.regex.isValid(regexError))
        return module.emitError() << "qc-quantize: bad layer pattern '"
                                  << pattern << "': " << regexError;
      rules.push_back(std::move(rule));
      return success();
    };
    for (const std::string &text : exclude)
      if (failed(addRule(text, {})))
        return signalPassFailure();
    for (const std::string &text : overrides) {
      auto [pattern, name] = StringRef(text).rsplit('=');
      if (pattern.empty() || name.empty()) {
        module.emitError() << "qc-quantize: expected LAYER_REGEX=SCHEME, "
                              "found '"
                           << text << "'";
        return signalPassFailure();
      }
      QuantSchemeAttrInterface s = parseQuantScheme(ctx, name, error);
      if (!s) {
        module.emitError() << "qc-quantize: override '" << text
                           << "': " << error;
        return signalPassFailure();
      }
      if (failed(addRule(pattern, s)))
        return signalPassFailure();
    }

    SmallVector<LinearOp> layers;
    module.walk([&](LinearOp op) { layers.push_back(op); });
    Progress bar("qc-quantize", progress);
    int64_t done = 0;
    for (LinearOp op : layers) {
      bar.step(("quantizing (" + algo + ") " + op.getLayer()).str(), done++,
               static_cast<int64_t>(layers.size()));
      QuantSchemeAttrInterface chosen = defaultScheme;
      bool keepFloat = false;
      for (Rule &rule : rules)
        if (rule.regex.match(op.getLayer())) {
          ++rule.uses;
          chosen = rule.scheme;
          keepFloat = !rule.scheme;
          break;
        }
      if (keepFloat)
        continue;
      // A scheme chosen by qc-assign-precision comes before the defaults.
      if (auto assigned = op->getAttrOfType<StringAttr>("qc.scheme")) {
        chosen = parseQuantScheme(ctx, assigned.getValue(), error);
        if (!chosen) {
          op.emitError() << "qc-quantize: layer '" << op.getLayer()
                         << "' has qc.scheme '" << assigned.getValue()
                         << "': " << error;
          return signalPassFailure();
        }
      }
      if (failed(quantizeLayer(op, chosen)))
        return signalPassFailure();
      ++numQuantized;
    }
    bar.step("quantized (" + algo + ")", done,
             static_cast<int64_t>(layers.size()));
    if (algoUsesAttention(algo) && numAttention == 0)
      module.emitWarning()
          << "qc-quantize: algo=" << algo
          << " found no attention statistics in '" << stats
          << "' (gather them with qc-calibrate --algo " << algo
          << "): every layer "
             "was quantized by GPTQ";
    if (minPlanes > 0 && numAnyBCQ == 0) {
      module.emitError() << "qc-quantize: min-planes (AnyBCQ) is for BCQ "
                            "layers, and no layer has a BCQ scheme";
      return signalPassFailure();
    }
    for (const Rule &rule : rules)
      if (rule.uses == 0) {
        module.emitError() << "qc-quantize: layer pattern '" << rule.pattern
                           << "' matches no layer";
        return signalPassFailure();
      }
  }

  LogicalResult quantizeLayer(LinearOp op, QuantSchemeAttrInterface scheme) {
    int64_t k = op.getInFeatures(), n = op.getOutFeatures();
    auto layerError = [&]() {
      return op.emitError() << "qc-quantize: layer '" << op.getLayer()
                            << "' [" << k << " x " << n << "], scheme "
                            << scheme.getShortName() << ": ";
    };
    if (op.getPanel())
      return layerError() << "the weight is already packed in panels "
                             "(qc-pack-linear-weights runs after quantization)";
    FailureOr<std::vector<float>> weight = getConstantFloats(op.getWeight());
    if (failed(weight) || !op.getWeight().getType().getElementType().isF32())
      return layerError() << "the weight is not a constant f32 tensor";
    if (failed(scheme.verifyShape(k, n, layerError)))
      return failure();
    // AnyBCQ: BCQ layers compute with `planes` of their scheme's planes;
    // the others (a uniform override, say) are quantized as without it.
    if (auto bcq = dyn_cast<BCQAttr>(scheme); bcq && minPlanes > 0) {
      if (bcq.getStoredPlanes() || bcq.getPlanes() < minPlanes ||
          bcq.getPlanes() < planes)
        return layerError() << "AnyBCQ (min-planes=" << unsigned(minPlanes)
                            << ", planes=" << unsigned(planes)
                            << ") needs at least that many planes";
      scheme = BCQAttr::get(op.getContext(), planes ? planes : bcq.getPlanes(),
                            bcq.getGroup(), bcq.getOffset(),
                            bcq.getScaleType(), bcq.getPlanes());
      ++numAnyBCQ;
    }

    const quant::TapStats *layerStats =
        stats.empty() ? nullptr : calibration.lookup(op.getLayer().str());
    if (options.usesHessian() && !layerStats)
      return layerError() << "no calibration statistics for this layer in '"
                          << stats << "'";
    quant::AttentionStats attention;
    std::string attentionError;
    if (algoUsesAttention(algo) &&
        !quant::attentionStatsFromTaps(calibration.taps, op.getLayer().str(),
                                       k, n, attention, attentionError))
      return layerError() << attentionError;
    numAttention += !attention.empty();
    std::string err;
    ActivationAttr activation = *activationFor(act, scheme, err);
    if (activation && activation.isStatic()) {
      if (!layerStats || layerStats->K != k)
        return layerError() << "static int8 activations need this layer's "
                               "calibration statistics, which '"
                            << stats << "' does not have";
      activation = staticActivation(*layerStats);
    }
    QuantizedWeight q;
    if (!quantizeWeights(scheme, *weight, k, n, options, layerStats, q, err,
                         &attention))
      return layerError() << err;
    emit(op, scheme, activation, q, *weight, layerStats);
    return success();
  }

  /// Static int8 on the calibration inputs' max |x|: scale = max / 127,
  /// zero point 0 (1 where every input was 0: any scale is exact then).
  ActivationAttr staticActivation(const quant::TapStats &tap) {
    float maxAbs = 0;
    for (float v : tap.absMax)
      maxAbs = std::max(maxAbs, v);
    float scale = maxAbs / 127.0f;
    if (!(scale >= std::numeric_limits<float>::min()))
      scale = 1.0f;
    return ActivationAttr::get(&getContext(), scale, /*zeroPoint=*/0);
  }

  // -- emission -------------------------------------------------------------

  /// A dense_resource constant named after the layer.
  Value resource(OpBuilder &b, Location loc, StringRef name,
                 RankedTensorType type, ArrayRef<char> bytes) {
    AsmResourceBlob blob =
        HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(uint64_t));
    auto attr = DenseResourceElementsAttr::get(type, name, std::move(blob));
    return arith::ConstantOp::create(b, loc, attr);
  }

  Value floats(OpBuilder &b, Location loc, StringRef name,
               ArrayRef<int64_t> shape, Type type, ArrayRef<float> values) {
    auto tensorType = RankedTensorType::get(shape, type);
    if (type.isF32())
      return resource(b, loc, name, tensorType,
                      ArrayRef<char>(reinterpret_cast<const char *>(
                                         values.data()),
                                     values.size() * sizeof(float)));
    std::vector<uint16_t> half(values.size());
    for (size_t i = 0; i < values.size(); ++i)
      half[i] = toHalfBits(values[i], type);
    return resource(b, loc, name, tensorType,
                    ArrayRef<char>(reinterpret_cast<const char *>(half.data()),
                                   half.size() * sizeof(uint16_t)));
  }

  void emit(LinearOp op, QuantSchemeAttrInterface scheme,
            ActivationAttr activation, QuantizedWeight &q,
            const std::vector<float> &weight,
            const quant::TapStats *layerStats) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    int64_t k = op.getInFeatures(), n = op.getOutFeatures();
    SmallVector<int64_t> codesShape, scalesShape, zerosShape, bookShape;
    scheme.getOperandShapes(k, n, codesShape, scalesShape, zerosShape,
                            bookShape);
    std::string layer = op.getLayer().str();
    Type scaleType = TypeSwitch<Attribute, Type>(scheme)
                         .Case<UniformAttr, BCQAttr, CodebookAttr>(
                             [](auto s) { return s.getScaleType(); })
                         .Default([&](Attribute) { return b.getF32Type(); });

    Value codes;
    if (q.codesType && q.codesType.isInteger(32)) {
      codes = resource(b, loc, layer + ".codes",
                       RankedTensorType::get(codesShape, q.codesType),
                       ArrayRef<char>(reinterpret_cast<const char *>(
                                          q.codes.data()),
                                      q.codes.size() * sizeof(int32_t)));
    } else {
      std::vector<int8_t> narrow(q.codes.begin(), q.codes.end());
      codes = resource(b, loc, layer + ".codes",
                       RankedTensorType::get(codesShape, b.getI8Type()),
                       ArrayRef<char>(reinterpret_cast<const char *>(
                                          narrow.data()),
                                      narrow.size()));
    }
    Value scales =
        floats(b, loc, layer + ".scales", scalesShape, scaleType, q.scales);
    Value zeros, book;
    if (!zerosShape.empty())
      zeros = floats(b, loc, layer + ".zeros", zerosShape, scaleType, q.zeros);
    if (!bookShape.empty())
      book = floats(b, loc, layer + ".codebook", bookShape, b.getF16Type(),
                    q.codebook);

    // Report: weight MSE and output MSE on 8 Gaussian inputs (fixed seed).
    double weightMSE = 0;
    for (int64_t i = 0; i < k * n; ++i) {
      double d = static_cast<double>(q.dequantized[i]) - weight[i];
      weightMSE += d * d;
    }
    weightMSE /= static_cast<double>(k * n);
    std::mt19937_64 rng(0);
    std::normal_distribution<float> normal;
    const int64_t rows = 8;
    double outputMSE = 0;
    std::vector<float> x(k);
    for (int64_t r = 0; r < rows; ++r) {
      for (float &v : x)
        v = normal(rng);
      for (int64_t c = 0; c < n; ++c) {
        double diff = 0;
        for (int64_t i = 0; i < k; ++i)
          diff += static_cast<double>(x[i]) *
                  (static_cast<double>(q.dequantized[i * n + c]) -
                   weight[i * n + c]);
        outputMSE += diff * diff;
      }
    }
    outputMSE /= static_cast<double>(rows * n);

    auto qlinear = QLinearOp::create(b, loc, op.getType(), op.getInput(),
                                     codes, scales, zeros, book, op.getBias(),
                                     scheme, op.getLayerAttr());
    qlinear.setActAttr(activation);
    SmallVector<NamedAttribute> entries = {
        b.getNamedAttr("scheme", b.getStringAttr(scheme.getShortName())),
        b.getNamedAttr("act", b.getStringAttr(activation
                                                  ? activation.getShortName()
                                                  : "f32")),
        b.getNamedAttr("algo", b.getStringAttr(q.algo)),
        b.getNamedAttr("bits_per_weight",
                       b.getF64FloatAttr(scheme.getBitsPerWeight(k, n))),
        b.getNamedAttr("bytes",
                       b.getI64IntegerAttr(scheme.getStorageBytes(k, n))),
        b.getNamedAttr("weight_mse", b.getF64FloatAttr(weightMSE)),
        b.getNamedAttr("output_mse", b.getF64FloatAttr(outputMSE))};
    // With calibration statistics: the mean squared output error per output
    // on the calibration tokens, sum_n dw_n^T H dw_n / (rows * N).
    if (layerStats && layerStats->rows > 0 && layerStats->K == k)
      entries.push_back(b.getNamedAttr(
          "calib_output_mse",
          b.getF64FloatAttr(quant::hessianError(weight.data(),
                                                q.dequantized.data(), k, n,
                                                layerStats->H.data()) /
                            (double(layerStats->rows) * double(n)))));
    qlinear->setAttr("qc.report", b.getDictionaryAttr(entries));
    op.replaceAllUsesWith(qlinear.getResult());
    Operation *weightDef = op.getWeight().getDefiningOp();
    op.erase();
    // The float weight is dead unless something else reads it (a tied
    // embedding); left in place it would be stored in the artifact too.
    if (weightDef && weightDef->use_empty())
      weightDef->erase();
  }
};

} // namespace
