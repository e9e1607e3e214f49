//===- OpsDFT.cpp - ONNX DFT ----------------------------------------------===//
//
// DFT as a matrix product along its axis: every output component is
// sum_i A[c][o][i] * re(x[i]) + B[c][o][i] * im(x[i]) with the tables
// computed here in double (shapes and dft_length are known): the forward
// transform (zero-padded or truncated to dft_length, one-sided: the first
// N / 2 + 1 outputs), the inverse (1 / N), and the one-sided inverse (real
// output from the first N / 2 + 1 frequencies, Hermitian symmetry: the
// others count twice, imaginary parts of frequency 0 and N / 2 ignored), as
// numpy's fft / ifft / irfft compute them.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"
#include "ShapeUtils.h"

#include <cmath>

using namespace mlir;
using namespace qc::detail;

namespace {

/// The tables of one DFT: out components C, outputs K, inputs I.
struct DFTTables {
  int64_t components = 2, outputs = 0, inputs = 0;
  std::vector<double> re, im; // [C][K][I]
};

DFTTables dftTables(int64_t length, int64_t n, bool inverse, bool onesided) {
  DFTTables t;
  bool irfft = inverse && onesided;
  t.components = irfft ? 1 : 2;
  t.outputs = irfft ? n : onesided ? n / 2 + 1 : n;
  t.inputs = irfft ? std::min(length, n / 2 + 1) : std::min(length, n);
  t.re.assign(t.components * t.outputs * t.inputs, 0.0);
  t.im = t.re;
  double scale = inverse ? 1.0 / double(n) : 1.0;
  for (int64_t o = 0; o < t.outputs; ++o) {
    for (int64_t i = 0; i < t.inputs; ++i) {
      // exp(-+ 2 pi i o i / N), the phase reduced mod N for accuracy.
      double angle = 2 * M_PI * double((o * i) % n) / double(n);
      double c = std::cos(angle), s = std::sin(angle);
      auto at = [&](int64_t comp) {
        return (comp * t.outputs + o) * t.inputs + i;
      };
      if (irfft) {
        // x[o] = (1 / N) sum_k w_k (Re X_k cos - Im X_k sin).
        bool edge = i == 0 || 2 * i == n;
        double w = edge ? 1.0 : 2.0;
        t.re[at(0)] = w * c * scale;
        t.im[at(0)] = edge ? 0.0 : -w * s * scale;
        continue;
      }
      double sign = inverse ? 1.0 : -1.0; // e^(sign i angle)
      t.re[at(0)] = c * scale;
      t.im[at(0)] = -sign * s * scale;
      t.re[at(1)] = sign * s * scale;
      t.im[at(1)] = c * scale;
    }
  }
  return t;
}

LogicalResult importDFT(NodeContext &nc) {
  Value x = floatInput(nc, 0);
  if (!x)
    return failure();
  DType d = nc.inputDType(0);
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  int64_t parts = rank ? type.getDimSize(rank - 1) : 0;
  if (rank < 2 || (parts != 1 && parts != 2)) {
    nc.error() << "expects [..., signal, ..., 1 or 2], found "
               << listStr(type.getShape());
    return failure();
  }
  bool opset20 = nc.opset() >= 20;
  int64_t axisValue = opset20 ? -2 : nc.attrInt("axis", 1);
  if (opset20 && nc.hasInput(2)) {
    FailureOr<SmallVector<int64_t>> a = nc.constantInts(2, "axis (input 2)");
    if (failed(a))
      return failure();
    axisValue = a->empty() ? -2 : (*a)[0];
  }
  int64_t axis = ((axisValue % rank) + rank) % rank;
  if (axis == rank - 1) {
    nc.error() << "the axis cannot be the last (real / imaginary) dimension";
    return failure();
  }
  bool inverse = nc.attrInt("inverse", 0) != 0;
  bool onesided = nc.attrInt("onesided", 0) != 0;
  int64_t length = type.getDimSize(axis);
  int64_t n = inverse && onesided ? 2 * (length - 1) : length;
  if (nc.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> dl =
        nc.constantInts(1, "dft_length (input 1)");
    if (failed(dl))
      return failure();
    if (!dl->empty())
      n = (*dl)[0];
  }
  if (n < 1 || n > (int64_t(1) << 16)) {
    nc.error() << "dft_length must be in [1, 65536], not " << n;
    return failure();
  }
  DFTTables t = dftTables(length, n, inverse, onesided);
  SmallVector<int64_t> tableShape = {t.components, t.outputs, t.inputs};
  Value reTable =
      nc.constant(HostTensor::fromDoubles(t.re, tableShape, d), "dft_re");
  Value imTable =
      nc.constant(HostTensor::fromDoubles(t.im, tableShape, d), "dft_im");
  SmallVector<int64_t> outShape(type.getShape());
  outShape[axis] = t.outputs;
  outShape[rank - 1] = t.components;
  // Domain (out dims..., i): a reduction over the inputs along the axis.
  OpBuilder &b = nc.b;
  MLIRContext *ctx = nc.ctx();
  SmallVector<AffineExpr> tableExprs = {b.getAffineDimExpr(rank - 1),
                                        b.getAffineDimExpr(axis),
                                        b.getAffineDimExpr(rank)};
  AffineMap tableMap = AffineMap::get(rank + 1, 0, tableExprs, ctx);
  AffineMap outMap =
      AffineMap::getMultiDimIdentityMap(rank + 1, ctx).getMajorSubMap(rank);
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  Type elt = type.getElementType();
  Value init = nc.filled(outShape, nc.scalar(elt, 0));
  Value out =
      linalg::GenericOp::create(
          b, nc.loc, init.getType(), ValueRange{reTable, imTable},
          ValueRange{init}, {tableMap, tableMap, outMap}, iters,
          [&](OpBuilder &nb, Location l, ValueRange a) {
            SmallVector<Value> at;
            for (int64_t i = 0; i < rank; ++i)
              at.push_back(linalg::IndexOp::create(nb, l, i));
            at[axis] = linalg::IndexOp::create(nb, l, rank);
            at[rank - 1] = cidx(nb, l, 0);
            Value acc = arith::AddFOp::create(
                nb, l, a[2],
                arith::MulFOp::create(nb, l, a[0],
                                      tensor::ExtractOp::create(nb, l, x, at)));
            if (parts == 2) {
              at[rank - 1] = cidx(nb, l, 1);
              acc = arith::AddFOp::create(
                  nb, l, acc,
                  arith::MulFOp::create(
                      nb, l, a[1], tensor::ExtractOp::create(nb, l, x, at)));
            }
            linalg::YieldOp::create(nb, l, acc);
          })
          .getResult(0);
  nc.setOutput(0, out, d);
  return success();
}

} // namespace

void qc::detail::registerDFTOps(OpRegistry &registry) {
  registry.add("DFT", importDFT);
}
