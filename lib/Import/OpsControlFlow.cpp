//===- OpsControlFlow.cpp - If, Scan ---------------------------------------===//
//
// If with a condition known at import time (shape tests, a sample rate
// bound with --bind-input) is the taken branch, imported in place. With a
// run-time condition it is an scf.if whose regions hold the two branches;
// their outputs must have one static type each, since every tensor in qc is
// statically shaped. A branch reads the outer graph's values by name.
//
// Scan (opset 9 on) is an scf.for over the scanned axis: the states are its
// iteration arguments, each scan input's step a slice bound to the body's
// input, each scan output a tensor the steps insert their slices into. The
// body is imported once into a loop carrying only the states, to learn the
// scan outputs' types; a loop carrying both then takes its operations.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace qc::detail;

namespace {

/// Imports `graph` before `block`'s terminator; returns its outputs' values
/// and dtypes. Its own values are forgotten afterwards.
LogicalResult importBranch(NodeContext &nc, const onnx::GraphProto &graph,
                           Block &block, SmallVectorImpl<Value> &outs,
                           SmallVectorImpl<DType> &dtypes) {
  llvm::StringSet<> outer = nc.valueNames();
  OpBuilder::InsertionGuard guard(nc.b);
  nc.b.setInsertionPoint(block.getTerminator());
  if (failed(nc.importSubgraph(graph)))
    return failure();
  for (const auto &vi : graph.output()) {
    Value v = nc.valueOf(vi.name());
    if (!v) {
      nc.error() << "branch output '" << vi.name()
                 << "' is not produced by any node";
      return failure();
    }
    outs.push_back(v);
    dtypes.push_back(nc.dtypeOf(vi.name()));
  }
  nc.forgetValuesExcept(outer);
  return success();
}

LogicalResult importIf(NodeContext &nc) {
  const onnx::GraphProto *branches[] = {nc.attrGraph("then_branch"),
                                        nc.attrGraph("else_branch")};
  const char *names[] = {"then_branch", "else_branch"};
  for (auto [g, name] : llvm::zip(branches, names)) {
    if (!g) {
      nc.error() << "has no " << name << " graph";
      return failure();
    }
    if (g->output_size() != static_cast<int>(nc.numOutputs())) {
      nc.error() << name << " has " << g->output_size()
                 << " outputs but the node has " << nc.numOutputs();
      return failure();
    }
  }
  RankedTensorType condType = nc.inputType(0);
  if (!condType || condType.getNumElements() != 1 ||
      nc.inputDType(0) != onnx::TensorProto::BOOL) {
    nc.error() << "the condition must be one bool";
    return failure();
  }
  // A known condition: the taken branch, in place.
  if (const HostTensor *c = nc.inputConstant(0)) {
    const onnx::GraphProto &taken = *branches[c->getInt(0) ? 0 : 1];
    if (failed(nc.importSubgraph(taken)))
      return failure();
    for (unsigned i = 0; i < nc.numOutputs(); ++i)
      nc.setOutputLike(i, taken.output(i).name());
    return success();
  }

  Value cond = tensor::ExtractOp::create(nc.b, nc.loc,
                                         nc.reshape(nc.input(0), {}),
                                         ValueRange{});
  // The branches go into a result-less scf.if first; the real one, typed
  // by what they yield, takes their regions.
  auto probe = scf::IfOp::create(nc.b, nc.loc, TypeRange{}, cond,
                                 /*withElseRegion=*/true);
  SmallVector<Value> outs[2];
  SmallVector<DType> dtypes[2];
  Region *regions[] = {&probe.getThenRegion(), &probe.getElseRegion()};
  for (int k = 0; k < 2; ++k)
    if (failed(importBranch(nc, *branches[k], regions[k]->front(), outs[k],
                            dtypes[k]))) {
      probe->erase();
      return failure();
    }
  SmallVector<Type> types;
  for (unsigned i = 0; i < nc.numOutputs(); ++i) {
    if (outs[0][i].getType() != outs[1][i].getType() ||
        dtypes[0][i] != dtypes[1][i]) {
      nc.error() << "output " << i << " is " << outs[0][i].getType()
                 << " in then_branch but " << outs[1][i].getType()
                 << " in else_branch; qc needs one static type";
      probe->erase();
      return failure();
    }
    types.push_back(outs[0][i].getType());
  }
  auto ifOp = scf::IfOp::create(nc.b, nc.loc, types, cond,
                                /*withElseRegion=*/true);
  for (int k = 0; k < 2; ++k) {
    Region &region = k == 0 ? ifOp.getThenRegion() : ifOp.getElseRegion();
    region.getBlocks().clear();
    region.takeBody(*regions[k]);
    Operation *yield = region.front().getTerminator();
    OpBuilder::InsertionGuard guard(nc.b);
    nc.b.setInsertionPoint(yield);
    scf::YieldOp::create(nc.b, nc.loc, outs[k]);
    yield->erase();
  }
  probe->erase();
  for (unsigned i = 0; i < nc.numOutputs(); ++i)
    nc.setOutput(i, ifOp.getResult(i), dtypes[0][i]);
  return success();
}

/// Per-input or per-output attribute `name` (default 0 for each of `n`).
FailureOr<SmallVector<int64_t>> perValue(NodeContext &nc, StringRef name,
                                         int64_t n) {
  SmallVector<int64_t> v = nc.attrInts(name);
  if (v.empty())
    v.assign(n, 0);
  if (static_cast<int64_t>(v.size()) != n) {
    nc.error() << name << " has " << v.size() << " entries, expected " << n;
    return failure();
  }
  return v;
}

/// `v` with dimension `axis` moved to the front (or back from it).
Value moveAxis(NodeContext &nc, Value v, int64_t axis, bool toFront) {
  int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
  SmallVector<int64_t> perm;
  for (int64_t i = 0; i < rank; ++i)
    perm.push_back(i);
  perm.erase(perm.begin() + axis);
  perm.insert(perm.begin(), axis);
  if (!toFront) {
    SmallVector<int64_t> inverse(rank);
    for (int64_t i = 0; i < rank; ++i)
      inverse[perm[i]] = i;
    perm = inverse;
  }
  return nc.transpose(v, perm);
}

/// Step `t` of a tensor scanned along its first dimension: [1, ...] sliced
/// and reshaped to the rest.
Value stepSlice(NodeContext &nc, Value v, Value t) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<OpFoldResult> offsets(type.getRank(), nc.b.getIndexAttr(0)),
      sizes, strides(type.getRank(), nc.b.getIndexAttr(1));
  offsets[0] = t;
  SmallVector<int64_t> shape(type.getShape());
  shape[0] = 1;
  for (int64_t d : shape)
    sizes.push_back(nc.b.getIndexAttr(d));
  Value slice = tensor::ExtractSliceOp::create(
      nc.b, nc.loc, RankedTensorType::get(shape, type.getElementType()), v,
      offsets, sizes, strides);
  return nc.reshape(slice, ArrayRef<int64_t>(shape).drop_front());
}

/// The step index of direction `reverse` at iteration `iv` of `length`.
Value stepIndex(NodeContext &nc, Value iv, int64_t length, bool reverse) {
  if (!reverse)
    return iv;
  Value last = arith::ConstantIndexOp::create(nc.b, nc.loc, length - 1);
  return arith::SubIOp::create(nc.b, nc.loc, last, iv);
}

LogicalResult importScan(NodeContext &nc) {
  const onnx::GraphProto *body = nc.attrGraph("body");
  if (!body || nc.opset() < 9) {
    nc.error() << (body ? "Scan before opset 9 (with a batch axis and "
                          "sequence_lens) is not supported"
                        : "has no body graph");
    return failure();
  }
  int64_t m = nc.attrInt("num_scan_inputs", 0);
  int64_t n = static_cast<int64_t>(nc.numInputs()) - m;
  int64_t k = static_cast<int64_t>(nc.numOutputs()) - n;
  if (m <= 0 || n < 0 || k < 0 || body->input_size() != n + m ||
      body->output_size() != n + k) {
    nc.error() << "the body's " << body->input_size() << " inputs and "
               << body->output_size() << " outputs do not fit " << n
               << " states, " << m << " scan inputs and " << k
               << " scan outputs";
    return failure();
  }
  auto inAxes = perValue(nc, "scan_input_axes", m);
  auto inDirs = perValue(nc, "scan_input_directions", m);
  auto outAxes = perValue(nc, "scan_output_axes", k);
  auto outDirs = perValue(nc, "scan_output_directions", k);
  if (failed(inAxes) || failed(inDirs) || failed(outAxes) || failed(outDirs))
    return failure();
  // The scan inputs, scanned axis first; one length for all.
  SmallVector<Value> scanned;
  int64_t length = -1;
  for (int64_t j = 0; j < m; ++j) {
    Value v = nc.input(n + j);
    int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
    FailureOr<int64_t> axis = nc.normalizeAxis((*inAxes)[j], rank);
    if (failed(axis))
      return failure();
    v = moveAxis(nc, v, *axis, /*toFront=*/true);
    int64_t len = cast<RankedTensorType>(v.getType()).getDimSize(0);
    if (length >= 0 && len != length) {
      nc.error() << "scan input " << j << " has " << len
                 << " steps, the first " << length;
      return failure();
    }
    length = len;
    scanned.push_back(v);
  }
  SmallVector<Value> states;
  for (int64_t i = 0; i < n; ++i)
    states.push_back(nc.input(i));
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(nc.b, nc.loc, v).getResult();
  };

  // The body, once, in a loop carrying only the states.
  llvm::StringSet<> outer = nc.valueNames();
  auto probe = scf::ForOp::create(nc.b, nc.loc, idx(0), idx(length), idx(1),
                                  states);
  SmallVector<Value> outs;
  SmallVector<DType> dtypes;
  {
    OpBuilder::InsertionGuard guard(nc.b);
    nc.b.setInsertionPointToStart(probe.getBody());
    Value iv = probe.getInductionVar();
    for (int64_t i = 0; i < n; ++i)
      nc.bindValue(body->input(i).name(), probe.getRegionIterArgs()[i],
                   nc.inputDType(i));
    for (int64_t j = 0; j < m; ++j)
      nc.bindValue(body->input(n + j).name(),
                   stepSlice(nc, scanned[j],
                             stepIndex(nc, iv, length, (*inDirs)[j] != 0)),
                   nc.inputDType(n + j));
    if (failed(nc.importSubgraph(*body))) {
      probe->erase();
      return failure();
    }
    for (const auto &vi : body->output()) {
      outs.push_back(nc.valueOf(vi.name()));
      dtypes.push_back(nc.dtypeOf(vi.name()));
    }
  }
  nc.forgetValuesExcept(outer);
  for (int64_t i = 0; i < n; ++i)
    if (!outs[i] || outs[i].getType() != states[i].getType()) {
      nc.error() << "state " << i << " is " << states[i].getType()
                 << " in but "
                 << (outs[i] ? outs[i].getType() : Type()) << " out of the body";
      probe->erase();
      return failure();
    }

  // The real loop: the states and one accumulator per scan output.
  SmallVector<Value> init(states);
  for (int64_t s = 0; s < k; ++s) {
    auto type = cast<RankedTensorType>(outs[n + s].getType());
    SmallVector<int64_t> shape = {length};
    llvm::append_range(shape, type.getShape());
    init.push_back(nc.empty(shape, type.getElementType()));
  }
  auto loop = scf::ForOp::create(nc.b, nc.loc, idx(0), idx(length), idx(1),
                                 init);
  Block *from = probe.getBody(), *to = loop.getBody();
  // A loop without iteration arguments comes with an empty yield.
  for (Block *block : {from, to})
    if (!block->empty() && block->back().hasTrait<OpTrait::IsTerminator>())
      block->back().erase();
  for (auto [a, b] : llvm::zip(from->getArguments(), to->getArguments()))
    a.replaceAllUsesWith(b);
  to->getOperations().splice(to->begin(), from->getOperations());
  {
    OpBuilder::InsertionGuard guard(nc.b);
    nc.b.setInsertionPointToEnd(to);
    SmallVector<Value> next(outs.begin(), outs.begin() + n);
    for (int64_t s = 0; s < k; ++s) {
      Value t = stepIndex(nc, loop.getInductionVar(), length,
                          (*outDirs)[s] != 0);
      auto type = cast<RankedTensorType>(outs[n + s].getType());
      SmallVector<int64_t> shape = {1};
      llvm::append_range(shape, type.getShape());
      SmallVector<OpFoldResult> offsets(shape.size(), nc.b.getIndexAttr(0)),
          sizes, strides(shape.size(), nc.b.getIndexAttr(1));
      offsets[0] = t;
      for (int64_t d : shape)
        sizes.push_back(nc.b.getIndexAttr(d));
      next.push_back(tensor::InsertSliceOp::create(
          nc.b, nc.loc, nc.reshape(outs[n + s], shape),
          loop.getRegionIterArgs()[n + s], offsets, sizes, strides));
    }
    scf::YieldOp::create(nc.b, nc.loc, next);
  }
  probe->erase();
  for (int64_t i = 0; i < n; ++i)
    nc.setOutput(i, loop.getResult(i), dtypes[i]);
  for (int64_t s = 0; s < k; ++s) {
    Value v = loop.getResult(n + s);
    int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
    FailureOr<int64_t> axis = nc.normalizeAxis((*outAxes)[s], rank);
    if (failed(axis))
      return failure();
    nc.setOutput(n + s, moveAxis(nc, v, *axis, /*toFront=*/false),
                 dtypes[n + s]);
  }
  return success();
}

} // namespace

void qc::detail::registerControlFlowOps(OpRegistry &r) {
  r.add("If", importIf);
  r.add("Scan", importScan);
}
