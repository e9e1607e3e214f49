//===- recipe_fuzzer.cpp - libFuzzer harness of the recipe reader ---------===//
//
// Any bytes as a JSON recipe: readQuantRecipe accepts them or refuses with a
// message; an accepted recipe's layer patterns compile or are refused with
// a message, and it becomes a qc-quantize pass whose options are the
// recipe's own (a value cannot smuggle in other options), or is refused.
// A crash file reproduces with `qc-compile MODEL --recipe FILE`.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include "qc/Transforms/Passes.h"
#include "qc/Transforms/QuantRecipe.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

namespace {

/// Whether the printed pipeline `text` has option `key` set to `value`
/// exactly (delimited by the option list's spaces and braces).
bool hasOption(const std::string &text, const std::string &key,
               const std::string &value) {
  std::string needle = key + "=" + value;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    size_t end = at + needle.size();
    if (at > 0 && (text[at - 1] == ' ' || text[at - 1] == '{') &&
        end < text.size() && (text[end] == ' ' || text[end] == '}'))
      return true;
  }
  return false;
}

/// `recipe` as a pass pipeline; checks that the pipeline's printed options
/// carry the recipe's scheme and algorithm unchanged.
void checkPass(const qc::QuantRecipe &recipe) {
  qc::fuzz::CountingContext context;
  mlir::PassManager pm(context.get());
  // Messages of refused options go to stderr; the fuzzer only cares that
  // a refusal is a refusal.
  if (mlir::failed(qc::addQuantizePass(pm, recipe)))
    return;
  std::string text;
  llvm::raw_string_ostream os(text);
  pm.printAsTextualPipeline(os);
  if (!hasOption(text, "scheme", recipe.scheme) ||
      !hasOption(text, "algo", recipe.algo))
    __builtin_trap(); // an option's value leaked into another option
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const bool registered = [] {
    qc::registerQCTransformsPasses();
    return true;
  }();
  (void)registered;
  std::string path = qc::fuzz::writeInput(data, size, "json");
  if (path.empty())
    return 0;
  qc::QuantRecipe recipe;
  std::string error;
  if (!qc::readQuantRecipe(path, recipe, error)) {
    if (error.empty())
      __builtin_trap();
    return 0;
  }
  std::vector<std::string> patterns = recipe.exclude;
  for (const auto &[pattern, scheme] : recipe.overrides)
    patterns.push_back(pattern);
  qc::LayerPatterns compiled;
  if (!compiled.compile(patterns, error)) {
    if (error.empty())
      __builtin_trap();
    return 0;
  }
  (void)recipe.schemeFor("model.layers.0.mlp.down_proj");
  checkPass(recipe);
  return 0;
}
