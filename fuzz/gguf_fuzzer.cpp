//===- gguf_fuzzer.cpp - libFuzzer harness of the GGUF reader and import --===//
//
// Any bytes as a .gguf file: GGUFFile::open accepts them with tensors that
// lie inside the file or refuses with a message; every accepted tensor
// dequantizes or says why not; the tokenizer converts or says why not; and
// importGGUFFile (at input_ids=1x4, with and without a key-value cache)
// returns a module that verifies or refuses with a diagnostic. A crash file
// reproduces with `qc-import-onnx FILE.gguf --input-shape input_ids=1x4`
// (or `input_ids=1x1 --context 8`).
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include "qc/Import/GGUF.h"

#include <vector>

namespace {

/// Checks what open() accepted: every tensor's data within the file, and
/// dequantization of the small ones (the seeds' tensors are small; a large
/// one would only slow the fuzzer down).
void checkTensors(const qc::GGUFFile &file, size_t fileSize) {
  for (const qc::GGUFTensor &t : file.tensors()) {
    llvm::ArrayRef<uint8_t> raw = file.data(t);
    if (raw.size() != t.bytes || t.bytes > fileSize)
      __builtin_trap();
    if (t.numElements() > (1 << 16))
      continue;
    std::vector<float> values;
    std::string why = file.dequantize(t, values);
    if (why.empty() && values.size() != static_cast<size_t>(t.numElements()))
      __builtin_trap();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = qc::fuzz::writeInput(data, size, "gguf");
  if (path.empty())
    return 0;
  qc::GGUFFile file;
  std::string error = file.open(path);
  if (!error.empty())
    return 0;
  checkTensors(file, size);
  std::string tokenizer, config;
  (void)qc::ggufTokenizerFiles(file, tokenizer, config);
  for (int64_t cache : {0, 8}) {
    qc::fuzz::CountingContext context;
    qc::ONNXImportOptions options;
    options.inputShapes["input_ids"] = {1, cache ? 1 : 4};
    options.kvCacheLength = cache;
    mlir::OwningOpRef<mlir::ModuleOp> module =
        qc::importGGUFFile(path, context.get(), options);
    qc::fuzz::checkImport(module, context);
  }
  return 0;
}
