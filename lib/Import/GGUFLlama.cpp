//===- GGUFLlama.cpp - llama-family GGUF models as a graph ----------------===//
//
// A GGUF file holds weights and hyperparameters, not a graph: the
// architecture named in its metadata implies the graph. For the llama family
// (llama, SmolLM2, TinyLlama, Mistral-style models without sliding windows)
// this file writes that graph as an in-memory ONNX model, in the layout
// torch.onnx gives HF's LlamaForCausalLM, and hands it to the ONNX importer,
// whose op importers, checks and constant folding then apply unchanged:
//
//   input_ids [1, S] -> Gather(token_embd)
//   per block: RMSNorm -> q/k/v MatMul -> heads -> rotate-half RoPE (cos /
//   sin tables) -> grouped-query attention with a causal mask -> o MatMul ->
//   residual; RMSNorm -> SiLU(gate) * up -> down -> residual
//   final RMSNorm -> MatMul(output, or the tied token_embd) -> logits
//
// convert_hf_to_gguf.py permutes the rows of attn_q / attn_k for ggml's
// interleaved-pair RoPE; the import undoes that so the rotate-half form
// applies (the two are the same function of the original weights).
//
// Q4_0, Q4_1 and Q8_0 matrices, which qc's uniform scheme (group 32; a
// symmetric zero, or f32 zero points for Q4_1) holds exactly, are written
// as com.microsoft::MatMulNBits nodes (accuracy_level 4: int8 activations
// per block of 32, as llama.cpp computes them) and so become qc.qlinear
// layers with generated kernels; other types are dequantized to f32 MatMul
// weights.
//
//===----------------------------------------------------------------------===//

#include "qc/Import/GGUF.h"
#include "ShapeUtils.h"
#include "qc/Import/ModelLoader.h"
#include "qc/Support/HalfFloat.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace qc;
using namespace qc::detail;
using llvm::ArrayRef;
using llvm::StringRef;

namespace {

/// The hyperparameters of a llama-family model.
struct LlamaConfig {
  int64_t layers = 0, hidden = 0, ffn = 0, heads = 0, kvHeads = 0;
  int64_t headDim = 0, vocab = 0;
  double ropeBase = 10000, eps = 1e-5;
};

/// Builds the ONNX graph: nodes, initializers, a cache of small constants.
class GraphWriter {
public:
  explicit GraphWriter(onnx::GraphProto &graph) : graph(graph) {}

  /// Adds a node; its output is `output`, or NAME_output_0.
  std::string node(StringRef op, ArrayRef<std::string> inputs, StringRef name,
                   StringRef output = "") {
    onnx::NodeProto *n = graph.add_node();
    n->set_op_type(op.str());
    n->set_name(name.str());
    for (const std::string &in : inputs)
      n->add_input(in);
    std::string out = output.empty() ? name.str() + "_output_0" : output.str();
    n->add_output(out);
    last = n;
    return out;
  }
  void domain(StringRef d) { last->set_domain(d.str()); }
  /// More outputs of the last node.
  void extraOutputs(ArrayRef<std::string> names) {
    for (const std::string &n : names)
      last->add_output(n);
  }
  void attrInt(StringRef name, int64_t v) {
    onnx::AttributeProto *a = last->add_attribute();
    a->set_name(name.str());
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  void attrInts(StringRef name, ArrayRef<int64_t> v) {
    onnx::AttributeProto *a = last->add_attribute();
    a->set_name(name.str());
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a->add_ints(x);
  }

  /// An initializer of raw little-endian data.
  std::string init(StringRef name, int32_t dtype, ArrayRef<int64_t> shape,
                   const void *data, size_t bytes) {
    onnx::TensorProto *t = graph.add_initializer();
    t->set_name(name.str());
    t->set_data_type(dtype);
    for (int64_t d : shape)
      t->add_dims(d);
    t->set_raw_data(data, bytes);
    return name.str();
  }
  std::string initFloats(StringRef name, ArrayRef<int64_t> shape,
                         ArrayRef<float> v) {
    return init(name, onnx::TensorProto::FLOAT, shape, v.data(),
                v.size() * sizeof(float));
  }
  std::string ints(ArrayRef<int64_t> v) {
    return init("qc.gguf.const" + std::to_string(constants++),
                onnx::TensorProto::INT64, {int64_t(v.size())}, v.data(),
                v.size() * sizeof(int64_t));
  }
  std::string scalar(float v) {
    return init("qc.gguf.const" + std::to_string(constants++),
                onnx::TensorProto::FLOAT, {}, &v, sizeof v);
  }

private:
  onnx::GraphProto &graph;
  onnx::NodeProto *last = nullptr;
  int constants = 0;
};

/// Reads the llama hyperparameters; "" or an error.
std::string readConfig(const GGUFFile &file, LlamaConfig &cfg) {
  std::optional<std::string> arch = file.getString("general.architecture");
  if (!arch)
    return "no general.architecture in the metadata";
  if (*arch != "llama")
    return "unsupported architecture '" + *arch +
           "' (qc imports the llama family: general.architecture = llama)";
  auto need = [&](StringRef key, int64_t &out) -> std::string {
    std::optional<int64_t> v = file.getInt(("llama." + key).str());
    if (!v || *v <= 0)
      return "metadata llama." + key.str() + " is missing or not positive";
    out = *v;
    return "";
  };
  for (auto [key, out] :
       {std::pair<StringRef, int64_t *>{"block_count", &cfg.layers},
        {"embedding_length", &cfg.hidden},
        {"feed_forward_length", &cfg.ffn},
        {"attention.head_count", &cfg.heads}})
    if (std::string e = need(key, *out); !e.empty())
      return e;
  cfg.kvHeads =
      file.getInt("llama.attention.head_count_kv").value_or(cfg.heads);
  if (cfg.hidden % cfg.heads || cfg.kvHeads <= 0 || cfg.heads % cfg.kvHeads)
    return "inconsistent heads: embedding_length " +
           std::to_string(cfg.hidden) + ", head_count " +
           std::to_string(cfg.heads) + ", head_count_kv " +
           std::to_string(cfg.kvHeads);
  cfg.headDim = cfg.hidden / cfg.heads;
  if (cfg.headDim % 2)
    return "head dimension " + std::to_string(cfg.headDim) + " is odd";
  int64_t ropeDim =
      file.getInt("llama.rope.dimension_count").value_or(cfg.headDim);
  if (ropeDim != cfg.headDim)
    return "partial rotary embeddings (rope.dimension_count " +
           std::to_string(ropeDim) + " < head dimension " +
           std::to_string(cfg.headDim) + ") are not supported";
  if (std::optional<std::string> scaling =
          file.getString("llama.rope.scaling.type");
      scaling && *scaling != "none")
    return "RoPE scaling '" + *scaling + "' is not supported";
  // Each block has its tensors: a block count the file cannot hold is
  // refused before anything is sized by it.
  if (cfg.layers > static_cast<int64_t>(file.tensors().size()))
    return "block_count " + std::to_string(cfg.layers) + " but only " +
           std::to_string(file.tensors().size()) + " tensors";
  for (int64_t i = 0; i < cfg.layers; ++i)
    if (!file.tensor("blk." + std::to_string(i) + ".attn_norm.weight"))
      return "block_count " + std::to_string(cfg.layers) +
             " but no tensor blk." + std::to_string(i) + ".attn_norm.weight";
  cfg.ropeBase = file.getFloat("llama.rope.freq_base").value_or(10000.0);
  cfg.eps =
      file.getFloat("llama.attention.layer_norm_rms_epsilon").value_or(1e-5);
  return "";
}

/// Dequantizes tensor `name`, checking its ggml dims ({columns, rows} for a
/// matrix); "" or an error.
std::string loadTensor(const GGUFFile &file, const std::string &name,
                       ArrayRef<int64_t> dims, std::vector<float> &out) {
  const GGUFTensor *t = file.tensor(name);
  if (!t)
    return "tensor '" + name + "' is missing";
  if (ArrayRef<int64_t>(t->dims) != dims) {
    return "tensor '" + name + "' has ggml shape " + listStr(t->dims) +
           ", expected " + listStr(dims);
  }
  return file.dequantize(*t, out);
}

/// [rows, cols] row-major -> [cols, rows] (MatMul's [in, out]).
std::vector<float> transposed(const std::vector<float> &w, int64_t rows,
                              int64_t cols) {
  std::vector<float> t(w.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t[size_t(c * rows + r)] = w[size_t(r * cols + c)];
  return t;
}

/// Undoes convert_hf_to_gguf's permute of q / k rows: within each head,
/// row 2i + t goes back to t * dh / 2 + i.
std::vector<float> unpermuted(const std::vector<float> &w, int64_t heads,
                              int64_t headDim, int64_t cols) {
  std::vector<float> out(w.size());
  int64_t half = headDim / 2;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t t = 0; t < 2; ++t) {
        const float *src = &w[size_t((h * headDim + 2 * i + t) * cols)];
        float *dst = &out[size_t((h * headDim + t * half + i) * cols)];
        std::copy(src, src + cols, dst);
      }
  return out;
}

/// The row of a GGUF q / k matrix that holds row `r` of the un-permuted one
/// (heads of `headDim` rows; identity where `heads` is 0).
int64_t sourceRow(int64_t r, int64_t heads, int64_t headDim) {
  if (!heads)
    return r;
  int64_t h = r / headDim, within = r % headDim, half = headDim / 2;
  return h * headDim + 2 * (within % half) + within / half;
}

/// A Q4_0 / Q4_1 / Q8_0 matrix in com.microsoft MatMulNBits' form: B [N,
/// K / 32, blob] with two 4-bit codes a byte (element 2j in the low nibble)
/// or one 8-bit code, f32 scales [N, K / 32] and, for Q4_1, f32 zero points
/// [N, K / 32] (else the symmetric zero 2^(bits-1)). Q4_0 is x = (q - 8) d
/// with q in 0..15 and Q8_0 x = q d with q in -128..127, stored as q + 128:
/// both exact. Q4_1 is x = d q + m, stored as d (q - z) with z = -m / d
/// (exact to rounding; a block with d = 0 holds m everywhere: scale m,
/// codes 1, zero 0).
struct NBitsMatrix {
  int64_t bits;
  std::vector<uint8_t> b;
  std::vector<float> scales, zeros;
};

/// Whether a matrix of `type` becomes MatMulNBits without dequantizing:
/// the types the generated dequant_i8 kernels run (8-bit layers where the
/// target's dot product takes codes to 255; elsewhere the kernel selection
/// dequantizes them to f32, as the other types are here).
bool hasNBitsForm(uint32_t type) {
  return GGMLType(type) == GGMLType::Q4_0 ||
         GGMLType(type) == GGMLType::Q4_1 || GGMLType(type) == GGMLType::Q8_0;
}

/// Whether an embedding table of `type` stays quantized, its rows decoded
/// where gathered (GatherBlockQuantized: integer zero points only).
bool hasGatherForm(uint32_t type) {
  return GGMLType(type) == GGMLType::Q4_0 || GGMLType(type) == GGMLType::Q8_0;
}

NBitsMatrix toNBits(const GGUFFile &file, const GGUFTensor &t, int64_t n,
                    int64_t k, int64_t heads, int64_t headDim) {
  bool q41 = GGMLType(t.type) == GGMLType::Q4_1;
  bool four = q41 || GGMLType(t.type) == GGMLType::Q4_0;
  int64_t header = q41 ? 4 : 2; // d, and m for Q4_1 (f16 each)
  GGMLBlock block = *ggmlBlock(t.type);
  int64_t kBlocks = k / 32, blob = four ? 16 : 32;
  NBitsMatrix m{four ? 4 : 8, std::vector<uint8_t>(size_t(n * kBlocks * blob)),
                std::vector<float>(size_t(n * kBlocks)), {}};
  if (q41)
    m.zeros.resize(m.scales.size());
  ArrayRef<uint8_t> raw = file.data(t);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t blk = 0; blk < kBlocks; ++blk) {
      const uint8_t *src =
          raw.data() +
          (sourceRow(r, heads, headDim) * kBlocks + blk) * block.bytes;
      size_t at = size_t(r * kBlocks + blk);
      uint16_t d, mn;
      std::memcpy(&d, src, 2);
      float scale = halfBitsToFloat(d);
      bool constant = false;
      if (q41) {
        std::memcpy(&mn, src + 2, 2);
        float min = halfBitsToFloat(mn);
        constant = scale == 0.0f;
        m.zeros[at] = constant ? 0.0f : -min / scale;
        if (constant)
          scale = min;
      }
      m.scales[at] = scale;
      uint8_t *dst = &m.b[size_t(at * blob)];
      for (int64_t e = 0; e < 32; ++e) {
        if (four) {
          const uint8_t *qs = src + header;
          uint8_t q = e < 16 ? qs[e] & 0xf : qs[e - 16] >> 4;
          dst[e / 2] |= uint8_t((constant ? 1 : q) << (4 * (e % 2)));
        } else {
          dst[e] = uint8_t(int(int8_t(src[2 + e])) + 128);
        }
      }
    }
  return m;
}

/// Writes the llama graph for sequence length `seq` into `graph`.
class LlamaBuilder {
public:
  /// `cacheLen` > 0: the key-value cache form with caches of that many
  /// positions.
  LlamaBuilder(const GGUFFile &file, const LlamaConfig &cfg, int64_t seq,
               int64_t cacheLen, bool keepQuantized, onnx::GraphProto &graph)
      : file(file), cfg(cfg), seq(seq), cacheLen(cacheLen),
        keepQuantized(keepQuantized), g(graph) {}

  std::string build();

private:
  /// A linear layer: the GGUF weight [out, in] becomes a MatMul with the
  /// initializer [in, out]. `heads` > 0: q / k rows to un-permute.
  std::string linear(const std::string &x, const std::string &tensor,
                     int64_t out, int64_t in, StringRef prefix,
                     int64_t heads = 0);
  std::string rmsNorm(const std::string &x, const std::string &tensor,
                      StringRef prefix);
  std::string rope(const std::string &x, StringRef prefix);
  std::string repeatKV(const std::string &x, StringRef prefix);
  std::string block(int64_t i, const std::string &h);
  /// Attention without a cache: RoPE, grouped heads, masked softmax.
  std::string attention(const std::string &q, const std::string &k,
                        const std::string &v, const std::string &prefix);
  /// Attention over the caches of layer `i`: one GroupQueryAttention.
  std::string cachedAttention(int64_t i, const std::string &q,
                              const std::string &k, const std::string &v,
                              const std::string &prefix);
  void ropeTables();
  /// The embedded tokens; `table` is set to the f32 table where there is one.
  std::string embedding(std::string &table);
  /// cos / sin [T, D/2] of GroupQueryAttention.
  void ropeCaches();
  /// The [S, S] causal mask and the constants of the masked softmax.
  void causalMask();

  const GGUFFile &file;
  const LlamaConfig &cfg;
  int64_t seq, cacheLen;
  bool keepQuantized;
  GraphWriter g;
  std::string error;
  std::string cosTable, sinTable, causal, negInf, epsConst, two, scale;
};

std::string LlamaBuilder::linear(const std::string &x,
                                 const std::string &tensor, int64_t out,
                                 int64_t in, StringRef prefix, int64_t heads) {
  const GGUFTensor *t = file.tensor(tensor);
  if (keepQuantized && t && hasNBitsForm(t->type) &&
      ArrayRef<int64_t>(t->dims) == ArrayRef<int64_t>{in, out}) {
    NBitsMatrix m = toNBits(file, *t, out, in, heads, cfg.headDim);
    int64_t kBlocks = in / 32;
    std::string b =
        g.init(tensor + ".codes", onnx::TensorProto::UINT8,
               {out, kBlocks, int64_t(m.b.size()) / (out * kBlocks)},
               m.b.data(), m.b.size());
    std::vector<std::string> inputs = {
        x, b, g.initFloats(tensor + ".scales", {out, kBlocks}, m.scales)};
    if (!m.zeros.empty())
      inputs.push_back(
          g.initFloats(tensor + ".zero_points", {out, kBlocks}, m.zeros));
    std::string y = g.node("MatMulNBits", inputs, (prefix + "/MatMul").str());
    g.domain("com.microsoft");
    g.attrInt("K", in);
    g.attrInt("N", out);
    g.attrInt("bits", m.bits);
    g.attrInt("block_size", 32);
    // int8 activations per block of 32, as llama.cpp's CPU dot products of
    // these types take them (its Q8_0 / Q8_1 activations).
    g.attrInt("accuracy_level", 4);
    return y;
  }
  std::vector<float> w;
  if (std::string e = loadTensor(file, tensor, {in, out}, w); !e.empty()) {
    error = e;
    return "";
  }
  if (heads)
    w = unpermuted(w, heads, cfg.headDim, in);
  std::string init = g.initFloats(tensor, {in, out}, transposed(w, out, in));
  return g.node("MatMul", {x, init}, (prefix + "/MatMul").str());
}

std::string LlamaBuilder::rmsNorm(const std::string &x,
                                  const std::string &tensor, StringRef prefix) {
  std::vector<float> w;
  if (std::string e = loadTensor(file, tensor, {cfg.hidden}, w); !e.empty()) {
    error = e;
    return "";
  }
  std::string p = prefix.str();
  std::string weight = g.initFloats(tensor, {cfg.hidden}, w);
  std::string sq = g.node("Pow", {x, two}, p + "/Pow");
  std::string mean = g.node("ReduceMean", {sq}, p + "/ReduceMean");
  g.attrInts("axes", {-1});
  g.attrInt("keepdims", 1);
  mean = g.node("Add", {mean, epsConst}, p + "/Add");
  std::string rms = g.node("Sqrt", {mean}, p + "/Sqrt");
  std::string y = g.node("Div", {x, rms}, p + "/Div");
  return g.node("Mul", {weight, y}, p + "/Mul");
}

/// RoPE's inverse frequency of pair `i` of a head of `dh`.
float inverseFrequency(const LlamaConfig &cfg, int64_t i) {
  return float(1.0 /
               std::pow(cfg.ropeBase, double(2 * i) / double(cfg.headDim)));
}

void LlamaBuilder::ropeCaches() {
  int64_t half = cfg.headDim / 2;
  std::vector<float> cosv(size_t(cacheLen * half)),
      sinv(size_t(cacheLen * half));
  for (int64_t p = 0; p < cacheLen; ++p)
    for (int64_t i = 0; i < half; ++i) {
      float angle = float(p) * inverseFrequency(cfg, i);
      cosv[size_t(p * half + i)] = std::cos(angle);
      sinv[size_t(p * half + i)] = std::sin(angle);
    }
  cosTable = g.initFloats("rope.cos_cache", {cacheLen, half}, cosv);
  sinTable = g.initFloats("rope.sin_cache", {cacheLen, half}, sinv);
}

void LlamaBuilder::causalMask() {
  std::vector<uint8_t> mask(size_t(seq * seq));
  for (int64_t r = 0; r < seq; ++r)
    for (int64_t c = 0; c <= r; ++c)
      mask[size_t(r * seq + c)] = 1;
  causal = g.init("causal_mask", onnx::TensorProto::BOOL, {seq, seq},
                  mask.data(), mask.size());
  negInf = g.scalar(std::numeric_limits<float>::lowest());
  scale = g.scalar(float(1.0 / std::sqrt(double(cfg.headDim))));
}

void LlamaBuilder::ropeTables() {
  int64_t dh = cfg.headDim, half = dh / 2;
  std::vector<float> cosv(size_t(seq * dh)), sinv(size_t(seq * dh));
  for (int64_t i = 0; i < half; ++i) {
    float invFreq = inverseFrequency(cfg, i);
    for (int64_t p = 0; p < seq; ++p) {
      float angle = float(p) * invFreq;
      for (int64_t rep = 0; rep < 2; ++rep) {
        cosv[size_t(p * dh + i + rep * half)] = std::cos(angle);
        sinv[size_t(p * dh + i + rep * half)] = std::sin(angle);
      }
    }
  }
  cosTable = g.initFloats("rope.cos", {1, 1, seq, dh}, cosv);
  sinTable = g.initFloats("rope.sin", {1, 1, seq, dh}, sinv);
}

std::string LlamaBuilder::rope(const std::string &x, StringRef prefix) {
  int64_t half = cfg.headDim / 2;
  std::string p = prefix.str();
  std::string x1 = g.node(
      "Slice", {x, g.ints({0}), g.ints({half}), g.ints({3})}, p + "/Slice");
  std::string x2 =
      g.node("Slice", {x, g.ints({half}), g.ints({cfg.headDim}), g.ints({3})},
             p + "/Slice_1");
  std::string neg = g.node("Neg", {x2}, p + "/Neg");
  std::string rot = g.node("Concat", {neg, x1}, p + "/Concat");
  g.attrInt("axis", -1);
  std::string a = g.node("Mul", {x, cosTable}, p + "/Mul");
  std::string b = g.node("Mul", {rot, sinTable}, p + "/Mul_1");
  return g.node("Add", {a, b}, p + "/Add");
}

std::string LlamaBuilder::repeatKV(const std::string &x, StringRef prefix) {
  int64_t rep = cfg.heads / cfg.kvHeads;
  if (rep == 1)
    return x;
  std::string p = prefix.str();
  std::string u = g.node("Unsqueeze", {x, g.ints({2})}, p + "/Unsqueeze");
  std::string e =
      g.node("Expand", {u, g.ints({1, cfg.kvHeads, rep, seq, cfg.headDim})},
             p + "/Expand");
  return g.node("Reshape", {e, g.ints({1, cfg.heads, seq, cfg.headDim})},
                p + "/Reshape");
}

std::string LlamaBuilder::attention(const std::string &qIn,
                                    const std::string &kIn,
                                    const std::string &vIn, const std::string &A) {
  std::string q = qIn, k = kIn, v = vIn;
  auto heads = [&](const std::string &t, int64_t n, StringRef name) {
    std::string r = g.node("Reshape", {t, g.ints({1, seq, n, cfg.headDim})},
                           (A + "/Reshape_" + name).str());
    std::string tr = g.node("Transpose", {r}, (A + "/Transpose_" + name).str());
    g.attrInts("perm", {0, 2, 1, 3});
    return tr;
  };
  q = rope(heads(q, cfg.heads, "q"), A + "/rope_q");
  k = repeatKV(rope(heads(k, cfg.kvHeads, "k"), A + "/rope_k"),
               A + "/repeat_k");
  v = repeatKV(heads(v, cfg.kvHeads, "v"), A + "/repeat_v");
  std::string kt = g.node("Transpose", {k}, A + "/Transpose_kt");
  g.attrInts("perm", {0, 1, 3, 2});
  std::string s = g.node("MatMul", {q, kt}, A + "/MatMul");
  s = g.node("Mul", {s, scale}, A + "/Mul");
  s = g.node("Where", {causal, s, negInf}, A + "/Where");
  s = g.node("Softmax", {s}, A + "/Softmax");
  g.attrInt("axis", -1);
  std::string c = g.node("MatMul", {s, v}, A + "/MatMul_1");
  c = g.node("Transpose", {c}, A + "/Transpose_out");
  g.attrInts("perm", {0, 2, 1, 3});
  return g.node("Reshape", {c, g.ints({1, seq, cfg.hidden})},
                A + "/Reshape_out");
}

std::string LlamaBuilder::cachedAttention(int64_t i, const std::string &q,
                                          const std::string &k,
                                          const std::string &v, const std::string &A) {
  std::string layer = std::to_string(i);
  g.node("GroupQueryAttention",
         {q, k, v, "past_key_values." + layer + ".key",
          "past_key_values." + layer + ".value", "seqlens_k",
          "total_sequence_length", cosTable, sinTable},
         A + "/GroupQueryAttention",
         A + "/GroupQueryAttention_output_0");
  g.domain("com.microsoft");
  g.extraOutputs({"present." + layer + ".key", "present." + layer + ".value"});
  g.attrInt("num_heads", cfg.heads);
  g.attrInt("kv_num_heads", cfg.kvHeads);
  g.attrInt("do_rotary", 1);
  return A + "/GroupQueryAttention_output_0";
}

std::string LlamaBuilder::block(int64_t i, const std::string &h) {
  std::string b = "blk." + std::to_string(i) + ".";
  std::string P = "/model/layers." + std::to_string(i);
  std::string A = P + "/self_attn";
  int64_t d = cfg.hidden, kvd = cfg.kvHeads * cfg.headDim;
  std::string x = rmsNorm(h, b + "attn_norm.weight", P + "/input_layernorm");
  std::string q =
      linear(x, b + "attn_q.weight", d, d, A + "/q_proj", cfg.heads);
  std::string k =
      linear(x, b + "attn_k.weight", kvd, d, A + "/k_proj", cfg.kvHeads);
  std::string v = linear(x, b + "attn_v.weight", kvd, d, A + "/v_proj");
  if (!error.empty())
    return "";
  std::string c = cacheLen > 0 ? cachedAttention(i, q, k, v, A)
                               : attention(q, k, v, A);
  std::string o = linear(c, b + "attn_output.weight", d, d, A + "/o_proj");
  std::string h1 = g.node("Add", {h, o}, P + "/Add");

  std::string M = P + "/mlp";
  x = rmsNorm(h1, b + "ffn_norm.weight", P + "/post_attention_layernorm");
  std::string gate =
      linear(x, b + "ffn_gate.weight", cfg.ffn, d, M + "/gate_proj");
  std::string up = linear(x, b + "ffn_up.weight", cfg.ffn, d, M + "/up_proj");
  if (!error.empty())
    return "";
  std::string sig = g.node("Sigmoid", {gate}, M + "/act_fn/Sigmoid");
  std::string silu = g.node("Mul", {gate, sig}, M + "/act_fn/Mul");
  std::string y = g.node("Mul", {silu, up}, M + "/Mul");
  y = linear(y, b + "ffn_down.weight", d, cfg.ffn, M + "/down_proj");
  return g.node("Add", {h1, y}, P + "/Add_1");
}

std::string LlamaBuilder::embedding(std::string &table) {
  const GGUFTensor *t = file.tensor("token_embd.weight");
  // Q4_0 / Q8_0 rows stay quantized, decoded only where gathered (Q4_1's
  // float zero points have no GatherBlockQuantized form).
  if (keepQuantized && t && hasGatherForm(t->type) &&
      ArrayRef<int64_t>(t->dims) == ArrayRef<int64_t>{cfg.hidden, cfg.vocab}) {
    NBitsMatrix m = toNBits(file, *t, cfg.vocab, cfg.hidden, 0, 0);
    std::string codes = g.init("token_embd.weight.rows", onnx::TensorProto::UINT8,
                               {cfg.vocab, int64_t(m.b.size()) / cfg.vocab},
                               m.b.data(), m.b.size());
    std::string scales = g.initFloats("token_embd.weight.row_scales",
                                      {cfg.vocab, cfg.hidden / 32}, m.scales);
    std::string h = g.node("GatherBlockQuantized", {codes, "input_ids", scales},
                           "/model/embed_tokens");
    g.domain("com.microsoft");
    g.attrInt("bits", m.bits);
    g.attrInt("block_size", 32);
    g.attrInt("gather_axis", 0);
    g.attrInt("quantize_axis", 1);
    return h;
  }
  std::vector<float> embed;
  if (std::string e =
          loadTensor(file, "token_embd.weight", {cfg.hidden, cfg.vocab}, embed);
      !e.empty()) {
    error = e;
    return "";
  }
  table = g.initFloats("token_embd.weight", {cfg.vocab, cfg.hidden}, embed);
  return g.node("Gather", {table, "input_ids"}, "/model/embed_tokens");
}

std::string LlamaBuilder::build() {
  std::string table;
  std::string h = embedding(table);
  if (!error.empty())
    return error;

  if (cacheLen > 0) {
    ropeCaches();
  } else {
    ropeTables();
    causalMask();
  }
  epsConst = g.scalar(float(cfg.eps));
  two = g.scalar(2.0f);

  for (int64_t i = 0; i < cfg.layers && error.empty(); ++i)
    h = block(i, h);
  if (!error.empty())
    return error;
  h = rmsNorm(h, "output_norm.weight", "/model/norm");
  if (!error.empty())
    return error;
  // The head: output.weight, or the embedding table (tied); a quantized
  // layer where its type has the MatMulNBits form.
  const GGUFTensor *embedTensor = file.tensor("token_embd.weight");
  std::string logits;
  if (file.tensor("output.weight")) {
    logits = linear(h, "output.weight", cfg.vocab, cfg.hidden, "/lm_head");
  } else if (table.empty() ||
             (keepQuantized && hasNBitsForm(embedTensor->type))) {
    // A tied head of its own: quantized where the table's type allows,
    // else the f32 matrix (the table itself is in its gather form).
    logits = linear(h, "token_embd.weight", cfg.vocab, cfg.hidden, "/lm_head");
  } else {
    std::string head = g.node("Transpose", {table}, "/lm_head/Transpose");
    g.attrInts("perm", {1, 0});
    logits = g.node("MatMul", {h, head}, "/lm_head/MatMul");
  }
  if (!error.empty())
    return error;
  g.node("Identity", {logits}, "/lm_head/Identity", "logits");
  return "";
}

/// Adds a tensor value description: `dtype` of static `shape`.
void describe(onnx::ValueInfoProto *vi, StringRef name, int32_t dtype,
              ArrayRef<int64_t> shape) {
  vi->set_name(name.str());
  onnx::TypeProto::Tensor *t = vi->mutable_type()->mutable_tensor_type();
  t->set_elem_type(dtype);
  onnx::TensorShapeProto *dims = t->mutable_shape(); // present for scalars too
  for (int64_t d : shape)
    dims->add_dim()->set_dim_value(d);
}

/// The graph's inputs and outputs: input_ids -> logits, and with caches of
/// `cacheLen` positions the run-time lengths and each layer's past and
/// present keys and values (onnxruntime-genai's names).
void describeInterface(onnx::GraphProto &graph, const LlamaConfig &cfg,
                       int64_t seq, int64_t cacheLen) {
  describe(graph.add_input(), "input_ids", onnx::TensorProto::INT64, {1, seq});
  describe(graph.add_output(), "logits", onnx::TensorProto::FLOAT,
           {1, seq, cfg.vocab});
  if (cacheLen == 0)
    return;
  describe(graph.add_input(), "seqlens_k", onnx::TensorProto::INT32, {1});
  describe(graph.add_input(), "total_sequence_length",
           onnx::TensorProto::INT32, {});
  SmallVector<int64_t> cache = {1, cfg.kvHeads, cacheLen, cfg.headDim};
  for (int64_t i = 0; i < cfg.layers; ++i)
    for (const char *kv : {"key", "value"}) {
      std::string layer = std::to_string(i) + "." + kv;
      describe(graph.add_input(), "past_key_values." + layer,
               onnx::TensorProto::FLOAT, cache);
      describe(graph.add_output(), "present." + layer,
               onnx::TensorProto::FLOAT, cache);
    }
}

/// The sequence length from --input-shape input_ids=1xS; "" or an error.
std::string sequenceLength(const ONNXImportOptions &options, int64_t &seq) {
  for (const auto &entry : options.inputShapes)
    if (entry.getKey() != "input_ids")
      return "--input-shape: a GGUF model's only input is input_ids, not '" +
             entry.getKey().str() + "'";
  if (!options.dimValues.empty() || !options.boundInputs.empty())
    return "--dim and --bind-input do not apply to GGUF models; give "
           "--input-shape input_ids=1xS";
  auto it = options.inputShapes.find("input_ids");
  if (it == options.inputShapes.end())
    return "give the sequence length the model is compiled for: "
           "--input-shape input_ids=1xS";
  ArrayRef<int64_t> shape = it->second;
  if (shape.size() != 2 || shape[0] != 1 || shape[1] <= 0)
    return "--input-shape input_ids must be 1xS (one sequence of S > 0 "
           "tokens)";
  seq = shape[1];
  return "";
}

} // namespace

mlir::OwningOpRef<mlir::ModuleOp>
qc::importGGUFFile(StringRef path, mlir::MLIRContext *context,
                   const ONNXImportOptions &options) {
  mlir::Location loc = mlir::FileLineColLoc::get(context, path, 0, 0);
  auto fail = [&](const std::string &msg) {
    mlir::emitError(loc) << msg;
    return mlir::OwningOpRef<mlir::ModuleOp>();
  };
  GGUFFile file;
  if (std::string e = file.open(path); !e.empty())
    return fail(e);
  LlamaConfig cfg;
  if (std::string e = readConfig(file, cfg); !e.empty())
    return fail("'" + path.str() + "': " + e);
  int64_t seq = 0;
  if (std::string e = sequenceLength(options, seq); !e.empty())
    return fail(e);
  const GGUFTensor *embed = file.tensor("token_embd.weight");
  if (!embed || embed->dims.size() != 2)
    return fail("tensor 'token_embd.weight' is missing or not a matrix");
  cfg.vocab = embed->dims[1];

  LoadedModel loaded;
  onnx::ModelProto &model = loaded.model;
  model.set_ir_version(8);
  model.set_producer_name("qc-gguf");
  onnx::OperatorSetIdProto *opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  onnx::OperatorSetIdProto *ms = model.add_opset_import();
  ms->set_domain("com.microsoft");
  ms->set_version(1);
  onnx::GraphProto &graph = *model.mutable_graph();
  graph.set_name(file.getString("general.name").value_or("gguf"));
  int64_t cacheLen = options.kvCacheLength;
  if (cacheLen > 0 && cacheLen < seq)
    return fail("--context " + std::to_string(cacheLen) +
                " is shorter than the " + std::to_string(seq) +
                " tokens of one step");
  describeInterface(graph, cfg, seq, cacheLen);
  LlamaBuilder builder(file, cfg, seq, cacheLen, !options.dequantizeGGUF,
                       graph);
  if (std::string e = builder.build(); !e.empty())
    return fail("'" + path.str() + "': " + e);
  loaded.modelDir = llvm::sys::path::parent_path(path).str();
  if (std::string e = prepareModel(path.str(), options.runChecker, loaded);
      !e.empty())
    return fail("internal error: the graph built from the GGUF is invalid: " +
                e);
  return importLoadedModel(loaded, path, context, options);
}
