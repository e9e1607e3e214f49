//===- Tokenizer.cpp - byte-level BPE from a tokenizer.json ---------------===//
//
// nlohmann/json reads the file (parse errors are returned, never thrown: the
// build has no exceptions, so every access is checked first); ICU's regular
// expressions split the text.
//
//===----------------------------------------------------------------------===//

#include "qcrt/Tokenizer.h"

#include <nlohmann/json.hpp>
#include <unicode/regex.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace qc::rt;
using json = nlohmann::json;

namespace {

/// GPT-2's pre-tokenizer pattern (ByteLevel with use_regex).
constexpr const char *kGPT2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|"
    "\\s+(?!\\S)|\\s+";

/// GPT-2's byte -> printable character table, as UTF-8 strings.
const std::vector<std::string> &byteChars() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                       (b >= 0xAE && b <= 0xFF);
      UChar32 c = printable ? b : 256 + extra++;
      icu::UnicodeString(c).toUTF8String(t[size_t(b)]);
    }
    return t;
  }();
  return table;
}

bool readFile(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return bool(in) || in.eof();
}

bool getString(const json &j, const char *key, std::string &out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    return false;
  out = it->get<std::string>();
  return true;
}

bool getBool(const json &j, const char *key, bool dflt) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : dflt;
}

} // namespace

/// One pre-tokenizer step: splits every piece on matches of a pattern, each
/// match a piece of its own ("Isolated").
struct Tokenizer::PreTokenizer {
  std::unique_ptr<icu::RegexPattern> pattern;

  static std::unique_ptr<PreTokenizer> compile(const std::string &regex,
                                               std::string &error) {
    UErrorCode status = U_ZERO_ERROR;
    UParseError parse;
    auto p = std::make_unique<PreTokenizer>();
    p->pattern.reset(icu::RegexPattern::compile(
        icu::UnicodeString::fromUTF8(regex), 0, parse, status));
    if (U_FAILURE(status)) {
      error = "pre-tokenizer pattern '" + regex + "': " + u_errorName(status);
      return nullptr;
    }
    return p;
  }

  void split(const std::string &piece, std::vector<std::string> &out) const {
    icu::UnicodeString text = icu::UnicodeString::fromUTF8(piece);
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::RegexMatcher> m(pattern->matcher(text, status));
    int32_t at = 0;
    auto emit = [&](int32_t from, int32_t to) {
      if (to <= from)
        return;
      std::string s;
      text.tempSubStringBetween(from, to).toUTF8String(s);
      out.push_back(std::move(s));
    };
    while (U_SUCCESS(status) && m->find(status)) {
      int32_t start = m->start(status), end = m->end(status);
      emit(at, start);
      emit(start, end);
      at = end;
    }
    emit(at, text.length());
  }
};

Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::open(const std::string &dir,
                                           std::string &error) {
  std::unique_ptr<Tokenizer> t(new Tokenizer);
  error = t->load(dir);
  if (error.empty())
    error = t->loadConfig(dir + "/tokenizer_config.json");
  return error.empty() ? std::move(t) : nullptr;
}

namespace {
/// The pre-tokenizer patterns of `j` in order; "" or an error.
std::string prePatterns(const json &j, std::vector<std::string> &out) {
  if (j.is_null())
    return "";
  std::string type;
  if (!getString(j, "type", type))
    return "a pre_tokenizer has no type";
  if (type == "Sequence") {
    auto it = j.find("pretokenizers");
    if (it == j.end() || !it->is_array())
      return "a Sequence pre_tokenizer has no pretokenizers";
    for (const json &p : *it)
      if (std::string e = prePatterns(p, out); !e.empty())
        return e;
    return "";
  }
  if (type == "ByteLevel") {
    if (getBool(j, "add_prefix_space", false))
      return "ByteLevel with add_prefix_space is not supported";
    if (getBool(j, "use_regex", true))
      out.push_back(kGPT2Pattern);
    return "";
  }
  if (type == "Digits") {
    out.push_back(getBool(j, "individual_digits", false) ? "\\p{N}"
                                                         : "\\p{N}+");
    return "";
  }
  if (type == "Split") {
    std::string behavior, regex;
    auto pat = j.find("pattern");
    if (!getString(j, "behavior", behavior) || behavior != "Isolated" ||
        getBool(j, "invert", false) || pat == j.end() || !pat->is_object())
      return "only Split pre-tokenizers with behavior Isolated are supported";
    if (getString(*pat, "Regex", regex)) {
      out.push_back(regex);
      return "";
    }
    std::string literal;
    if (!getString(*pat, "String", literal))
      return "a Split pre-tokenizer has no pattern";
    out.push_back("\\Q" + literal + "\\E");
    return "";
  }
  return "pre-tokenizer type '" + type + "' is not supported";
}
} // namespace

std::string Tokenizer::load(const std::string &dir) {
  std::string path = dir + "/tokenizer.json", text;
  if (!readFile(path, text))
    return path + ": cannot read the file (an artifact of a GGUF model with "
                  "a byte-level BPE tokenizer has one)";
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return path + ": not valid JSON";
  auto fail = [&](const std::string &why) { return path + ": " + why; };
  auto model = j.find("model");
  std::string type;
  if (model == j.end() || !model->is_object() ||
      !getString(*model, "type", type) || type != "BPE")
    return fail("only BPE models are supported");
  if (getBool(*model, "byte_fallback", false))
    return fail("BPE with byte_fallback is not supported");
  auto norm = j.find("normalizer");
  if (norm != j.end() && !norm->is_null())
    return fail("normalizers are not supported");
  auto vocab = model->find("vocab");
  auto merges = model->find("merges");
  if (vocab == model->end() || !vocab->is_object() || merges == model->end() ||
      !merges->is_array())
    return fail("the BPE model needs a vocab object and a merges array");
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() > (int64_t(1) << 24))
      return fail("vocab entry '" + it.key() + "' has no valid id");
    int64_t id = it.value().get<int64_t>();
    if (size_t(id) >= tokens.size())
      tokens.resize(size_t(id) + 1);
    tokens[size_t(id)] = it.key();
    ids[it.key()] = id;
  }
  int64_t rank = 0;
  for (const json &m : *merges) {
    std::string pair;
    if (m.is_string())
      pair = m.get<std::string>();
    else if (m.is_array() && m.size() == 2 && m[0].is_string() &&
             m[1].is_string())
      pair = m[0].get<std::string>() + " " + m[1].get<std::string>();
    else
      return fail("a merge is neither \"a b\" nor [\"a\", \"b\"]");
    mergeRank.emplace(pair, rank++);
  }
  if (auto a = j.find("added_tokens"); a != j.end() && a->is_array())
    for (const json &t : *a) {
      std::string content;
      auto id = t.find("id");
      if (!getString(t, "content", content) || content.empty() ||
          id == t.end() || !id->is_number_integer())
        return fail("an added token has no content or id");
      added.push_back({content, id->get<int64_t>()});
      if (size_t(id->get<int64_t>()) >= tokens.size())
        tokens.resize(size_t(id->get<int64_t>()) + 1);
      tokens[size_t(id->get<int64_t>())] = content;
    }
  std::stable_sort(added.begin(), added.end(), [](auto &a, auto &b) {
    return a.first.size() > b.first.size();
  });
  std::vector<std::string> patterns;
  if (auto p = j.find("pre_tokenizer"); p != j.end())
    if (std::string e = prePatterns(*p, patterns); !e.empty())
      return fail(e);
  for (const std::string &regex : patterns) {
    std::string e;
    pre.push_back(PreTokenizer::compile(regex, e));
    if (!pre.back())
      return fail(e);
  }
  return "";
}

std::string Tokenizer::loadConfig(const std::string &path) {
  std::string text;
  if (!readFile(path, text))
    return ""; // optional
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return path + ": not valid JSON";
  std::string bos, eos;
  if (getString(j, "bos_token", bos) && ids.count(bos))
    bosId = ids.at(bos);
  if (getString(j, "eos_token", eos) && ids.count(eos))
    eosId = ids.at(eos);
  addBos = getBool(j, "add_bos_token", false) && bosId >= 0;
  getString(j, "chat_template", chatTemplate);
  return "";
}

void Tokenizer::encodePiece(const std::string &piece,
                            std::vector<int64_t> &out) const {
  if (auto hit = cache.find(piece); hit != cache.end()) {
    out.insert(out.end(), hit->second.begin(), hit->second.end());
    return;
  }
  std::vector<std::string> symbols;
  for (unsigned char c : piece)
    symbols.push_back(byteChars()[c]);
  while (symbols.size() > 1) {
    int64_t best = -1;
    size_t at = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      auto r = mergeRank.find(symbols[i] + " " + symbols[i + 1]);
      if (r != mergeRank.end() && (best < 0 || r->second < best)) {
        best = r->second;
        at = i;
      }
    }
    if (best < 0)
      break;
    // Every occurrence of the best pair, left to right.
    std::string first = symbols[at], second = symbols[at + 1];
    std::vector<std::string> merged;
    for (size_t i = 0; i < symbols.size(); ++i) {
      if (i + 1 < symbols.size() && symbols[i] == first &&
          symbols[i + 1] == second) {
        merged.push_back(first + second);
        ++i;
      } else {
        merged.push_back(symbols[i]);
      }
    }
    symbols = std::move(merged);
  }
  std::vector<int64_t> result;
  for (const std::string &s : symbols)
    if (auto id = ids.find(s); id != ids.end())
      result.push_back(id->second);
  out.insert(out.end(), result.begin(), result.end());
  cache.emplace(piece, std::move(result));
}

std::vector<int64_t> Tokenizer::encode(const std::string &text) const {
  std::vector<int64_t> out;
  size_t at = 0, start = 0;
  auto encodeSpan = [&](size_t from, size_t to) {
    std::vector<std::string> pieces = {text.substr(from, to - from)};
    for (const auto &p : pre) {
      std::vector<std::string> next;
      for (const std::string &piece : pieces)
        p->split(piece, next);
      pieces = std::move(next);
    }
    for (const std::string &piece : pieces)
      if (!piece.empty())
        encodePiece(piece, out);
  };
  while (at < text.size()) {
    auto special = std::find_if(added.begin(), added.end(), [&](auto &a) {
      return text.compare(at, a.first.size(), a.first) == 0;
    });
    if (special == added.end()) {
      ++at;
      continue;
    }
    encodeSpan(start, at);
    out.push_back(special->second);
    at += special->first.size();
    start = at;
  }
  encodeSpan(start, text.size());
  return out;
}

std::string Tokenizer::decode(int64_t id) const {
  if (id < 0 || size_t(id) >= tokens.size())
    return "";
  const std::string &t = tokens[size_t(id)];
  for (const auto &a : added)
    if (a.second == id)
      return t;
  static const std::unordered_map<std::string, char> inverse = [] {
    std::unordered_map<std::string, char> m;
    for (int b = 0; b < 256; ++b)
      m[byteChars()[size_t(b)]] = char(b);
    return m;
  }();
  std::string bytes;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(t);
  for (int32_t i = 0; i < u.length(); i = u.moveIndex32(i, 1)) {
    std::string ch;
    icu::UnicodeString(u.char32At(i)).toUTF8String(ch);
    auto b = inverse.find(ch);
    bytes += b != inverse.end() ? std::string(1, b->second) : ch;
  }
  return bytes;
}

bool Tokenizer::chatPrompt(const std::string &user, std::string &out,
                           std::string &error) const {
  if (chatTemplate.find("<|im_start|>") == std::string::npos) {
    error = chatTemplate.empty()
                ? "the model has no chat template"
                : "the chat template is not ChatML (<|im_start|>), the one "
                  "format --chat supports";
    return false;
  }
  out.clear();
  // A default system turn the template writes out literally.
  const std::string open = "<|im_start|>system\n", close = "<|im_end|>";
  size_t s = chatTemplate.find(open);
  if (s != std::string::npos) {
    size_t e = chatTemplate.find(close, s);
    if (e != std::string::npos)
      out = chatTemplate.substr(s, e + close.size() - s) + "\n";
  }
  out += "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n";
  return true;
}
