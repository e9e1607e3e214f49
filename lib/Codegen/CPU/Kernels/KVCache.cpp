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
    auto valueAt = [&](Value k) {
      return memref::LoadOp::create(b, loc, values,
                                    ValueRange{r, addIdx(first, k)});
    };
    float inf = std::numeric_limits<float>::infinity();
    ValueRange range = e.forCarrying(
        e.idx(0), e.idx(kKVCacheGroup), {e.f32(inf), e.f32(-inf)},
        [&](Value k, ValueRange it) -> SmallVector<Value> {
          Value x = valueAt(k);
          // NaNs do not take part in the range (minnumf / maxnumf).
          return {arith::MinNumFOp::create(b, loc, it[0], x),
                  arith::MaxNumFOp::create(b, loc, it[1], x)};
        });
    Value min = range[0];
    float levels = layout.format == KVCacheFormat::Int8 ? 255.0f : 15.0f;
    Value scale = arith::DivFOp::create(
        b, loc, arith::SubFOp::create(b, loc, range[1], min), e.f32(levels));
    // 1 / scale where it is finite, else 0 (a constant, infinite or NaN
    // group stores its minimum; the codes stay in range below).
    Value inv = arith::DivFOp::create(b, loc, e.f32(1.0f), scale);
    Value finite = arith::AndIOp::create(
        b, loc,
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, scale,
                              e.f32(0.0f)),
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, inv,
                              e.f32(std::numeric_limits<float>::infinity())));
    inv = arith::SelectOp::create(b, loc, finite, inv, e.f32(0.0f));
    Value params = vector::FromElementsOp::create(
        b, loc, VectorType::get({2}, b.getF32Type()), ValueRange{scale, min});
    vector::StoreOp::create(
        b, loc,
        vector::BitCastOp::create(b, loc, VectorType::get({8}, b.getI8Type()),
                                  params),
        out, ValueRange{r, mulIdx(g, 8)});

    auto code = [&](Value x) -> Value {
      Value q = math::RoundEvenOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, arith::SubFOp::create(b, loc, x, min),
                                inv));
      // maxnumf takes a NaN to 0: every code is in [0, levels].
      q = arith::MinNumFOp::create(
          b, loc, arith::MaxNumFOp::create(b, loc, q, e.f32(0.0f)),
          e.f32(levels));
      return arith::FPToUIOp::create(b, loc, b.getI8Type(), q);
    };
    Value codes = e.idx(8 * layout.groups());
    if (layout.format == KVCacheFormat::Int8) {
      e.forRange(e.idx(0), e.idx(kKVCacheGroup), [&](Value k) {
        memref::StoreOp::create(
            b, loc, code(valueAt(k)), out,
            ValueRange{r, addIdx(codes, addIdx(first, k))});
      });
      return;
    }
    // int4: byte k holds values k (low nibble) and k + 16 (high nibble).
    Value base = addIdx(codes, mulIdx(g, kKVCacheGroup / 2));
    e.forRange(e.idx(0), e.idx(kKVCacheGroup / 2), [&](Value k) {
      Value hi = arith::ShLIOp::create(
          b, loc, code(valueAt(addIdx(k, e.idx(kKVCacheGroup / 2)))),
          arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(4)));
      Value byte = arith::OrIOp::create(b, loc, code(valueAt(k)), hi);
      memref::StoreOp::create(b, loc, byte, out,
                              ValueRange{r, addIdx(base, k)});
    });
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
