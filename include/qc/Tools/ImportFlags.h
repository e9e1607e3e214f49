//===- ImportFlags.h - command-line flags shared by qc tools ----*- C++ -*-===//

#ifndef QC_TOOLS_IMPORTFLAGS_H
#define QC_TOOLS_IMPORTFLAGS_H

#include "qc/Import/ONNX.h"

#include "llvm/Support/CommandLine.h"

namespace qc {

/// The `--input-shape` and `--dim` flags of every tool that imports ONNX.
struct ImportFlags {
  llvm::cl::list<std::string> inputShapes{
      "input-shape",
      llvm::cl::desc("static shape of a graph input: NAME=D0xD1x... "
                     "(repeatable)"),
      llvm::cl::value_desc("name=shape")};
  llvm::cl::list<std::string> dims{
      "dim",
      llvm::cl::desc("value of a symbolic dimension: NAME=N (repeatable)"),
      llvm::cl::value_desc("name=n")};
  llvm::cl::opt<bool> noChecker{
      "no-onnx-checker",
      llvm::cl::desc("skip the ONNX checker and shape inference")};

  /// Fills `options`; returns an error message or "".
  std::string apply(ONNXImportOptions &options) const {
    for (const std::string &s : inputShapes)
      if (std::string e = parseInputShapeFlag(s, options); !e.empty())
        return e;
    for (const std::string &s : dims)
      if (std::string e = parseDimFlag(s, options); !e.empty())
        return e;
    options.runChecker = !noChecker;
    return "";
  }
};

} // namespace qc

#endif // QC_TOOLS_IMPORTFLAGS_H
