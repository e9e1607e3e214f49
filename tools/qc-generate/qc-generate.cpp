//===- qc-generate.cpp - generate tokens with a compiled decoder ----------===//
//
//   qc-generate ARTIFACT_DIR [--prefill DIR] (--ids I,J,... | --prompt TEXT)
//               [-n N] [--temperature T] [--top-k K] [--top-p P] [--seed S]
//               [--threads N] [--logits-out FILE.npy] [--ids-out FILE.npy]
//
// Feeds the prompt (through the prefill artifact in whole steps when one is
// given), then samples N tokens one at a time, streaming them to stdout, and
// reports prompt and generation speed and peak memory on stderr.
//
//===----------------------------------------------------------------------===//

#include "qcrt.h"
#include "qcrt/Decoder.h"
#include "qcrt/Npy.h"
#include "qcrt/Tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <sys/resource.h>
#include <vector>

namespace {

void printUsage() {
  std::printf(
      "usage: qc-generate ARTIFACT_DIR [--prefill DIR] (--ids I,J,... | "
      "--prompt TEXT [--chat])\n"
      "                   [-n N] [--temperature T] [--top-k K] [--top-p P] "
      "[--seed S]\n"
      "                   [--threads N] [--logits-out FILE.npy] [--ids-out "
      "FILE.npy]\n"
      "\n"
      "Generates tokens with a decoder compiled with key-value caches\n"
      "(qc-compile MODEL.gguf --context T --input-shape input_ids=1x1).\n"
      "  --prefill DIR       an artifact of the same model and context with\n"
      "                      input_ids=1xS: the prompt goes through it S "
      "tokens a step\n"
      "                      (default: the artifact's own entry 'prefill',\n"
      "                      qc-compile --prefill S, if it has one)\n"
      "  --prompt TEXT       the prompt as text (the artifact's "
      "tokenizer.json)\n"
      "  --chat              wrap the prompt as a user turn of the chat "
      "template\n"
      "  --ids I,J,...       the prompt as token ids (output: ids too)\n"
      "  --tokenize FILE     print the ids of each line of FILE, and exit\n"
      "  -n N                tokens to generate (default 32; stops early at\n"
      "                      the end of the context)\n"
      "  --temperature T     0 (the default): greedy; else sample from\n"
      "                      softmax(logits / T)\n"
      "  --top-k K           sample among the K most likely tokens (0: all)\n"
      "  --top-p P           ... and among the fewest whose probability "
      "reaches P\n"
      "  --seed S            the sampler's seed (default 0)\n"
      "  --threads N         worker threads (default: QCRT_NUM_THREADS or "
      "all)\n"
      "  --logits-out FILE   the logits of every position, [1, L, V] f32\n"
      "  --ids-out FILE      prompt and generated ids, [1, L] i64\n");
}

[[nodiscard]] int error(const std::string &message) {
  std::fprintf(stderr, "qc-generate: error: %s\n", message.c_str());
  return 1;
}

[[nodiscard]] int usageError(const std::string &message) {
  std::fprintf(stderr,
               "qc-generate: error: %s\n(run 'qc-generate --help' for usage)\n",
               message.c_str());
  return 2;
}

struct Options {
  std::string artifact, prefill, prompt, logitsOut, idsOut, tokenizeFile;
  std::vector<int64_t> ids;
  bool haveIds = false, havePrompt = false, chat = false;
  int64_t tokens = 32, topK = 0, threads = 0;
  double temperature = 0, topP = 1;
  uint64_t seed = 0;
};

bool parseInt(const std::string &s, int64_t &out) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end || errno)
    return false;
  out = v;
  return true;
}

bool parseReal(const std::string &s, double &out) {
  char *end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && !*end && std::isfinite(out);
}

bool parseIds(const std::string &s, std::vector<int64_t> &out) {
  size_t at = 0;
  while (at <= s.size()) {
    size_t comma = s.find(',', at);
    int64_t v;
    if (!parseInt(s.substr(at, comma - at), v))
      return false;
    out.push_back(v);
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  return !out.empty();
}

/// Sets option `a` (one that takes a value) to `v`: nullopt for an unknown
/// option, else "" or the error.
std::optional<std::string> setOption(Options &o, const std::string &a,
                                     const std::string &v) {
  int64_t n = 0;
  bool ok = true;
  if (a == "--prefill") {
    o.prefill = v;
  } else if (a == "--ids") {
    ok = o.haveIds = parseIds(v, o.ids);
  } else if (a == "--prompt") {
    o.prompt = v;
    o.havePrompt = true;
  } else if (a == "-n") {
    ok = parseInt(v, o.tokens) && o.tokens >= 0;
  } else if (a == "--temperature") {
    ok = parseReal(v, o.temperature) && o.temperature >= 0;
  } else if (a == "--top-k") {
    ok = parseInt(v, o.topK) && o.topK >= 0;
  } else if (a == "--top-p") {
    ok = parseReal(v, o.topP) && o.topP > 0 && o.topP <= 1;
  } else if (a == "--seed") {
    ok = parseInt(v, n) && n >= 0;
    o.seed = uint64_t(n);
  } else if (a == "--threads") {
    ok = parseInt(v, o.threads) && o.threads >= 1;
  } else if (a == "--logits-out") {
    o.logitsOut = v;
  } else if (a == "--ids-out") {
    o.idsOut = v;
  } else if (a == "--tokenize") {
    o.tokenizeFile = v;
  } else {
    return std::nullopt;
  }
  return ok ? "" : "bad value '" + v + "' for " + a;
}

/// Parses argv into `o`; "" or the error. Sets `help` for --help.
std::string parseArgs(int argc, char **argv, Options &o, bool &help) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      help = true;
      return "";
    }
    if (a == "--chat") {
      o.chat = true;
      continue;
    }
    if (a.rfind("-", 0) != 0) {
      if (!o.artifact.empty())
        return "more than one artifact: '" + o.artifact + "' and '" + a + "'";
      o.artifact = a;
      continue;
    }
    bool last = i + 1 >= argc;
    Options scratch;
    std::optional<std::string> e =
        last ? setOption(scratch, a, "") : setOption(o, a, argv[++i]);
    if (!e)
      return "unknown option '" + a + "'";
    if (last)
      return a + " needs a value";
    if (!e->empty())
      return *e;
  }
  if (o.artifact.empty())
    return "no artifact folder given";
  if (!o.tokenizeFile.empty())
    return "";
  if (o.haveIds == o.havePrompt)
    return "give the prompt once: --ids I,J,... or --prompt TEXT";
  if (o.chat && !o.havePrompt)
    return "--chat needs --prompt";
  return "";
}

/// The next token: the most likely one, or a sample from the tempered,
/// top-k / top-p truncated distribution.
int64_t sample(const std::vector<float> &logits, const Options &o,
               std::mt19937_64 &rng) {
  if (o.temperature == 0)
    return std::max_element(logits.begin(), logits.end()) - logits.begin();
  std::vector<int64_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  // Only the K best need an order (the whole vocabulary without --top-k).
  size_t keep = o.topK > 0 ? std::min(size_t(o.topK), order.size())
                           : order.size();
  std::partial_sort(order.begin(), order.begin() + long(keep), order.end(),
                    [&](int64_t a, int64_t b) {
                      return logits[size_t(a)] > logits[size_t(b)];
                    });
  order.resize(keep);
  std::vector<double> p;
  double top = logits[size_t(order[0])], sum = 0;
  for (int64_t t : order) {
    p.push_back(std::exp((logits[size_t(t)] - top) / o.temperature));
    sum += p.back();
  }
  double kept = 0;
  size_t n = 0;
  while (n < p.size() && kept < o.topP * sum)
    kept += p[n++];
  std::discrete_distribution<size_t> pick(p.begin(), p.begin() + long(n));
  return order[pick(rng)];
}

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       since)
      .count();
}

int writeOutputs(const Options &o, const std::vector<int64_t> &ids,
                 const std::vector<float> &logits, int64_t vocab) {
  std::string err;
  int64_t len = int64_t(ids.size());
  if (!o.logitsOut.empty() &&
      !qc::npy::writeNpyFile(o.logitsOut, qc::npy::DType::F32,
                             {1, int64_t(logits.size()) / vocab, vocab},
                             logits.data(), err))
    return error(err);
  if (!o.idsOut.empty() &&
      !qc::npy::writeNpyFile(o.idsOut, qc::npy::DType::I64, {1, len},
                             ids.data(), err))
    return error(err);
  return 0;
}

} // namespace

/// Prints the ids of each line of `path`.
int tokenizeLines(const qc::rt::Tokenizer &tok, const std::string &path) {
  std::ifstream in(path);
  if (!in)
    return error("cannot read '" + path + "'");
  std::string line;
  while (std::getline(in, line)) {
    std::vector<int64_t> ids = tok.encode(line);
    for (size_t i = 0; i < ids.size(); ++i)
      std::printf("%s%lld", i ? " " : "", static_cast<long long>(ids[i]));
    std::printf("\n");
  }
  return 0;
}

/// The prompt's ids: --ids, or --prompt through the tokenizer (as a chat
/// turn with --chat, after the bos token where the model wants one).
bool promptIds(const Options &o, const qc::rt::Tokenizer *tok,
               std::vector<int64_t> &ids, std::string &err) {
  if (o.haveIds) {
    ids = o.ids;
    return true;
  }
  std::string text = o.prompt;
  if (o.chat && !tok->chatPrompt(o.prompt, text, err))
    return false;
  if (tok->addsBos())
    ids.push_back(tok->bos());
  std::vector<int64_t> body = tok->encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  if (ids.empty())
    err = "the prompt is empty";
  return !ids.empty();
}

/// A generated token on stdout: its text, or its id without a tokenizer.
void printToken(const qc::rt::Tokenizer *tok, int64_t id, bool first) {
  if (tok) {
    std::string bytes = tok->decode(id);
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  } else {
    std::printf("%s%lld", first ? "" : " ", static_cast<long long>(id));
  }
  std::fflush(stdout);
}

int main(int argc, char **argv) {
  Options o;
  bool help = false;
  if (std::string e = parseArgs(argc, argv, o, help); !e.empty())
    return usageError(e);
  if (help) {
    printUsage();
    return 0;
  }
  std::string err;
  std::unique_ptr<qc::rt::Tokenizer> tok;
  if (o.havePrompt || !o.tokenizeFile.empty()) {
    tok = qc::rt::Tokenizer::open(o.artifact, err);
    if (!tok)
      return error(err);
    if (!o.tokenizeFile.empty())
      return tokenizeLines(*tok, o.tokenizeFile);
  }
  if (o.threads && qcrt_set_num_threads(int(o.threads)) != QCRT_OK)
    return error(qcrt_last_error());
  std::unique_ptr<qc::rt::Decoder> dec =
      qc::rt::Decoder::open(o.artifact, o.prefill, err);
  if (!dec)
    return error(err);
  std::vector<int64_t> prompt;
  if (!promptIds(o, tok.get(), prompt, err))
    return error(err);
  bool keepLogits = !o.logitsOut.empty();
  std::vector<float> logits;
  auto start = std::chrono::steady_clock::now();
  if (!dec->feed(prompt, err, keepLogits ? &logits : nullptr))
    return error(err);
  double promptTime = seconds(start);
  std::vector<int64_t> ids = prompt;
  std::mt19937_64 rng(o.seed);
  int64_t budget = std::min(o.tokens, dec->context() - dec->length());
  int64_t made = 0;
  start = std::chrono::steady_clock::now();
  while (made < budget) {
    int64_t next = sample(dec->logits(), o, rng);
    ids.push_back(next);
    ++made;
    bool end = tok && next == tok->eos();
    if (!end)
      printToken(tok.get(), next, made == 1);
    // The last token is fed only when its logits are asked for.
    if ((made < budget && !end) || keepLogits)
      if (!dec->feed({next}, err, keepLogits ? &logits : nullptr))
        return error(err);
    if (end)
      break;
  }
  double genTime = seconds(start);
  std::printf("\n");
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::fprintf(stderr,
               "prompt: %zu tokens (%lld a step), %.1f ms (%.1f tokens/s); "
               "generation: %lld tokens, %.1f ms (%.1f tokens/s); peak "
               "memory %.1f MiB\n",
               prompt.size(), static_cast<long long>(dec->prefillStep()),
               promptTime * 1e3, prompt.size() / promptTime,
               static_cast<long long>(made), genTime * 1e3,
               made ? made / genTime : 0.0, usage.ru_maxrss / 1024.0);
  return writeOutputs(o, ids, logits, dec->vocabSize());
}
