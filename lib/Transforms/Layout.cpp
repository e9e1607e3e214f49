//===- Layout.cpp - pack quantized codes into their storage layout --------===//

#include "QC/QCOps.h"
#include "qc/Quant/Packing.h"
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace qc {
#define GEN_PASS_DEF_LAYOUT
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {

struct LayoutPass : qc::impl::LayoutBase<LayoutPass> {
  void runOnOperation() override {
    SmallVector<QLinearOp> ops;
    getOperation().walk([&](QLinearOp op) { ops.push_back(op); });
    for (QLinearOp op : ops) {
      unsigned bits = op.getPackableCodeBits();
      if (op.getPacked() || bits == 0)
        continue;
      auto cst = op.getCodes().getDefiningOp<arith::ConstantOp>();
      if (!cst)
        continue; // Run-time codes stay canonical.
      int64_t k = op.getInFeatures(), n = op.getOutFeatures();
      std::vector<uint8_t> codes(k * n);
      if (auto res = dyn_cast<DenseResourceElementsAttr>(cst.getValue())) {
        AsmResourceBlob *blob = res.getRawHandle().getBlob();
        if (!blob || blob->getData().size() != codes.size())
          continue;
        std::memcpy(codes.data(), blob->getData().data(), codes.size());
      } else if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue())) {
        auto values = dense.getValues<APInt>();
        size_t i = 0;
        for (const APInt &v : values)
          codes[i++] = static_cast<uint8_t>(v.getZExtValue());
      } else {
        continue;
      }
      std::vector<uint8_t> packed;
      std::string err;
      if (!quant::packCodes(codes.data(), k, n, bits, quant::PackOrder::KMajor,
                            /*tileN=*/1, packed, err)) {
        op.emitError() << "qc-layout: layer '" << op.getLayer()
                       << "': " << err;
        return signalPassFailure();
      }
      OpBuilder b(op);
      auto type = RankedTensorType::get({n, (k * bits + 7) / 8},
                                        b.getI8Type());
      AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
          ArrayRef<char>(reinterpret_cast<const char *>(packed.data()),
                         packed.size()),
          alignof(uint64_t));
      auto attr = DenseResourceElementsAttr::get(
          type, (op.getLayer() + ".packed").str(), std::move(blob));
      Value packedCodes = arith::ConstantOp::create(b, op.getLoc(), attr);
      op.getCodesMutable().assign(packedCodes);
      op.setPacked(true);
      if (cst->use_empty())
        cst->erase();
      ++numPacked;
    }
  }
};

} // namespace
