//===- HostFolding.cpp - import-time evaluation of known tensors ----------===//
//
// Shape subgraphs exported by PyTorch compute target shapes with integer
// arithmetic on the outputs of Shape (Gather, Add, Mul, Div, Equal, Where,
// ...). When every input of such an op is a small integer or bool tensor
// known at import time, foldHostElementwise computes the result on the host
// and binds it as a constant, so that everything downstream stays static.
//
//===----------------------------------------------------------------------===//

#include "HostFolding.h"

#include <cstring>
#include <limits>

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

int64_t qc::detail::shapeProduct(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

SmallVector<int64_t> qc::detail::rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

std::optional<SmallVector<int64_t>>
qc::detail::hostBroadcastShape(ArrayRef<SmallVector<int64_t>> shapes) {
  size_t rank = 0;
  for (const auto &s : shapes)
    rank = std::max(rank, s.size());
  SmallVector<int64_t> out(rank, 1);
  for (const auto &s : shapes) {
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t &o = out[rank - s.size() + i];
      int64_t d = s[i];
      if (d == o || d == 1)
        continue;
      if (o != 1)
        return std::nullopt;
      o = d;
    }
  }
  return out;
}

int64_t qc::detail::broadcastFlatIndex(ArrayRef<int64_t> shape,
                                       ArrayRef<int64_t> idx) {
  int64_t flat = 0;
  size_t lead = idx.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i)
    flat = flat * shape[i] + (shape[i] == 1 ? 0 : idx[lead + i]);
  return flat;
}

void qc::detail::forEachIndex(ArrayRef<int64_t> shape,
                              function_ref<void(ArrayRef<int64_t>)> fn) {
  if (shapeProduct(shape) == 0)
    return;
  SmallVector<int64_t> idx(shape.size(), 0);
  while (true) {
    fn(idx);
    int64_t d = static_cast<int64_t>(shape.size()) - 1;
    for (; d >= 0; --d) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
    if (d < 0)
      return;
  }
}

HostTensor
qc::detail::hostRemap(const HostTensor &src, ArrayRef<int64_t> shape,
                      function_ref<int64_t(ArrayRef<int64_t>)> srcIndex,
                      const HostTensor *fill) {
  HostTensor out;
  out.dtype = src.dtype;
  out.shape.assign(shape.begin(), shape.end());
  int64_t es = dtypeSize(src.dtype);
  out.data.resize(shapeProduct(shape) * es);
  char *dst = out.data.data();
  forEachIndex(shape, [&](ArrayRef<int64_t> idx) {
    int64_t s = srcIndex(idx);
    const char *from = s < 0 ? fill->data.data() : src.data.data() + s * es;
    std::memcpy(dst, from, es);
    dst += es;
  });
  return out;
}

HostTensor qc::detail::hostReshape(const HostTensor &src,
                                   ArrayRef<int64_t> shape) {
  HostTensor out = src;
  out.shape.assign(shape.begin(), shape.end());
  return out;
}

//===----------------------------------------------------------------------===//
// Elementwise integer arithmetic
//===----------------------------------------------------------------------===//

namespace {

/// The scalar function of an op on int64 values (bit patterns for u64);
/// nullopt where the result is undefined (division by zero), which leaves
/// the op to run time.
using ScalarFn =
    std::function<std::optional<int64_t>(ArrayRef<int64_t> args)>;

uint64_t u(int64_t v) { return static_cast<uint64_t>(v); }
int64_t s(uint64_t v) { return static_cast<int64_t>(v); }

/// The function of `op` on operands of dtype `d`, and its result dtype.
/// Returns a null function for ops or dtypes that are not folded.
ScalarFn scalarFn(StringRef op, DType d, int64_t fmod, DType &resultDType) {
  bool isU = isUnsigned(d) || isBool(d);
  bool isInt = isInteger(d);
  resultDType = d;
  if (!isInt && !isBool(d))
    return nullptr;
  auto less = [isU](int64_t a, int64_t b) { return isU ? u(a) < u(b) : a < b; };

  if (op == "Equal" || op == "Less" || op == "LessOrEqual" ||
      op == "Greater" || op == "GreaterOrEqual") {
    resultDType = TP::BOOL;
    if (op == "Equal")
      return [](ArrayRef<int64_t> a) -> std::optional<int64_t> {
        return a[0] == a[1];
      };
    if (op == "Less")
      return [less](ArrayRef<int64_t> a) -> std::optional<int64_t> {
        return less(a[0], a[1]);
      };
    if (op == "LessOrEqual")
      return [less](ArrayRef<int64_t> a) -> std::optional<int64_t> {
        return !less(a[1], a[0]);
      };
    if (op == "Greater")
      return [less](ArrayRef<int64_t> a) -> std::optional<int64_t> {
        return less(a[1], a[0]);
      };
    return [less](ArrayRef<int64_t> a) -> std::optional<int64_t> {
      return !less(a[0], a[1]);
    };
  }
  if (isBool(d)) {
    if (op == "And")
      return [](ArrayRef<int64_t> a) -> std::optional<int64_t> {
        return a[0] & a[1];
      };
    if (op == "Or")
      return [](ArrayRef<int64_t> a) -> std::optional<int64_t> {
        return a[0] | a[1];
      };
    if (op == "Xor")
      return [](ArrayRef<int64_t> a) -> std::optional<int64_t> {
        return a[0] ^ a[1];
      };
    if (op == "Not")
      return [](ArrayRef<int64_t> a) -> std::optional<int64_t> {
        return !a[0];
      };
    return nullptr;
  }
  if (!isInt)
    return nullptr;
  // Wrapping arithmetic, as arith's on the same bit width.
  if (op == "Add" || op == "Sum")
    return [](ArrayRef<int64_t> a) -> std::optional<int64_t> {
      uint64_t r = 0;
      for (int64_t v : a)
        r += u(v);
      return s(r);
    };
  if (op == "Sub")
    return [](ArrayRef<int64_t> a) -> std::optional<int64_t> {
      return s(u(a[0]) - u(a[1]));
    };
  if (op == "Mul")
    return [](ArrayRef<int64_t> a) -> std::optional<int64_t> {
      return s(u(a[0]) * u(a[1]));
    };
  if (op == "Div")
    return [isU](ArrayRef<int64_t> a) -> std::optional<int64_t> {
      if (a[1] == 0)
        return std::nullopt;
      if (isU)
        return s(u(a[0]) / u(a[1]));
      if (a[0] == std::numeric_limits<int64_t>::min() && a[1] == -1)
        return std::nullopt;
      return a[0] / a[1];
    };
  if (op == "Mod")
    return [isU, fmod](ArrayRef<int64_t> a) -> std::optional<int64_t> {
      if (a[1] == 0)
        return std::nullopt;
      if (isU)
        return s(u(a[0]) % u(a[1]));
      if (a[1] == -1)
        return 0;
      int64_t r = a[0] % a[1];
      // Mod without fmod takes the sign of the divisor (Python's %).
      if (!fmod && r != 0 && ((r < 0) != (a[1] < 0)))
        r += a[1];
      return r;
    };
  if (op == "Max" || op == "Min") {
    bool isMax = op == "Max";
    return [less, isMax](ArrayRef<int64_t> a) -> std::optional<int64_t> {
      int64_t r = a[0];
      for (int64_t v : a.drop_front())
        if (isMax ? less(r, v) : less(v, r))
          r = v;
      return r;
    };
  }
  if (op == "Neg" && !isU)
    return [](ArrayRef<int64_t> a) -> std::optional<int64_t> {
      return s(0 - u(a[0]));
    };
  if (op == "Abs")
    return [isU](ArrayRef<int64_t> a) -> std::optional<int64_t> {
      return !isU && a[0] < 0 ? s(0 - u(a[0])) : a[0];
    };
  return nullptr;
}

/// Where(cond, x, y) of any dtype: a byte-wise selection.
bool foldWhere(NodeContext &nc, ArrayRef<const HostTensor *> in,
               ArrayRef<int64_t> shape) {
  if (in.size() != 3 || !isBool(in[0]->dtype) ||
      in[1]->dtype != in[2]->dtype)
    return false;
  int64_t es = dtypeSize(in[1]->dtype);
  HostTensor out;
  out.dtype = in[1]->dtype;
  out.shape.assign(shape.begin(), shape.end());
  out.data.resize(shapeProduct(shape) * es);
  char *dst = out.data.data();
  forEachIndex(shape, [&](ArrayRef<int64_t> idx) {
    bool c = in[0]->getInt(broadcastFlatIndex(in[0]->shape, idx)) != 0;
    const HostTensor *src = c ? in[1] : in[2];
    std::memcpy(dst,
                src->data.data() + broadcastFlatIndex(src->shape, idx) * es,
                es);
    dst += es;
  });
  nc.setOutputConstant(0, std::move(out));
  return true;
}

} // namespace

bool qc::detail::foldHostElementwise(NodeContext &nc) {
  unsigned n = nc.numInputs();
  if (n == 0 || !nc.hasOutput(0))
    return false;
  SmallVector<const HostTensor *> in;
  SmallVector<SmallVector<int64_t>> shapes;
  for (unsigned i = 0; i < n; ++i) {
    const HostTensor *t = nc.inputConstant(i);
    if (!t)
      return false;
    in.push_back(t);
    shapes.push_back(t->shape);
  }
  std::optional<SmallVector<int64_t>> shape = hostBroadcastShape(shapes);
  if (!shape || shapeProduct(*shape) > kMaxFoldElements)
    return false;
  StringRef op = nc.node.op_type();
  if (op == "Where")
    return foldWhere(nc, in, *shape);

  DType d = in[0]->dtype;
  for (const HostTensor *t : in)
    if (t->dtype != d)
      return false;
  DType resultDType;
  ScalarFn fn = scalarFn(op, d, nc.attrInt("fmod", 0), resultDType);
  if (!fn)
    return false;
  int64_t count = shapeProduct(*shape);
  SmallVector<int64_t> results;
  results.reserve(count);
  SmallVector<int64_t> args(n);
  bool undefined = false;
  forEachIndex(*shape, [&](ArrayRef<int64_t> idx) {
    if (undefined)
      return;
    for (unsigned i = 0; i < n; ++i)
      args[i] = in[i]->getInt(broadcastFlatIndex(in[i]->shape, idx));
    std::optional<int64_t> r = fn(args);
    if (!r)
      undefined = true;
    else
      results.push_back(*r);
  });
  if (undefined)
    return false;
  nc.setOutputConstant(0, HostTensor::fromInts(results, *shape, resultDType));
  return true;
}
