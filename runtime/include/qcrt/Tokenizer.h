//===- Tokenizer.h - byte-level BPE from a tokenizer.json -------*- C++ -*-===//
//
// The tokenizer qc-generate uses: byte-level BPE (GPT-2, SmolLM, Llama 3) as
// a Hugging Face tokenizer.json describes it (qc-compile writes one into the
// artifact of a GGUF model). Pre-tokenizers: ByteLevel, Digits, Split (ICU
// regular expressions, which know the Unicode classes the patterns use) and
// Sequences of them; added tokens in the text are matched literally first.
// Anything else in the file is refused with a message naming it.
//
//===----------------------------------------------------------------------===//

#ifndef QCRT_TOKENIZER_H
#define QCRT_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace qc::rt {

class Tokenizer {
public:
  ~Tokenizer();

  /// Reads DIR/tokenizer.json and, when present, DIR/tokenizer_config.json
  /// (bos / eos tokens, chat template). Null with `error` on failure.
  static std::unique_ptr<Tokenizer> open(const std::string &dir,
                                         std::string &error);

  /// The ids of `text` (UTF-8).
  std::vector<int64_t> encode(const std::string &text) const;
  /// The bytes token `id` stands for ("" for an unknown id).
  std::string decode(int64_t id) const;

  int64_t vocabSize() const { return int64_t(tokens.size()); }
  /// -1 when the configuration names none.
  int64_t bos() const { return bosId; }
  int64_t eos() const { return eosId; }
  bool addsBos() const { return addBos; }

  /// The prompt of one user turn in the model's chat format (ChatML, with
  /// the template's default system turn when it has one); false with
  /// `error` for templates of other formats.
  bool chatPrompt(const std::string &user, std::string &out,
                  std::string &error) const;

private:
  struct PreTokenizer;
  Tokenizer() = default;
  std::string load(const std::string &dir);
  std::string loadConfig(const std::string &path);
  /// The ids of one pre-tokenized piece (bytes).
  void encodePiece(const std::string &piece, std::vector<int64_t> &out) const;

  std::vector<std::string> tokens; ///< id -> vocabulary entry
  std::unordered_map<std::string, int64_t> ids;
  std::unordered_map<std::string, int64_t> mergeRank; ///< "a b" -> rank
  std::vector<std::pair<std::string, int64_t>> added; ///< longest first
  std::vector<std::unique_ptr<PreTokenizer>> pre;
  std::string chatTemplate;
  int64_t bosId = -1, eosId = -1;
  bool addBos = false;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache;
};

} // namespace qc::rt

#endif // QCRT_TOKENIZER_H
