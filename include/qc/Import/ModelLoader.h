//===- ModelLoader.h - read, validate and check ONNX protobufs --*- C++ -*-===//
//
// The only part of the importer that talks to libonnx's checker and shape
// inference, which report errors by throwing; this unit is compiled with
// exceptions on and catches them all, so nothing escapes into MLIR code.
//
//===----------------------------------------------------------------------===//

#ifndef QC_IMPORT_MODELLOADER_H
#define QC_IMPORT_MODELLOADER_H

#include "qc/Import/ONNX.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "onnx/onnx_pb.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <map>
#include <string>

namespace qc {
namespace detail {

struct LoadedModel {
  onnx::ModelProto model;
  /// Folder of the model file; external data must stay inside it.
  std::string modelDir;
  /// Version of the default ("" / "ai.onnx") opset.
  int64_t opset = 0;
  /// Whether libonnx knew the model's IR version and opsets, so that its
  /// checker and shape inference ran.
  bool checkedByLibonnx = false;
};

/// Reads `path`, parses it, resolves external data (confined to the model's
/// folder), converts opsets older than 11 where libonnx can, and runs the
/// ONNX checker and shape inference. Returns an empty string on success, else
/// a one-line error.
std::string loadModel(const std::string &path, bool runChecker,
                      LoadedModel &out);

/// The part of loadModel after parsing, for a model built in memory
/// (`out.model` set, `out.modelDir` where external data may lie): finds the
/// opset, resolves external data, converts old opsets, runs the checker and
/// shape inference. `path` names the model in messages.
std::string prepareModel(const std::string &path, bool runChecker,
                         LoadedModel &out);

/// The newest default-domain opset that this build of libonnx knows.
int64_t libonnxMaxOpset();

/// "" when default-domain `node` has the inputs and outputs its schema
/// allows at `opset`: counts within the schema's bounds, required inputs not
/// omitted (at opsets newer than libonnx knows, the lower bounds of its
/// newest schema), and the inputs of one type parameter of one element type
/// (`dtype(i)`: input i's). Else why not. The importer checks every node so,
/// checker or not, before its handler reads an input that is not there or
/// of another type; ops libonnx has no schema for pass.
std::string checkSignature(const onnx::NodeProto &node, int64_t opset,
                           llvm::function_ref<int32_t(int)> dtype);

/// Imports a loaded model (see importONNXFile); `path` names it in
/// locations and messages.
mlir::OwningOpRef<mlir::ModuleOp>
importLoadedModel(const LoadedModel &loaded, llvm::StringRef path,
                  mlir::MLIRContext *context,
                  const ONNXImportOptions &options);

} // namespace detail
} // namespace qc

#endif // QC_IMPORT_MODELLOADER_H
