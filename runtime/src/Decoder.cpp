//===- Decoder.cpp - an LLM's prefill and decode steps over libqcrt -------===//

#include "qcrt/Decoder.h"

#include <algorithm>
#include <cstring>

using namespace qc::rt;

namespace {

std::string describe(const qcrt_tensor_info &t) {
  std::string s = std::string(qcrt_dtype_name(t.dtype)) + " [";
  for (int32_t d = 0; d < t.rank; ++d)
    s += (d ? ", " : "") + std::to_string(t.dims[d]);
  return s + "]";
}

bool hasShape(const qcrt_tensor_info &t, qcrt_dtype dtype,
              std::vector<int64_t> dims) {
  return t.dtype == dtype && t.rank == int32_t(dims.size()) &&
         std::equal(dims.begin(), dims.end(), t.dims);
}

/// Whether the artifact `model` was loaded from has the entry `name`.
bool hasEntry(const qcrt_model *model, const std::string &name) {
  for (size_t i = 0; i < qcrt_num_entries(model); ++i)
    if (name == qcrt_entry_name(model, i))
      return true;
  return false;
}

} // namespace

/// One artifact and the buffers of its non-state arguments.
struct Decoder::Step {
  qcrt_model *model = nullptr;
  std::string dir;
  int64_t seq = 0;
  size_t idsInput = 0, lengthInput = 0, totalInput = 0, logitsOutput = 0;
  /// Per state of the decode artifact's session: this model's input and
  /// output index.
  std::vector<std::pair<size_t, size_t>> states;
  std::vector<int64_t> ids;
  int32_t seqlen = 0, total = 0;
  std::vector<float> logits;

  ~Step() { qcrt_free(model); }

  /// Loads `dir` and finds its inputs and outputs; "" or an error.
  std::string load(const std::string &path) {
    dir = path;
    if (qcrt_load(path.c_str(), &model) != QCRT_OK)
      return qcrt_last_error();
    return findArguments();
  }

  /// Loads the entry `name` of the artifact `base` holds; "" or an error.
  std::string loadEntry(const Step &base, const std::string &name) {
    dir = base.dir + " (entry '" + name + "')";
    if (qcrt_load_entry(base.model, name.c_str(), &model) != QCRT_OK)
      return qcrt_last_error();
    return findArguments();
  }

  std::string findArguments() {
    bool haveIds = false, haveLen = false, haveTotal = false;
    std::vector<bool> isState(qcrt_num_inputs(model), false);
    for (size_t i = 0; i < qcrt_num_states(model); ++i) {
      size_t in, out;
      qcrt_state_info(model, i, &in, &out);
      isState[in] = true;
    }
    for (size_t i = 0; i < qcrt_num_inputs(model); ++i) {
      qcrt_tensor_info t;
      qcrt_input_info(model, i, &t);
      std::string name = t.name;
      if (isState[i])
        continue;
      if (name == "input_ids" && t.rank == 2 && t.dtype == QCRT_I64 &&
          t.dims[0] == 1) {
        idsInput = i;
        seq = t.dims[1];
        haveIds = true;
      } else if (name == "seqlens_k" && hasShape(t, QCRT_I32, {1})) {
        lengthInput = i;
        haveLen = true;
      } else if (name == "total_sequence_length" &&
                 hasShape(t, QCRT_I32, {})) {
        totalInput = i;
        haveTotal = true;
      } else {
        return dir + ": input '" + name + "' (" + describe(t) +
               ") is not one of a decoder's: input_ids i64 [1, S], "
               "seqlens_k i32 [1], total_sequence_length i32 [], caches";
      }
    }
    if (!haveIds || !haveLen || !haveTotal || qcrt_num_states(model) == 0)
      return dir + ": not a decoder artifact (compile the model with "
                   "--context N: it needs input_ids, seqlens_k, "
                   "total_sequence_length and key-value caches)";
    return findLogits();
  }

  std::string findLogits() {
    for (size_t i = 0; i < qcrt_num_outputs(model); ++i) {
      qcrt_tensor_info t;
      qcrt_output_info(model, i, &t);
      if (std::string(t.name) == "logits" && t.dtype == QCRT_F32 &&
          t.rank == 3 && t.dims[0] == 1 && t.dims[1] == seq) {
        logitsOutput = i;
        logits.resize(size_t(seq * t.dims[2]));
        ids.resize(size_t(seq));
        return "";
      }
    }
    return dir + ": no output 'logits' f32 [1, " + std::to_string(seq) +
           ", V]";
  }

  int64_t vocab() const { return int64_t(logits.size()) / seq; }
};

Decoder::~Decoder() { qcrt_session_free(session); }

int64_t Decoder::prefillStep() const { return prefill ? prefill->seq : 1; }

std::unique_ptr<Decoder> Decoder::open(const std::string &decodeDir,
                                       const std::string &prefillDir,
                                       std::string &error) {
  std::unique_ptr<Decoder> d(new Decoder);
  d->decode = std::make_unique<Step>();
  if ((error = d->decode->load(decodeDir)).size())
    return nullptr;
  if (d->decode->seq != 1) {
    error = decodeDir + ": a decode artifact takes one token a step, this "
                        "one " + std::to_string(d->decode->seq) +
            " (compile it with --input-shape input_ids=1x1)";
    return nullptr;
  }
  if (qcrt_session_create(d->decode->model, &d->session) != QCRT_OK) {
    error = qcrt_last_error();
    return nullptr;
  }
  d->vocab = d->decode->vocab();
  if ((error = d->matchStates(*d->decode)).size())
    return nullptr;
  if (!prefillDir.empty() || hasEntry(d->decode->model, "prefill")) {
    d->prefill = std::make_unique<Step>();
    error = prefillDir.empty() ? d->prefill->loadEntry(*d->decode, "prefill")
                               : d->prefill->load(prefillDir);
    if (error.size() || (error = d->matchStates(*d->prefill)).size())
      return nullptr;
    if (d->prefill->vocab() != d->vocab) {
      error = d->prefill->dir + ": its vocabulary (" +
              std::to_string(d->prefill->vocab()) +
              ") differs from the decode artifact's";
      return nullptr;
    }
  }
  d->last.assign(size_t(d->vocab), 0.0f);
  return d;
}

std::string Decoder::matchStates(Step &step) {
  size_t n = qcrt_num_states(decode->model);
  if (qcrt_num_states(step.model) != n)
    return step.dir + ": " + std::to_string(qcrt_num_states(step.model)) +
           " caches, the decode artifact has " + std::to_string(n);
  for (size_t k = 0; k < n; ++k) {
    size_t in, out;
    qcrt_state_info(decode->model, k, &in, &out);
    qcrt_tensor_info want;
    qcrt_input_info(decode->model, in, &want);
    if (want.rank != 4)
      return step.dir + ": cache '" + want.name + "' is not [1, KV, T, D]";
    if (k == 0)
      capacity = want.dims[2];
    else if (want.dims[2] != capacity)
      return step.dir + ": caches of different lengths";
    bool found = false;
    for (size_t j = 0; j < n && !found; ++j) {
      size_t sin, sout;
      qcrt_state_info(step.model, j, &sin, &sout);
      qcrt_tensor_info have;
      qcrt_input_info(step.model, sin, &have);
      if (std::string(have.name) != want.name)
        continue;
      if (!hasShape(have, want.dtype,
                    std::vector<int64_t>(want.dims, want.dims + want.rank)))
        return step.dir + ": cache '" + want.name + "' is " + describe(have) +
               ", the decode artifact's " + describe(want);
      step.states.push_back({sin, sout});
      found = true;
    }
    if (!found)
      return step.dir + ": no cache '" + want.name + "'";
  }
  return "";
}

void Decoder::reset() {
  qcrt_session_reset(session);
  fed = 0;
  std::fill(last.begin(), last.end(), 0.0f);
}

bool Decoder::run(Step &s, const int64_t *tokens, int64_t n,
                  std::string &error, std::vector<float> *allLogits) {
  // A short last chunk is padded: the padding's cache entries lie past the
  // real tokens, where the next steps overwrite them before anyone reads.
  for (int64_t i = 0; i < s.seq; ++i)
    s.ids[size_t(i)] = i < n ? tokens[i] : 0;
  s.seqlen = int32_t(fed + s.seq - 1);
  s.total = int32_t(fed + s.seq);
  std::vector<const void *> inputs(qcrt_num_inputs(s.model));
  std::vector<void *> outputs(qcrt_num_outputs(s.model));
  inputs[s.idsInput] = s.ids.data();
  inputs[s.lengthInput] = &s.seqlen;
  inputs[s.totalInput] = &s.total;
  outputs[s.logitsOutput] = s.logits.data();
  // The decode artifact runs as the session's model (its state entries are
  // ignored); the prefill artifact on the same caches, each passed as both
  // its input and its output, updated in place.
  bool own = &s == decode.get();
  for (size_t k = 0; k < s.states.size() && !own; ++k) {
    void *cache = qcrt_session_state(session, k);
    inputs[s.states[k].first] = cache;
    outputs[s.states[k].second] = cache;
  }
  qcrt_status st = own ? qcrt_session_run(session, inputs.data(), outputs.data())
                       : qcrt_run(s.model, inputs.data(), outputs.data());
  if (st != QCRT_OK) {
    error = qcrt_last_error();
    return false;
  }
  const float *rows = s.logits.data();
  if (allLogits)
    allLogits->insert(allLogits->end(), rows, rows + n * vocab);
  std::copy(rows + (n - 1) * vocab, rows + n * vocab, last.begin());
  fed += n;
  return true;
}

bool Decoder::feed(const std::vector<int64_t> &tokens, std::string &error,
                   std::vector<float> *allLogits) {
  int64_t n = int64_t(tokens.size());
  if (fed + n > capacity) {
    error = "context overflow: " + std::to_string(fed) + " + " +
            std::to_string(n) + " tokens do not fit the " +
            std::to_string(capacity) +
            " positions of the caches (compile with a larger --context)";
    return false;
  }
  for (int64_t t : tokens)
    if (t < 0 || t >= vocab) {
      error = "token " + std::to_string(t) + " is outside the vocabulary of " +
              std::to_string(vocab);
      return false;
    }
  int64_t i = 0;
  while (i < n) {
    int64_t left = n - i;
    // A prefill step where the chunk is worth its cost and fits.
    bool whole = prefill && left * 4 >= prefill->seq &&
                 fed + prefill->seq <= capacity;
    Step &s = whole ? *prefill : *decode;
    int64_t take = std::min(left, s.seq);
    if (!run(s, tokens.data() + i, take, error, allLogits))
      return false;
    i += take;
  }
  return true;
}
