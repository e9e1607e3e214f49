//===- Compile.h - qc-compile as a library call -----------------*- C++ -*-===//
//
// What qc-compile does to an imported module: raise the linear layers,
// gather calibration statistics where the recipe needs them, quantize, and
// compile the artifact with its quantization report. The tool only parses
// and checks its flags; a Python binding or another driver calls this.
//
//===----------------------------------------------------------------------===//

#ifndef QC_COMPILER_COMPILE_H
#define QC_COMPILER_COMPILE_H

#include "QC/IR/KVCache.h"
#include "qc/Calibrate/Calibrate.h"
#include "qc/Target/AOT.h"
#include "qc/Transforms/QuantRecipe.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace qc {

struct CompileRequest {
  /// The artifact: folder, CPU, kernels and their target.
  AOTOptions aot;
  /// Raise constant-weight MatMul / Gemm to qc.linear (qc-raise-linear).
  bool raiseLinear = true;
  /// The quantization; empty: the model stays in float.
  QuantRecipe recipe;
  /// The activation scheme of every quantized layer, those imported
  /// quantized included (qc-set-activations); empty: as imported or as the
  /// recipe says.
  std::string activations;
  /// Calibration statistics: read from here, or written here when
  /// `calibration` runs (empty: a temporary file).
  std::string calibStats;
  /// Calibration to run before quantizing (qc-compile --calib-data).
  std::optional<CalibrationRequest> calibration;
  /// The storage of the key-value caches (qc-compile --kv-cache); none: as
  /// imported (f32).
  std::optional<KVCacheFormat> kvCache;
};

/// Whether `module` attends over a key-value cache (qc.cached_attention).
bool hasKVCache(mlir::ModuleOp module);

/// Compiles `module` (graph IR as the importer gives it) as `request` says.
/// With a recipe, prints the per-layer report to `report` and writes it to
/// the artifact folder as quant-report.json. Errors are diagnostics; a
/// failed compile leaves no artifact behind.
mlir::LogicalResult compileModule(mlir::ModuleOp module,
                                  const CompileRequest &request,
                                  llvm::raw_ostream &report);

/// Compiles several modules of one model into one artifact with an entry
/// point each (qc::compileToArtifact): the first is the default entry.
/// Calibration, when the request asks for it, runs on the first; the
/// others are quantized from the same statistics, so weights that come out
/// equal are stored once. The report is the first entry's.
mlir::LogicalResult compileModules(llvm::ArrayRef<ArtifactEntry> entries,
                                   const CompileRequest &request,
                                   llvm::raw_ostream &report);

} // namespace qc

#endif // QC_COMPILER_COMPILE_H
