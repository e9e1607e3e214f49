//===- AssignPrecision.cpp - per-layer schemes under a bit budget ---------===//

#include "QC/IR/QCAttrs.h"
#include "QC/IR/QCOps.h"
#include "qc/Quant/GPTQ.h"
#include "qc/Quant/Stats.h"
#include "qc/Transforms/ConstantData.h"
#include "qc/Transforms/Passes.h"
#include "qc/Transforms/QuantRecipe.h"
#include "qc/Transforms/QuantizeWeights.h"

#include "mlir/IR/Threading.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/ToolOutputFile.h"

#include <queue>

namespace qc {
#define GEN_PASS_DEF_ASSIGNPRECISIONPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {

struct Candidate {
  unsigned scheme; // index into the candidate list
  double bits;     // storage bits of the layer in this scheme
  double error;    // Hessian-weighted output error / output energy
};

struct Layer {
  LinearOp op;
  int64_t k, n;
  /// Candidates on the lower convex hull of (bits, error), bits increasing.
  std::vector<Candidate> hull;
  size_t chosen = 0;
};

/// Keeps the points of the lower-left convex hull: each step up in bits
/// buys a strictly smaller error, at a non-increasing rate.
std::vector<Candidate> convexHull(std::vector<Candidate> c) {
  llvm::sort(c, [](const Candidate &a, const Candidate &b) {
    return a.bits < b.bits || (a.bits == b.bits && a.error < b.error);
  });
  std::vector<Candidate> hull;
  for (const Candidate &p : c) {
    if (!hull.empty() && p.error >= hull.back().error)
      continue; // dominated: more bits, no less error
    while (hull.size() >= 2) {
      const Candidate &a = hull[hull.size() - 2], &b = hull.back();
      // b lies on or above the segment a-p: drop it.
      double cross = (b.bits - a.bits) * (p.error - a.error) -
                     (b.error - a.error) * (p.bits - a.bits);
      if (cross > 0)
        break;
      hull.pop_back();
    }
    hull.push_back(p);
  }
  return hull;
}

struct AssignPrecisionPass
    : qc::impl::AssignPrecisionPassBase<AssignPrecisionPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    auto fail = [&](const Twine &msg) {
      module.emitError() << "qc-assign-precision: " << msg;
      signalPassFailure();
    };
    if (!(budget > 0))
      return fail("needs budget=BITS_PER_WEIGHT (> 0)");
    if (stats.empty())
      return fail("needs calibration statistics (stats=FILE, from "
                  "qc-calibrate)");
    quant::CalibrationStats calibration;
    std::string error;
    if (!quant::readStats(stats, calibration, error))
      return fail(error);
    std::vector<std::string> names(candidates.begin(), candidates.end());
    if (names.empty())
      names = {"w2g64", "w3g128", "w4g128", "w8g128"};
    SmallVector<QuantSchemeAttrInterface> schemes;
    for (const std::string &name : names) {
      QuantSchemeAttrInterface s = parseQuantScheme(ctx, name, error);
      if (!s)
        return fail("candidate '" + name + "': " + error);
      schemes.push_back(s);
    }
    LayerPatterns excluded;
    if (!excluded.compile(exclude, error))
      return fail(error);

    std::vector<Layer> layers;
    module.walk([&](LinearOp op) {
      if (excluded.matches(op.getLayer()))
        return;
      layers.push_back({op, op.getInFeatures(), op.getOutFeatures(), {}, 0});
    });
    if (layers.empty())
      return fail("no layer to assign");

    // Every candidate's error on every layer (RTN with MSE clipping: the
    // estimate of the layer's sensitivity), layers in parallel.
    std::vector<std::string> layerErrors(layers.size());
    std::vector<std::vector<float>> weights(layers.size());
    for (size_t i = 0; i < layers.size(); ++i) {
      FailureOr<std::vector<float>> w =
          getConstantFloats(layers[i].op.getWeight());
      if (failed(w)) {
        layers[i].op.emitError()
            << "qc-assign-precision: layer '" << layers[i].op.getLayer()
            << "': the weight is not a constant f32 tensor";
        return signalPassFailure();
      }
      weights[i] = std::move(*w);
    }
    mlir::parallelFor(ctx, 0, layers.size(), [&](size_t i) {
      Layer &layer = layers[i];
      std::string name = layer.op.getLayer().str();
      const quant::TapStats *s = calibration.lookup(name);
      if (!s || s->K != layer.k || s->rows == 0) {
        layerErrors[i] = "no usable calibration statistics for layer '" +
                         name + "'";
        return;
      }
      // The layer's output energy on the calibration data, sum_n w_n^T H w_n:
      // errors are compared relative to it (an output SNR), because the
      // absolute error of a layer says little about its effect downstream
      // (early layers have small outputs and feed everything after them).
      std::vector<float> zero(weights[i].size(), 0.0f);
      double energy = quant::hessianError(weights[i].data(), zero.data(),
                                          layer.k, layer.n, s->H.data());
      if (!(energy > 0))
        energy = 1.0;
      std::vector<Candidate> all;
      for (unsigned c = 0; c < schemes.size(); ++c) {
        auto diag = [&]() { return InFlightDiagnostic(); };
        if (failed(schemes[c].verifyShape(layer.k, layer.n, diag)))
          continue;
        WeightQuantOptions rtn;
        QuantizedWeight q;
        std::string err;
        if (!quantizeWeights(schemes[c], weights[i], layer.k, layer.n, rtn,
                             nullptr, q, err)) {
          layerErrors[i] = "layer '" + name + "', " + names[c] + ": " + err;
          return;
        }
        double e = quant::hessianError(weights[i].data(),
                                       q.dequantized.data(), layer.k,
                                       layer.n, s->H.data()) /
                   energy;
        all.push_back(
            {c, 8.0 * double(schemes[c].getStorageBytes(layer.k, layer.n)),
             e});
      }
      if (all.empty()) {
        layerErrors[i] = "no candidate scheme fits layer '" + name + "' [" +
                         std::to_string(layer.k) + " x " +
                         std::to_string(layer.n) + "]";
        return;
      }
      layer.hull = convexHull(std::move(all));
    });
    for (const std::string &e : layerErrors)
      if (!e.empty())
        return fail(e);

    // Greedy exchange: cheapest everywhere, then the best error decrease per
    // bit that still fits, until nothing fits.
    double weightsTotal = 0, bitsTotal = 0;
    for (const Layer &l : layers) {
      weightsTotal += double(l.k) * double(l.n);
      bitsTotal += l.hull.front().bits;
    }
    const double allowed = budget * weightsTotal;
    if (bitsTotal > allowed * (1 + 1e-12))
      return fail("budget " + llvm::formatv("{0:f3}", double(budget)) +
                  " bits per weight is below the cheapest candidates' " +
                  llvm::formatv("{0:f3}", bitsTotal / weightsTotal));
    using Step = std::pair<double, size_t>; // (gain per bit, layer)
    std::priority_queue<Step> queue;
    auto push = [&](size_t i) {
      const Layer &l = layers[i];
      if (l.chosen + 1 >= l.hull.size())
        return;
      const Candidate &a = l.hull[l.chosen], &b = l.hull[l.chosen + 1];
      queue.push({(a.error - b.error) / (b.bits - a.bits), i});
    };
    for (size_t i = 0; i < layers.size(); ++i)
      push(i);
    while (!queue.empty()) {
      size_t i = queue.top().second;
      queue.pop();
      Layer &l = layers[i];
      double extra = l.hull[l.chosen + 1].bits - l.hull[l.chosen].bits;
      if (bitsTotal + extra > allowed)
        continue; // this layer's next step does not fit; others may
      bitsTotal += extra;
      ++l.chosen;
      push(i);
    }

    Builder b(ctx);
    llvm::json::Object overrides;
    for (Layer &l : layers) {
      const std::string &name = names[l.hull[l.chosen].scheme];
      l.op->setAttr("qc.scheme", b.getStringAttr(name));
      overrides[llvm::Regex::escape(l.op.getLayer())] = name;
    }
    module->setAttr("qc.assigned_bits_per_weight",
                    b.getF64FloatAttr(bitsTotal / weightsTotal));
    if (recipe.empty())
      return;
    llvm::json::Object root{{"scheme", names.front()},
                            {"overrides", std::move(overrides)}};
    if (!exclude.empty())
      root["exclude"] = llvm::json::Array(
          std::vector<llvm::json::Value>(exclude.begin(), exclude.end()));
    std::error_code ec;
    llvm::ToolOutputFile out(recipe, ec, llvm::sys::fs::OF_Text);
    if (ec)
      return fail("cannot write '" + recipe + "': " + ec.message());
    out.os() << llvm::formatv("{0:2}", llvm::json::Value(std::move(root)))
             << "\n";
    out.os().flush();
    if (out.os().has_error())
      return fail("cannot write '" + recipe + "'");
    out.keep();
  }
};

} // namespace
