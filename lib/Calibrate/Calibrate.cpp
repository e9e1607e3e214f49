//===- Calibrate.cpp - statistics from running the compiled model ---------===//

#include "qc/Calibrate/Calibrate.h"
#include "qc/Quant/BoA.h"
#include "qc/Support/Progress.h"

#include "QC/IR/QCOps.h"
#include "qc/Transforms/ConstantData.h"
#include "qc/Transforms/Passes.h"
#include "qcrt.h"
#include "qcrt/Npy.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Regex.h"

#include <chrono>
#include <map>
#include <thread>
#include <unistd.h>

using namespace mlir;
using namespace qc;

namespace {

struct LayerInfo {
  std::string name;
  int64_t k = 0, n = 0;
  std::vector<float> weight;
  size_t weightIndex = 0; // in the calibration artifact
  size_t block = 0;
};

/// Per-thread state the observer callback sees.
struct ObserverState {
  std::vector<quant::TapStats> *stats = nullptr;
  const std::vector<char> *active = nullptr;
  /// Recording (float run for cross statistics): rows per tap.
  std::vector<std::vector<float>> *record = nullptr;
  /// Replaying: the float run's rows to pair with.
  const std::vector<std::vector<float>> *paired = nullptr;
  std::string error;
};

/// The rows of a strided [rows, cols] view, packed densely into `dst`.
void copyRows(const float *data, int64_t rows, int64_t cols, int64_t rowStride,
              std::vector<float> &dst) {
  dst.resize(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    std::copy(data + r * rowStride, data + r * rowStride + cols,
              dst.begin() + r * cols);
}

void observe(void *user, int64_t tap, const float *data, int64_t rows,
             int64_t cols, int64_t rowStride) {
  auto *s = static_cast<ObserverState *>(user);
  if (tap < 0 || size_t(tap) >= s->active->size() || !(*s->active)[tap] ||
      !s->error.empty())
    return;
  quant::TapStats &t = (*s->stats)[size_t(tap)];
  if (cols != t.K) {
    s->error = "tap " + std::to_string(tap) + " delivered rows of " +
               std::to_string(cols) + " values, expected " +
               std::to_string(t.K);
    return;
  }
  if (s->record) {
    copyRows(data, rows, cols, rowStride, (*s->record)[size_t(tap)]);
    return;
  }
  if (s->paired) {
    const std::vector<float> &fp = (*s->paired)[size_t(tap)];
    if (fp.size() != size_t(rows * cols)) {
      s->error = "tap " + std::to_string(tap) +
                 " saw different shapes in the float and quantized runs";
      return;
    }
    // Dense copy so both operands share one row stride.
    std::vector<float> dense;
    copyRows(data, rows, cols, rowStride, dense);
    t.accumulate(dense.data(), rows, cols, fp.data(), s->error);
    return;
  }
  t.accumulate(data, rows, rowStride, nullptr, s->error);
}

/// Calibration samples of every model input.
struct Samples {
  int64_t count = 0;
  std::vector<npy::Array> arrays;  // per model input
  std::vector<size_t> sampleBytes; // per model input

  const void *sample(size_t input, int64_t s) const {
    return static_cast<const char *>(arrays[input].data()) +
           size_t(s) * sampleBytes[input];
  }
};

std::string shapeText(const int64_t *dims, size_t rank) {
  std::string s = "[";
  for (size_t i = 0; i < rank; ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

LogicalResult loadSamples(const qcrt_model *model, const CalibrateOptions &opt,
                          Samples &out, Location loc) {
  size_t numInputs = qcrt_num_inputs(model);
  std::map<std::string, std::string> byName;
  for (const auto &[name, path] : opt.data) {
    std::string key = name;
    if (key.empty()) {
      if (numInputs != 1)
        return emitError(loc) << "calibration data '" << path
                              << "' names no input, but the model has "
                              << numInputs << " (use NAME=FILE.npy)";
      qcrt_tensor_info info;
      qcrt_input_info(model, 0, &info);
      key = info.name;
    }
    if (!byName.emplace(key, path).second)
      return emitError(loc)
             << "calibration data for input '" << key << "' given twice";
  }
  for (size_t i = 0; i < numInputs; ++i) {
    qcrt_tensor_info info;
    qcrt_input_info(model, i, &info);
    auto it = byName.find(info.name);
    if (it == byName.end())
      return emitError(loc)
             << "no calibration data for model input '" << info.name << "'";
    npy::Array array;
    std::string error;
    if (!npy::readNpyFile(it->second, array, error))
      return emitError(loc) << "calibration data: " << error;
    if (std::string(npy::dtypeName(array.dtype())) !=
        qcrt_dtype_name(info.dtype))
      return emitError(loc)
             << "calibration data '" << it->second << "' for input '"
             << info.name << "' is " << npy::dtypeName(array.dtype())
             << ", the input is " << qcrt_dtype_name(info.dtype);
    const std::vector<int64_t> &shape = array.shape();
    std::vector<int64_t> dims(info.dims, info.dims + info.rank);
    int64_t count = -1;
    auto tailMatches = [&](size_t skipArray, size_t skipInput) {
      return shape.size() - skipArray == dims.size() - skipInput &&
             std::equal(shape.begin() + skipArray, shape.end(),
                        dims.begin() + skipInput);
    };
    if (!shape.empty() && shape.size() == dims.size() + 1 && tailMatches(1, 0))
      count = shape[0];
    else if (!shape.empty() && !dims.empty() && dims[0] == 1 &&
             shape.size() == dims.size() && tailMatches(1, 1))
      count = shape[0];
    if (count < 0)
      return emitError(loc)
             << "calibration data '" << it->second << "' for input '"
             << info.name << "' has shape " << npy::formatShape(shape)
             << "; expected [S, " << shapeText(info.dims, info.rank).substr(1)
             << " (S samples stacked on a leading axis)";
    if (count == 0)
      return emitError(loc)
             << "calibration data '" << it->second << "' holds no sample";
    if (out.count >= 0 && !out.arrays.empty() && count != out.count)
      return emitError(loc) << "calibration inputs disagree on the number "
                               "of samples ("
                            << out.count << " and " << count << ")";
    out.count = count;
    out.sampleBytes.push_back(size_t(info.byte_size));
    out.arrays.push_back(std::move(array));
  }
  if (byName.size() != numInputs)
    for (const auto &[name, path] : byName) {
      bool known = false;
      for (size_t i = 0; i < numInputs; ++i) {
        qcrt_tensor_info info;
        qcrt_input_info(model, i, &info);
        known |= name == info.name;
      }
      if (!known)
        return emitError(loc) << "calibration data names input '" << name
                              << "', which the model does not have";
    }
  if (opt.maxSamples > 0)
    out.count = std::min(out.count, opt.maxSamples);
  return success();
}

/// A temporary folder removed on scope exit.
struct TempDir {
  std::string path;
  ~TempDir() {
    if (!path.empty())
      llvm::sys::fs::remove_directories(path);
  }
};

} // namespace

namespace {

/// The calibration model's layers, taps and blocks.
struct CalibrationModel {
  std::vector<LayerInfo> layers;
  std::map<std::string, size_t> layerIndex;
  /// Layer name -> the resource key of its own weight blob.
  std::map<std::string, std::string> weightKeyOf;
  std::vector<quant::TapStats> taps;
  std::vector<size_t> tapBlock;
  size_t numBlocks = 0;
};

/// Gives every linear layer of `module` a weight blob of its own, so that
/// the run can replace it (block-by-block mode) without touching other
/// users, and records the layers.
LogicalResult giveLayersOwnWeights(ModuleOp module, CalibrationModel &m) {
  std::vector<LayerInfo> &layers = m.layers;
  std::map<std::string, size_t> &layerIndex = m.layerIndex;
  std::map<std::string, std::string> &weightKeyOf = m.weightKeyOf;
  WalkResult walk = module.walk([&](LinearOp op) {
    std::string name = op.getLayer().str();
    auto type = cast<RankedTensorType>(op.getWeight().getType());
    FailureOr<std::vector<float>> w = getConstantFloats(op.getWeight());
    if (failed(w) || !type.getElementType().isF32()) {
      op.emitError() << "calibration: layer '" << name
                     << "' has no constant f32 weight";
      return WalkResult::interrupt();
    }
    if (!layerIndex.emplace(name, layers.size()).second) {
      op.emitError() << "calibration: two layers are named '" << name << "'";
      return WalkResult::interrupt();
    }
    LayerInfo info;
    info.name = name;
    info.k = op.getInFeatures();
    info.n = op.getOutFeatures();
    info.weight = std::move(*w);
    ArrayRef<char> bytes(reinterpret_cast<const char *>(info.weight.data()),
                         info.weight.size() * sizeof(float));
    auto attr = DenseResourceElementsAttr::get(
        type, "qc.calib." + name,
        HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, 64));
    weightKeyOf[name] = attr.getRawHandle().getKey().str();
    OpBuilder b(op);
    Operation *old = op.getWeight().getDefiningOp();
    op.getWeightMutable().assign(
        arith::ConstantOp::create(b, op.getLoc(), attr));
    if (old && old->use_empty())
      old->erase();
    layers.push_back(std::move(info));
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  if (layers.empty())
    return emitError(module.getLoc())
           << "calibration: the model has no linear layer with a constant "
              "weight";

  return success();
}

/// Inserts the observation taps and records what each one sees.
LogicalResult insertTaps(ModuleOp module, const CalibrateOptions &opt,
                         CalibrationModel &m) {
  std::vector<quant::TapStats> &taps = m.taps;
  PassManager pm(module.getContext());
  InsertObservePassOptions insertOptions;
  insertOptions.exclude.assign(opt.exclude.begin(), opt.exclude.end());
  insertOptions.attention = opt.attentionTaps;
  pm.addPass(createInsertObservePass(insertOptions));
  if (failed(pm.run(module)))
    return failure();
  module.walk([&](ObserveOp op) {
    if (size_t(op.getTap()) >= taps.size())
      taps.resize(size_t(op.getTap()) + 1);
    quant::TapStats &t = taps[size_t(op.getTap())];
    for (Attribute a : op.getLayers())
      t.layers.push_back(cast<StringAttr>(a).str());
    t.K = cast<RankedTensorType>(op.getInput().getType()).getShape().back();
  });

  return success();
}

/// Groups the layers into blocks (opt.blockPattern) and gives every tap the
/// block of its first layer.
LogicalResult assignBlocks(ModuleOp module, const CalibrateOptions &opt,
                           CalibrationModel &m) {
  std::vector<LayerInfo> &layers = m.layers;
  std::map<std::string, size_t> &layerIndex = m.layerIndex;
  std::vector<quant::TapStats> &taps = m.taps;
  std::vector<size_t> &tapBlock = m.tapBlock;
  size_t &numBlocks = m.numBlocks;
  // Blocks, in program order of their first layer.
  llvm::Regex blockRe(opt.blockPattern);
  std::string reError;
  if (!blockRe.isValid(reError))
    return emitError(module.getLoc()) << "calibration: bad block pattern '"
                                      << opt.blockPattern << "': " << reError;
  std::map<std::string, size_t> blockOf;
  for (LayerInfo &l : layers) {
    SmallVector<StringRef> groups;
    std::string key = blockRe.match(l.name, &groups) && groups.size() > 1
                          ? groups[1].str()
                          : "\x01" + l.name;
    auto [it, inserted] = blockOf.emplace(key, numBlocks);
    if (inserted)
      ++numBlocks;
    l.block = it->second;
  }
  tapBlock.assign(taps.size(), 0);
  for (size_t t = 0; t < taps.size(); ++t) {
    // A tap belongs to the block of its first layer; block-by-block mode
    // needs all readers of a value in one block. Attention taps are named
    // after their layer (quant::baseLayerName).
    auto blockOf = [&](const std::string &name) {
      return layers[layerIndex.at(quant::baseLayerName(name))].block;
    };
    size_t block = blockOf(taps[t].layers.front());
    for (const std::string &name : taps[t].layers)
      if (opt.blockByBlock && blockOf(name) != block)
        return emitError(module.getLoc())
               << "calibration: layers '" << taps[t].layers.front() << "' and '"
               << name << "' read the same input but lie in different blocks";
    tapBlock[t] = block;
  }

  return success();
}

} // namespace

LogicalResult qc::calibrate(ModuleOp module, const CalibrateOptions &opt,
                            quant::CalibrationStats &stats) {
  Location loc = module.getLoc();
  OwningOpRef<ModuleOp> clone = module.clone();

  CalibrationModel m;
  if (failed(giveLayersOwnWeights(*clone, m)) ||
      failed(insertTaps(*clone, opt, m)) ||
      failed(assignBlocks(*clone, opt, m)))
    return failure();
  std::vector<LayerInfo> &layers = m.layers;
  std::map<std::string, size_t> &layerIndex = m.layerIndex;
  std::map<std::string, std::string> &weightKeyOf = m.weightKeyOf;
  std::vector<quant::TapStats> &taps = m.taps;
  const std::vector<size_t> &tapBlock = m.tapBlock;
  size_t numBlocks = m.numBlocks;

  // Compile and load.
  TempDir tmp;
  SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("qc-calibrate", dir))
    return emitError(loc) << "calibration: cannot create a temporary "
                             "folder: "
                          << ec.message();
  tmp.path = dir.str().str();
  AOTOptions aot = opt.aot;
  aot.outputDir = tmp.path;
  // Block-by-block runs replace weights with their quantized values, in the
  // graph's [N, K] layout.
  aot.packWeights = !opt.blockByBlock;
  Progress progress("qc-calibrate", opt.progress);
  progress.show("compiling the calibration model");
  if (failed(compileToArtifact(*clone, aot)))
    return failure();
  qcrt_model *raw = nullptr;
  if (qcrt_load(tmp.path.c_str(), &raw) != QCRT_OK)
    return emitError(loc) << "calibration: " << qcrt_last_error();
  std::unique_ptr<qcrt_model, void (*)(qcrt_model *)> model(raw, qcrt_free);
  std::map<std::string, size_t> weightIndex;
  for (size_t i = 0; i < qcrt_num_weights(raw); ++i) {
    qcrt_tensor_info info;
    qcrt_weight_info(raw, i, &info);
    weightIndex[info.name] = i;
  }
  for (LayerInfo &l : layers) {
    auto it = weightIndex.find(weightKeyOf[l.name]);
    if (it == weightIndex.end() && opt.blockByBlock)
      return emitError(loc) << "calibration: internal error: the weight of "
                            << l.name << " is not an artifact weight";
    l.weightIndex = it == weightIndex.end() ? 0 : it->second;
  }
  Samples samples;
  if (failed(loadSamples(raw, opt, samples, loc)))
    return failure();

  std::vector<std::vector<char>> outputs(qcrt_num_outputs(raw));
  std::vector<const void *> overrides(qcrt_num_weights(raw), nullptr);
  std::vector<std::vector<float>> dequantized(layers.size());

  // Runs every sample with the taps in `active` accumulating into `taps`.
  auto runAll = [&](const std::vector<char> &active, bool cross,
                    const std::string &what) -> LogicalResult {
    int threads = std::max(1, std::min<int>(opt.threads, int(samples.count)));
    std::vector<std::vector<quant::TapStats>> local(
        static_cast<size_t>(threads));
    std::vector<std::string> errors(static_cast<size_t>(threads));
    std::atomic<int64_t> next{0}, done{0};
    auto worker = [&](int id) {
      std::vector<quant::TapStats> &mine = local[size_t(id)];
      mine.resize(taps.size());
      for (size_t t = 0; t < taps.size(); ++t)
        if (active[t]) {
          mine[t].layers = taps[t].layers;
          mine[t].reset(taps[t].K, cross);
        }
      std::vector<std::vector<char>> outBufs(outputs.size());
      std::vector<void *> outPtrs;
      for (size_t o = 0; o < outputs.size(); ++o) {
        qcrt_tensor_info info;
        qcrt_output_info(raw, o, &info);
        outBufs[o].resize(size_t(info.byte_size));
        outPtrs.push_back(outBufs[o].data());
      }
      std::vector<std::vector<float>> record(taps.size());
      ObserverState state;
      state.stats = &mine;
      state.active = &active;
      qcrt_set_observer(observe, &state);
      for (int64_t s = next++; s < samples.count; s = next++) {
        std::vector<const void *> in;
        for (size_t i = 0; i < samples.arrays.size(); ++i)
          in.push_back(samples.sample(i, s));
        if (cross) {
          state.record = &record;
          state.paired = nullptr;
          if (qcrt_run(raw, in.data(), outPtrs.data()) != QCRT_OK) {
            errors[size_t(id)] = qcrt_last_error();
            break;
          }
          state.record = nullptr;
          state.paired = &record;
        }
        if (qcrt_run_with_weights(raw, in.data(), outPtrs.data(),
                                  overrides.data()) != QCRT_OK) {
          errors[size_t(id)] = qcrt_last_error();
          break;
        }
        if (!state.error.empty())
          break;
        ++done;
      }
      qcrt_set_observer(nullptr, nullptr);
      if (errors[size_t(id)].empty())
        errors[size_t(id)] = state.error;
    };
    std::vector<std::thread> pool;
    for (int id = 1; id < threads; ++id)
      pool.emplace_back(worker, id);
    worker(0);
    for (std::thread &t : pool)
      t.join();
    progress.show(what + ", " + std::to_string(done.load()) + "/" +
                  std::to_string(samples.count) + " samples");
    for (const std::string &e : errors)
      if (!e.empty())
        return emitError(loc) << "calibration: " << e;
    // Merge the threads' sums.
    for (size_t t = 0; t < taps.size(); ++t) {
      if (!active[t])
        continue;
      taps[t].reset(taps[t].K, cross);
      for (auto &mine : local)
        taps[t].merge(mine[t]);
    }
    return success();
  };

  if (!opt.blockByBlock) {
    std::vector<char> all(taps.size(), 1);
    if (failed(runAll(all, false, "all layers")))
      return failure();
  } else {
    if (!opt.quantizeLayer)
      return emitError(loc) << "calibration: block-by-block mode needs a "
                               "quantizer";
    for (size_t b = 0; b < numBlocks; ++b) {
      std::vector<char> active(taps.size(), 0);
      bool any = false;
      for (size_t t = 0; t < taps.size(); ++t)
        if (tapBlock[t] == b)
          active[t] = any = true;
      if (!any)
        continue;
      // Cross statistics only differ from H once something is quantized.
      bool cross = opt.crossStats && b > 0;
      if (failed(runAll(active, cross,
                        "block " + std::to_string(b + 1) + "/" +
                            std::to_string(numBlocks))))
        return failure();
      for (size_t t = 0; t < taps.size(); ++t) {
        if (!active[t])
          continue;
        for (const std::string &name : taps[t].layers) {
          auto it = layerIndex.find(name);
          if (it == layerIndex.end())
            continue; // an attention tap: read by its layer's quantizer
          LayerInfo &l = layers[it->second];
          std::string error;
          std::vector<float> &deq = dequantized[it->second];
          if (!opt.quantizeLayer(l.name, l.weight, l.k, l.n, taps[t], taps,
                                 deq, error))
            return emitError(loc)
                   << "calibration: layer '" << name << "': " << error;
          if (deq.size() != size_t(l.k * l.n))
            return emitError(loc) << "calibration: layer '" << name
                                  << "': quantizer returned a wrong size";
          overrides[l.weightIndex] = deq.data();
        }
      }
    }
  }
  stats.taps = std::move(taps);
  std::string error;
  if (!stats.index(error))
    return emitError(loc) << "calibration: " << error;
  return success();
}
