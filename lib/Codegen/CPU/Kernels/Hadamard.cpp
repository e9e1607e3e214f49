//===- Hadamard.cpp - the row kernel of qc.hadamard ------------------------===//
//
// One pass per row, in cache: the signs and the butterflies of strides
// below the vector width on each loaded vector (a lane shuffle, an add, a
// subtract and a select per stage), the larger strides on the row, then
// the mix of the M blocks through a copy of the row. Every value is the
// reference lowering's, operation for operation (the same adds, subtracts
// and products in the same order; no fused multiply-adds).
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"
#include "qc/Codegen/CPUKernels.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace qc;
using namespace qc::kernels::cpu;

namespace {

/// `body(i)` for i in [0, count) step `step`.
void loop(OpBuilder &b, Location loc, Value from, Value to, int64_t step,
          function_ref<void(Value)> body) {
  auto forOp = scf::ForOp::create(
      b, loc, from, to, arith::ConstantIndexOp::create(b, loc, step));
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(forOp.getBody());
  body(forOp.getInductionVar());
}

/// One butterfly stage of stride `stride` (< the vector's lanes) inside
/// vector `v`: lane l pairs with lane l ^ stride; the lower lane of a pair
/// takes lo + hi, the upper lo - hi.
Value inRegisterStage(OpBuilder &b, Location loc, Value v, int64_t stride) {
  auto type = cast<VectorType>(v.getType());
  int64_t lanes = type.getNumElements();
  SmallVector<int64_t> partner;
  SmallVector<bool> lower;
  for (int64_t l = 0; l < lanes; ++l) {
    partner.push_back(l ^ stride);
    lower.push_back((l & stride) == 0);
  }
  Value u = vector::ShuffleOp::create(b, loc, v, v, partner);
  Value isLower = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({lanes}, b.getI1Type()),
                             ArrayRef<bool>(lower)));
  return arith::SelectOp::create(b, loc, isLower,
                                 arith::AddFOp::create(b, loc, v, u),
                                 arith::SubFOp::create(b, loc, u, v));
}

} // namespace

func::FuncOp qc::getHadamardKernel(ModuleOp module, Location loc, int64_t rows,
                                   int64_t width, int64_t order,
                                   bool applyMix) {
  std::string name = llvm::formatv("qc_fwht_r{0}_k{1}_m{2}{3}", rows, width,
                                   order, applyMix ? "" : "_nomix")
                         .str();
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  MLIRContext *ctx = module.getContext();
  OpBuilder top = OpBuilder::atBlockEnd(module.getBody());
  Type f32 = Float32Type::get(ctx), index = IndexType::get(ctx);
  auto rowsType = MemRefType::get({rows, width}, f32);
  auto fn = func::FuncOp::create(
      top, loc, name,
      FunctionType::get(ctx,
                        {rowsType, MemRefType::get({width}, f32),
                         MemRefType::get({order, order}, f32), rowsType,
                         index, index},
                        {}));
  fn.setPrivate();
  Block *entry = fn.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockEnd(entry);
  Emitter e(b, loc);
  Value x = entry->getArgument(0), signs = entry->getArgument(1),
        mix = entry->getArgument(2), out = entry->getArgument(3);
  int64_t pow2 = width / order, lanes = std::min<int64_t>(8, pow2);
  auto vf = VectorType::get({lanes}, f32);
  // The mix reads every block of the row: it works from a copy.
  Value copy = applyMix ? memref::AllocaOp::create(
                               b, loc, MemRefType::get({width}, f32))
                               .getResult()
                         : Value();
  loop(b, loc, entry->getArgument(4), entry->getArgument(5), 1, [&](Value r) {
    // The signs and the strides inside a vector.
    loop(b, loc, e.idx(0), e.idx(width), lanes, [&](Value k) {
      Value v = arith::MulFOp::create(
          b, loc, vector::LoadOp::create(b, loc, vf, x, ValueRange{r, k}),
          vector::LoadOp::create(b, loc, vf, signs, ValueRange{k}));
      for (int64_t stride = 1; stride < lanes; stride *= 2)
        v = inRegisterStage(b, loc, v, stride);
      vector::StoreOp::create(b, loc, v, out, ValueRange{r, k});
    });
    // The larger strides, a pass over the row each.
    for (int64_t stride = lanes; stride < pow2; stride *= 2)
      loop(b, loc, e.idx(0), e.idx(width), 2 * stride, [&](Value base) {
        loop(b, loc, e.idx(0), e.idx(stride), lanes, [&](Value t) {
          Value lo = arith::AddIOp::create(b, loc, base, t);
          Value hi = arith::AddIOp::create(b, loc, lo, e.idx(stride));
          Value a = vector::LoadOp::create(b, loc, vf, out, ValueRange{r, lo});
          Value c = vector::LoadOp::create(b, loc, vf, out, ValueRange{r, hi});
          vector::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, a, c),
                                  out, ValueRange{r, lo});
          vector::StoreOp::create(b, loc, arith::SubFOp::create(b, loc, a, c),
                                  out, ValueRange{r, hi});
        });
      });
    if (!applyMix)
      return;
    // y[i', j] = sum_i mix[i][i'] z[i, j], summed from 0 in order of i.
    loop(b, loc, e.idx(0), e.idx(width), lanes, [&](Value k) {
      vector::StoreOp::create(
          b, loc, vector::LoadOp::create(b, loc, vf, out, ValueRange{r, k}),
          copy, ValueRange{k});
    });
    loop(b, loc, e.idx(0), e.idx(order), 1, [&](Value iOut) {
      loop(b, loc, e.idx(0), e.idx(pow2), lanes, [&](Value j) {
        auto sum = scf::ForOp::create(
            b, loc, e.idx(0), e.idx(order), e.idx(1), ValueRange{e.zeros(vf)},
            [&](OpBuilder &nested, Location, Value i, ValueRange acc) {
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPointToStart(nested.getInsertionBlock());
              Value at = arith::AddIOp::create(
                  b, loc, arith::MulIOp::create(b, loc, i, e.idx(pow2)), j);
              Value z = vector::LoadOp::create(b, loc, vf, copy, ValueRange{at});
              Value h = vector::BroadcastOp::create(
                  b, loc, vf,
                  memref::LoadOp::create(b, loc, mix, ValueRange{i, iOut}));
              scf::YieldOp::create(
                  b, loc,
                  ValueRange{arith::AddFOp::create(
                      b, loc, acc[0], arith::MulFOp::create(b, loc, z, h))});
            });
        Value at = arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, iOut, e.idx(pow2)), j);
        vector::StoreOp::create(b, loc, sum.getResult(0), out,
                                ValueRange{r, at});
      });
    });
  });
  func::ReturnOp::create(b, loc);
  return fn;
}
