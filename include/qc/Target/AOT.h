//===- AOT.h - ahead-of-time compilation to a qc artifact -------*- C++ -*-===//

#ifndef QC_TARGET_AOT_H
#define QC_TARGET_AOT_H

#include "qc/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <utility>
#include <vector>

namespace qc {

struct AOTOptions {
  /// Folder that receives model.so, model.qcw and manifest.json.
  std::string outputDir;
  /// Entry function of the module.
  std::string entry = "main";
  /// LLVM CPU name ("host" for the machine compiling) and extra features.
  std::string cpu = "host";
  std::string features;
  /// LLVM optimization level of the host code.
  unsigned optLevel = 3;
  /// Where to also write intermediate IR for inspection (empty: none).
  std::string dumpLLVMIR;
  bool vectorize = true;
  /// Quantized layers: "generated" (qc-select-kernel picks a generated
  /// kernel where one fits) or "reference" (dequantize, then matmul).
  std::string kernels = "generated";
  /// The qc-select-kernel target (host, x86-64-v3, x86-64-v4, ...).
  std::string kernelTarget = "host";
  /// Uniform layers take LUT-GEMM through their BCQ form.
  bool uniformLut = false;
  /// Float linear weights in register-tile panels. Off keeps every weight
  /// in its graph layout, so a caller can replace it at run time
  /// (qcrt_run_with_weights; block-by-block calibration does).
  bool packWeights = true;
  /// Print the time of each pass and LLVM phase on stderr.
  bool timePasses = false;
  /// The C compiler driver used to link the shared object.
  std::string linker = "cc";
  /// More files of the artifact (name, contents), written with the others
  /// (a GGUF model's tokenizer.json, say).
  std::vector<std::pair<std::string, std::string>> extraFiles;
};

/// Checks `cpu` ("host" or an LLVM CPU name) and `features` (comma-
/// separated +name / -name) against the LLVM target of this machine's
/// triple; returns "" when both are known, else a message naming the bad
/// one (LLVM would otherwise warn and carry on, or abort).
std::string checkTargetOptions(llvm::StringRef cpu, llvm::StringRef features);

/// Compiles `module` (graph IR on tensors, possibly with qc ops) into the
/// artifact described in docs/artifact.md. Reports errors as diagnostics;
/// on failure no artifact file is left behind.
mlir::LogicalResult compileToArtifact(mlir::ModuleOp module,
                                      const AOTOptions &options);

/// One entry point of an artifact: a module compiled for it, and its name
/// ("" for the default entry, `qc_entry`; else `qc_entry_<name>`).
struct ArtifactEntry {
  std::string name;
  mlir::ModuleOp module;
  /// AnyBCQ: the bit-planes this entry computes with (its manifest's
  /// `planes` record); 0 for none.
  unsigned planes = 0;
};

/// Compiles several entry points into one artifact: the first is the
/// default entry, each other is exported under its name, and a weight that
/// several entries hold with the same bytes is stored once (an LLM's
/// prefill and decode steps, say). Each module needs a function named
/// options.entry.
mlir::LogicalResult compileToArtifact(llvm::ArrayRef<ArtifactEntry> entries,
                                      const AOTOptions &options);

} // namespace qc

#endif // QC_TARGET_AOT_H
