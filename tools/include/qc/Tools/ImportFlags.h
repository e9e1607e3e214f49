//===- ImportFlags.h - command-line flags shared by qc tools ----*- C++ -*-===//

#ifndef QC_TOOLS_IMPORTFLAGS_H
#define QC_TOOLS_IMPORTFLAGS_H

#include "qc/Import/ONNX.h"

#include "llvm/Support/CommandLine.h"

namespace qc {

/// The category of every qc tool flag; tools hide the others (LLVM's many
/// backend options) from --help with llvm::cl::HideUnrelatedOptions.
inline llvm::cl::OptionCategory &toolCategory() {
  static llvm::cl::OptionCategory category("qc options");
  return category;
}

/// The `--input-shape` and `--dim` flags of every tool that imports ONNX.
struct ImportFlags {
  llvm::cl::list<std::string> inputShapes{
      "input-shape",
      llvm::cl::desc("static shape of a graph input: NAME=D0xD1x... "
                     "(repeatable)"),
      llvm::cl::value_desc("name=shape"), llvm::cl::cat(toolCategory())};
  llvm::cl::list<std::string> dims{
      "dim",
      llvm::cl::desc("value of a symbolic dimension: NAME=N (repeatable)"),
      llvm::cl::value_desc("name=n"), llvm::cl::cat(toolCategory())};
  llvm::cl::list<std::string> bindInputs{
      "bind-input",
      llvm::cl::desc("freeze a graph input to the array in an .npy file; it "
                     "becomes a constant and leaves the signature: "
                     "NAME=FILE.npy (repeatable)"),
      llvm::cl::value_desc("name=file"), llvm::cl::cat(toolCategory())};
  llvm::cl::opt<int64_t> context{
      "context",
      llvm::cl::desc("GGUF models: build the key-value cache form with room "
                     "for N tokens (past and present caches as states, "
                     "run-time positions; 0: no cache, the default)"),
      llvm::cl::value_desc("n"), llvm::cl::init(0),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<bool> noChecker{
      "no-onnx-checker",
      llvm::cl::desc("skip the ONNX checker and shape inference"),
      llvm::cl::cat(toolCategory())};

  /// Fills `options`; returns an error message or "".
  std::string apply(ONNXImportOptions &options) const {
    for (const std::string &s : inputShapes)
      if (std::string e = parseInputShapeFlag(s, options); !e.empty())
        return e;
    for (const std::string &s : dims)
      if (std::string e = parseDimFlag(s, options); !e.empty())
        return e;
    for (const std::string &s : bindInputs)
      if (std::string e = parseBindInputFlag(s, options); !e.empty())
        return e;
    if (context < 0)
      return "--context must be >= 0, not " + std::to_string(context);
    options.kvCacheLength = context;
    options.runChecker = !noChecker;
    return "";
  }
};

} // namespace qc

#endif // QC_TOOLS_IMPORTFLAGS_H
