//===- ChannelsLast.cpp - 4-D activations stored channels-last ------------===//
//
// An ONNX convolutional network keeps its activations NCHW, but the layers
// qc's kernels compute pixel-major write [pixels, channels]: each epilogue
// (bias, residual add, activation) transposes that NHWC result into the NCHW
// stream, and the next layer's quantizer or row gather transposes it back.
// This pass stores such tensors channels-last instead where that removes
// transposing accesses: each 4-D value is either kept or stored with its
// dimensions permuted [0, 2, 3, 1]; the generics that read or write it
// permute their indexing maps to match, so every element is computed as
// before (the same loops, the same order of each reduction).
//
// Values tied together (a generic's result and its init, a fill's, a pad's
// source and result) are stored alike: a component. A tensor.empty or fill
// that CSE left shared among several inits is first copied for each user.
// A component whose every value is produced and used only by ops the pass
// can rewrite (linalg.generic, linalg.fill, tensor.empty, a tensor.pad of a
// constant) may be permuted; anything else (a kernel call's buffer, a
// reshape, a return) pins it. The cost of a layout is the elements the
// generics read across their innermost loop (an input whose last
// dimension of more than one element is not the output's, where it depends
// on that loop at all); the pass starts from every permutable component
// permuted, undoes each permutation that alone raises that cost, and keeps
// the result only where it is cheaper than the IR as it came. Generics with a
// permuted operand then get their loops in the output's order (reductions
// before the output's innermost dimension), so that the innermost loop is
// contiguous for the vectorizer.
//
//===----------------------------------------------------------------------===//

#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SetVector.h"

namespace qc {
#define GEN_PASS_DEF_CHANNELSLASTPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;

namespace {

/// NCHW -> NHWC: dimension i of a permuted value is dimension kPerm[i] of
/// the original.
constexpr int64_t kPerm[] = {0, 2, 3, 1};

template <typename T> SmallVector<T> permuted(ArrayRef<T> v) {
  return applyPermutation(v, kPerm);
}

bool isCandidateType(Type t) {
  auto type = dyn_cast<RankedTensorType>(t);
  return type && type.getRank() == 4 && type.hasStaticShape();
}

/// A tensor.pad the pass can permute: static amounts, a constant value.
bool isPermutablePad(tensor::PadOp pad) {
  return pad.getLow().empty() && pad.getHigh().empty() &&
         pad.getConstantPaddingValue();
}

/// Whether `user` reads or writes a candidate operand in a way the pass can
/// permute.
bool isPermutableUse(OpOperand &use) {
  Operation *user = use.getOwner();
  if (auto generic = dyn_cast<linalg::GenericOp>(user))
    return generic.hasPureTensorSemantics();
  if (auto fill = dyn_cast<linalg::FillOp>(user))
    return fill.isDpsInit(&use);
  if (auto pad = dyn_cast<tensor::PadOp>(user))
    return isPermutablePad(pad);
  return false;
}

bool isPermutableDef(Operation *def) {
  if (auto generic = dyn_cast_or_null<linalg::GenericOp>(def))
    return generic.hasPureTensorSemantics();
  if (auto pad = dyn_cast_or_null<tensor::PadOp>(def))
    return isPermutablePad(pad);
  return isa_and_nonnull<linalg::FillOp, tensor::EmptyOp>(def);
}

/// Gives each further use of a 4-D tensor.empty, or of a fill of one, its own
/// copy: generics that CSE left sharing an init need not share a layout.
void splitSharedInits(Block &body) {
  for (Operation &op : llvm::make_early_inc_range(body)) {
    auto fill = dyn_cast<linalg::FillOp>(op);
    auto empty = fill ? fill.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>()
                      : dyn_cast<tensor::EmptyOp>(op);
    if (!empty || op.getNumResults() != 1 ||
        !isCandidateType(op.getResult(0).getType()))
      continue;
    SmallVector<OpOperand *> uses(
        llvm::make_pointer_range(op.getResult(0).getUses()));
    OpBuilder b(&op);
    for (OpOperand *use : llvm::drop_begin(uses)) {
      Value init = fill ? b.clone(*empty)->getResult(0) : Value();
      Operation *copy = b.clone(op);
      if (fill)
        copy->setOperand(fill.getDpsInitsMutable()[0].getOperandNumber(), init);
      use->set(copy->getResult(0));
    }
  }
}

/// The 4-D values of a function body, grouped into components that must be
/// stored alike, and which of them the pass may permute.
class Components {
public:
  explicit Components(Block &body);

  unsigned size() const { return pinned.size(); }
  bool isPermutable(unsigned c) const { return !pinned[c]; }
  /// The component of `v`, if it is a 4-D value of the body.
  std::optional<unsigned> of(Value v) const {
    auto it = index.find(v);
    if (it == index.end())
      return std::nullopt;
    return component[it->second];
  }
  ArrayRef<Value> values() const { return nodes; }

private:
  unsigned node(Value v);
  unsigned root(unsigned i) const {
    while (parent[i] != i)
      i = parent[i];
    return i;
  }
  void unite(Value a, Value b) {
    unsigned ra = root(node(a)), rb = root(node(b));
    parent[ra] = rb;
  }
  /// Whether `v` itself (not its component) must keep its layout.
  static bool isPinned(Value v, Block &body);

  SmallVector<Value> nodes;
  DenseMap<Value, unsigned> index;
  SmallVector<unsigned> parent;
  /// Per node, its component's dense number.
  SmallVector<unsigned> component;
  /// Per component.
  SmallVector<bool> pinned;
};

unsigned Components::node(Value v) {
  auto [it, inserted] = index.try_emplace(v, nodes.size());
  if (inserted) {
    nodes.push_back(v);
    parent.push_back(it->second);
  }
  return it->second;
}

bool Components::isPinned(Value v, Block &body) {
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != &body || !isPermutableDef(def))
    return true;
  return llvm::any_of(v.getUses(), [&](OpOperand &use) {
    return use.getOwner()->getBlock() != &body || !isPermutableUse(use);
  });
}

Components::Components(Block &body) {
  for (Operation &op : body) {
    for (Value v : op.getOperands())
      if (isCandidateType(v.getType()))
        node(v);
    for (Value v : op.getResults())
      if (isCandidateType(v.getType()))
        node(v);
    if (auto dps = dyn_cast<DestinationStyleOpInterface>(&op))
      for (auto [init, r] : llvm::zip(dps.getDpsInits(), op.getResults()))
        if (isCandidateType(r.getType()))
          unite(init, r);
    if (auto pad = dyn_cast<tensor::PadOp>(&op))
      if (isCandidateType(pad.getType()))
        unite(pad.getSource(), pad.getResult());
  }
  DenseMap<unsigned, unsigned> dense;
  component.resize(nodes.size());
  for (unsigned i = 0; i < nodes.size(); ++i) {
    auto [it, inserted] = dense.try_emplace(root(i), dense.size());
    component[i] = it->second;
    if (inserted)
      pinned.push_back(false);
    if (isPinned(nodes[i], body))
      pinned[component[i]] = true;
  }
}

/// A layout: which components are stored permuted.
using Layout = SmallVector<bool>;

/// Whether `v` is stored permuted under `layout`.
bool isPermuted(Value v, const Components &comps, const Layout &layout) {
  std::optional<unsigned> c = comps.of(v);
  return c && layout[*c];
}

/// The operand's map and shape as stored under `layout`.
std::pair<SmallVector<AffineExpr>, SmallVector<int64_t>>
storedAccess(linalg::GenericOp op, OpOperand &operand, const Components &comps,
             const Layout &layout) {
  AffineMap map = op.getMatchingIndexingMap(&operand);
  SmallVector<AffineExpr> results(map.getResults());
  SmallVector<int64_t> shape(
      cast<RankedTensorType>(operand.get().getType()).getShape());
  if (isPermuted(operand.get(), comps, layout))
    return {permuted<AffineExpr>(results), permuted<int64_t>(shape)};
  return {results, shape};
}

/// The last result of an access over a dimension of more than one element.
std::optional<AffineExpr> innermost(ArrayRef<AffineExpr> results,
                                    ArrayRef<int64_t> shape) {
  for (int64_t i = shape.size() - 1; i >= 0; --i)
    if (shape[i] != 1)
      return results[i];
  return std::nullopt;
}

/// The elements `op` reads across its innermost loop under `layout`: inputs
/// that depend on the output's innermost dimension but hold another one
/// last.
int64_t cost(linalg::GenericOp op, const Components &comps,
             const Layout &layout) {
  if (op.getNumDpsInits() != 1)
    return 0;
  auto [outMap, outShape] =
      storedAccess(op, *op.getDpsInitOperand(0), comps, layout);
  std::optional<AffineExpr> inner = innermost(outMap, outShape);
  auto dim = dyn_cast_or_null<AffineDimExpr>(inner.value_or(AffineExpr()));
  if (!dim)
    return 0;
  int64_t elements = 0;
  for (OpOperand *in : op.getDpsInputOperands()) {
    auto type = dyn_cast<RankedTensorType>(in->get().getType());
    if (!type || type.getRank() < 2 || !type.hasStaticShape())
      continue;
    auto [map, shape] = storedAccess(op, *in, comps, layout);
    bool reads = llvm::any_of(map, [&](AffineExpr e) {
      return e.isFunctionOfDim(dim.getPosition());
    });
    std::optional<AffineExpr> last = innermost(map, shape);
    if (reads && !(last && last->isFunctionOfDim(dim.getPosition())))
      elements += type.getNumElements();
  }
  return elements;
}

/// The generics that access each component.
SmallVector<SmallVector<linalg::GenericOp>>
genericsByComponent(Block &body, const Components &comps) {
  SmallVector<SmallVector<linalg::GenericOp>> users(comps.size());
  for (auto op : body.getOps<linalg::GenericOp>()) {
    llvm::SmallSetVector<unsigned, 4> seen;
    for (Value v : op->getOperands())
      if (std::optional<unsigned> c = comps.of(v))
        seen.insert(*c);
    for (unsigned c : seen)
      users[c].push_back(op);
  }
  return users;
}

int64_t totalCost(Block &body, const Components &comps, const Layout &layout) {
  int64_t total = 0;
  for (auto op : body.getOps<linalg::GenericOp>())
    total += cost(op, comps, layout);
  return total;
}

/// Every permutable component permuted, then each permutation that alone
/// raises the cost undone, until none does; empty where that is not
/// cheaper than no permutation at all.
Layout chooseLayout(Block &body, const Components &comps) {
  Layout none(comps.size(), false), layout(comps.size(), false);
  for (unsigned c = 0; c < comps.size(); ++c)
    layout[c] = comps.isPermutable(c);
  SmallVector<SmallVector<linalg::GenericOp>> users =
      genericsByComponent(body, comps);
  auto local = [&](unsigned c) {
    int64_t sum = 0;
    for (linalg::GenericOp op : users[c])
      sum += cost(op, comps, layout);
    return sum;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (unsigned c = 0; c < comps.size(); ++c) {
      if (!layout[c])
        continue;
      int64_t permutedCost = local(c);
      layout[c] = false;
      if (local(c) < permutedCost)
        changed = true;
      else
        layout[c] = true;
    }
  }
  if (totalCost(body, comps, layout) >= totalCost(body, comps, none))
    return {};
  return layout;
}

RankedTensorType permutedType(Type t) {
  auto type = cast<RankedTensorType>(t);
  return type.clone(permuted<int64_t>(type.getShape()));
}

/// Rewrites the ops of `body` for the values of the permuted components.
void permute(Block &body, const Components &comps, const Layout &layout) {
  for (Operation &op : body) {
    if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
      SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
      for (OpOperand &operand : op.getOpOperands())
        if (isPermuted(operand.get(), comps, layout)) {
          AffineMap &m = maps[operand.getOperandNumber()];
          m = AffineMap::get(m.getNumDims(), m.getNumSymbols(),
                             permuted<AffineExpr>(m.getResults()),
                             op.getContext());
        }
      generic.setIndexingMapsAttr(
          Builder(op.getContext()).getAffineMapArrayAttr(maps));
    }
    if (auto pad = dyn_cast<tensor::PadOp>(op);
        pad && isPermuted(pad, comps, layout)) {
      pad.setStaticLow(permuted<int64_t>(pad.getStaticLow()));
      pad.setStaticHigh(permuted<int64_t>(pad.getStaticHigh()));
    }
  }
  for (Value v : comps.values())
    if (isPermuted(v, comps, layout))
      v.setType(permutedType(v.getType()));
}

/// The loop order that walks `op`'s output in order, its reductions before
/// the output's innermost dimension; none if the output does not index
/// every parallel loop.
std::optional<SmallVector<unsigned>> outputOrder(linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1)
    return std::nullopt;
  AffineMap out = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  SmallVector<unsigned> order;
  for (AffineExpr e : out.getResults())
    if (auto d = dyn_cast<AffineDimExpr>(e))
      order.push_back(d.getPosition());
  if (order.size() != op.getNumParallelLoops() || order.empty())
    return std::nullopt;
  unsigned last = order.pop_back_val();
  for (auto [d, kind] : llvm::enumerate(op.getIteratorTypesArray()))
    if (kind == utils::IteratorType::reduction)
      order.push_back(d);
  order.push_back(last);
  return order;
}

struct ChannelsLastPass : qc::impl::ChannelsLastPassBase<ChannelsLastPass> {
  void runOnOperation() override {
    if (getOperation().isExternal())
      return;
    Block &body = getOperation().getBody().front();
    splitSharedInits(body);
    Components comps(body);
    Layout layout = chooseLayout(body, comps);
    if (layout.empty())
      return;
    SmallVector<linalg::GenericOp> touched;
    for (auto op : body.getOps<linalg::GenericOp>())
      if (llvm::any_of(op->getOperands(),
                       [&](Value v) { return isPermuted(v, comps, layout); }))
        touched.push_back(op);
    permute(body, comps, layout);
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : touched) {
      std::optional<SmallVector<unsigned>> order = outputOrder(op);
      if (!order)
        continue;
      rewriter.setInsertionPoint(op);
      if (failed(linalg::interchangeGenericOp(rewriter, op, *order))) {
        op.emitError("qc-channels-last: cannot reorder the loops");
        return signalPassFailure();
      }
    }
    numPermuted += llvm::count(layout, true);
  }
};

} // namespace
