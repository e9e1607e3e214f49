//===- KVCache.cpp - a step's keys and values in the cache's format -------===//
//
// The kernel qc-lower-attention calls before it writes a step's keys or
// values into a cache that is not f32: each row of head-size values becomes
// one row of the cache's storage (dialects/QC/IR/KVCache.h). A step has few
// rows (positions x cache heads), so the body is scalar.
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"
#include "qc/Codegen/CPUKernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"

#include <limits>

using namespace mlir;
using namespace qc;
using namespace qc::kernels::cpu;

namespace {

class EncodeBody {
public:
  EncodeBody(OpBuilder &b, Location loc, const KVCacheLayout &layout)
      : b(b), loc(loc), e(b, loc), layout(layout) {}

  void build(Value values, Value out, int64_t rows) {
    e.forRange(e.idx(0), e.idx(rows), [&](Value r) {
      if (layout.quantized())
        e.forRange(e.idx(0), e.idx(layout.groups()),
                   [&](Value g) { encodeGroup(values, out, r, g); });
      else
        e.forRange(e.idx(0), e.idx(layout.headDim), [&](Value d) {
          Value x = memref::LoadOp::create(b, loc, values, ValueRange{r, d});
          if (layout.format == KVCacheFormat::F16)
            x = arith::TruncFOp::create(b, loc, b.getF16Type(), x);
          memref::StoreOp::create(b, loc, x, out, ValueRange{r, d});
        });
    });
  }

private:
  Value addIdx(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mulIdx(Value x, int64_t c) {
    return arith::MulIOp::create(b, loc, x, e.idx(c));
  }

  /// Group g of row r: its (scale, min) and codes.
  void encodeGroup(Value values, Value out, Value r, Value g) {
    Value first = mulIdx(g, kKVCacheGroup);
    auto valueAt = [&](Value k) -> Value {
      return memref::LoadOp::create(b, loc, values,
                                    ValueRange{r, addIdx(first, k)});
    };
    // (Not a structured binding: the lambda below captures min.)
    std::pair<Value, Value> bounds = range(valueAt);
    Value min = bounds.first, max = bounds.second;
    Value scale = arith::DivFOp::create(
        b, loc, arith::SubFOp::create(b, loc, max, min), e.f32(levels()));
    storeParams(out, r, g, scale, min);
    Value inv = finiteInverse(scale);
    auto code = [&](Value k) { return codeOf(valueAt(k), min, inv); };
    Value codes = e.idx(8 * layout.groups());
    if (layout.format == KVCacheFormat::Int8) {
      e.forRange(e.idx(0), e.idx(kKVCacheGroup), [&](Value k) {
        memref::StoreOp::create(
            b, loc, code(k), out,
            ValueRange{r, addIdx(codes, addIdx(first, k))});
      });
      return;
    }
    // int4: byte k holds values k (low nibble) and k + 16 (high nibble).
    Value base = addIdx(codes, mulIdx(g, kKVCacheGroup / 2));
    e.forRange(e.idx(0), e.idx(kKVCacheGroup / 2), [&](Value k) {
      Value hi = arith::ShLIOp::create(
          b, loc, code(addIdx(k, e.idx(kKVCacheGroup / 2))),
          arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(4)));
      Value byte = arith::OrIOp::create(b, loc, code(k), hi);
      memref::StoreOp::create(b, loc, byte, out,
                              ValueRange{r, addIdx(base, k)});
    });
  }

  float levels() const {
    return layout.format == KVCacheFormat::Int8 ? 255.0f : 15.0f;
  }

  /// The (min, max) of a group's values; NaNs take no part (minnumf /
  /// maxnumf).
  std::pair<Value, Value> range(function_ref<Value(Value)> valueAt) {
    float inf = std::numeric_limits<float>::infinity();
    ValueRange minMax = e.forCarrying(
        e.idx(0), e.idx(kKVCacheGroup), {e.f32(inf), e.f32(-inf)},
        [&](Value k, ValueRange it) -> SmallVector<Value> {
          Value x = valueAt(k);
          return {arith::MinNumFOp::create(b, loc, it[0], x),
                  arith::MaxNumFOp::create(b, loc, it[1], x)};
        });
    return {minMax[0], minMax[1]};
  }

  /// (scale, min) as the 8 bytes at 8 g of row r.
  void storeParams(Value out, Value r, Value g, Value scale, Value min) {
    Value params = vector::FromElementsOp::create(
        b, loc, VectorType::get({2}, b.getF32Type()), ValueRange{scale, min});
    vector::StoreOp::create(
        b, loc,
        vector::BitCastOp::create(b, loc, VectorType::get({8}, b.getI8Type()),
                                  params),
        out, ValueRange{r, mulIdx(g, 8)});
  }

  /// 1 / scale where it is finite, else 0 (a constant, infinite or NaN
  /// group stores its minimum).
  Value finiteInverse(Value scale) {
    Value inv = arith::DivFOp::create(b, loc, e.f32(1.0f), scale);
    Value finite = arith::AndIOp::create(
        b, loc,
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, scale,
                              e.f32(0.0f)),
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, inv,
                              e.f32(std::numeric_limits<float>::infinity())));
    return arith::SelectOp::create(b, loc, finite, inv, e.f32(0.0f));
  }

  /// The code of x: roundeven((x - min) / scale) in [0, levels] (maxnumf
  /// takes a NaN to 0), as a byte.
  Value codeOf(Value x, Value min, Value inv) {
    Value q = math::RoundEvenOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, arith::SubFOp::create(b, loc, x, min),
                              inv));
    q = arith::MinNumFOp::create(
        b, loc, arith::MaxNumFOp::create(b, loc, q, e.f32(0.0f)),
        e.f32(levels()));
    return arith::FPToUIOp::create(b, loc, b.getI8Type(), q);
  }

  OpBuilder &b;
  Location loc;
  Emitter e;
  KVCacheLayout layout;
};

} // namespace

func::FuncOp qc::getKVCacheEncodeKernel(ModuleOp module, Location loc,
                                        const KVCacheLayout &layout,
                                        int64_t rows) {
  std::string name =
      llvm::formatv("qc_kv_encode_{0}_r{1}_d{2}",
                    kvCacheFormatName(layout.format), rows, layout.headDim)
          .str();
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  MLIRContext *ctx = module.getContext();
  auto in = MemRefType::get({rows, layout.headDim}, Float32Type::get(ctx));
  auto out = MemRefType::get({rows, layout.rowWidth()},
                             layout.elementType(ctx));
  OpBuilder top = OpBuilder::atBlockEnd(module.getBody());
  auto fn = func::FuncOp::create(top, loc, name,
                                 FunctionType::get(ctx, {in, out}, {}));
  fn.setPrivate();
  Block *entry = fn.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockEnd(entry);
  EncodeBody(b, loc, layout)
      .build(entry->getArgument(0), entry->getArgument(1), rows);
  func::ReturnOp::create(b, loc);
  return fn;
}
