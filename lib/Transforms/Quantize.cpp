//===- Quantize.cpp - qc.linear to qc.qlinear by post-training quantization ===//

#include "QC/QCAttrs.h"
#include "QC/QCOps.h"
#include "qc/Quant/BCQ.h"
#include "qc/Quant/Codebook.h"
#include "qc/Quant/FloatFormats.h"
#include "qc/Quant/Uniform.h"
#include "qc/Transforms/ConstantData.h"
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Regex.h"

#include <random>

namespace qc {
#define GEN_PASS_DEF_QUANTIZE
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {

/// The quantized operands of one layer in canonical layout, plus the
/// dequantized weight for the report.
struct QuantizedWeight {
  std::vector<int32_t> codes;          // widened; narrowed on emission
  SmallVector<int64_t> codesShape;
  Type codesType;                      // i8 or i32
  std::vector<float> scales, zeros, codebook;
  std::vector<float> dequantized;      // K x N
};

struct QuantizePass : qc::impl::QuantizeBase<QuantizePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (algo != "rtn") {
      module.emitError() << "qc-quantize: unknown algo '" << algo
                         << "' (this build has: rtn)";
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
    if (!defaultScheme) {
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
    for (LinearOp op : layers) {
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
      if (failed(quantizeLayer(op, chosen)))
        return signalPassFailure();
      ++numQuantized;
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
    FailureOr<std::vector<float>> weight = getConstantFloats(op.getWeight());
    if (failed(weight) || !op.getWeight().getType().getElementType().isF32())
      return layerError() << "the weight is not a constant f32 tensor";
    if (failed(scheme.verifyShape(k, n, layerError)))
      return failure();

    QuantizedWeight q;
    std::string err;
    bool ok = TypeSwitch<Attribute, bool>(scheme)
                  .Case<UniformAttr>([&](UniformAttr s) {
                    return uniform(s, *weight, k, n, q, err);
                  })
                  .Case<BCQAttr>([&](BCQAttr s) {
                    return bcq(s, *weight, k, n, q, err);
                  })
                  .Case<CodebookAttr>([&](CodebookAttr s) {
                    return codebook(s, *weight, k, n, q, err);
                  })
                  .Case<FloatFormatAttr>([&](FloatFormatAttr s) {
                    return floats(s, *weight, k, n, q, err);
                  })
                  .Default([&](Attribute) {
                    err = "no quantizer for this scheme";
                    return false;
                  });
    if (!ok)
      return layerError() << err;
    emit(op, scheme, q, *weight);
    return success();
  }

  /// Rounds values through a scale's storage type, so that the report and
  /// the run see the same numbers.
  static void roundAll(std::vector<float> &values, Type type) {
    for (float &v : values)
      v = roundToType(v, type);
  }

  // -- per-scheme quantizers (canonical layouts, see QCAttrs.td) ------------

  bool uniform(UniformAttr s, const std::vector<float> &w, int64_t k,
               int64_t n, QuantizedWeight &q, std::string &err) {
    quant::UniformParams params;
    params.bits = s.getBits();
    params.group = s.getGroup();
    params.perIC = s.getPerIc();
    params.symmetric = s.getSymmetric();
    quant::UniformResult r;
    if (!quant::quantizeUniformRTN(w.data(), k, n, params,
                                   clip == "mse" ? quant::ClipSearch::MSE
                                                 : quant::ClipSearch::MinMax,
                                   r, err))
      return false;
    q.codes.assign(r.codes.begin(), r.codes.end());
    q.codesShape = {k, n};
    roundAll(r.scales, s.getScaleType());
    q.scales = r.scales;
    if (!s.getSymmetric())
      q.zeros = r.zeros;
    r.scales = q.scales;
    return quant::dequantizeUniform(r, q.dequantized, err);
  }

  bool bcq(BCQAttr s, const std::vector<float> &w, int64_t k, int64_t n,
           QuantizedWeight &q, std::string &err) {
    quant::BCQResult r;
    if (!quant::fitBCQ(w.data(), k, n, s.getPlanes(), s.getGroup(),
                       s.getOffset(), /*alsIters=*/10, r, err))
      return false;
    q.codes.assign(k * n, 0);
    for (int p = 0; p < r.planes; ++p)
      for (int64_t i = 0; i < k * n; ++i)
        if (r.signs[p * k * n + i] > 0)
          q.codes[i] |= 1 << p;
    q.codesShape = {k, n};
    roundAll(r.alphas, s.getScaleType());
    roundAll(r.offsets, s.getScaleType());
    q.scales = r.alphas;
    q.zeros = r.offsets;
    return quant::dequantizeBCQ(r, q.dequantized, err);
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
    q.codesType = IntegerType::get(&getContext(), 32);
    // Codebooks are stored in f16 (see CodebookAttr::getStorageBytes).
    roundAll(r.codebooks, Float16Type::get(&getContext()));
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
      roundAll(r.scales, Float16Type::get(&getContext()));
      q.codes.assign(r.codes.begin(), r.codes.end());
      q.scales = r.scales;
      return quant::dequantizeDInt(r, q.dequantized, err);
    }
    }
    err = "unknown float format";
    return false;
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
            QuantizedWeight &q, const std::vector<float> &weight) {
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
    NamedAttribute entries[] = {
        b.getNamedAttr("scheme", b.getStringAttr(scheme.getShortName())),
        b.getNamedAttr("bits_per_weight",
                       b.getF64FloatAttr(scheme.getBitsPerWeight(k, n))),
        b.getNamedAttr("bytes",
                       b.getI64IntegerAttr(scheme.getStorageBytes(k, n))),
        b.getNamedAttr("weight_mse", b.getF64FloatAttr(weightMSE)),
        b.getNamedAttr("output_mse", b.getF64FloatAttr(outputMSE))};
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
