//===- CompileFlags.h - qc-compile's own flags ------------------*- C++ -*-===//
//
// The flags of qc-compile that are not shared with the other tools (import,
// quantization and calibration flags live in include/qc/Tools), and their
// translation into a CompileRequest with every check a user can fail.
//
//===----------------------------------------------------------------------===//

#ifndef QC_TOOLS_QC_COMPILE_COMPILEFLAGS_H
#define QC_TOOLS_QC_COMPILE_COMPILEFLAGS_H

#include "QC/IR/KVCache.h"
#include "qc/Codegen/KernelTarget.h"
#include "qc/Compiler/Compile.h"
#include "qc/Tools/CalibFlags.h"
#include "qc/Tools/ImportFlags.h"
#include "qc/Tools/QuantFlags.h"

#include "llvm/Support/CommandLine.h"

namespace qc {

struct CompileFlags {
  llvm::cl::opt<std::string> input{
      llvm::cl::Positional, llvm::cl::desc("<model.onnx | module.mlir>"),
      llvm::cl::Required, llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> outputDir{
      "o", llvm::cl::desc("artifact folder"), llvm::cl::value_desc("dir"),
      llvm::cl::Required, llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> cpu{
      "cpu", llvm::cl::desc("target CPU (default: the host's)"),
      llvm::cl::init("host"), llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> features{
      "features", llvm::cl::desc("extra LLVM target features"),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<bool> noVectorize{
      "no-vectorize", llvm::cl::desc("do not tile and vectorize matmuls"),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> kernels{
      "kernels",
      llvm::cl::desc("quantized layers: 'generated' (the generated low-bit "
                     "kernels where one fits, the default) or 'reference' "
                     "(dequantize, then matmul)"),
      llvm::cl::init("generated"), llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> target{
      "target",
      llvm::cl::desc("instruction set of the generated kernels: host, "
                     "x86-64-v3, x86-64-v4, x86-64-v4-vnni, x86-64-v4-vbmi, "
                     "aarch64 or generic (default: host with --cpu=host, "
                     "else generic)"),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<bool> uniformLut{
      "uniform-lut",
      llvm::cl::desc("give uniform 2-4 bit layers the LUT-GEMM kernel "
                     "through their exact binary-coding form instead of "
                     "dequant_i8"),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<bool> noRaise{
      "no-raise-linear", llvm::cl::desc("do not raise matmuls to qc.linear"),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> dumpLLVM{
      "dump-llvm-ir", llvm::cl::desc("also write the LLVM IR here"),
      llvm::cl::value_desc("file"), llvm::cl::cat(toolCategory())};
  llvm::cl::opt<bool> timePasses{
      "timing",
      llvm::cl::desc("print the time of each compiler pass and LLVM phase "
                     "(stderr)"),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> kvCache{
      "kv-cache",
      llvm::cl::desc("storage of the key-value caches (GGUF models "
                     "compiled with --context, GroupQueryAttention): f32 "
                     "(the default), f16, int8 or int4 (groups of 32 "
                     "values with an f32 scale and minimum), or mikv "
                     "(MiKV: every position in int4, the most attended "
                     "eighth also in f16)"),
      llvm::cl::value_desc("format"), llvm::cl::cat(toolCategory())};
  llvm::cl::opt<int64_t> prefill{
      "prefill",
      llvm::cl::desc("models with a key-value cache (--context): also "
                     "compile an entry 'prefill' that takes N prompt tokens "
                     "a step (input_ids=1xN) next to the default one-token "
                     "decode step, sharing its weights (0: none, the "
                     "default)"),
      llvm::cl::value_desc("n"), llvm::cl::init(0),
      llvm::cl::cat(toolCategory())};
  llvm::cl::opt<std::string> reportPNG{
      "report-png",
      llvm::cl::desc("also draw the per-layer quantization report as a PNG "
                     "(bits per weight and output error of every layer; "
                     "the qc Python package with matplotlib draws it)"),
      llvm::cl::value_desc("file.png"), llvm::cl::cat(toolCategory())};
  ImportFlags import;
  QuantFlags quant;
  CalibFlags calib;

  /// Fills `importOptions` and `request`; returns the first error ("" when
  /// the flags are good).
  std::string apply(ONNXImportOptions &importOptions,
                    CompileRequest &request) const {
    if (std::string e = import.apply(importOptions); !e.empty())
      return e;
    QuantRecipe &recipe = request.recipe;
    if (std::string e = quant.apply(recipe, /*actAlone=*/true); !e.empty())
      return e;
    // Static activations are calibrated by the quantization itself.
    bool staticAct = isStaticActivationName(recipe.act);
    if (quant.act.getNumOccurrences() && recipe.empty() && staticAct)
      return "--act int8s needs --quant or --recipe: the scales are "
             "calibrated for the layers qc quantizes";
    if (quant.act.getNumOccurrences() && !staticAct)
      request.activations = quant.act;
    if (std::string e = calib.apply(recipe); !e.empty())
      return e;
    if (!calib.data.empty() &&
        (recipe.empty() || (!recipe.needsStats() && recipe.smooth <= 0)))
      return "--calib-data is used by --algo gptq, --assign-bits, --act "
             "int8s and --smooth only";
    if (std::string e = applyKernels(request.aot); !e.empty())
      return e;
    if (!recipe.empty() && noRaise)
      return "--quant needs the linear layers raised (drop "
             "--no-raise-linear)";
    request.raiseLinear = !noRaise;
    if (!kvCache.empty()) {
      request.kvCache = parseKVCacheFormat(kvCache);
      if (!request.kvCache)
        return "--kv-cache must be f32, f16, int8, int4 or mikv, not '" +
               kvCache +
               "'";
    }
    if (std::string e = checkPrefill(importOptions); !e.empty())
      return e;
    if (!reportPNG.empty() && recipe.empty())
      return "--report-png needs --quant or --recipe (the report is of the "
             "layers qc quantizes)";
    if (!reportPNG.empty() && recipe.minPlanes)
      return "--report-png and --min-planes do not combine yet";
    // Quantizing anew starts from f32 weights, GGUF's included.
    importOptions.dequantizeGGUF = !recipe.empty();
    if (!recipe.empty()) {
      request.calibStats = calib.stats;
      if (!calib.data.empty()) {
        AOTOptions calibAOT = request.aot;
        calibAOT.dumpLLVMIR.clear();
        calibAOT.timePasses = false;
        request.calibration = calib.request(calibAOT);
      }
    }
    return "";
  }

  /// The import options of the prefill entry, N tokens a step.
  ONNXImportOptions prefillImport(const ONNXImportOptions &decode) const {
    ONNXImportOptions options = decode;
    options.inputShapes["input_ids"] = {1, prefill};
    return options;
  }

private:
  std::string checkPrefill(const ONNXImportOptions &options) const {
    if (prefill == 0)
      return "";
    if (prefill < 2)
      return "--prefill must be at least 2 tokens, not " +
             std::to_string(prefill);
    auto ids = options.inputShapes.find("input_ids");
    if (ids == options.inputShapes.end() ||
        ids->second != llvm::SmallVector<int64_t>{1, 1})
      return "--prefill: the default entry is the decode step; give it "
             "--input-shape input_ids=1x1";
    if (llvm::StringRef(input).ends_with(".gguf") && options.kvCacheLength == 0)
      return "--prefill needs a key-value cache: give --context N";
    return "";
  }

  /// The artifact's options: folder, CPU, kernels and their target.
  std::string applyKernels(AOTOptions &aot) const {
    aot.outputDir = outputDir;
    aot.cpu = cpu;
    aot.features = features;
    aot.vectorize = !noVectorize;
    aot.kernels = kernels;
    aot.uniformLut = uniformLut;
    aot.dumpLLVMIR = dumpLLVM;
    aot.timePasses = timePasses;
    if (std::string e = checkTargetOptions(cpu, features); !e.empty())
      return e;
    if (kernels != "generated" && kernels != "reference")
      return "--kernels must be 'generated' or 'reference', not '" + kernels +
             "'";
    if (uniformLut && kernels != "generated")
      return "--uniform-lut chooses a generated kernel; it cannot be "
             "combined with --kernels=reference";
    aot.kernelTarget = !target.empty() ? target.getValue()
                       : cpu == "host" ? std::string("host")
                                       : std::string("generic");
    std::string error;
    mlir::FailureOr<const KernelTarget *> kt =
        resolveKernelTarget(aot.kernelTarget, error);
    if (mlir::failed(kt))
      return "--target: " + error;
    if (uniformLut && !(*kt)->hasByteLookup())
      return "--uniform-lut needs byte table lookups: pass --target "
             "x86-64-v3 (or higher) or aarch64, or --cpu=host on such a "
             "machine (target '" +
             aot.kernelTarget + "' is " + (*kt)->name().str() + ")";
    return "";
  }
};

} // namespace qc

#endif // QC_TOOLS_QC_COMPILE_COMPILEFLAGS_H
