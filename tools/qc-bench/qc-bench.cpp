//===- qc-bench.cpp - speed of the generated low-bit kernels --------------===//
//
// Google Benchmark driver: for each shape (K x N), code width, token count
// and thread count it compiles one quantized layer through the normal AOT
// path (qc-compile's), loads it with libqcrt and runs it over a chain of
// distinct copies of its weights whose total size exceeds the last-level
// cache (--min-bytes), so every layer streams its weights from memory.
// Alongside each measurement it times a STREAM-style read of the same
// number of bytes on the same threads, and reports
//
//   GB/s        weight bytes (codes, scales, zero points, bias) per second
//   stream_GB/s the plain read of the same bytes
//   frac        GB/s / stream_GB/s
//   us/layer    time of one layer
//
// Benchmarks are not tests: nothing here asserts a speed.
//
//===----------------------------------------------------------------------===//

#include "QC/IR/QCOps.h"
#include "qc/Codegen/KernelTarget.h"
#include "qc/Pipelines/Pipelines.h"
#include "qc/Target/AOT.h"
#include "qc/Tools/ToolContext.h"
#include "qc/Transforms/ConstantData.h"
#include "qc/Transforms/Passes.h"
#include "qcrt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>

using namespace mlir;

namespace {

/// Weight schemes, by their --bits prefix.
enum class Family {
  Uniform,    // w<bits>
  UniformLut, // lw<bits>: uniform through LUT-GEMM (--uniform-lut)
  BCQ,        // bcq<bits>: binary coding, bits = planes
  Codebook,   // cb2: 2 codebooks of 256 vectors of 8 (2 bits per weight)
  SmallBook,  // cbs2: 1 codebook of 16 vectors of 2 (2 bits per weight)
};

struct Config {
  int64_t k, n, m;
  Family family;
  unsigned bits;
  int64_t group;
  std::string kernels; // generated | reference
};

constexpr std::pair<const char *, Family> kFamilies[] = {
    {"lw", Family::UniformLut}, {"w", Family::Uniform},
    {"bcq", Family::BCQ},       {"cbs", Family::SmallBook},
    {"cb", Family::Codebook}};

/// One compiled layer and its chain of weight copies.
struct Layer {
  qcrt_model *model = nullptr;
  std::vector<std::vector<uint8_t>> storage; // [copy * weights + w]
  std::vector<std::vector<const void *>> weights; // per copy
  std::vector<float> x, y;
  uint64_t bytesPerLayer = 0;
};

uint64_t minBytes = 128ull << 20;
std::string workDir;
/// qc-select-kernel's target for every layer (--target).
std::string kernelTarget = "host";
/// The layers' activation scheme (--act, as qc-compile's).
std::string activationScheme = "auto";

/// Gives the layer `y` defines the activation scheme --act names for its
/// weight scheme (checked in main).
void setActivations(Value y) {
  auto op = y.getDefiningOp<qc::QLinearOp>();
  std::string error;
  op.setActAttr(*qc::activationFor(activationScheme, op.getScheme(), error));
}

/// The module: y = qc.qlinear(x) with random uniform codes.
OwningOpRef<ModuleOp> buildModule(MLIRContext &ctx, const Config &c) {
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  Type f32 = b.getF32Type();
  auto xType = RankedTensorType::get({c.m, c.k}, f32);
  auto yType = RankedTensorType::get({c.m, c.n}, f32);
  auto fn = func::FuncOp::create(b, loc, "main",
                                 b.getFunctionType({xType}, {yType}));
  fn.setArgAttrs(0, {b.getNamedAttr("qc.name", b.getStringAttr("x")),
                     b.getNamedAttr("qc.dtype", b.getStringAttr("f32"))});
  fn.setResultAttrs(0, {b.getNamedAttr("qc.name", b.getStringAttr("y")),
                        b.getNamedAttr("qc.dtype", b.getStringAttr("f32"))});
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  std::mt19937 rng(42);
  int64_t groups = c.group > 0 ? c.k / c.group : 1; // -1: whole columns
  auto blob = [&](auto &data, ArrayRef<int64_t> shape, Type elt,
                  StringRef key) -> Value {
    AsmResourceBlob raw = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(reinterpret_cast<const char *>(data.data()),
                       data.size() * sizeof(data[0])),
        alignof(uint64_t));
    auto attr = DenseResourceElementsAttr::get(
        RankedTensorType::get(shape, elt), key, std::move(raw));
    return arith::ConstantOp::create(b, loc, attr);
  };
  if (c.family == Family::Codebook || c.family == Family::SmallBook) {
    bool small = c.family == Family::SmallBook;
    const int64_t books = small ? 1 : 2, v = small ? 2 : 8,
                  entries = small ? 16 : 256;
    std::vector<int32_t> idx(books * (c.k / v) * c.n);
    for (auto &i : idx)
      i = static_cast<int32_t>(rng() % entries);
    std::vector<float> book(books * entries * v), colScale(c.n, 0.01f);
    for (auto &w : book)
      w = static_cast<float>(rng() % 200) / 100.0f - 1.0f;
    Value iv = blob(idx, {books, c.k / v, c.n}, b.getI32Type(), "codes");
    Value sv = blob(colScale, {c.n}, f32, "scales");
    Value bv = blob(book, {books, entries, v}, f32, "book");
    auto cb = qc::CodebookAttr::get(&ctx, v, entries, books, f32);
    Value y = qc::QLinearOp::create(b, loc, yType, entry->getArgument(0), iv,
                                    sv, Value(), bv, Value(), cb,
                                    b.getStringAttr("fc"));
    setActivations(y);
    func::ReturnOp::create(b, loc, y);
    return module;
  }
  std::vector<uint8_t> codes(c.k * c.n);
  for (auto &v : codes)
    v = rng() & ((1u << c.bits) - 1);
  bool bcq = c.family == Family::BCQ;
  std::vector<float> scales((bcq ? c.bits : 1) * groups * c.n),
      zeros(groups * c.n);
  for (auto &v : scales)
    v = 0.001f + 0.01f * (rng() % 100) / 100.0f;
  for (auto &v : zeros)
    v = static_cast<float>(rng() & ((1u << c.bits) - 1));
  Value cv = blob(codes, {c.k, c.n}, b.getI8Type(), "codes");
  // Uniform layers store f16 scales and zero points (the usual checkpoint
  // format); BCQ keeps f32.
  std::vector<uint16_t> scalesHalf, zerosHalf;
  Type f16 = b.getF16Type();
  for (float v : scales)
    scalesHalf.push_back(qc::toHalfBits(v, f16));
  for (float v : zeros)
    zerosHalf.push_back(qc::toHalfBits(v, f16));
  Value sv = bcq ? blob(scales, {c.bits, groups, c.n}, f32, "scales")
                   : blob(scalesHalf, {groups, c.n}, f16, "scales");
  Value zv = bcq ? blob(zeros, {groups, c.n}, f32, "zeros")
                   : blob(zerosHalf, {groups, c.n}, f16, "zeros");
  qc::QuantSchemeAttrInterface scheme;
  if (bcq)
    scheme = qc::BCQAttr::get(&ctx, c.bits, c.group, /*offset=*/true, f32);
  else
    scheme = qc::UniformAttr::get(&ctx, c.bits, c.group, /*perIc=*/false,
                                  /*symmetric=*/false, f16);
  Value y = qc::QLinearOp::create(b, loc, yType, entry->getArgument(0), cv, sv,
                                  zv, Value(), Value(), scheme,
                                  b.getStringAttr("fc"));
  setActivations(y);
  func::ReturnOp::create(b, loc, y);
  return module;
}

std::string configName(const Config &c) {
  return "k" + std::to_string(c.k) + "_n" + std::to_string(c.n) +
         "_" + llvm::find_if(kFamilies, [&](const auto &f) {
           return f.second == c.family;
         })->first +
         std::to_string(c.bits) + "_m" + std::to_string(c.m) + "_" +
         c.kernels;
}

Layer *getLayer(const Config &c, std::string &error) {
  static std::map<std::string, std::unique_ptr<Layer>> cache;
  std::string name = configName(c);
  auto it = cache.find(name);
  if (it != cache.end())
    return it->second.get();
  qc::ToolContext tool("qc-bench");
  MLIRContext &ctx = tool.get();
  OwningOpRef<ModuleOp> module = buildModule(ctx, c);
  qc::AOTOptions options;
  options.outputDir = workDir + "/" + name;
  options.kernels = c.kernels;
  options.kernelTarget = kernelTarget;
  options.uniformLut = c.family == Family::UniformLut;
  if (failed(qc::compileToArtifact(*module, options))) {
    error = "compiling " + name + " failed";
    return nullptr;
  }
  auto layer = std::make_unique<Layer>();
  if (qcrt_load(options.outputDir.c_str(), &layer->model) != QCRT_OK) {
    error = qcrt_last_error();
    return nullptr;
  }
  size_t nw = qcrt_num_weights(layer->model);
  std::vector<qcrt_tensor_info> infos(nw);
  for (size_t w = 0; w < nw; ++w) {
    qcrt_weight_info(layer->model, w, &infos[w]);
    layer->bytesPerLayer += infos[w].byte_size;
  }
  size_t copies = std::max<uint64_t>(
      2, (minBytes + layer->bytesPerLayer - 1) / layer->bytesPerLayer);
  std::mt19937 rng(7);
  for (size_t l = 0; l < copies; ++l) {
    std::vector<const void *> ptrs;
    for (size_t w = 0; w < nw; ++w) {
      std::vector<uint8_t> &buf = layer->storage.emplace_back(
          infos[w].byte_size + 64);
      // Codes random, floats small and finite.
      if (infos[w].dtype == QCRT_F32) {
        auto *f = reinterpret_cast<float *>(buf.data());
        for (uint64_t i = 0; i < infos[w].num_elements; ++i)
          f[i] = 0.01f;
      } else {
        for (auto &v : buf)
          v = rng() & 0x77;
      }
      ptrs.push_back(buf.data());
    }
    layer->weights.push_back(std::move(ptrs));
  }
  layer->x.assign(c.m * c.k, 0.5f);
  layer->y.assign(c.m * c.n, 0.0f);
  return cache.emplace(name, std::move(layer)).first->second.get();
}

/// A STREAM-style read of `bytes` on `threads` threads: seconds (best of 5).
double streamRead(uint64_t bytes, int threads) {
  static std::vector<uint64_t> buffer;
  size_t words = bytes / 8;
  if (buffer.size() < words)
    buffer.assign(words, 1);
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<uint64_t> sums(threads * 8);
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        size_t b = words * t / threads, e = words * (t + 1) / threads;
        uint64_t s[8] = {0};
        for (size_t i = b; i + 8 <= e; i += 8)
          for (int j = 0; j < 8; ++j)
            s[j] += buffer[i + j];
        for (int j = 0; j < 8; ++j)
          sums[t * 8 + j] = s[j];
      });
    for (auto &th : pool)
      th.join();
    double secs = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start)
                      .count();
    benchmark::DoNotOptimize(sums.data());
    best = std::min(best, secs);
  }
  return best;
}

void runLayer(benchmark::State &state, Config c, int threads) {
  std::string error;
  Layer *layer = getLayer(c, error);
  if (!layer) {
    state.SkipWithError(error.c_str());
    return;
  }
  qcrt_set_num_threads(threads);
  const void *in[] = {layer->x.data()};
  void *out[] = {layer->y.data()};
  size_t copies = layer->weights.size();
  double seconds = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    for (size_t l = 0; l < copies; ++l)
      if (qcrt_run_with_weights(layer->model, in, out,
                                layer->weights[l].data()) != QCRT_OK) {
        state.SkipWithError(qcrt_last_error());
        return;
      }
    benchmark::ClobberMemory();
    seconds += std::chrono::duration<double>(
                   std::chrono::steady_clock::now() - start)
                   .count();
  }
  double total = static_cast<double>(layer->bytesPerLayer) * copies;
  double rate = total * state.iterations() / seconds / 1e9;
  double stream = total / streamRead(static_cast<uint64_t>(total), threads) /
                  1e9;
  state.counters["GB/s"] = rate;
  state.counters["stream_GB/s"] = stream;
  state.counters["frac"] = rate / stream;
  state.counters["us/layer"] =
      seconds / static_cast<double>(state.iterations() * copies) * 1e6;
  state.counters["layers"] = static_cast<double>(copies);
  state.counters["weight_MB"] = layer->bytesPerLayer / 1e6;
}

/// The positive integers of a comma-separated list; none (with an error
/// printed) if an item is not one.
std::optional<std::vector<int64_t>> parseList(StringRef s, StringRef what) {
  std::vector<int64_t> out;
  SmallVector<StringRef> items;
  s.split(items, ',');
  for (StringRef item : items) {
    int64_t v;
    if (item.trim().getAsInteger(10, v) || v <= 0) {
      llvm::errs() << "qc-bench: error: bad " << what << " '" << item
                   << "' (a positive integer)\n";
      return std::nullopt;
    }
    out.push_back(v);
  }
  return out;
}

} // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  llvm::cl::opt<std::string> shapes(
      "shapes", llvm::cl::desc("KxN shapes, comma separated"),
      llvm::cl::init("4096x4096,4096x11008,11008x4096"));
  llvm::cl::opt<std::string> bits(
      "bits",
      llvm::cl::desc("schemes, comma separated: w2, w3, w4 (uniform), lw2 .. "
                     "lw4 (uniform through LUT-GEMM), bcq1 .. bcq4 (binary "
                     "coding), cb2 (2 codebooks of 256 x 8), cbs2 (1 "
                     "codebook of 16 x 2)"),
      llvm::cl::init("w2,w3,w4,bcq2,bcq3,bcq4"));
  llvm::cl::opt<std::string> batches("batches",
                                     llvm::cl::desc("token counts"),
                                     llvm::cl::init("1,4,8,16"));
  llvm::cl::opt<std::string> threads("num-threads",
                                     llvm::cl::desc("thread counts"),
                                     llvm::cl::init("1,2"));
  llvm::cl::opt<int64_t> group(
      "quant-group",
      llvm::cl::desc("group size (a positive divisor of every K, or -1: one "
                     "group per whole column)"),
      llvm::cl::init(128));
  llvm::cl::opt<int64_t> minMB(
      "min-mb",
      llvm::cl::desc("weights streamed per measurement, MiB (> the LLC)"),
      llvm::cl::init(128));
  llvm::cl::opt<std::string> target(
      "target",
      llvm::cl::desc("instruction set of the generated kernels, as "
                     "qc-compile --target (default: host)"),
      llvm::cl::init("host"));
  llvm::cl::opt<bool> reference(
      "reference",
      llvm::cl::desc("also time the reference (dequantize) lowering"));
  llvm::cl::opt<std::string> act(
      "act",
      llvm::cl::desc("activation scheme of the layers, as qc-compile --act: "
                     "auto (int8 for uniform and BCQ, float for codebooks), "
                     "f32 (dequant_f32 for uniform layers), int8, ..."),
      llvm::cl::init("auto"));
  llvm::cl::ParseCommandLineOptions(argc, argv,
                                    "qc-bench: generated kernel speed\n");
  minBytes = static_cast<uint64_t>(minMB) << 20;
  std::string targetError;
  if (failed(qc::resolveKernelTarget(target, targetError))) {
    llvm::errs() << "qc-bench: error: " << targetError << "\n";
    return 1;
  }
  kernelTarget = target;
  std::optional<std::vector<int64_t>> tokenCounts =
      parseList(batches, "token count");
  std::optional<std::vector<int64_t>> threadCounts =
      parseList(threads, "thread count");
  if (!tokenCounts || !threadCounts)
    return 1;
  {
    MLIRContext probe;
    probe.loadDialect<qc::QCDialect>();
    std::string actError;
    if (failed(qc::activationFor(
            act, qc::UniformAttr::get(&probe, 4, 128, false, false,
                                      Float32Type::get(&probe)),
            actError))) {
      llvm::errs() << "qc-bench: error: " << actError << "\n";
      return 1;
    }
  }
  activationScheme = act;
  llvm::SmallString<128> dir;
  if (llvm::sys::fs::createUniqueDirectory("qc-bench", dir)) {
    llvm::errs() << "qc-bench: error: cannot create a temporary folder\n";
    return 1;
  }
  workDir = dir.str().str();

  std::vector<std::string> kernelKinds = {"generated"};
  if (reference)
    kernelKinds.push_back("reference");
  if (reference && bits.getValue().find("lw") != std::string::npos) {
    llvm::errs() << "qc-bench: error: lw schemes name a generated kernel; "
                    "--reference would time the w schemes again\n";
    return 1;
  }
  size_t pos = 0;
  std::string s = shapes;
  while (pos < s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos)
      end = s.size();
    std::string shape = s.substr(pos, end - pos);
    pos = end + 1;
    size_t x = shape.find('x');
    if (x == std::string::npos) {
      llvm::errs() << "qc-bench: error: bad shape '" << shape << "'\n";
      return 1;
    }
    int64_t k, n;
    if (StringRef(shape).substr(0, x).getAsInteger(10, k) ||
        StringRef(shape).substr(x + 1).getAsInteger(10, n) || k <= 0 ||
        n <= 0) {
      llvm::errs() << "qc-bench: error: bad shape '" << shape << "'\n";
      return 1;
    }
    if (group != -1 && (group <= 0 || k % group != 0)) {
      llvm::errs() << "qc-bench: error: --quant-group " << group
                   << " must be -1 or a positive divisor of K = " << k
                   << " (shape '" << shape << "')\n";
      return 1;
    }
    struct Scheme {
      Family family;
      unsigned bits;
    };
    std::vector<Scheme> schemes;
    std::string list = bits;
    for (size_t p = 0; p < list.size();) {
      size_t e = list.find(',', p);
      if (e == std::string::npos)
        e = list.size();
      std::string item = list.substr(p, e - p);
      p = e + 1;
      // The first family whose prefix matches ("lw" before "w", "cbs"
      // before "cb"); a bare number is uniform.
      const auto *family = llvm::find_if(kFamilies, [&](const auto &f) {
        return item.rfind(f.first, 0) == 0;
      });
      bool known = family != std::end(kFamilies);
      std::string digits =
          item.substr(known ? std::strlen(family->first) : 0);
      bool codebook = known && (family->second == Family::Codebook ||
                                family->second == Family::SmallBook);
      if (digits.size() != 1 || digits[0] < '1' || digits[0] > '8' ||
          (codebook && digits != "2")) {
        llvm::errs() << "qc-bench: error: bad scheme '" << item << "'\n";
        return 1;
      }
      schemes.push_back({known ? family->second : Family::Uniform,
                         static_cast<unsigned>(digits[0] - '0')});
    }
    for (const Scheme &sc : schemes)
      for (int64_t m : *tokenCounts)
        for (const std::string &kind : kernelKinds)
          for (int64_t t : *threadCounts) {
            Config c{k, n, m, sc.family, sc.bits, group, kind};
            std::string name = configName(c) + "/threads:" +
                               std::to_string(t);
            benchmark::RegisterBenchmark(name.c_str(), runLayer, c,
                                         static_cast<int>(t))
                ->Unit(benchmark::kMicrosecond)
                ->UseRealTime()
                ->MinTime(0.2);
          }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  llvm::sys::fs::remove_directories(workDir);
  return 0;
}
