//===- Layout.cpp - pack quantized codes into their storage layout --------===//

#include "QC/IR/QCOps.h"
#include "qc/Quant/Packing.h"
#include "qc/Transforms/ConstantData.h"
#include "qc/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace qc {
#define GEN_PASS_DEF_LAYOUTPASS
#include "qc/Transforms/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;

namespace {

struct LayoutPass : qc::impl::LayoutPassBase<LayoutPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<QLinearOp> ops;
    getOperation().walk([&](QLinearOp op) { ops.push_back(op); });
    for (QLinearOp op : ops) {
      auto bcq = dyn_cast<BCQAttr>(op.getScheme());
      unsigned bits = op.getPackableCodeBits();
      if (op.getPacked() || op.getBitplanes() || (bits == 0 && !bcq))
        continue;
      FailureOr<std::vector<char>> bytes = getConstantBytes(op.getCodes());
      int64_t k = op.getInFeatures(), n = op.getOutFeatures();
      if (failed(bytes) ||
          !op.getCodes().getType().getElementType().isInteger(8) ||
          static_cast<int64_t>(bytes->size()) != k * n)
        continue; // Run-time or unusual codes stay canonical.
      std::vector<uint8_t> codes(bytes->begin(), bytes->end());
      Operation *oldCodes = op.getCodes().getDefiningOp();
      std::vector<uint8_t> packed;
      std::string err;
      OpBuilder b(op);
      RankedTensorType type;
      bool ok;
      if (bcq) {
        // BCQ: bit-planes [ceil(K/8)][plane][N], the LUT-GEMM order.
        int planes = bcq.getPlanes();
        std::vector<int8_t> signs(static_cast<size_t>(planes) * k * n);
        for (int p = 0; p < planes; ++p)
          for (int64_t i = 0; i < k * n; ++i)
            signs[p * k * n + i] = (codes[i] >> p & 1) ? 1 : -1;
        ok = quant::packBitPlanes(signs.data(), k, n, planes, packed, err);
        type = RankedTensorType::get({(k + 7) / 8, planes, n}, b.getI8Type());
      } else {
        int64_t tile = std::min<int64_t>(tileN, n);
        ok = quant::packCodes(
            codes.data(), k, n, bits,
            tile > 0 ? quant::PackOrder::TileInterleaved
                     : quant::PackOrder::KMajor,
            std::max<int64_t>(tile, 1), packed, err);
        type = tile > 0 ? RankedTensorType::get({(n + tile - 1) / tile,
                                                 (k + 7) / 8, tile, bits},
                                                b.getI8Type())
                        : RankedTensorType::get({n, (k * bits + 7) / 8},
                                                b.getI8Type());
        if (tile > 0)
          op.setTileN(tile);
      }
      if (!ok) {
        op.emitError() << "qc-layout: layer '" << op.getLayer()
                       << "': " << err;
        return signalPassFailure();
      }
      AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
          ArrayRef<char>(reinterpret_cast<const char *>(packed.data()),
                         packed.size()),
          alignof(uint64_t));
      auto attr = DenseResourceElementsAttr::get(
          type, (op.getLayer() + (bcq ? ".planes" : ".packed")).str(),
          std::move(blob));
      Value packedCodes = arith::ConstantOp::create(b, op.getLoc(), attr);
      op.getCodesMutable().assign(packedCodes);
      if (bcq)
        op.setBitplanes(true);
      else
        op.setPacked(true);
      if (oldCodes->use_empty())
        oldCodes->erase();
      ++numPacked;
    }
  }
};

} // namespace
