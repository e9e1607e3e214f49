//===- LutGemm.cpp - call sites of the LUT-GEMM kernels -------------------===//
//
// A BCQ qc.qlinear with kernel `lut_bcq` (or a uniform one, through its
// exact BCQ form: the planes are the bits of the codes, 2 alpha_i = s 2^i
// and offset - sum alpha = -s z) becomes, on tensors: the int8 activation
// quantizer shared with dequant_i8, a call of the table builder (per token
// and 4 inputs, the 16 partial sums of their int8 activations selected by
// the bits of the table index, as low and high bytes), and a call of the
// tile kernel over the 32-column tiles [0, ceil(N/32)), which looks the
// tables up with the sign bits of 32 columns of one bit-plane at a time
// (lib/Codegen/CPU/Kernels/LutGemm.cpp). With c = (b + 1) / 2 in {0, 1}:
//
//   sum_k w[k,n] x[k] = sum_a xs[a] sum_i 2 alpha_i[g(a),n] D_i[a,n]
//                       + sum_g (offset[g,n] - sum_i alpha_i[g,n]) xsum[g]
//   D_i[a,n] = sum_{k in block a} c_i[k,n] xq[k]     (exact, in int16)
//
// The weights are repacked here at compile time: bit-planes in the order
// [tile][8-row chunk][plane][32 columns, even/odd interleaved] (low nibble
// rows 8c..8c+3, high nibble rows 8c+4..8c+7), 2 alpha as f32
// [tile][group][plane][32 columns] and offset - sum alpha as f32
// [tile][group][32 columns] (N padded to 32), so that a tile's metadata is
// read in order, like its bit-planes.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "QC/IR/QCOps.h"
#include "qc/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <cmath>

namespace qc {
#define GEN_PASS_DEF_GENLUTGEMMPASS
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;
using namespace qc::kernels;

namespace {

struct GenLutGemmPass : qc::impl::GenLutGemmPassBase<GenLutGemmPass> {
  void runOnOperation() override {
    for (QLinearOp op :
         layersWithKernel(getOperation(), KernelKind::lut_bcq))
      if (failed(lower(op)))
        return signalPassFailure();
  }

  LogicalResult lower(QLinearOp op) {
    auto fail = [&](const Twine &why) {
      return layerError(op, "qc-gen-lut-gemm") << why;
    };
    // BCQ codes, or uniform codes q read as their bits: with b_i = 2 c_i - 1,
    // s (q - z) = sum_i s 2^(i-1) b_i + s ((2^bits - 1) / 2 - z).
    auto bcq = dyn_cast<BCQAttr>(op.getScheme());
    auto uniform = dyn_cast<UniformAttr>(op.getScheme());
    bool bcqOk = bcq && bcq.getPlanes() >= 1 && bcq.getPlanesInCodes() <= 4;
    bool uniformOk = uniform && !uniform.getPerIc() && uniform.getBits() >= 2 &&
                     uniform.getBits() <= 4;
    if (op.getPacked() || op.getBitplanes() || (!bcqOk && !uniformOk))
      return fail("lut_bcq needs canonical BCQ codes of 1 to 4 (stored) "
                  "planes or uniform per-output-channel codes of 2 to 4 bits");
    int64_t group = bcq ? bcq.getGroup() : uniform.getGroup();
    FailureOr<KernelShape> shape =
        kernelShapeOf(op, group, bcq ? bcq.getPlanes() : uniform.getBits(),
                      "qc-gen-lut-gemm");
    FailureOr<LayerConstants> data = readConstants(op, "qc-gen-lut-gemm");
    if (failed(shape) || failed(data) ||
        failed(checkActivations(op, *shape, KernelInput::Int8Codes,
                                "qc-gen-lut-gemm", "lut_bcq")))
      return failure();
    if (bcq && bcq.getStoredPlanes())
      shape->storedPlanes = bcq.getPlanesInCodes();
    const KernelShape &s = *shape;
    if (s.actBlock > 128)
      return fail("lut_bcq takes activation blocks of at most 128 inputs");
    if (ActivationAttr act = op.getActAttr();
        act && (act.isStatic() || act.getKind() != ActKind::int8))
      return fail("lut_bcq takes dynamic int8 activations, the layer's are " +
                  act.getShortName());
    if (!s.target->hasByteLookup())
      return fail("lut_bcq needs byte table lookups (an x86 or AArch64 "
                  "target), not isa = " +
                  s.target->name());
    int64_t planes = s.bits, k = s.k, n = s.n, np = s.paddedN();
    int64_t realGroups = weightGroups(k, group);
    int64_t scaleCount = (bcq ? planes : 1) * realGroups * n;
    if (data->scales.size() != static_cast<size_t>(scaleCount) ||
        (!data->zeros.empty() &&
         data->zeros.size() != static_cast<size_t>(realGroups * n)))
      return fail("scales / offsets do not match the scheme");

    // Bit-planes: [tile][chunk of 8 rows][plane][32 byte lanes]; bit r of
    // a byte is row 8 chunk + r (lutByteOffset). Every stored plane is
    // packed (AnyBCQ: the same bytes for each precision of one fit).
    int64_t stored = s.planeStride();
    int64_t chunks = s.paddedK() / 8, tiles = np / 32;
    std::vector<uint8_t> packed(tiles * chunks * stored * 32, 0);
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t col = 0; col < n; ++col) {
        auto code = static_cast<uint8_t>(data->codes[kk * n + col]);
        if (code >> stored)
          return fail(llvm::formatv("code {0} at row {1}, column {2} does not "
                                    "fit in {3} bits",
                                    code, kk, col, stored));
        for (int64_t i = 0; i < stored; ++i)
          if (code >> i & 1)
            packed[lutByteOffset(col, kk / 8, i, chunks, stored)] |=
                uint8_t(1u << (kk % 8));
      }
    // Per tile, 2 alpha [group][plane][32] and offset - sum alpha
    // [group][32] (tileMetaOffset).
    int64_t groups = s.groups();
    float symmetricZero = static_cast<float>(1 << (planes - 1));
    std::vector<float> alpha2(groups * planes * np, 0.0f),
        corr(groups * np, 0.0f), bias(np, 0.0f);
    for (int64_t g = 0; g < realGroups; ++g)
      for (int64_t col = 0; col < n; ++col) {
        float zero = data->zeros.empty() ? 0.0f : data->zeros[g * n + col];
        int64_t corrAt = tileMetaOffset(col, g, groups);
        if (uniform) {
          // 2 alpha_i = s 2^i; offset - sum alpha = -s z.
          float scale = data->scales[g * n + col];
          for (int64_t i = 0; i < planes; ++i)
            alpha2[tileMetaOffset(col, g * planes + i, groups * planes)] =
                std::ldexp(scale, i);
          corr[corrAt] = -scale * (data->zeros.empty() ? symmetricZero : zero);
          continue;
        }
        float sum = 0.0f;
        for (int64_t i = 0; i < planes; ++i) {
          float a = data->scales[(i * realGroups + g) * n + col];
          alpha2[tileMetaOffset(col, g * planes + i, groups * planes)] =
              2.0f * a;
          sum += a;
        }
        corr[corrAt] = zero - sum;
      }
    std::copy(data->bias.begin(), data->bias.end(), bias.begin());

    ModuleOp module = getOperation();
    OpBuilder b(op);
    Location loc = op.getLoc();
    Type f32 = b.getF32Type(), i8 = b.getI8Type();
    std::string layer = op.getLayer().str();
    ActivationBuffers act =
        quantizeActivations(b, loc, module, op, s);
    Value tables = allocBuffer(b, loc, {s.m, s.paddedK() / 4, 32}, i8);
    func::FuncOp build = declareKernel(
        module, loc, s, kRoleLutTables, "qc_lutt_",
        TypeRange{act.xq.getType(), tables.getType()}, /*parallel=*/false);
    func::CallOp::create(b, loc, build, ValueRange{act.xq, tables});

    Value codes = constantBuffer(b, loc, {tiles, chunks * stored * 32}, i8,
                                 packed, layer + ".lutplanes");
    Value alphaBuf = constantBuffer(b, loc, {tiles, groups * planes * 32}, f32,
                                    alpha2, layer + ".lutalpha");
    Value corrBuf = constantBuffer(b, loc, {tiles, groups * 32}, f32, corr,
                                   layer + ".lutcorr");
    Value biasBuf = constantBuffer(b, loc, {np}, f32, bias, layer + ".lutbias");
    Value yBuf = allocBuffer(b, loc, {s.m, np}, f32);
    callRangeKernel(
        b, loc, op, s, kRoleLutTiles, "qc_lutgemm_",
        {act.xs, act.xsum, tables, codes, alphaBuf, corrBuf, biasBuf, yBuf},
        tiles, yBuf);
    return success();
  }
};

} // namespace
