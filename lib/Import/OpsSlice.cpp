//===- OpsSlice.cpp - ONNX Concat, Split and Slice ------------------------===//
//
// Shapes, axes and bounds are static (ShapeUtils.h); known data folds on the
// host (OpsShape.cpp explains when).
//
//===----------------------------------------------------------------------===//

#include "ShapeUtils.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

namespace {

//===----------------------------------------------------------------------===//
// Concat, Split, Slice
//===----------------------------------------------------------------------===//

LogicalResult importConcat(NodeContext &nc) {
  unsigned n = nc.numInputs();
  if (n == 0) {
    nc.error() << "expects at least one input";
    return failure();
  }
  if (failed(requireInputs(nc, n)))
    return failure();
  if (!nc.hasAttr("axis")) {
    nc.error() << "expects attribute 'axis'";
    return failure();
  }
  SmallVector<int64_t> shape0 = inputShape(nc, 0);
  FailureOr<int64_t> axis = axisAttr(nc, 0, shape0.size());
  if (failed(axis))
    return failure();
  DType d = nc.inputDType(0);
  SmallVector<int64_t> outShape = shape0;
  outShape[*axis] = 0;
  bool allConst = true;
  int64_t inputElems = 0;
  for (unsigned i = 0; i < n; ++i) {
    SmallVector<int64_t> s = inputShape(nc, i);
    bool ok = s.size() == shape0.size();
    for (size_t k = 0; ok && k < s.size(); ++k)
      ok = static_cast<int64_t>(k) == *axis || s[k] == shape0[k];
    if (!ok) {
      nc.error() << "input " << i << " has shape " << listStr(s)
                 << ", which does not match input 0's " << listStr(shape0)
                 << " outside axis " << *axis;
      return failure();
    }
    if (nc.inputDType(i) != d) {
      nc.error() << "input " << i << " has element type "
                 << dtypeName(nc.inputDType(i)) << " but input 0 has "
                 << dtypeName(d);
      return failure();
    }
    outShape[*axis] += s[*axis];
    allConst &= nc.inputConstant(i) != nullptr;
    inputElems += shapeProduct(s);
  }
  if (allConst && worthFolding(shapeProduct(outShape), inputElems)) {
    HostTensor out;
    out.dtype = d;
    out.shape = outShape;
    int64_t es = dtypeSize(d);
    int64_t outer = shapeProduct(ArrayRef<int64_t>(shape0).take_front(*axis));
    int64_t inner = shapeProduct(ArrayRef<int64_t>(shape0).drop_front(*axis + 1));
    for (int64_t o = 0; o < outer; ++o)
      for (unsigned i = 0; i < n; ++i) {
        const HostTensor *t = nc.inputConstant(i);
        int64_t chunk = t->shape[*axis] * inner * es;
        const char *p = t->data.data() + o * chunk;
        out.data.insert(out.data.end(), p, p + chunk);
      }
    nc.setOutputConstant(0, std::move(out));
    return success();
  }
  Value acc = nc.empty(outShape, toMLIRType(nc.ctx(), d));
  SmallVector<int64_t> offsets(outShape.size(), 0), strides(outShape.size(), 1);
  for (unsigned i = 0; i < n; ++i) {
    SmallVector<int64_t> s = inputShape(nc, i);
    if (s[*axis] == 0)
      continue;
    acc = tensor::InsertSliceOp::create(
        nc.b, nc.loc, nc.input(i), acc, indexAttrs(nc.b, offsets),
        indexAttrs(nc.b, s), indexAttrs(nc.b, strides));
    offsets[*axis] += s[*axis];
  }
  nc.setOutput(0, acc, d);
  return success();
}

LogicalResult importSplit(NodeContext &nc) {
  if (failed(requireInputs(nc, 1)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  FailureOr<int64_t> axis = axisAttr(nc, 0, in.size());
  if (failed(axis))
    return failure();
  int64_t dim = in[*axis], numOut = nc.numOutputs();
  auto splitArg = intsArg(nc, 1, "split", 13);
  if (failed(splitArg))
    return failure();
  SmallVector<int64_t> sizes;
  if (*splitArg) {
    sizes = **splitArg;
  } else if (nc.hasAttr("num_outputs")) {
    int64_t parts = nc.attrInt("num_outputs", 0);
    if (parts != numOut || parts <= 0) {
      nc.error() << "num_outputs is " << parts << " but the node has "
                 << numOut << " outputs";
      return failure();
    }
    // Chunks of ceil(dim / parts); the last one takes the rest.
    int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i)
      sizes.push_back(std::clamp<int64_t>(dim - i * chunk, 0, chunk));
  } else {
    if (numOut == 0 || dim % numOut != 0) {
      nc.error() << "cannot split axis " << *axis << " of size " << dim
                 << " into " << numOut << " equal parts";
      return failure();
    }
    sizes.assign(numOut, dim / numOut);
  }
  int64_t sum = 0;
  for (int64_t s : sizes) {
    if (s < 0) {
      nc.error() << "split sizes " << listStr(sizes) << " have a negative "
                 << "size";
      return failure();
    }
    sum += s;
  }
  if (static_cast<int64_t>(sizes.size()) != numOut || sum != dim) {
    nc.error() << "split sizes " << listStr(sizes) << " must have one entry "
               << "per output (" << numOut << ") and sum to the size of axis "
               << *axis << " (" << dim << ")";
    return failure();
  }
  SmallVector<int64_t> offsets(in.size(), 0), strides(in.size(), 1);
  for (int64_t i = 0; i < numOut; ++i) {
    SmallVector<int64_t> shape = in;
    shape[*axis] = sizes[i];
    if (nc.hasOutput(i))
      bindSlice(nc, i, offsets, shape, strides);
    offsets[*axis] += sizes[i];
  }
  return success();
}

/// Reverses the given axes of a tensor with a linalg.generic.
Value reverseAxes(NodeContext &nc, Value v, ArrayRef<int64_t> axes) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t rank = type.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d) {
    AffineExpr e = nc.b.getAffineDimExpr(d);
    if (llvm::is_contained(axes, d))
      e = nc.b.getAffineConstantExpr(type.getDimSize(d) - 1) - e;
    exprs.push_back(e);
  }
  AffineMap map = AffineMap::get(rank, 0, exprs, nc.ctx());
  return emitGeneric(nc, type.getShape(), type.getElementType(), v, map,
                     [](OpBuilder &, Location, ValueRange args,
                        ArrayRef<Value>) { return args[0]; });
}

LogicalResult importSlice(NodeContext &nc) {
  if (failed(requireInputs(nc, nc.opset() < 10 ? 1 : 3)))
    return failure();
  SmallVector<int64_t> in = inputShape(nc, 0);
  int64_t rank = in.size();
  SmallVector<int64_t> starts, ends, axes, steps;
  if (nc.opset() < 10) {
    starts = nc.attrInts("starts");
    ends = nc.attrInts("ends");
    axes = nc.attrInts("axes");
  } else {
    auto s = nc.constantInts(1, "'starts' (input 1)");
    if (failed(s))
      return failure();
    auto e = nc.constantInts(2, "'ends' (input 2)");
    if (failed(e))
      return failure();
    starts = *s;
    ends = *e;
    if (nc.hasInput(3)) {
      auto a = nc.constantInts(3, "'axes' (input 3)");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (nc.hasInput(4)) {
      auto st = nc.constantInts(4, "'steps' (input 4)");
      if (failed(st))
        return failure();
      steps = *st;
    }
  }
  if (axes.empty() && !(nc.hasInput(3) || nc.hasAttr("axes")))
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty() && !nc.hasInput(4))
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    nc.error() << "starts, ends, axes and steps must have the same length, "
                  "found "
               << starts.size() << ", " << ends.size() << ", " << axes.size()
               << " and " << steps.size();
    return failure();
  }
  FailureOr<SmallVector<int64_t>> naxes = normalizeAxes(nc, axes, rank);
  if (failed(naxes))
    return failure();
  SmallVector<int64_t> begin(rank, 0), count(in), step(rank, 1);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = (*naxes)[i], dim = in[a];
    int64_t st = steps[i], s = starts[i], e = ends[i];
    if (st == 0) {
      nc.error() << "step for axis " << a << " is 0";
      return failure();
    }
    if (s < 0)
      s += dim;
    if (e < 0)
      e += dim;
    int64_t c;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      c = e > s ? (e - s - 1) / st + 1 : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      // -st cannot overflow: st == INT64_MIN selects at most one element.
      int64_t neg = st == std::numeric_limits<int64_t>::min()
                        ? std::numeric_limits<int64_t>::max()
                        : -st;
      c = s > e ? (s - e - 1) / neg + 1 : 0;
    }
    begin[a] = c > 0 ? s : 0;
    count[a] = c;
    step[a] = c > 1 ? st : 1;
  }
  if (const HostTensor *cst = nc.inputConstant(0)) {
    SmallVector<int64_t> strides = rowMajorStrides(in);
    nc.setOutputConstant(
        0, hostRemap(*cst, count, [&](ArrayRef<int64_t> idx) {
          int64_t flat = 0;
          for (int64_t d = 0; d < rank; ++d)
            flat += (begin[d] + idx[d] * step[d]) * strides[d];
          return flat;
        }));
    return success();
  }
  // Negative steps: slice the same elements in increasing order, then
  // reverse those axes.
  SmallVector<int64_t> reversed, offsets(begin), strides(step);
  for (int64_t d = 0; d < rank; ++d)
    if (step[d] < 0) {
      offsets[d] = begin[d] + (count[d] - 1) * step[d];
      strides[d] = -step[d];
      reversed.push_back(d);
    }
  bool whole = true;
  for (int64_t d = 0; d < rank; ++d)
    whole &= offsets[d] == 0 && count[d] == in[d] && strides[d] == 1;
  Value v = nc.input(0);
  if (!whole)
    v = tensor::ExtractSliceOp::create(
        nc.b, nc.loc, v, indexAttrs(nc.b, emptySafeOffsets(offsets, count)),
        indexAttrs(nc.b, count), indexAttrs(nc.b, strides));
  if (!reversed.empty())
    v = reverseAxes(nc, v, reversed);
  nc.setOutput(0, v, nc.inputDType(0));
  return success();
}

} // namespace

void qc::detail::registerSliceOps(OpRegistry &r) {
  r.add("Concat", importConcat);
  r.add("Split", importSplit);
  r.add("Slice", importSlice);
}
