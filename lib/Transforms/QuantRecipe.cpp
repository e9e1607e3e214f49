//===- QuantRecipe.cpp - quantization recipes and reports -----------------===//

#include "qc/Transforms/QuantRecipe.h"

#include "QC/IR/QCOps.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;
using namespace qc;

/// Whether `name` can be a scheme, algorithm, clipping or activation name:
/// they reach qc-quantize as pass options, so a space, quote, brace or '='
/// would set other options than the one it names.
static bool isPlainName(StringRef name) {
  return !name.empty() && llvm::all_of(name, [](char c) {
    return llvm::isAlnum(c) || c == '_' || c == '-' || c == '.';
  });
}

std::string QuantRecipe::check() const {
  auto name = [](StringRef what, StringRef value) -> std::string {
    if (isPlainName(value))
      return "";
    return (what + " must be a name (letters, digits, '_', '-', '.'), not '" +
            value + "'")
        .str();
  };
  // Patterns and paths travel single-quoted.
  auto quotable = [](StringRef what, StringRef value) -> std::string {
    if (!value.contains('\''))
      return "";
    return (what + " '" + value + "' contains a single quote (not allowed)")
        .str();
  };
  std::string e;
  if (!scheme.empty() && !(e = name("the scheme", scheme)).empty())
    return e;
  if (!(e = name("the activation scheme", act)).empty() ||
      !(e = name("the clipping", clip)).empty() ||
      !(e = name("the algorithm", algo)).empty())
    return e;
  for (const auto &[pattern, s] : overrides)
    if (!(e = quotable("layer pattern", pattern)).empty() ||
        !(e = name("override '" + pattern + "'", s)).empty())
      return e;
  for (const std::string &pattern : exclude)
    if (!(e = quotable("layer pattern", pattern)).empty())
      return e;
  for (const std::string &c : candidates)
    if (!(e = name("a candidate scheme", c)).empty())
      return e;
  if (!(e = quotable("statistics file", stats)).empty() ||
      !(e = quotable("recipe file", assignRecipe)).empty())
    return e;
  return "";
}

bool qc::readQuantRecipe(StringRef path, QuantRecipe &recipe,
                         std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    error = (path + ": " + buffer.getError().message()).str();
    return false;
  }
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json) {
    error = (path + ": " + llvm::toString(json.takeError())).str();
    return false;
  }
  const llvm::json::Object *root = json->getAsObject();
  if (!root) {
    error = (path + ": the recipe must be a JSON object").str();
    return false;
  }
  auto fail = [&](const Twine &msg) {
    error = (path + ": " + msg).str();
    return false;
  };
  for (const auto &[key, value] : *root) {
    if (key == "scheme" || key == "clip" || key == "algo" || key == "act") {
      std::optional<StringRef> s = value.getAsString();
      if (!s)
        return fail("'" + StringRef(key) + "' must be a string");
      (key == "scheme"  ? recipe.scheme
       : key == "clip" ? recipe.clip
       : key == "act"  ? recipe.act
                       : recipe.algo) = s->str();
    } else if (key == "smooth") {
      std::optional<double> alpha = value.getAsNumber();
      if (!alpha || !(*alpha > 0 && *alpha <= 1))
        return fail("'smooth' must be a number in (0, 1]");
      recipe.smooth = *alpha;
    } else if (key == "rotate") {
      std::optional<bool> on = value.getAsBoolean();
      if (!on)
        return fail("'rotate' must be true or false");
      recipe.rotate = *on;
    } else if (key == "overrides") {
      const llvm::json::Object *map = value.getAsObject();
      if (!map)
        return fail("'overrides' must map layer patterns to schemes");
      for (const auto &[pattern, s] : *map) {
        std::optional<StringRef> name = s.getAsString();
        if (!name)
          return fail("override '" + StringRef(pattern) +
                      "' must be a scheme name");
        recipe.overrides.emplace_back(pattern.str(), name->str());
      }
    } else if (key == "exclude") {
      const llvm::json::Array *list = value.getAsArray();
      if (!list)
        return fail("'exclude' must be a list of layer patterns");
      for (const llvm::json::Value &item : *list) {
        std::optional<StringRef> pattern = item.getAsString();
        if (!pattern)
          return fail("'exclude' entries must be strings");
        recipe.exclude.push_back(pattern->str());
      }
    } else {
      return fail("unknown key '" + StringRef(key) +
                  "' (expected scheme, act, smooth, rotate, clip, algo, overrides, "
                  "exclude)");
    }
  }
  if (recipe.scheme.empty())
    return fail("the recipe names no 'scheme'");
  if (std::string e = recipe.check(); !e.empty())
    return fail(e);
  return true;
}

LogicalResult qc::addQuantizePass(OpPassManager &pm,
                                  const QuantRecipe &recipe) {
  // Options go through the pass's textual form, like qc-opt's: a value
  // that could set another option is refused (the tools check first, with
  // their own prefix; this is the library's guard).
  if (std::string e = recipe.check(); !e.empty()) {
    llvm::errs() << "qc-quantize: " << e << "\n";
    return failure();
  }
  auto quote = [](StringRef s) { return "'" + s.str() + "'"; };
  std::string scheme = recipe.scheme.empty() ? "w4g128" : recipe.scheme;
  if (recipe.assignBits > 0) {
    std::string assign = llvm::formatv("budget={0} stats={1}",
                                       recipe.assignBits, quote(recipe.stats))
                             .str();
    if (!recipe.candidates.empty()) {
      assign += " candidates=";
      for (size_t i = 0; i < recipe.candidates.size(); ++i)
        assign += (i ? "," : "") + recipe.candidates[i];
    }
    if (!recipe.assignRecipe.empty())
      assign += " recipe=" + quote(recipe.assignRecipe);
    if (!recipe.exclude.empty()) {
      assign += " exclude=";
      for (size_t i = 0; i < recipe.exclude.size(); ++i)
        assign += (i ? "," : "") + quote(recipe.exclude[i]);
    }
    if (failed(parsePassPipeline("qc-assign-precision{" + assign + "}", pm)))
      return failure();
  }
  std::string options = "scheme=" + scheme + " clip=" + recipe.clip +
                        " algo=" + recipe.algo + " act=" + recipe.act;
  if (!recipe.stats.empty())
    options += " stats=" + quote(recipe.stats);
  if (recipe.twoStage)
    options += " two-stage=true";
  if (recipe.inputCorrection)
    options += " input-correction=true";
  if (recipe.actOrder)
    options += " act-order=true";
  options += llvm::formatv(" damp={0}", recipe.damp).str();
  if (recipe.minPlanes)
    options += llvm::formatv(" min-planes={0}", recipe.minPlanes).str();
  if (recipe.planes)
    options += llvm::formatv(" planes={0}", recipe.planes).str();
  if (recipe.progress)
    options += " progress=true";
  if (!recipe.overrides.empty()) {
    options += " overrides=";
    for (size_t i = 0; i < recipe.overrides.size(); ++i)
      options += (i ? "," : "") + quote(recipe.overrides[i].first + "=" +
                                        recipe.overrides[i].second);
  }
  if (!recipe.exclude.empty()) {
    options += " exclude=";
    for (size_t i = 0; i < recipe.exclude.size(); ++i)
      options += (i ? "," : "") + quote(recipe.exclude[i]);
  }
  return parsePassPipeline("qc-quantize{" + options + "}", pm);
}

bool LayerPatterns::compile(ArrayRef<std::string> patterns,
                            std::string &error) {
  regexes.clear();
  for (const std::string &pattern : patterns) {
    regexes.emplace_back("^(" + pattern + ")$");
    std::string why;
    if (!regexes.back().isValid(why)) {
      error = "bad layer pattern '" + pattern + "': " + why;
      return false;
    }
  }
  return true;
}

bool LayerPatterns::matches(StringRef layer) const {
  return llvm::any_of(regexes,
                      [&](const llvm::Regex &re) { return re.match(layer); });
}

std::string QuantRecipe::schemeFor(StringRef layer) const {
  // Same order as qc-quantize: exclusions, then overrides, first match.
  for (const std::string &e : exclude)
    if (llvm::Regex("^(" + e + ")$").match(layer))
      return "";
  for (const auto &[pattern, s] : overrides)
    if (llvm::Regex("^(" + pattern + ")$").match(layer))
      return s;
  return scheme.empty() ? "w4g128" : scheme;
}

std::vector<QuantReportRow> qc::collectQuantReport(ModuleOp module) {
  std::vector<QuantReportRow> rows;
  module.walk([&](QLinearOp op) {
    auto report = op->getAttrOfType<DictionaryAttr>("qc.report");
    if (!report)
      return;
    QuantReportRow row;
    row.layer = op.getLayer().str();
    row.k = op.getInFeatures();
    row.n = op.getOutFeatures();
    if (auto s = report.getAs<StringAttr>("scheme"))
      row.scheme = s.str();
    if (auto s = report.getAs<StringAttr>("act"))
      row.act = s.str();
    if (auto v = report.getAs<IntegerAttr>("bytes"))
      row.bytes = v.getInt();
    if (auto v = report.getAs<FloatAttr>("bits_per_weight"))
      row.bitsPerWeight = v.getValueAsDouble();
    if (auto v = report.getAs<FloatAttr>("weight_mse"))
      row.weightMSE = v.getValueAsDouble();
    if (auto v = report.getAs<FloatAttr>("output_mse"))
      row.outputMSE = v.getValueAsDouble();
    if (auto v = report.getAs<FloatAttr>("calib_output_mse"))
      row.calibOutputMSE = v.getValueAsDouble();
    if (auto a = report.getAs<StringAttr>("algo"))
      row.algo = a.str();
    rows.push_back(row);
  });
  return rows;
}

void qc::printQuantReport(llvm::raw_ostream &os,
                          const std::vector<QuantReportRow> &rows) {
  // With calibration statistics: the algorithm and the output MSE on the
  // calibration data (what GPTQ minimizes) as two more columns.
  bool calibrated = llvm::any_of(
      rows, [](const QuantReportRow &r) { return r.calibOutputMSE >= 0; });
  os << llvm::format("%-40s %13s %-10s %-9s %6s %12s %11s %11s", "layer",
                     "K x N", "scheme", "act", "bpw", "bytes", "weight MSE",
                     "output MSE");
  if (calibrated)
    os << llvm::format(" %-12s %11s", "algo", "calib MSE");
  os << "\n";
  int64_t weights = 0, bytes = 0;
  for (const QuantReportRow &r : rows) {
    std::string shape = std::to_string(r.k) + " x " + std::to_string(r.n);
    os << llvm::format("%-40s %13s %-10s %-9s %6.3f %12lld %11.3e %11.3e",
                       r.layer.c_str(), shape.c_str(), r.scheme.c_str(),
                       r.act.c_str(), r.bitsPerWeight, static_cast<long long>(r.bytes),
                       r.weightMSE, r.outputMSE);
    if (calibrated)
      os << llvm::format(" %-12s %11.3e", r.algo.c_str(), r.calibOutputMSE);
    os << "\n";
    weights += r.k * r.n;
    bytes += r.bytes;
  }
  os << llvm::format("%-40s %13lld %-10s %-9s %6.3f %12lld\n",
                     "total (quantized)", static_cast<long long>(weights), "",
                     "",
                     weights ? 8.0 * bytes / weights : 0.0,
                     static_cast<long long>(bytes));
}

std::string qc::quantReportJSON(const std::vector<QuantReportRow> &rows) {
  llvm::json::Array layers;
  int64_t weights = 0, bytes = 0;
  for (const QuantReportRow &r : rows) {
    layers.push_back(llvm::json::Object{{"layer", r.layer},
                                        {"k", r.k},
                                        {"n", r.n},
                                        {"scheme", r.scheme},
                                        {"act", r.act},
                                        {"bits_per_weight", r.bitsPerWeight},
                                        {"bytes", r.bytes},
                                        {"weight_mse", r.weightMSE},
                                        {"output_mse", r.outputMSE},
                                        {"algo", r.algo}});
    if (r.calibOutputMSE >= 0)
      (*layers.back().getAsObject())["calib_output_mse"] = r.calibOutputMSE;
    weights += r.k * r.n;
    bytes += r.bytes;
  }
  llvm::json::Object total{
      {"weights", weights},
      {"bytes", bytes},
      {"bits_per_weight", weights ? 8.0 * bytes / weights : 0.0}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}",
                      llvm::json::Value(llvm::json::Object{
                          {"layers", std::move(layers)},
                          {"total", std::move(total)}}));
  return text;
}
