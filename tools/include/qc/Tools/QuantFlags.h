//===- QuantFlags.h - quantization flags shared by qc tools -----*- C++ -*-===//

#ifndef QC_TOOLS_QUANTFLAGS_H
#define QC_TOOLS_QUANTFLAGS_H

#include "qc/Tools/ImportFlags.h"
#include "qc/Transforms/QuantRecipe.h"

#include "llvm/Support/CommandLine.h"

namespace qc {

/// `--quant`, `--recipe`, `--quant-override`, `--quant-exclude` and
/// `--quant-clip`, as qc-compile and qc-export-onnx take them.
struct QuantFlags {
  llvm::cl::opt<std::string> quant{
      "quant",
      llvm::cl::desc(
          "quantize the weights of every linear layer with this scheme: "
          "w4g128, w3g128, w2g64, w3g128ic (per-IC groups), w4g128s "
          "(symmetric), bcq3g128, cb2x8, fp8, mxfp4, amxfp4, dint4g128"),
      llvm::cl::value_desc("scheme"), llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> recipeFile{
      "recipe",
      llvm::cl::desc("quantization recipe (JSON): scheme, act, clip, overrides "
                     "{layer regex: scheme}, exclude [regex]"),
      llvm::cl::value_desc("file.json"), llvm::cl::cat(toolCategory())};
  llvm::cl::list<std::string> overrides{
      "quant-override",
      llvm::cl::desc("scheme for the layers matching a regex: REGEX=SCHEME "
                     "(repeatable, first match wins)"),
      llvm::cl::value_desc("regex=scheme"), llvm::cl::cat(toolCategory())};
  llvm::cl::list<std::string> exclude{
      "quant-exclude",
      llvm::cl::desc("leave the layers matching a regex in float "
                     "(repeatable)"),
      llvm::cl::value_desc("regex"), llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> act{
      "act",
      llvm::cl::desc(
          "activation scheme of the quantized layers: auto (int8 for "
          "uniform and BCQ weights, float for the others), f32, int8, int8t "
          "(a scale per token), int8b<B> (per B inputs), int4, int4t, "
          "int4b<B>, dint4, dint4t, dint4b<B> (4-bit dINT), mxfp4, amxfp4, "
          "int8s (static: one scale per layer input, "
          "max |x| / 127 on the calibration data, needs --calib-data); "
          "qc-compile: also of the layers imported quantized (default: as "
          "imported)"),
      llvm::cl::value_desc("scheme"), llvm::cl::init("auto"),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<double> smooth{
      "smooth",
      llvm::cl::desc("SmoothQuant before quantizing: migrate activation "
                     "outliers into the weights with this strength alpha in "
                     "(0, 1] (needs --calib-data, or --calib-stats of the "
                     "float model)"),
      llvm::cl::value_desc("alpha"), llvm::cl::init(0.0),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<bool> rotate{
      "rotate",
      llvm::cl::desc("Hadamard rotations before quantizing (QuaRot): the "
                     "residual stream rotated into the weights, the other "
                     "layers' inputs rotated online"),
      llvm::cl::init(false), llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> clip{
      "quant-clip",
      llvm::cl::desc("clipping search of uniform grids: mse or minmax"),
      llvm::cl::init("mse"), llvm::cl::cat(toolCategory())};

  llvm::cl::opt<unsigned> minPlanes{
      "min-planes",
      llvm::cl::desc("AnyBCQ: fit the BCQ layers (--quant bcq<P>g<G>) for "
                     "every precision from N planes to P; qc-compile "
                     "writes one artifact with an entry per precision "
                     "(qc-run --planes)"),
      llvm::cl::init(0), llvm::cl::cat(toolCategory())};

  /// Fills `recipe` (empty when no quantization was asked for); returns an
  /// error message or "". `--act` alone (no --quant) is an error unless
  /// `actAlone` (the tool applies it to layers imported quantized).
  std::string apply(QuantRecipe &recipe, bool actAlone = false) const {
    std::string error;
    if (!recipeFile.empty() && !readQuantRecipe(recipeFile, recipe, error))
      return error;
    recipe.progress = true; // a tool: progress when stderr is a terminal
    if (!quant.empty())
      recipe.scheme = quant;
    if (recipeFile.empty() || clip.getNumOccurrences())
      recipe.clip = clip;
    if (recipeFile.empty() || act.getNumOccurrences())
      recipe.act = act;
    if (smooth.getNumOccurrences()) {
      if (!(smooth > 0 && smooth <= 1))
        return "--smooth must be in (0, 1]";
      recipe.smooth = smooth;
    }
    if (rotate.getNumOccurrences())
      recipe.rotate = rotate;
    for (const std::string &o : overrides) {
      auto [pattern, scheme] = llvm::StringRef(o).rsplit('=');
      if (pattern.empty() || scheme.empty())
        return "expected --quant-override REGEX=SCHEME, found '" + o + "'";
      recipe.overrides.emplace_back(pattern.str(), scheme.str());
    }
    for (const std::string &e : exclude)
      recipe.exclude.push_back(e);
    if (minPlanes.getNumOccurrences()) {
      if (recipe.empty())
        return "--min-planes needs --quant bcq<planes>g<group>";
      if (minPlanes < 1 || minPlanes > 8)
        return "--min-planes must be in [1, 8], not " +
               std::to_string(unsigned(minPlanes));
      recipe.minPlanes = minPlanes;
    }
    if (recipe.empty() && (!overrides.empty() || !exclude.empty()))
      return "--quant-override and --quant-exclude need --quant or --recipe";
    if (recipe.empty() && act.getNumOccurrences() && !actAlone)
      return "--act needs --quant or --recipe";
    if (recipe.empty() && recipe.smooth > 0)
      return "--smooth needs --quant or --recipe";
    if (recipe.empty() && recipe.rotate)
      return "--rotate needs --quant or --recipe";
    if (recipe.smooth > 0 && recipe.rotate)
      return "--smooth and --rotate do not combine: the rotation moves the "
             "norm weights that smoothing divides into the layers' weights";
    return recipe.check();
  }
};

} // namespace qc

#endif // QC_TOOLS_QUANTFLAGS_H
