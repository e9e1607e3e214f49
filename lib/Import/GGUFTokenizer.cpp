//===- GGUFTokenizer.cpp - a GGUF's tokenizer as Hugging Face JSON --------===//
//
// GGUF files carry their tokenizer as metadata (tokenizer.ggml.*). qc-compile
// writes it into the artifact in the Hugging Face `tokenizers` format
// (tokenizer.json: vocabulary, merges, pre-tokenizer, special tokens;
// tokenizer_config.json: bos / eos tokens and the chat template), which
// qc-generate's tokenizer and Hugging Face's both read.
//
//===----------------------------------------------------------------------===//

#include "qc/Import/GGUF.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

using namespace qc;
namespace json = llvm::json;

namespace {

/// ggml token types (llama.cpp's llama_token_type).
constexpr int64_t kControlToken = 3;
constexpr int64_t kUserDefinedToken = 4;

/// The GPT-2 pre-tokenizer pattern, and llama 3's.
constexpr const char *kLlama3Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

json::Object byteLevel(bool useRegex) {
  return json::Object{{"type", "ByteLevel"},
                      {"add_prefix_space", false},
                      {"trim_offsets", true},
                      {"use_regex", useRegex}};
}

/// The pre-tokenizer of llama.cpp's pre-type `pre`; an error for others.
std::string preTokenizer(llvm::StringRef pre, json::Value &out) {
  if (pre.empty() || pre == "gpt2" || pre == "default") {
    out = byteLevel(true);
  } else if (pre == "smollm" || pre == "starcoder" || pre == "refact") {
    out = json::Object{
        {"type", "Sequence"},
        {"pretokenizers",
         json::Array{json::Object{{"type", "Digits"},
                                  {"individual_digits", true}},
                     byteLevel(true)}}};
  } else if (pre == "llama-bpe" || pre == "llama3") {
    out = json::Object{
        {"type", "Sequence"},
        {"pretokenizers",
         json::Array{json::Object{{"type", "Split"},
                                  {"pattern",
                                   json::Object{{"Regex", kLlama3Pattern}}},
                                  {"behavior", "Isolated"},
                                  {"invert", false}},
                     byteLevel(false)}}};
  } else {
    return "pre-tokenizer '" + pre.str() +
           "' is not supported (gpt2, smollm, starcoder, llama-bpe are)";
  }
  return "";
}

/// The token's name where `key` (an id) is set, else "".
std::string tokenOf(const GGUFFile &file, llvm::StringRef key,
                    const std::vector<std::string> &tokens) {
  std::optional<int64_t> id = file.getInt(key);
  if (!id || *id < 0 || *id >= int64_t(tokens.size()))
    return "";
  return tokens[size_t(*id)];
}

} // namespace

std::string qc::ggufTokenizerFiles(const GGUFFile &file,
                                   std::string &tokenizerJSON,
                                   std::string &configJSON) {
  std::optional<std::string> model = file.getString("tokenizer.ggml.model");
  if (!model)
    return "the file has no tokenizer (tokenizer.ggml.model)";
  if (*model != "gpt2")
    return "tokenizer model '" + *model +
           "' is not carried into the artifact (only byte-level BPE, "
           "'gpt2', is)";
  const GGUFValue *tokens = file.get("tokenizer.ggml.tokens");
  const GGUFValue *merges = file.get("tokenizer.ggml.merges");
  const GGUFValue *types = file.get("tokenizer.ggml.token_type");
  if (!tokens || tokens->kind != GGUFValue::Array ||
      tokens->elementKind != GGUFValue::String || !merges ||
      merges->kind != GGUFValue::Array ||
      merges->elementKind != GGUFValue::String)
    return "tokenizer.ggml.tokens and tokenizer.ggml.merges must be string "
           "arrays";
  json::Value pre = nullptr;
  if (std::string e = preTokenizer(
          file.getString("tokenizer.ggml.pre").value_or(""), pre);
      !e.empty())
    return e;

  json::Object vocab;
  json::Array added;
  for (size_t i = 0; i < tokens->strings.size(); ++i) {
    const std::string &t = tokens->strings[i];
    if (!json::isUTF8(t))
      return "token " + std::to_string(i) + " is not valid UTF-8";
    vocab[t] = int64_t(i);
    int64_t type = types && i < types->integers.size() ? types->integers[i] : 1;
    if (type == kControlToken || type == kUserDefinedToken)
      added.push_back(json::Object{{"id", int64_t(i)},
                                   {"content", t},
                                   {"single_word", false},
                                   {"lstrip", false},
                                   {"rstrip", false},
                                   {"normalized", false},
                                   {"special", type == kControlToken}});
  }
  json::Array mergeList;
  for (const std::string &m : merges->strings) {
    if (!json::isUTF8(m))
      return "a merge is not valid UTF-8";
    mergeList.push_back(m);
  }
  json::Object root{
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", std::move(added)},
      {"normalizer", nullptr},
      {"pre_tokenizer", std::move(pre)},
      {"post_processor", nullptr},
      {"decoder", byteLevel(true)},
      {"model", json::Object{{"type", "BPE"},
                             {"dropout", nullptr},
                             {"unk_token", nullptr},
                             {"continuing_subword_prefix", nullptr},
                             {"end_of_word_suffix", nullptr},
                             {"fuse_unk", false},
                             {"byte_fallback", false},
                             {"ignore_merges", false},
                             {"vocab", std::move(vocab)},
                             {"merges", std::move(mergeList)}}}};
  tokenizerJSON = llvm::formatv("{0}", json::Value(std::move(root))).str();

  std::string chatTemplate =
      file.getString("tokenizer.chat_template").value_or("");
  if (!json::isUTF8(chatTemplate))
    return "tokenizer.chat_template is not valid UTF-8";
  json::Object config{
      {"tokenizer_class", "PreTrainedTokenizerFast"},
      {"bos_token", tokenOf(file, "tokenizer.ggml.bos_token_id",
                            tokens->strings)},
      {"eos_token", tokenOf(file, "tokenizer.ggml.eos_token_id",
                            tokens->strings)},
      {"add_bos_token",
       file.getInt("tokenizer.ggml.add_bos_token").value_or(0) != 0},
      {"chat_template", std::move(chatTemplate)}};
  configJSON = llvm::formatv("{0:2}", json::Value(std::move(config))).str();
  return "";
}
