//===- Rotate.cpp - Hadamard rotations folded into the weights ------------===//
//
// QuaRot-style outlier suppression. An orthogonal T leaves x W unchanged as
// (x T)(T^T W), and a randomized Hadamard T spreads a few outlier channels
// of x over all of them, which is what low-bit activations need.
//
// The residual stream of a pre-norm transformer is rotated as a whole and
// costs nothing at run time: the stream starts at the token embedding
// (table E -> E T), linear layers add into it (W -> W T), RMSNorm reads it
// through a sum of squares and a per-token division, which commute with T
// once the norm's gamma moves into the layers reading the norm's output
// (W -> T^T diag(gamma) W). The trace below proves that every reader of the
// stream is one of these before anything changes.
//
// Inputs off the stream (attention output, the SwiGLU product) are rotated
// online: x -> x T generated as a fast Walsh-Hadamard transform, W -> T^T W.
//
//===----------------------------------------------------------------------===//

#include "QC/IR/QCOps.h"
#include "qc/Quant/Hadamard.h"
#include "qc/Transforms/ConstantData.h"
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace qc {
#define GEN_PASS_DEF_ROTATEPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {

//===----------------------------------------------------------------------===//
// Recognizing the stream's ops
//===----------------------------------------------------------------------===//

bool isElementwise(linalg::GenericOp g) {
  return g.getNumDpsInits() == 1 &&
         g.getNumParallelLoops() == g.getNumLoops() &&
         g.getMatchingIndexingMap(g.getDpsInitOperand(0)).isIdentity();
}

/// The op computing `g`'s yielded value.
Operation *yieldedOp(linalg::GenericOp g) {
  return g.getBody()->getTerminator()->getOperand(0).getDefiningOp();
}

/// The input index of body value `v`, if it is an input's block argument.
std::optional<unsigned> inputIndex(linalg::GenericOp g, Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg || arg.getOwner() != g.getBody() ||
      arg.getArgNumber() >= g.getNumDpsInputs())
    return std::nullopt;
  return arg.getArgNumber();
}

/// The constant [V, D] table of a token embedding: an elementwise generic
/// yielding `tensor.extract %table[..., linalg.index last]`.
arith::ConstantOp embeddingTable(linalg::GenericOp g) {
  auto extract = dyn_cast_or_null<tensor::ExtractOp>(
      isElementwise(g) ? yieldedOp(g) : nullptr);
  if (!extract || extract.getIndices().size() != 2)
    return {};
  auto table = extract.getTensor().getDefiningOp<arith::ConstantOp>();
  auto index = extract.getIndices().back().getDefiningOp<linalg::IndexOp>();
  auto type = table ? cast<RankedTensorType>(table.getType()) : nullptr;
  int64_t last = g.getNumLoops() - 1;
  auto out = cast<RankedTensorType>(g.getDpsInitOperand(0)->get().getType());
  if (!table || !index || int64_t(index.getDim()) != last ||
      !type.getElementType().isF32() ||
      type.getShape().back() != out.getShape()[last] ||
      extract->getParentRegion() != &g.getRegion())
    return {};
  return table;
}

/// Whether every user of `square` sums it over the last dimension alone.
bool onlySummedOverRows(Value square) {
  return llvm::all_of(square.getUsers(), [&](Operation *user) {
    auto r = dyn_cast<linalg::GenericOp>(user);
    if (!r || r.getNumDpsInputs() != 1 || r.getNumDpsInits() != 1 ||
        r.getDpsInputOperand(0)->get() != square ||
        !r.getMatchingIndexingMap(r.getDpsInputOperand(0)).isIdentity() ||
        r.getNumReductionLoops() != 1 ||
        r.getIteratorTypesArray().back() != utils::IteratorType::reduction)
      return false;
    auto add = dyn_cast_or_null<arith::AddFOp>(yieldedOp(r));
    Block *body = r.getBody();
    return add && llvm::is_contained(add->getOperands(), body->getArgument(0)) &&
           llvm::is_contained(add->getOperands(), body->getArgument(1));
  });
}

/// A reshape that keeps the last dimension as it is (the stream's width).
bool keepsLastDim(Operation *op) {
  if (auto e = dyn_cast<tensor::ExpandShapeOp>(op))
    return e.getReassociationIndices().back().size() == 1;
  if (auto c = dyn_cast<tensor::CollapseShapeOp>(op))
    return c.getReassociationIndices().back().size() == 1;
  return false;
}

//===----------------------------------------------------------------------===//
// Tracing the residual stream
//===----------------------------------------------------------------------===//

/// A layer reading the stream, through the norm scale `gamma` (operand of
/// `scale`) when it reads an RMSNorm's output.
struct Reader {
  LinearOp layer;
  linalg::GenericOp scale;
  unsigned gamma = 0;
};

/// Everything that takes the rotation of one residual stream of width D.
struct Stream {
  int64_t width = 0;
  SetVector<linalg::GenericOp> embeddings;
  SmallVector<Reader> readers;
  SetVector<LinearOp> writers;
  /// Norm scales `v * gamma` (operand number) whose result becomes `v`.
  llvm::MapVector<linalg::GenericOp, unsigned> scales;
  /// Residual adds whose other full-shape operands must be in the stream.
  SetVector<linalg::GenericOp> adds;
  llvm::DenseSet<Value> values;
};

class StreamTracer {
public:
  explicit StreamTracer(Stream &stream) : s(stream) {}

  /// Traces the stream from `embedding`; on failure `why` says what reads
  /// the stream without commuting with a rotation.
  LogicalResult trace(linalg::GenericOp embedding, std::string &why);

private:
  void add(Value v, linalg::GenericOp scale = {}, unsigned gamma = 0) {
    if (s.values.insert(v).second)
      worklist.push_back({v, scale, gamma});
  }
  LogicalResult visitUse(OpOperand &use, const Reader &through,
                         std::string &why);
  LogicalResult visitGeneric(linalg::GenericOp g, unsigned input,
                             std::string &why);
  LogicalResult joinOperand(Value v, std::string &why);

  Stream &s;
  struct Item {
    Value value;
    linalg::GenericOp scale;
    unsigned gamma;
  };
  SmallVector<Item> worklist;
};

LogicalResult StreamTracer::trace(linalg::GenericOp embedding,
                                  std::string &why) {
  s.width = cast<RankedTensorType>(embedding.getResult(0).getType())
                .getShape()
                .back();
  s.embeddings.insert(embedding);
  add(embedding.getResult(0));
  while (!worklist.empty()) {
    Item item = worklist.pop_back_val();
    Reader through{{}, item.scale, item.gamma};
    for (OpOperand &use : item.value.getUses())
      if (failed(visitUse(use, through, why)))
        return failure();
  }
  // Every residual add's operands are in the stream or join it.
  for (unsigned i = 0; i < s.adds.size(); ++i) {
    linalg::GenericOp g = s.adds[i];
    for (OpOperand *in : g.getDpsInputOperands())
      if (g.getMatchingIndexingMap(in).isIdentity() &&
          failed(joinOperand(in->get(), why)))
        return failure();
  }
  return success();
}

LogicalResult StreamTracer::visitUse(OpOperand &use, const Reader &through,
                                     std::string &why) {
  Operation *user = use.getOwner();
  if (keepsLastDim(user)) {
    add(user->getResult(0), through.scale, through.gamma);
    return success();
  }
  if (auto l = dyn_cast<LinearOp>(user);
      l && use.getOperandNumber() == 0 && hasRewritableWeight(l)) {
    s.readers.push_back({l, through.scale, through.gamma});
    return success();
  }
  if (through.scale) {
    why = "an RMSNorm output is read by '" +
          user->getName().getStringRef().str() +
          "', not a linear layer (its gamma cannot move into the weights)";
    return failure();
  }
  if (auto g = dyn_cast<linalg::GenericOp>(user);
      g && use.getOperandNumber() < g.getNumDpsInputs())
    return visitGeneric(g, use.getOperandNumber(), why);
  why = "the residual stream is read by '" +
        user->getName().getStringRef().str() + "'";
  return failure();
}

/// `g` reads the stream as input `input`.
LogicalResult StreamTracer::visitGeneric(linalg::GenericOp g, unsigned input,
                                         std::string &why) {
  Operation *op = yieldedOp(g);
  OpOperand *in = g.getDpsInputOperand(input);
  Value arg = g.getBody()->getArgument(input);
  int64_t last = g.getNumLoops() - 1;
  if (!isElementwise(g) || !g.getMatchingIndexingMap(in).isIdentity() || !op ||
      op->getNumOperands() != 2 || !llvm::is_contained(op->getOperands(), arg)) {
    why = "the residual stream is read by a linalg.generic that is not an "
          "elementwise step of a residual add or an RMSNorm";
    return failure();
  }
  Value other = op->getOperand(0) == arg ? op->getOperand(1)
                                         : op->getOperand(0);
  // The norm's sum of squares is the same for x and x T.
  if (isa<arith::MulFOp>(op) && other == arg &&
      onlySummedOverRows(g.getResult(0)))
    return success();
  std::optional<unsigned> otherInput = inputIndex(g, other);
  if (!otherInput) {
    why = "the residual stream is combined with a value computed inside an "
          "elementwise op";
    return failure();
  }
  AffineMap otherMap =
      g.getMatchingIndexingMap(g.getDpsInputOperand(*otherInput));
  // x * r or x / r with r one value per token: the division by the RMS.
  bool perToken = !otherMap.isFunctionOfDim(last);
  if (perToken && (isa<arith::MulFOp>(op) ||
                   (isa<arith::DivFOp>(op) && op->getOperand(0) == arg))) {
    add(g.getResult(0));
    return success();
  }
  // x * gamma: the norm's scale, folded into the readers.
  if (isa<arith::MulFOp>(op)) {
    if (std::optional<unsigned> gamma =
            channelConstantOperand(g, other, s.width)) {
      s.scales[g] = in->getOperandNumber();
      add(g.getResult(0), g, *gamma);
      return success();
    }
  }
  // x + y with y in the stream or joining it.
  if (isa<arith::AddFOp, arith::SubFOp>(op) && otherMap.isIdentity()) {
    s.adds.insert(g);
    add(g.getResult(0));
    return success();
  }
  why = "the residual stream is read by an elementwise '" +
        op->getName().getStringRef().str() +
        "' that does not commute with a rotation";
  return failure();
}

/// `v`, an operand of a residual add, is in the stream, or joins it: a
/// linear layer's output (the layer writes into the stream) or another
/// embedding, through reshapes that keep the last dimension.
LogicalResult StreamTracer::joinOperand(Value v, std::string &why) {
  SmallVector<Value> chain;
  while (!s.values.contains(v)) {
    chain.push_back(v);
    Operation *def = v.getDefiningOp();
    if (!def || !v.hasOneUse()) {
      why = "a residual add reads a value that is not a linear layer's "
            "output";
      return failure();
    }
    if (keepsLastDim(def)) {
      v = def->getOperand(0);
      continue;
    }
    auto l = dyn_cast<LinearOp>(def);
    auto g = dyn_cast<linalg::GenericOp>(def);
    if (l && hasRewritableWeight(l) && l.getOutFeatures() == s.width) {
      s.writers.insert(l);
    } else if (g && embeddingTable(g)) {
      s.embeddings.insert(g);
    } else {
      why = "a residual add reads the output of '" +
            def->getName().getStringRef().str() +
            "', not of a linear layer with a constant weight";
      return failure();
    }
    break;
  }
  s.values.insert(chain.begin(), chain.end());
  return success();
}

//===----------------------------------------------------------------------===//
// The online transform
//===----------------------------------------------------------------------===//

/// x T for `x` of static shape [..., K] as a qc.hadamard (qc-lower-hadamard
/// lowers it): the plan's signs and its small Hadamard matrix as the mix.
Value buildRotation(OpBuilder &b, Location loc, Value x,
                    const quant::HadamardPlan &plan, StringRef name) {
  Value signs = floatConstant(
      b, loc, RankedTensorType::get({plan.K}, b.getF32Type()),
      (name + ".hadamard_signs").str(), plan.signs);
  std::vector<float> mix(plan.small.begin(), plan.small.end());
  Value hm = floatConstant(
      b, loc, RankedTensorType::get({plan.order, plan.order}, b.getF32Type()),
      (name + ".hadamard_mix").str(), mix);
  return HadamardOp::create(b, loc, x.getType(), x, signs, hm,
                            b.getStringAttr(name));
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct RotatePass : qc::impl::RotatePassBase<RotatePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    onlineTransforms.clear();
    // Layers reading a rotated stream: their inputs are rotated already.
    llvm::DenseSet<LinearOp> folded;
    SmallVector<linalg::GenericOp> embeddings;
    module.walk([&](linalg::GenericOp g) {
      if (embeddingTable(g))
        embeddings.push_back(g);
    });
    if (embeddings.empty())
      module.emitWarning()
          << "qc-rotate: no token embedding (a gather from a constant f32 "
             "table) found: no residual stream is rotated";
    llvm::DenseSet<Operation *> traced;
    for (linalg::GenericOp e : embeddings) {
      if (traced.contains(e))
        continue;
      Stream stream;
      std::string why;
      if (failed(StreamTracer(stream).trace(e, why))) {
        e.emitWarning() << "qc-rotate: the residual stream is not rotated: "
                        << why;
        traced.insert(e);
        continue;
      }
      for (linalg::GenericOp g : stream.embeddings)
        traced.insert(g);
      rotateStream(stream, folded);
    }
    if (online)
      module.walk([&](LinearOp l) {
        if (!folded.contains(l) && hasRewritableWeight(l))
          rotateOnline(l);
      });
  }

  /// The stream's rotation of width D: a Hadamard one, or a random
  /// orthogonal one where D has no Hadamard factor.
  std::vector<float> streamTransform(int64_t d, Operation *at) {
    if (std::optional<quant::HadamardPlan> plan = quant::planHadamard(d, seed))
      return quant::denseTransform(*plan);
    if (remarks)
      at->emitRemark() << "qc-rotate: no Hadamard matrix of order " << d
                       << " known: a random orthogonal rotation";
    return quant::randomOrthogonal(d, seed);
  }

  void rotateStream(Stream &s, llvm::DenseSet<LinearOp> &folded) {
    int64_t d = s.width;
    std::vector<float> t = streamTransform(d, s.embeddings.front());
    OpBuilder b(s.embeddings.front());
    for (linalg::GenericOp g : s.embeddings) {
      arith::ConstantOp table = embeddingTable(g);
      int64_t v = cast<RankedTensorType>(table.getType()).getShape()[0];
      auto extract = cast<tensor::ExtractOp>(yieldedOp(g));
      b.setInsertionPoint(g);
      replaceConstant(b, extract.getTensorMutable(),
                      quant::matmul(*getConstantFloats(table), t, v, d, d),
                      "embedding.rotated");
    }
    for (Reader r : s.readers) {
      std::vector<float> w = *getConstantFloats(r.layer.getWeight());
      int64_t n = r.layer.getOutFeatures();
      if (r.scale) {
        std::vector<float> gamma =
            *getConstantFloats(r.scale->getOperand(r.gamma));
        for (int64_t j = 0; j < d; ++j)
          for (int64_t c = 0; c < n; ++c)
            w[j * n + c] *= gamma[j];
      }
      b.setInsertionPoint(r.layer);
      replaceConstant(b, r.layer.getWeightMutable(),
                      quant::transposedTimes(t, w, d, n),
                      (r.layer.getLayer() + ".rotated").str());
      folded.insert(r.layer);
    }
    for (LinearOp l : s.writers) {
      int64_t k = l.getInFeatures();
      b.setInsertionPoint(l);
      replaceConstant(b, l.getWeightMutable(),
                      quant::matmul(*getConstantFloats(l.getWeight()), t, k,
                                    d, d),
                      (l.getLayer() + ".rotated_out").str());
      if (Value bias = l.getBias())
        replaceConstant(b, l.getBiasMutable()[0],
                        quant::matmul(*getConstantFloats(bias), t, 1, d, d),
                        (l.getLayer() + ".rotated_bias").str());
    }
    // The norms' scales are in the readers now.
    for (auto [g, operand] : s.scales) {
      g.getResult(0).replaceAllUsesWith(g->getOperand(operand));
      g.erase();
    }
    ++numStreams;
    numFolded += s.readers.size() + s.writers.size();
    if (remarks)
      s.embeddings.front()->emitRemark()
          << "qc-rotate: residual stream of width " << d << " rotated: "
          << s.readers.size() << " layer(s) read it, " << s.writers.size()
          << " write it, " << s.scales.size() << " norm scale(s) folded";
  }

  /// The dense online transform T of each width K rotated so far.
  llvm::DenseMap<int64_t, std::vector<float>> onlineTransforms;

  void rotateOnline(LinearOp l) {
    int64_t k = l.getInFeatures(), n = l.getOutFeatures();
    auto type = cast<RankedTensorType>(l.getInput().getType());
    // The online mix costs `order` multiply-adds per input value.
    constexpr int64_t kMaxOnlineOrder = 256;
    std::optional<quant::HadamardPlan> plan =
        quant::planHadamard(k, seed, kMaxOnlineOrder);
    if (!plan || !type.hasStaticShape()) {
      if (remarks)
        l.emitRemark() << "qc-rotate: layer '" << l.getLayer()
                       << "' not rotated online: "
                       << (plan ? "its input's shape is not static"
                                : "no Hadamard factor of K of order <= 256 "
                                  "known");
      return;
    }
    OpBuilder b(l);
    Value rotated =
        buildRotation(b, l.getLoc(), l.getInput(), *plan, l.getLayer());
    std::vector<float> &t = onlineTransforms[k];
    if (t.empty()) // one per width: every layer of that K shares the seed
      t = quant::denseTransform(*plan);
    std::vector<float> w = *getConstantFloats(l.getWeight());
    replaceConstant(b, l.getWeightMutable(), quant::transposedTimes(t, w, k, n),
                    (l.getLayer() + ".rotated").str());
    l.getInputMutable().set(rotated);
    ++numOnline;
    if (remarks)
      l.emitRemark() << "qc-rotate: layer '" << l.getLayer()
                     << "' rotated online (K = " << plan->order << " x "
                     << plan->pow2 << ")";
  }
};

} // namespace
