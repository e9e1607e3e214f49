//===- OpsControlFlow.cpp - If, Scan, Loop ---------------------------------===//
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
// Loop is the same loop when its trip count is known at import time and its
// condition stays true.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"
#include "ShapeUtils.h"

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
    for (unsigned i = 0; i < nc.numOutputs(); ++i) {
      const std::string &name = taken.output(i).name();
      if (!nc.constantOf(name) && !nc.valueOf(name)) {
        nc.error() << "branch output '" << name
                   << "' is not produced by any node";
        return failure();
      }
      nc.setOutputLike(i, name);
    }
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

/// The step index of direction `reverse` at iteration `iv` of `length`.
Value stepIndex(NodeContext &nc, Value iv, int64_t length, bool reverse) {
  if (!reverse)
    return iv;
  Value last = arith::ConstantIndexOp::create(nc.b, nc.loc, length - 1);
  return arith::SubIOp::create(nc.b, nc.loc, last, iv);
}

/// What bodyLoop built: the final states, then each scan output stacked
/// along a new first axis, with their ONNX types.
struct BodyLoop {
  SmallVector<Value> results;
  SmallVector<DType> dtypes;
};

/// An scf.for of `length` steps over subgraph `body`. `bind(iv, carried)`
/// binds the body's inputs; its outputs from `stateBegin` on are the next
/// `states`, and those after them per-step slices, stacked (the last step
/// first where `reverse`). `check`, when given, must hold once the body is
/// imported (Loop's condition staying true). The body is imported once
/// into a loop carrying only the states, to learn the slices' types; the
/// loop carrying both then takes its operations.
FailureOr<BodyLoop> bodyLoop(NodeContext &nc, const onnx::GraphProto &body,
                             int64_t length, ArrayRef<Value> states,
                             function_ref<void(Value, ValueRange)> bind,
                             unsigned stateBegin, ArrayRef<bool> reverse,
                             function_ref<bool()> check = nullptr) {
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(nc.b, nc.loc, v).getResult();
  };
  size_t n = states.size(), k = reverse.size();
  llvm::StringSet<> outer = nc.valueNames();
  auto probe = scf::ForOp::create(nc.b, nc.loc, idx(0), idx(length), idx(1),
                                  states);
  SmallVector<Value> outs;
  BodyLoop r;
  LogicalResult imported = success();
  {
    OpBuilder::InsertionGuard guard(nc.b);
    nc.b.setInsertionPointToStart(probe.getBody());
    bind(probe.getInductionVar(), probe.getRegionIterArgs());
    imported = nc.importSubgraph(body);
    for (int i = 0; succeeded(imported) && i < body.output_size(); ++i) {
      outs.push_back(nc.valueOf(body.output(i).name()));
      r.dtypes.push_back(nc.dtypeOf(body.output(i).name()));
      if (!outs.back()) {
        nc.error() << "body output '" << body.output(i).name()
                   << "' is not produced by any node";
        imported = failure();
      }
    }
    if (succeeded(imported) && check && !check()) {
      nc.error() << "the body's condition output must stay true (a loop "
                    "that can stop early has a data-dependent length)";
      imported = failure();
    }
  }
  nc.forgetValuesExcept(outer);
  for (size_t i = 0; succeeded(imported) && i < n; ++i)
    if (outs[stateBegin + i].getType() != states[i].getType()) {
      nc.error() << "state " << i << " is " << states[i].getType()
                 << " into the body but not out of it";
      imported = failure();
    }
  if (failed(imported)) {
    probe->erase();
    return failure();
  }
  ArrayRef<Value> next = ArrayRef<Value>(outs).slice(stateBegin, n);
  ArrayRef<Value> slices = ArrayRef<Value>(outs).slice(stateBegin + n, k);
  SmallVector<Value> init(states);
  for (Value v : slices) {
    auto type = cast<RankedTensorType>(v.getType());
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
    SmallVector<Value> yielded(next);
    for (auto [s, slice] : llvm::enumerate(slices))
      yielded.push_back(insertStep(
          nc, slice, loop.getRegionIterArgs()[n + s],
          stepIndex(nc, loop.getInductionVar(), length, reverse[s])));
    scf::YieldOp::create(nc.b, nc.loc, yielded);
  }
  probe->erase();
  r.results.assign(loop.getResults().begin(), loop.getResults().end());
  r.dtypes.erase(r.dtypes.begin(), r.dtypes.begin() + stateBegin);
  return r;
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
  SmallVector<bool> reverse;
  for (int64_t d : *outDirs)
    reverse.push_back(d != 0);
  auto bind = [&](Value iv, ValueRange carried) {
    for (int64_t i = 0; i < n; ++i)
      nc.bindValue(body->input(i).name(), carried[i], nc.inputDType(i));
    for (int64_t j = 0; j < m; ++j)
      nc.bindValue(body->input(n + j).name(),
                   extractStep(nc, scanned[j],
                             stepIndex(nc, iv, length, (*inDirs)[j] != 0)),
                   nc.inputDType(n + j));
  };
  FailureOr<BodyLoop> loop =
      bodyLoop(nc, *body, length, states, bind, /*stateBegin=*/0, reverse);
  if (failed(loop))
    return failure();
  for (int64_t i = 0; i < n; ++i)
    nc.setOutput(i, loop->results[i], loop->dtypes[i]);
  for (int64_t s = 0; s < k; ++s) {
    Value v = loop->results[n + s];
    int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
    FailureOr<int64_t> axis = nc.normalizeAxis((*outAxes)[s], rank);
    if (failed(axis))
      return failure();
    nc.setOutput(n + s, moveAxis(nc, v, *axis, /*toFront=*/false),
                 loop->dtypes[n + s]);
  }
  return success();
}

/// Loop with a trip count known at import time and a condition that stays
/// true (absent, or a constant true that the body passes on or recomputes
/// as a constant true): an scf.for; what a data-dependent exit needs is
/// not supported.
LogicalResult importLoop(NodeContext &nc) {
  const onnx::GraphProto *body = nc.attrGraph("body");
  int64_t n = static_cast<int64_t>(nc.numInputs()) - 2;
  int64_t k = static_cast<int64_t>(nc.numOutputs()) - n;
  if (!body || n < 0 || k < 0 || body->input_size() != n + 2 ||
      body->output_size() != n + k + 1) {
    nc.error() << "the body's inputs and outputs do not fit the node's "
               << nc.numInputs() << " inputs and " << nc.numOutputs()
               << " outputs";
    return failure();
  }
  const HostTensor *trips = nc.hasInput(0) ? nc.inputConstant(0) : nullptr;
  if (!trips || trips->numElements() != 1) {
    nc.error() << "the trip count M (input 0) must be known at compile time "
                  "(qc needs static shapes)";
    return failure();
  }
  const HostTensor *cond = nc.hasInput(1) ? nc.inputConstant(1) : nullptr;
  if (nc.hasInput(1) && (!cond || cond->getInt(0) == 0)) {
    nc.error() << "the condition (input 1) must be known at compile time and "
                  "true";
    return failure();
  }
  int64_t length = std::max<int64_t>(trips->getInt(0), 0);
  if (length > (int64_t(1) << 31)) {
    nc.error() << "the trip count " << length << " is too large";
    return failure();
  }
  SmallVector<Value> states;
  for (int64_t i = 0; i < n; ++i)
    states.push_back(nc.input(2 + i));
  auto bind = [&](Value iv, ValueRange carried) {
    Value i64 = arith::IndexCastOp::create(nc.b, nc.loc, nc.b.getI64Type(), iv);
    nc.bindValue(body->input(0).name(),
                 tensor::FromElementsOp::create(
                     nc.b, nc.loc, RankedTensorType::get({}, nc.b.getI64Type()),
                     ValueRange{i64}),
                 onnx::TensorProto::INT64);
    nc.bindConstant(body->input(1).name(),
                    HostTensor::fromInts({1}, {}, onnx::TensorProto::BOOL));
    for (int64_t i = 0; i < n; ++i)
      nc.bindValue(body->input(2 + i).name(), carried[i],
                   nc.inputDType(2 + i));
  };
  std::string condOut = body->output(0).name();
  auto stays = [&]() {
    const HostTensor *c = nc.constantOf(condOut);
    return c && c->numElements() == 1 && c->getInt(0) != 0;
  };
  SmallVector<bool> reverse(k, false);
  FailureOr<BodyLoop> loop = bodyLoop(nc, *body, length, states, bind,
                                      /*stateBegin=*/1, reverse, stays);
  if (failed(loop))
    return failure();
  for (int64_t i = 0; i < n + k; ++i)
    nc.setOutput(i, loop->results[i], loop->dtypes[i]);
  return success();
}

} // namespace

void qc::detail::registerControlFlowOps(OpRegistry &r) {
  r.add("If", importIf);
  r.add("Scan", importScan);
  r.add("Loop", importLoop);
}
