//===- qc-compile.cpp - ahead-of-time compile a model to an artifact ------===//
//
// Parses and checks the flags (CompileFlags.h), loads the model and calls
// qc::compileModule (lib/Compiler), which does the work.
//
//===----------------------------------------------------------------------===//

#include "CompileFlags.h"

#include "qc/Codegen/KernelTarget.h"
#include "qc/Compiler/Compile.h"
#include "qc/Import/GGUF.h"
#include "qc/Tools/ToolContext.h"

#include "QC/IR/QCAttrs.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

using namespace llvm;

/// A GGUF model's tokenizer goes into the artifact for qc-generate; one
/// that cannot is a warning (the model still compiles).
static void carryTokenizer(StringRef path, qc::AOTOptions &aot) {
  qc::GGUFFile file;
  std::string tokenizer, config;
  std::string e = file.open(path);
  if (e.empty())
    e = qc::ggufTokenizerFiles(file, tokenizer, config);
  if (!e.empty()) {
    WithColor::warning(errs(), "qc-compile")
        << path << ": " << e << "; qc-generate will need token ids\n";
    return;
  }
  aot.extraFiles.push_back({"tokenizer.json", tokenizer});
  aot.extraFiles.push_back({"tokenizer_config.json", config});
}

/// --report-png: the artifact's quant-report.json drawn by the qc Python
/// package (qc.Report.plot, matplotlib; the plot is written atomically).
/// QC_PYTHON names the interpreter (default python3 on PATH); the source
/// tree's python/ goes first on PYTHONPATH, so no install is needed.
/// The interpreter that draws it, or "" after an error.
static std::string reportPython() {
  const char *name = std::getenv("QC_PYTHON");
  ErrorOr<std::string> python =
      sys::findProgramByName(name && *name ? name : "python3");
  if (python)
    return *python;
  WithColor::error(errs(), "qc-compile")
      << "--report-png needs Python 3 with matplotlib ("
      << (name && *name ? name : "python3")
      << " not found; QC_PYTHON names another)\n";
  return "";
}

static int drawReport(StringRef python, StringRef artifact, StringRef png) {
  std::vector<std::string> env;
  for (char **e = environ; *e; ++e)
    if (!StringRef(*e).starts_with("PYTHONPATH="))
      env.push_back(*e);
  const char *path = std::getenv("PYTHONPATH");
  env.push_back(std::string("PYTHONPATH=") + QC_PYTHON_DIR +
                (path && *path ? std::string(":") + path : ""));
  SmallVector<StringRef> envRefs(env.begin(), env.end());
  StringRef args[] = {python, "-c",
                      "import sys; from qc.cli import report_png; "
                      "sys.exit(report_png(sys.argv[1:]))",
                      artifact, png};
  std::string why;
  int rc = sys::ExecuteAndWait(python, args, ArrayRef<StringRef>(envRefs),
                               {}, 0, 0, &why);
  if (rc != 0) {
    WithColor::error(errs(), "qc-compile")
        << "the artifact is written, but not the report PNG '" << png
        << "' (" << (why.empty() ? "see the message above" : why) << ")\n";
    return 1;
  }
  return 0;
}

/// AnyBCQ (--min-planes M): the default entry computes with all P planes of
/// the BCQ scheme, an entry `planes<p>` with p of them for each p in
/// [M, P); all of them read one stored copy of the planes.
static int compileAnyPrecision(mlir::ModuleOp module,
                               const qc::CompileRequest &request) {
  std::string error;
  auto bcq = llvm::dyn_cast_or_null<qc::BCQAttr>(qc::parseQuantScheme(
      module.getContext(), request.recipe.scheme, error));
  unsigned minPlanes = request.recipe.minPlanes;
  if (!bcq || minPlanes > bcq.getPlanes()) {
    WithColor::error(errs(), "qc-compile")
        << "--min-planes " << minPlanes
        << " needs --quant bcq<P>g<G> with P >= " << minPlanes << ", not '"
        << request.recipe.scheme << "'\n";
    return 1;
  }
  if (request.recipe.algo != "rtn") {
    WithColor::error(errs(), "qc-compile")
        << "AnyBCQ (--min-planes) fits the planes itself: --algo "
        << request.recipe.algo << " does not combine with it\n";
    return 1;
  }
  std::vector<mlir::OwningOpRef<mlir::ModuleOp>> copies;
  std::vector<qc::ArtifactEntry> entries{{"", module, bcq.getPlanes()}};
  for (unsigned p = minPlanes; p < bcq.getPlanes(); ++p) {
    copies.emplace_back(module.clone());
    entries.push_back({"planes" + std::to_string(p), *copies.back(), p});
  }
  return failed(qc::compileModules(entries, request, outs())) ? 1 : 0;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  qc::registerTestKernelTargets();
  qc::CompileFlags flags;
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  cl::HideUnrelatedOptions(qc::toolCategory());
  cl::ParseCommandLineOptions(argc, argv, "qc ahead-of-time compiler\n");

  qc::ONNXImportOptions importOptions;
  qc::CompileRequest request;
  if (std::string e = flags.apply(importOptions, request); !e.empty()) {
    WithColor::error(errs(), "qc-compile") << e << "\n";
    return 1;
  }
  if (StringRef(flags.input).ends_with(".gguf"))
    carryTokenizer(flags.input, request.aot);
  std::string python;
  if (!flags.reportPNG.empty() && (python = reportPython()).empty())
    return 1;
  qc::ToolContext tool("qc-compile");
  mlir::OwningOpRef<mlir::ModuleOp> module =
      tool.loadModel(flags.input, importOptions);
  if (!module)
    return 1;
  if (request.recipe.minPlanes) {
    if (flags.prefill) {
      WithColor::error(errs(), "qc-compile")
          << "--min-planes and --prefill do not combine yet\n";
      return 1;
    }
    return compileAnyPrecision(*module, request);
  }
  if (flags.prefill == 0) {
    if (failed(qc::compileModule(*module, request, outs())))
      return 1;
    return flags.reportPNG.empty()
               ? 0
               : drawReport(python, request.aot.outputDir, flags.reportPNG);
  }
  if (!qc::hasKVCache(*module)) {
    WithColor::error(errs(), "qc-compile")
        << flags.input << ": --prefill needs a model with a key-value cache "
        << "(a GGUF model with --context N, or GroupQueryAttention)\n";
    return 1;
  }
  mlir::OwningOpRef<mlir::ModuleOp> prefill =
      tool.loadModel(flags.input, flags.prefillImport(importOptions));
  if (!prefill)
    return 1;
  qc::ArtifactEntry entries[] = {{"", *module}, {"prefill", *prefill}};
  if (failed(qc::compileModules(entries, request, outs())))
    return 1;
  return flags.reportPNG.empty()
             ? 0
             : drawReport(python, request.aot.outputDir, flags.reportPNG);
}
