//===- DequantGemm.cpp - call sites of the dequant_i8 / _f32 kernels ------===//
//
// A qc.qlinear with kernel `dequant_i8` (`dequant_f32`) becomes, on tensors:
// a flattening of its input to [M, K], calls of two generated functions on
// buffers (the activation quantizer (copier) and the panel kernel, declared
// here and given their
// bodies by qc-emit-kernels, see lib/Codegen/CPU/Kernels) and the output as a
// tensor again. The weights are repacked here, at compile time, into new
// dense_resource constants: codes in kernel panels of 8 columns
// (quant::packKernelPanels), and per panel its columns' scales and zero
// points as [panel][group][8] (f16 or f32 scales, byte zero points).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "QC/IR/QCOps.h"
#include "qc/Conversion/Passes.h"
#include "qc/Quant/Packing.h"
#include "qc/Transforms/ConstantData.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <string>

namespace qc {
#define GEN_PASS_DEF_GENDEQUANTGEMMPASS
#include "qc/Conversion/Passes.h.inc"
} // namespace qc

using namespace mlir;
using namespace qc;
using namespace qc::kernels;

namespace {

/// The column kernel's name prefix: its activations and its zero points'
/// and scales' storage are part of its signature (f32 zero points: "f",
/// f16 scales: "h").
std::string kernelPrefix(bool floatAct, bool floatZeros, bool halfScales) {
  return std::string(floatAct ? "qc_dqf32" : "qc_dqi8") +
         (floatZeros ? "f" : "") + (halfScales ? "h" : "") + "_";
}

/// The f32 activations of a dequant_f32 layer: [M, Kp] zero-padded, and
/// [M, groups] group sums, from the activation copier (declared on first
/// use).
ActivationBuffers floatActivations(OpBuilder &b, Location loc,
                                   ModuleOp module, QLinearOp op,
                                   const KernelShape &s) {
  Type f32 = b.getF32Type();
  ActivationBuffers a;
  a.xq = allocBuffer(b, loc, {s.m, s.activationK()}, f32);
  a.xsum = allocBuffer(b, loc, {s.m, s.groups()}, f32);
  Value x = activationBuffer(b, loc, op.getInput(), s.m, s.k, op.getLayer());
  callActivationKernel(b, loc, module, s, kRoleActFloat, "qc_actf_",
                       {x, a.xq, a.xsum});
  return a;
}

/// Whether every value is an f16 exactly.
bool allHalf(ArrayRef<float> values, Type f16) {
  return llvm::all_of(values,
                      [&](float v) { return roundToType(v, f16) == v; });
}

/// sum_k w[k][n] of the layer's dequantized weight, per column.
std::vector<double> columnSums(const LayerConstants &data,
                               const KernelShape &s, int64_t group) {
  const auto *codes = reinterpret_cast<const uint8_t *>(data.codes.data());
  double symmetricZero = static_cast<double>(1u << (s.bits - 1));
  int64_t rows = group == -1 ? s.k : group;
  std::vector<double> sums(s.n, 0.0);
  for (int64_t col = 0; col < s.n; ++col)
    for (int64_t k = 0; k < s.k; ++k) {
      size_t at = static_cast<size_t>((k / rows) * s.n + col);
      double zero = data.zeros.empty() ? symmetricZero : data.zeros[at];
      sums[col] += data.scales[at] * (codes[k * s.n + col] - zero);
    }
  return sums;
}

/// With a static activation zero point zp the kernel sums the codes c,
/// not c - zp: sum_k scale (c - zp) w[k] = scale sum_k c w[k] - scale zp
/// sum_k w[k], whose last term, a constant per column, moves into `bias`.
void foldActivationZero(ActivationAttr act, const LayerConstants &data,
                        const KernelShape &s, int64_t group,
                        std::vector<float> &bias) {
  if (!act || !act.isStatic() || act.getZeroPoint() == 0)
    return;
  double term = static_cast<double>(act.getStaticScale()) * act.getZeroPoint();
  std::vector<double> sums = columnSums(data, s, group);
  for (int64_t col = 0; col < s.n; ++col)
    bias[col] = static_cast<float>(bias[col] - term * sums[col]);
}

/// uint8 activations' zero point is a run-time value: the bias the kernel
/// adds is `bias - scale zp sum_k w[k]`, computed before it from the
/// compile-time column sums (zero past N) and the tensor's parameters.
Value runtimeBias(OpBuilder &b, Location loc, const ActivationBuffers &act,
                  const std::vector<float> &bias,
                  const std::vector<double> &sums, StringRef layer) {
  int64_t n8 = static_cast<int64_t>(bias.size());
  std::vector<float> sums8(n8, 0.0f);
  std::copy(sums.begin(), sums.end(), sums8.begin());
  Type f32 = b.getF32Type();
  Value biasT = resourceConstant(b, loc, {n8}, f32, bias, (layer + ".kbias").str());
  Value sumT =
      resourceConstant(b, loc, {n8}, f32, sums8, (layer + ".kcolsum").str());
  Value term = arith::MulFOp::create(b, loc, act.scale, act.zeroPoint);
  AffineMap id = b.getMultiDimIdentityMap(1);
  Value init = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{n8}, f32);
  Value folded =
      linalg::GenericOp::create(
          b, loc, init.getType(), ValueRange{biasT, sumT}, init,
          SmallVector<AffineMap>{id, id, id},
          SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value shift = arith::MulFOp::create(nb, l, term, a[1]);
            linalg::YieldOp::create(
                nb, l, ValueRange{arith::SubFOp::create(nb, l, a[0], shift)});
          })
          .getResult(0);
  return readOnlyBuffer(b, loc, folded);
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct GenDequantGemmPass
    : qc::impl::GenDequantGemmPassBase<GenDequantGemmPass> {
  void runOnOperation() override {
    for (KernelKind kind : {KernelKind::dequant_i8, KernelKind::dequant_f32})
      for (QLinearOp op : layersWithKernel(getOperation(), kind))
        if (failed(lower(op, kind == KernelKind::dequant_f32)))
          return signalPassFailure();
  }

  LogicalResult lower(QLinearOp op, bool floatAct) {
    auto fail = [&](const Twine &why) {
      return layerError(op, "qc-gen-dequant-gemm") << why;
    };
    StringRef kindName = floatAct ? "dequant_f32" : "dequant_i8";
    auto scheme = dyn_cast<UniformAttr>(op.getScheme());
    if (!scheme || scheme.getPerIc() ||
        !quant::isKernelPanelBits(scheme.getBits()) || op.getPacked() ||
        op.getBitplanes())
      return fail(kindName + " needs canonical uniform per-output-channel "
                             "codes of 2, 3, 4 or 8 bits");
    FailureOr<KernelShape> shape =
        kernelShapeOf(op, scheme.getGroup(), scheme.getBits(), kindName);
    FailureOr<LayerConstants> data = readConstants(op, kindName);
    if (failed(shape) || failed(data) ||
        failed(checkActivations(op, *shape,
                                floatAct ? KernelInput::RoundedFloat
                                         : KernelInput::Int8Codes,
                                "qc-gen-dequant-gemm", kindName)))
      return failure();
    const KernelShape &s = *shape;
    // Codes above 15 would saturate a vpmaddubsw pair sum.
    if (!floatAct && s.bits == 8 && !s.target->hasWideCodeDot())
      return fail(Twine("8-bit codes need a u8 x s8 dot product into 32-bit "
                        "lanes, which target '") +
                  s.target->name() + "' does not have");
    const std::vector<float> &zeros = data->zeros;
    const std::vector<float> &scales = data->scales;

    // Compile-time repacking: codes into kernel panels; scales and zero
    // points as [panel][group][8], padded with zero groups and columns.
    std::vector<uint8_t> packed;
    std::string err;
    if (!quant::packKernelPanels(
            reinterpret_cast<const uint8_t *>(data->codes.data()), s.k, s.n,
            static_cast<int>(s.bits), packed, err))
      return fail(err);
    // The last group may be partial (K not a multiple of the group).
    int64_t realGroups = weightGroups(s.k, scheme.getGroup());
    if (scales.size() != static_cast<size_t>(realGroups * s.n) ||
        (!zeros.empty() && zeros.size() != scales.size()))
      return fail("scales / zero points do not match the scheme's shape");
    // Scales take f16 storage where the scheme has it, or where every scale
    // is an f16 value (GGUF's, imported as f32), and the target converts
    // f16 in hardware (F16C, NEON); zero points become bytes.
    Type f16 = Float16Type::get(op.getContext());
    bool halfScales =
        s.target->hasF16Conversion() &&
        (scheme.getScaleType().isF16() || allHalf(scales, f16));
    uint8_t symmetricZero = static_cast<uint8_t>(1u << (s.bits - 1));
    int64_t meta = s.panels() * s.groups() * 8;
    std::vector<float> ws(meta, 0.0f);
    std::vector<uint16_t> wsHalf(halfScales ? meta : 0, 0);
    // Zero points are bytes when they are codes (the usual case), else f32
    // (GGUF's Q4_1 minimum as -scale * zero): the kernel reads either.
    bool floatZeros = llvm::any_of(zeros, [](float z) {
      return z != std::round(z) || z < 0 || z > 255;
    });
    std::vector<uint8_t> wz(floatZeros ? 0 : meta, 0);
    std::vector<float> wzf(floatZeros ? meta : 0, 0.0f);
    for (int64_t g = 0; g < realGroups; ++g)
      for (int64_t col = 0; col < s.n; ++col) {
        float scale = scales[g * s.n + col];
        int64_t at = (col / 8 * s.groups() + g) * 8 + col % 8;
        ws[at] = scale;
        if (halfScales)
          wsHalf[at] = toHalfBits(scale, f16);
        float zero = zeros.empty() ? symmetricZero : zeros[g * s.n + col];
        if (floatZeros)
          wzf[at] = zero;
        else
          wz[at] = static_cast<uint8_t>(zero);
      }

    ModuleOp module = getOperation();
    OpBuilder b(op);
    Location loc = op.getLoc();
    Type f32 = b.getF32Type(), i8 = b.getI8Type();
    std::string layer = op.getLayer().str();
    ActivationBuffers act =
        floatAct ? floatActivations(b, loc, module, op, s)
                 : quantizeActivations(b, loc, module, op, s);
    int64_t n8 = s.panels() * 8;
    std::vector<float> bias(n8, 0.0f);
    std::copy(data->bias.begin(), data->bias.end(), bias.begin());
    if (!floatAct)
      foldActivationZero(op.getActAttr(), *data, s, scheme.getGroup(), bias);
    Value codes = constantBuffer(b, loc, {s.panels(), s.panelBytes()}, i8,
                                 packed, layer + ".kpanels");
    Value scaleBuf =
        halfScales ? constantBuffer(b, loc, {s.panels(), s.groups() * 8},
                                    b.getF16Type(), wsHalf, layer + ".kscales")
                   : constantBuffer(b, loc, {s.panels(), s.groups() * 8}, f32,
                                    ws, layer + ".kscales");
    SmallVector<int64_t> metaShape = {s.panels(), s.groups() * 8};
    Value zeroBuf =
        floatZeros
            ? constantBuffer(b, loc, metaShape, f32, wzf, layer + ".kzeros")
            : constantBuffer(b, loc, metaShape, i8, wz, layer + ".kzeros");
    Value biasBuf =
        act.scale ? runtimeBias(b, loc, act, bias,
                                columnSums(*data, s, scheme.getGroup()), layer)
                  : constantBuffer(b, loc, {n8}, f32, bias, layer + ".kbias");
    Value yBuf = allocBuffer(b, loc, {s.m, n8}, f32);
    SmallVector<Value> args = {act.xq, act.xsum, codes, scaleBuf,
                               zeroBuf, biasBuf, yBuf};
    if (!floatAct)
      args.insert(args.begin() + 1, act.xs);
    KernelShape ks = s;
    if (act.rowBase) {
      ks.gathered = true;
      args.insert(args.begin() + 1, {act.rowBase, act.blockOff});
    }
    callRangeKernel(b, loc, op, ks, floatAct ? kRoleColumnsF32 : kRoleColumns,
                    kernelPrefix(floatAct, floatZeros, halfScales), args,
                    s.panels(), yBuf, panelStep(s));
    return success();
  }
};

} // namespace
