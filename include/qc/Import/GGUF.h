//===- GGUF.h - GGUF model files: reader and import ------------*- C++ -*-===//
//
// GGUF is llama.cpp's single-file model format: a header, typed metadata
// (architecture, hyperparameters, tokenizer), tensor descriptions, then the
// tensors' data (f32, f16, bf16 or ggml's block-quantized types), aligned.
// GGUFFile reads one (memory-mapped, every offset and count checked against
// the file) and dequantizes its tensors; importGGUFFile builds the model's
// graph (the llama architecture family) in the same IR the ONNX importer
// produces.
//
//===----------------------------------------------------------------------===//

#ifndef QC_IMPORT_GGUF_H
#define QC_IMPORT_GGUF_H

#include "qc/Import/ONNX.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qc {

/// ggml tensor types qc reads (the numbering is the file format's).
enum class GGMLType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  BF16 = 30,
};

/// The name of a ggml type number ("Q4_K"; the number itself for unknown
/// ones).
std::string ggmlTypeName(uint32_t type);

/// Elements and bytes of one block of `type`; nullopt for types qc cannot
/// read.
struct GGMLBlock {
  int64_t elements;
  int64_t bytes;
};
std::optional<GGMLBlock> ggmlBlock(uint32_t type);

/// Dequantizes `count` elements (a multiple of the type's block) of `type`
/// from `raw` into `out`. `raw` holds exactly their blocks.
void dequantizeGGML(GGMLType type, llvm::ArrayRef<uint8_t> raw, int64_t count,
                    float *out);

/// One metadata value. Arrays keep their element kind and their values as
/// integers, floats or strings.
struct GGUFValue {
  enum Kind : uint32_t {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
  };
  Kind kind = U8;
  Kind elementKind = U8; // for arrays
  int64_t integer = 0;   // all integer kinds and bool
  double real = 0;       // F32, F64
  std::string string;
  std::vector<int64_t> integers;
  std::vector<double> reals;
  std::vector<std::string> strings;

  bool isInteger() const {
    return kind != F32 && kind != F64 && kind != String && kind != Array;
  }
};

/// One tensor of the file. `dims` are in ggml order: dims[0] varies fastest
/// (a [rows, columns] matrix has dims {columns, rows}).
struct GGUFTensor {
  std::string name;
  llvm::SmallVector<int64_t, 4> dims;
  uint32_t type = 0;
  uint64_t offset = 0; // from the start of the data section
  uint64_t bytes = 0;
  int64_t numElements() const;
};

class GGUFFile {
public:
  /// Reads and checks `path`; returns "" on success, else a one-line error.
  std::string open(llvm::StringRef path);

  uint32_t version() const { return formatVersion; }
  const GGUFValue *get(llvm::StringRef key) const;
  std::optional<int64_t> getInt(llvm::StringRef key) const;
  std::optional<double> getFloat(llvm::StringRef key) const;
  std::optional<std::string> getString(llvm::StringRef key) const;
  const std::vector<std::string> &keys() const { return keyOrder; }

  llvm::ArrayRef<GGUFTensor> tensors() const { return tensorList; }
  const GGUFTensor *tensor(llvm::StringRef name) const;
  llvm::ArrayRef<uint8_t> data(const GGUFTensor &t) const;
  /// The tensor in f32; "" on success, else why not (an unsupported type).
  std::string dequantize(const GGUFTensor &t, std::vector<float> &out) const;

private:
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  uint32_t formatVersion = 0;
  uint64_t dataStart = 0;
  llvm::StringMap<GGUFValue> metadata;
  std::vector<std::string> keyOrder;
  std::vector<GGUFTensor> tensorList;
  llvm::StringMap<size_t> tensorIndex;
};

/// Imports a llama-family GGUF model as a module with one function
/// `input_ids [1, S] (i64) -> logits [1, S, vocab] (f32)`: the whole
/// sequence at once, causal attention, no cache. S comes from
/// `--input-shape input_ids=1xS` (options.inputShapes). Q4_0 and Q8_0
/// matrices become quantized layers (qc.qlinear, exact) unless
/// options.dequantizeGGUF; every other tensor is dequantized to f32.
/// Errors are reported as diagnostics on `context`; null on failure.
mlir::OwningOpRef<mlir::ModuleOp>
importGGUFFile(llvm::StringRef path, mlir::MLIRContext *context,
               const ONNXImportOptions &options = {});

/// The tokenizer of `file` as Hugging Face `tokenizers` files: tokenizer.json
/// (byte-level BPE vocabulary, merges, pre-tokenizer, special tokens) and
/// tokenizer_config.json (bos / eos tokens, chat template). Returns "" or why
/// the tokenizer cannot be carried (another tokenizer model, an unknown
/// pre-tokenizer).
std::string ggufTokenizerFiles(const GGUFFile &file, std::string &tokenizerJSON,
                               std::string &configJSON);

} // namespace qc

#endif // QC_IMPORT_GGUF_H
