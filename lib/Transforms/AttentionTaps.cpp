//===- AttentionTaps.cpp - Calibration taps for BoA's statistics ----------===//

#include "qc/Transforms/AttentionTaps.h"

#include "QC/IR/QCOps.h"
#include "qc/Quant/BoA.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using qc::LinearOp;

namespace {

/// The qc.linear ops `v` is computed from, not looking past them; at most
/// `limit` ops are visited (a score product is a few ops from its
/// projections).
SmallVector<qc::LinearOp> linearSources(Value v, int limit = 256) {
  SmallVector<qc::LinearOp> found;
  llvm::SetVector<Operation *> seen;
  SmallVector<Value> work{v};
  while (!work.empty() && int(seen.size()) < limit) {
    Operation *def = work.pop_back_val().getDefiningOp();
    if (!def || !seen.insert(def))
      continue;
    if (auto lin = dyn_cast<qc::LinearOp>(def)) {
      found.push_back(lin);
      continue;
    }
    for (Value operand : def->getOperands())
      work.push_back(operand);
  }
  return found;
}

/// The single qc.linear `v` comes from, or null.
qc::LinearOp singleSource(Value v) {
  SmallVector<qc::LinearOp> s = linearSources(v);
  return s.size() == 1 ? s.front() : qc::LinearOp();
}

/// `v` with reshapes (collapse/expand_shape) looked through.
Value skipReshapes(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(def))
      break;
    v = def->getOperand(0);
  }
  return v;
}

/// The two inputs of a linalg.generic whose body applies one `OpTy` to its
/// two block arguments (an elementwise binary op), or nothing.
template <typename OpTy>
std::optional<std::pair<Value, Value>> binaryInputs(Value v) {
  auto g = v.getDefiningOp<linalg::GenericOp>();
  if (!g || g.getNumDpsInputs() != 2 || g.getNumResults() != 1)
    return std::nullopt;
  Block &body = g.getRegion().front();
  if (body.getOperations().size() != 2)
    return std::nullopt;
  auto op = dyn_cast<OpTy>(&body.front());
  if (!op || op.getLhs() != body.getArgument(0) ||
      op.getRhs() != body.getArgument(1))
    return std::nullopt;
  return std::make_pair(g.getDpsInputs()[0], g.getDpsInputs()[1]);
}

/// Whether `s` slices [offset, offset + size) of `from`'s last dimension
/// and all of the others.
bool slicesLastDim(tensor::ExtractSliceOp s, Value from, int64_t offset,
                   int64_t size) {
  if (!s || s.getSource() != from || !s.hasUnitStride())
    return false;
  auto type = cast<RankedTensorType>(from.getType());
  ArrayRef<int64_t> offs = s.getStaticOffsets(), sizes = s.getStaticSizes();
  for (int64_t i = 0, r = type.getRank(); i < r; ++i) {
    bool last = i + 1 == r;
    if (offs[i] != (last ? offset : 0) ||
        sizes[i] != (last ? size : type.getDimSize(i)))
      return false;
  }
  return true;
}

/// The last-dimension offset at which `ins` inserts, if it writes a full
/// slab of its destination at unit strides; else -1.
int64_t insertOffset(tensor::InsertSliceOp ins) {
  if (!ins || !ins.hasUnitStride())
    return -1;
  ArrayRef<int64_t> offs = ins.getStaticOffsets();
  for (size_t i = 0; i + 1 < offs.size(); ++i)
    if (offs[i] != 0)
      return -1;
  return offs.back();
}

/// Whether `rot` is rotate_half(x) = [-x[..., h:], x[..., :h]] built from
/// two insert_slices (in either order) of a negated and a plain slice.
bool isRotateHalf(Value rot, Value x) {
  auto type = dyn_cast<RankedTensorType>(x.getType());
  if (!type || !type.hasStaticShape() || type.getShape().back() % 2 != 0)
    return false;
  const int64_t h = type.getShape().back() / 2;
  auto outer = rot.getDefiningOp<tensor::InsertSliceOp>();
  auto inner =
      outer ? outer.getDest().getDefiningOp<tensor::InsertSliceOp>() : nullptr;
  if (!inner || !inner.getDest().getDefiningOp<tensor::EmptyOp>())
    return false;
  tensor::InsertSliceOp neg = insertOffset(outer) == 0 ? outer : inner;
  tensor::InsertSliceOp plain = neg == outer ? inner : outer;
  if (insertOffset(neg) != 0 || insertOffset(plain) != h)
    return false;
  auto negate = neg.getSource().getDefiningOp<linalg::GenericOp>();
  if (!negate || negate.getNumDpsInputs() != 1 ||
      !isa<arith::NegFOp>(negate.getRegion().front().front()))
    return false;
  return slicesLastDim(
             negate.getDpsInputs()[0].getDefiningOp<tensor::ExtractSliceOp>(),
             x, h, h) &&
         slicesLastDim(plain.getSource().getDefiningOp<tensor::ExtractSliceOp>(),
                       x, 0, h);
}

/// `v` ([..., n], rank >= 2) as rows: [M, n], the leading dimensions
/// collapsed.
Value asRows(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getRank() == 2)
    return v;
  SmallVector<ReassociationIndices> groups(2);
  for (int64_t i = 0; i + 1 < type.getRank(); ++i)
    groups[0].push_back(i);
  groups[1].push_back(type.getRank() - 1);
  return tensor::CollapseShapeOp::create(b, loc, v, groups);
}

/// Whether `table` is a rotary table of `positions` x `d` (leading unit
/// dimensions allowed) computed from no linear layer.
bool isTable(Value table, int64_t positions, int64_t d) {
  auto type = dyn_cast<RankedTensorType>(table.getType());
  if (!type || !type.hasStaticShape() || type.getRank() < 2 ||
      type.getShape().back() != d ||
      type.getShape()[type.getRank() - 2] != positions)
    return false;
  for (int64_t i = 0; i + 2 < type.getRank(); ++i)
    if (type.getDimSize(i) != 1)
      return false;
  return linearSources(table).empty();
}

/// [cos_t, sin_t] rows of the rotate-half embedding that produces the
/// score product's left operand `q` ([T, S, d]), built at `b`; null when
/// there is none.
Value rotaryRows(OpBuilder &b, Location loc, Value q) {
  auto type = cast<RankedTensorType>(q.getType());
  const int64_t positions = type.getDimSize(1), d = type.getDimSize(2);
  auto sum = binaryInputs<arith::AddFOp>(skipReshapes(q));
  if (!sum)
    return {};
  auto first = binaryInputs<arith::MulFOp>(sum->first);
  auto second = binaryInputs<arith::MulFOp>(sum->second);
  if (!first || !second)
    return {};
  // Each product: (data, table) in some order.
  auto split = [](std::pair<Value, Value> p) {
    return linearSources(p.first).empty() ? std::make_pair(p.second, p.first)
                                          : p;
  };
  auto [a, tableA] = split(*first);
  auto [c, tableC] = split(*second);
  Value cosTable = tableA, sinTable = tableC;
  if (isRotateHalf(a, c))
    std::swap(cosTable, sinTable);
  else if (!isRotateHalf(c, a))
    return {};
  if (!isTable(cosTable, positions, d) || !isTable(sinTable, positions, d))
    return {};
  Value cosRows = asRows(b, loc, cosTable), sinRows = asRows(b, loc, sinTable);
  Value z = tensor::EmptyOp::create(b, loc, {positions, 2 * d},
                                    type.getElementType());
  auto put = [&](Value src, Value dest, int64_t offset) {
    return tensor::InsertSliceOp::create(
        b, loc, src, dest, ArrayRef<OpFoldResult>{b.getIndexAttr(0),
                                                  b.getIndexAttr(offset)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(positions), b.getIndexAttr(d)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  };
  return put(sinRows, put(cosRows, z, 0), d);
}

/// Whether anything but data movement (reshapes, transposes, slices,
/// copies) lies between `proj` and `v`: a linalg.generic or an op of
/// another dialect than tensor/linalg on the way.
bool computesOnValues(Value v, LinearOp proj) {
  SmallVector<Value> work{v};
  llvm::SmallPtrSet<Operation *, 16> seen;
  while (!work.empty()) {
    Operation *def = work.pop_back_val().getDefiningOp();
    if (!def || def == proj.getOperation() || !seen.insert(def).second)
      continue;
    if (isa<linalg::GenericOp>(def) ||
        !isa<linalg::LinalgDialect, tensor::TensorDialect>(def->getDialect())) {
      if (!linearSources(def->getResult(0)).empty())
        return true;
      continue;
    }
    for (Value operand : def->getOperands())
      work.push_back(operand);
  }
  return false;
}

/// `v` ([T, A, B] read as heads x positions x values by `perm`) as rows of
/// all heads of a position: [positions, T * d].
Value headRows(OpBuilder &b, Location loc, Value v,
               ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getDimSize(p));
  Value init = tensor::EmptyOp::create(b, loc, shape, type.getElementType());
  Value t = linalg::TransposeOp::create(b, loc, v, init, perm).getResult()[0];
  return tensor::CollapseShapeOp::create(
      b, loc, t, SmallVector<ReassociationIndices>{{0}, {1, 2}});
}

/// Heads per batch item of the score product's operand [B*H, ., .]: H when
/// it collapses a [B, H, ., .] value.
int64_t headsPerItem(Value operand) {
  int64_t total = cast<RankedTensorType>(operand.getType()).getDimSize(0);
  auto collapse = operand.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse || collapse.getSrcType().getRank() != 4)
    return total;
  int64_t h = collapse.getSrcType().getDimSize(1);
  return h > 0 && total % h == 0 ? h : total;
}

void observe(OpBuilder &b, Location loc, Value v, int64_t &nextTap,
             ArrayRef<std::string> names) {
  SmallVector<Attribute> attrs;
  for (const std::string &n : names)
    attrs.push_back(b.getStringAttr(n));
  qc::ObserveOp::create(b, loc, v, b.getI64IntegerAttr(nextTap++),
                        b.getArrayAttr(attrs));
}

/// The value taps of the attention product P x V (P: [T, S, S]
/// probabilities, V from `vProj` as [T, S, d]): rows of P_h X for the
/// value projection's input X, one tap per key/value head g holding the
/// rows of the query heads that share it. Returns false (building nothing)
/// when the shapes are not those of one batch item.
bool tapValues(OpBuilder &b, Location loc, Value probs, Value v,
               LinearOp vProj, int64_t &nextTap) {
  auto pType = cast<RankedTensorType>(probs.getType());
  auto vType = cast<RankedTensorType>(v.getType());
  auto xType = dyn_cast<RankedTensorType>(vProj.getInput().getType());
  if (!pType.hasStaticShape() || !xType || !xType.hasStaticShape() ||
      !pType.getElementType().isF32())
    return false;
  const int64_t T = pType.getDimSize(0), S = pType.getDimSize(2);
  const int64_t d = vType.getDimSize(2), D = xType.getShape().back();
  const int64_t kv = vProj.getOutFeatures() / d;
  if (xType.getNumElements() != S * D || xType.getRank() < 2 ||
      xType.getDimSize(xType.getRank() - 2) != S || kv <= 0 || T % kv != 0 ||
      vProj.getOutFeatures() != kv * d)
    return false;
  const int64_t rep = T / kv;
  Type f32 = pType.getElementType();
  Value x = asRows(b, loc, vProj.getInput());
  Value xb = linalg::BroadcastOp::create(
                 b, loc, x, tensor::EmptyOp::create(b, loc, {T, S, D}, f32),
                 ArrayRef<int64_t>{0})
                 .getResult()[0];
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  Value acc = linalg::FillOp::create(
                  b, loc, zero,
                  ValueRange{tensor::EmptyOp::create(b, loc, {T, S, D}, f32)})
                  .getResult(0);
  Value y = linalg::BatchMatmulOp::create(b, loc, ValueRange{probs, xb},
                                          ValueRange{acc})
                .getResult(0);
  // [T, S, D] -> [kv, rep * S, D]: a group's query heads are consecutive.
  Value grouped = tensor::CollapseShapeOp::create(
      b, loc,
      tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get({kv, rep, S, D}, f32), y,
          SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}}),
      SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}});
  for (int64_t g = 0; g < kv; ++g) {
    Value slab = tensor::ExtractSliceOp::create(
        b, loc, grouped,
        ArrayRef<OpFoldResult>{b.getIndexAttr(g), b.getIndexAttr(0),
                               b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(rep * S),
                               b.getIndexAttr(D)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                               b.getIndexAttr(1)});
    observe(b, loc, asRows(b, loc, slab), nextTap,
            {qc::quant::valueTapName(vProj.getLayer().str(), g, kv)});
  }
  return true;
}

} // namespace

int64_t qc::insertAttentionTaps(
    ModuleOp module, int64_t &nextTap,
    llvm::function_ref<bool(llvm::StringRef)> excluded) {
  SmallVector<linalg::BatchMatmulOp> products;
  module.walk([&](linalg::BatchMatmulOp op) { products.push_back(op); });
  // The (query, key) projections of every score product found.
  llvm::DenseSet<std::pair<Operation *, Operation *>> scorePairs;
  int64_t found = 0;
  for (linalg::BatchMatmulOp op : products) {
    if (op.hasUserDefinedMaps())
      continue;
    Value q = op.getDpsInputs()[0], k = op.getDpsInputs()[1];
    auto qType = cast<RankedTensorType>(q.getType());
    auto kType = cast<RankedTensorType>(k.getType());
    if (!qType.hasStaticShape() || !kType.hasStaticShape() ||
        !qType.getElementType().isF32() || !kType.getElementType().isF32())
      continue;
    qc::LinearOp qProj = singleSource(q), kProj = singleSource(k);
    if (!qProj || !kProj || qProj == kProj ||
        qProj.getInput() != kProj.getInput() ||
        excluded(qProj.getLayer()) || excluded(kProj.getLayer()))
      continue;
    const int64_t d = qType.getDimSize(2), heads = headsPerItem(q);
    std::string qLayer = qProj.getLayer().str(),
                kLayer = kProj.getLayer().str();
    OpBuilder b(op);
    Location loc = op.getLoc();
    // Post-rotary queries for the key projection, keys for the query one.
    observe(b, loc, headRows(b, loc, q, {1, 0, 2}), nextTap,
            {quant::rowTapName(kLayer, d, heads)});
    observe(b, loc, headRows(b, loc, k, {2, 0, 1}), nextTap,
            {quant::rowTapName(qLayer, d, heads)});
    if (Value z = rotaryRows(b, loc, q))
      observe(b, loc, z, nextTap,
              {quant::ropeTapName(qLayer), quant::ropeTapName(kLayer)});
    else if (computesOnValues(q, qProj))
      op.emitWarning() << "qc-insert-observe: the queries of layer '"
                       << qLayer
                       << "' pass through elementwise ops that are not a "
                          "rotate-half rotary embedding; BoA takes their "
                          "statistics as if nothing rotated them";
    scorePairs.insert({qProj, kProj});
    ++found;
  }
  // The products of those scores' probabilities with the values.
  for (linalg::BatchMatmulOp op : products) {
    if (op.hasUserDefinedMaps())
      continue;
    Value p = op.getDpsInputs()[0], v = op.getDpsInputs()[1];
    SmallVector<LinearOp> sources = linearSources(p);
    LinearOp vProj = singleSource(v);
    if (sources.size() != 2 || !vProj || excluded(vProj.getLayer()) ||
        !cast<RankedTensorType>(v.getType()).hasStaticShape() ||
        (!scorePairs.contains({sources[0], sources[1]}) &&
         !scorePairs.contains({sources[1], sources[0]})) ||
        vProj.getInput() != sources[0].getInput())
      continue;
    OpBuilder b(op);
    tapValues(b, op.getLoc(), p, v, vProj, nextTap);
  }
  return found;
}
