//===- OpsControlFlow.cpp - If -------------------------------------------===//
//
// If with a condition known at import time (shape tests, a sample rate
// bound with --bind-input) is the taken branch, imported in place. With a
// run-time condition it is an scf.if whose regions hold the two branches;
// their outputs must have one static type each, since every tensor in qc is
// statically shaped. A branch reads the outer graph's values by name.
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

} // namespace

void qc::detail::registerControlFlowOps(OpRegistry &r) { r.add("If", importIf); }
