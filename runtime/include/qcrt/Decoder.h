//===- Decoder.h - an LLM's prefill and decode steps over libqcrt -*- C++ -*-===//
//
// A decoder artifact is a model compiled with key-value caches
// (`qc-compile model.gguf --context T --input-shape input_ids=1xS`): inputs
// input_ids [1, S], seqlens_k [1] (tokens so far - 1, after this step),
// total_sequence_length [] and the caches (states); output logits [1, S, V].
// Decoder drives one such artifact with S = 1 (decode) and, optionally, a
// prefill step with a larger S of the same model and context: the artifact's
// own entry 'prefill' (`qc-compile --prefill S`) or another artifact. The
// prompt goes through the prefill step in whole steps, the rest one token at
// a time, both on the same caches (a libqcrt session of the decode
// artifact).
//
//===----------------------------------------------------------------------===//

#ifndef QCRT_DECODER_H
#define QCRT_DECODER_H

#include "qcrt.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qc::rt {

class Decoder {
public:
  ~Decoder();

  /// Loads the decode artifact and the prefill artifact `prefillDir` or,
  /// when that is empty, the decode artifact's entry 'prefill' if it has
  /// one; checks their interfaces. On failure returns null and
  /// sets `error`.
  static std::unique_ptr<Decoder> open(const std::string &decodeDir,
                                       const std::string &prefillDir,
                                       std::string &error);

  /// Positions the caches hold.
  int64_t context() const { return capacity; }
  int64_t vocabSize() const { return vocab; }
  /// Tokens fed so far.
  int64_t length() const { return fed; }
  /// Tokens a prefill step takes (1 without a prefill artifact).
  int64_t prefillStep() const;

  /// Forgets every token (zeroes the caches).
  void reset();

  /// Feeds `tokens` after the ones fed before. The logits of the last one
  /// are then logits(); with `allLogits`, the logits of every fed token are
  /// appended to it (V floats each). Fails, feeding nothing, when the tokens
  /// do not fit the context or a token is outside the vocabulary.
  bool feed(const std::vector<int64_t> &tokens, std::string &error,
            std::vector<float> *allLogits = nullptr);

  const std::vector<float> &logits() const { return last; }

private:
  struct Step;
  Decoder() = default;
  /// Pairs the caches of `step` with the session's; "" or an error.
  std::string matchStates(Step &step);
  bool run(Step &step, const int64_t *tokens, int64_t n, std::string &error,
           std::vector<float> *allLogits);

  std::unique_ptr<Step> decode, prefill;
  qcrt_session *session = nullptr;
  int64_t capacity = 0, vocab = 0, fed = 0;
  std::vector<float> last;
};

} // namespace qc::rt

#endif // QCRT_DECODER_H
