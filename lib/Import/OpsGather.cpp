//===- OpsGather.cpp - ONNX gathers, scatters, OneHot ---------------------===//
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
// Gathers and scatters
//===----------------------------------------------------------------------===//

LogicalResult checkIndexType(NodeContext &nc, unsigned i) {
  DType d = nc.inputDType(i);
  if (!isInteger(d)) {
    nc.error() << "indices (input " << i << ") must be integers, found "
               << dtypeName(d);
    return failure();
  }
  return success();
}

LogicalResult importGather(NodeContext &nc) {
  if (failed(requireInputs(nc, 2)) || failed(checkIndexType(nc, 1)))
    return failure();
  SmallVector<int64_t> data = inputShape(nc, 0), ind = inputShape(nc, 1);
  FailureOr<int64_t> axisOr = axisAttr(nc, 0, data.size());
  if (failed(axisOr))
    return failure();
  int64_t axis = *axisOr, q = ind.size(), dim = data[axis];
  DType d = nc.inputDType(0);
  SmallVector<int64_t> outShape(ArrayRef<int64_t>(data).take_front(axis));
  outShape.append(ind);
  outShape.append(data.begin() + axis + 1, data.end());
  if (shapeProduct(ind) > 0 && dim == 0) {
    nc.error() << "gathers from axis " << axis << " of size 0";
    return failure();
  }

  // Known indices: normalized and checked now.
  const HostTensor *ci = nc.inputConstant(1);
  std::optional<HostTensor> normalized;
  if (ci) {
    SmallVector<int64_t> v = ci->toInts();
    for (int64_t &x : v) {
      if (isUnsigned(ci->dtype) && x < 0) // u64 above INT64_MAX
        x = dim;
      if (x < -dim || x >= dim) {
        nc.error() << "index " << x << " is out of range for axis " << axis
                   << " of size " << dim;
        return failure();
      }
      if (x < 0)
        x += dim;
    }
    normalized = HostTensor::fromInts(v, ind);
  }
  const HostTensor *cd = nc.inputConstant(0);
  if (cd && ci &&
      worthFolding(shapeProduct(outShape), cd->numElements() + ci->numElements())) {
    SmallVector<int64_t> strides = rowMajorStrides(data);
    SmallVector<int64_t> indStrides = rowMajorStrides(ind);
    nc.setOutputConstant(0, hostRemap(*cd, outShape, [&](ArrayRef<int64_t> idx) {
      int64_t flat = 0, k = 0;
      for (int64_t i = 0; i < q; ++i)
        k += idx[axis + i] * indStrides[i];
      for (int64_t i = 0; i < axis; ++i)
        flat += idx[i] * strides[i];
      flat += normalized->getInt(k) * strides[axis];
      for (int64_t i = axis + 1; i < static_cast<int64_t>(data.size()); ++i)
        flat += idx[i - 1 + q] * strides[i];
      return flat;
    }));
    return success();
  }
  // One known index: a slice.
  if (ci && shapeProduct(ind) == 1) {
    SmallVector<int64_t> offsets(data.size(), 0), sizes(data),
        strides(data.size(), 1);
    offsets[axis] = normalized->getInt(0);
    sizes[axis] = 1;
    Value v = tensor::ExtractSliceOp::create(
        nc.b, nc.loc, nc.input(0), indexAttrs(nc.b, offsets),
        indexAttrs(nc.b, sizes), indexAttrs(nc.b, strides));
    nc.setOutput(0, nc.reshape(v, outShape), d);
    return success();
  }
  // General case: read data with tensor.extract at the gathered index.
  Value indices = ci ? nc.constant(*normalized) : nc.input(1);
  DType indDType = ci ? TP::INT64 : nc.inputDType(1);
  Value dataV = nc.input(0);
  int64_t outRank = outShape.size();
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < q; ++i)
    exprs.push_back(nc.b.getAffineDimExpr(axis + i));
  AffineMap map = AffineMap::get(outRank, 0, exprs, nc.ctx());
  Value out = emitGeneric(
      nc, outShape, toMLIRType(nc.ctx(), d), indices, map,
      [&](OpBuilder &b, Location l, ValueRange args, ArrayRef<Value> ivs) {
        Value i = toIndex(b, l, args[0], indDType);
        if (!ci)
          i = wrapIndex(b, l, i, dim);
        SmallVector<Value> coords(ivs.take_front(axis));
        coords.push_back(i);
        coords.append(ivs.begin() + axis + q, ivs.end());
        return tensor::ExtractOp::create(b, l, dataV, coords);
      });
  nc.setOutput(0, out, d);
  return success();
}

/// com.microsoft::GatherBlockQuantized with uint8 data, rows gathered along
/// axis 0 of a [rows, K] table quantized in blocks along K: out[..., k] =
/// (code - zero) * scale[row, k / block], codes 8-bit or two 4-bit ones a
/// byte (low nibble first), zero points uint8 (packed the same way) or
/// 2^(bits-1). Only the gathered rows are decoded: the table stays in its
/// quantized form (a GGUF's Q8_0 / Q4_0 embedding table, say).
LogicalResult importGatherBlockQuantized(NodeContext &nc) {
  if (failed(requireInputs(nc, 3)) || failed(checkIndexType(nc, 1)))
    return failure();
  int64_t bits = nc.attrInt("bits", 4), block = nc.attrInt("block_size", 128);
  SmallVector<int64_t> data = inputShape(nc, 0), ind = inputShape(nc, 1),
                       sc = inputShape(nc, 2);
  auto fail = [&](const Twine &msg) {
    nc.error() << msg;
    return failure();
  };
  if (nc.inputDType(0) != TP::UINT8 || (bits != 4 && bits != 8))
    return fail("supports uint8 data with bits 4 or 8");
  if (data.size() != 2 || nc.attrInt("gather_axis", 0) != 0 ||
      nc.attrInt("quantize_axis", 1) != 1)
    return fail("supports a [rows, K] table gathered along axis 0 and "
                "quantized along axis 1");
  int64_t rows = data[0], k = data[1] * (8 / bits);
  if (block < 16 || (block & (block - 1)) != 0 || k % block != 0)
    return fail("block_size " + Twine(block) +
                " must be a power of two >= 16 dividing K = " + Twine(k));
  int64_t blocks = k / block;
  if (sc != SmallVector<int64_t>{rows, blocks} || !isFloat(nc.inputDType(2)))
    return fail("scales must be float [" + Twine(rows) + ", " + Twine(blocks) +
                "]");
  bool hasZero = nc.hasInput(3);
  int64_t zeroCols = bits == 4 ? (blocks + 1) / 2 : blocks;
  if (hasZero && (nc.inputDType(3) != TP::UINT8 ||
                  inputShape(nc, 3) != SmallVector<int64_t>{rows, zeroCols}))
    return fail("zero_points must be uint8 [" + Twine(rows) + ", " +
                Twine(zeroCols) + "]");
  if (shapeProduct(ind) > 0 && rows == 0)
    return fail("gathers from an empty table");

  DType d = nc.inputDType(2), indDType = nc.inputDType(1);
  Type elt = toMLIRType(nc.ctx(), d);
  SmallVector<int64_t> outShape(ind);
  outShape.push_back(k);
  int64_t q = ind.size();
  AffineMap map = AffineMap::getMultiDimIdentityMap(q + 1, nc.ctx())
                      .getSubMap(llvm::to_vector(llvm::seq<unsigned>(0, q)));
  Value table = nc.input(0), scales = nc.input(2),
        zeros = hasZero ? nc.input(3) : Value();
  Value out = emitGeneric(
      nc, outShape, elt, nc.input(1), map,
      [&](OpBuilder &b, Location l, ValueRange args, ArrayRef<Value> ivs) {
        Value row = wrapIndex(b, l, toIndex(b, l, args[0], indDType), rows);
        Value col = ivs.back();
        Value blk = arith::DivUIOp::create(b, l, col, cidx(b, l, block));
        // The code (and zero point) of `col` in its byte.
        auto nibble = [&](Value t, Value at) -> Value {
          if (bits == 8)
            return tensor::ExtractOp::create(b, l, t, ValueRange{row, at});
          Value byte = tensor::ExtractOp::create(
              b, l, t,
              ValueRange{row, arith::DivUIOp::create(b, l, at, cidx(b, l, 2))});
          Value odd = arith::IndexCastOp::create(
              b, l, b.getI8Type(),
              arith::RemUIOp::create(b, l, at, cidx(b, l, 2)));
          Value shift = arith::MulIOp::create(
              b, l, odd,
              arith::ConstantOp::create(b, l, b.getI8IntegerAttr(4)));
          return arith::AndIOp::create(
              b, l, arith::ShRUIOp::create(b, l, byte, shift),
              arith::ConstantOp::create(b, l, b.getI8IntegerAttr(15)));
        };
        Value code = arith::UIToFPOp::create(b, l, elt, nibble(table, col));
        Value zero =
            zeros ? arith::UIToFPOp::create(b, l, elt, nibble(zeros, blk))
                        .getResult()
                  : arith::ConstantOp::create(
                        b, l, b.getFloatAttr(elt, double(1 << (bits - 1))))
                        .getResult();
        Value scale =
            tensor::ExtractOp::create(b, l, scales, ValueRange{row, blk});
        return arith::MulFOp::create(
            b, l, arith::SubFOp::create(b, l, code, zero), scale);
      });
  nc.setOutput(0, out, d);
  return success();
}

LogicalResult importGatherElements(NodeContext &nc) {
  if (failed(requireInputs(nc, 2)) || failed(checkIndexType(nc, 1)))
    return failure();
  SmallVector<int64_t> data = inputShape(nc, 0), ind = inputShape(nc, 1);
  FailureOr<int64_t> axisOr = axisAttr(nc, 0, data.size());
  if (failed(axisOr))
    return failure();
  int64_t axis = *axisOr, rank = data.size(), dim = data[axis];
  bool ok = ind.size() == data.size();
  for (int64_t i = 0; ok && i < rank; ++i)
    ok = i == axis || ind[i] <= data[i];
  if (!ok) {
    nc.error() << "indices of shape " << listStr(ind)
               << " do not fit data of shape " << listStr(data);
    return failure();
  }
  if (shapeProduct(ind) > 0 && dim == 0) {
    nc.error() << "gathers from axis " << axis << " of size 0";
    return failure();
  }
  DType d = nc.inputDType(0), indDType = nc.inputDType(1);
  const HostTensor *cd = nc.inputConstant(0), *ci = nc.inputConstant(1);
  if (cd && ci &&
      worthFolding(shapeProduct(ind), cd->numElements() + ci->numElements())) {
    SmallVector<int64_t> strides = rowMajorStrides(data);
    int64_t k = 0;
    bool bad = false;
    HostTensor out = hostRemap(*cd, ind, [&](ArrayRef<int64_t> idx) {
      int64_t x = ci->getInt(k++);
      if (x < -dim || x >= dim) {
        bad = true;
        x = 0;
      }
      if (x < 0)
        x += dim;
      int64_t flat = 0;
      for (int64_t i = 0; i < rank; ++i)
        flat += (i == axis ? x : idx[i]) * strides[i];
      return flat;
    });
    if (bad) {
      nc.error() << "an index is out of range for axis " << axis
                 << " of size " << dim;
      return failure();
    }
    nc.setOutputConstant(0, std::move(out));
    return success();
  }
  Value dataV = nc.input(0);
  Value out = emitGeneric(
      nc, ind, toMLIRType(nc.ctx(), d), nc.input(1),
      nc.b.getMultiDimIdentityMap(rank),
      [&](OpBuilder &b, Location l, ValueRange args, ArrayRef<Value> ivs) {
        Value i = wrapIndex(b, l, toIndex(b, l, args[0], indDType), dim);
        SmallVector<Value> coords(ivs);
        coords[axis] = i;
        return tensor::ExtractOp::create(b, l, dataV, coords);
      });
  nc.setOutput(0, out, d);
  return success();
}

/// A scatter's `reduction` attribute, checked against the element type.
FailureOr<std::string> scatterReduction(NodeContext &nc, DType d) {
  std::string red = nc.attrString("reduction", "none");
  if (red != "none" && red != "add" && red != "mul" && red != "max" &&
      red != "min") {
    nc.error() << "reduction '" << red << "' is not supported";
    return failure();
  }
  if (isBool(d) && red != "none") {
    nc.error() << "reduction '" << red << "' on bool data is not supported";
    return failure();
  }
  return red;
}

/// What a scatter with reduction `red` stores where `acc` is and the update
/// `x` goes, for data of type d.
Value combine(OpBuilder &b, Location l, StringRef red, DType d, Value acc,
              Value x) {
  bool fp = isFloat(d), uns = isUnsigned(d);
  if (red == "add")
    return fp ? (Value)arith::AddFOp::create(b, l, acc, x)
              : (Value)arith::AddIOp::create(b, l, acc, x);
  if (red == "mul")
    return fp ? (Value)arith::MulFOp::create(b, l, acc, x)
              : (Value)arith::MulIOp::create(b, l, acc, x);
  if (red == "max")
    return fp    ? (Value)arith::MaximumFOp::create(b, l, acc, x)
           : uns ? (Value)arith::MaxUIOp::create(b, l, acc, x)
                 : (Value)arith::MaxSIOp::create(b, l, acc, x);
  if (red == "min")
    return fp    ? (Value)arith::MinimumFOp::create(b, l, acc, x)
           : uns ? (Value)arith::MinUIOp::create(b, l, acc, x)
                 : (Value)arith::MinSIOp::create(b, l, acc, x);
  return x;
}

LogicalResult importScatterND(NodeContext &nc) {
  if (failed(requireInputs(nc, 3)) || failed(checkIndexType(nc, 1)))
    return failure();
  SmallVector<int64_t> data = inputShape(nc, 0), ind = inputShape(nc, 1),
                       upd = inputShape(nc, 2);
  DType d = nc.inputDType(0), indDType = nc.inputDType(1);
  int64_t rank = data.size();
  if (ind.empty() || ind.back() > rank) {
    nc.error() << "indices of shape " << listStr(ind)
               << " do not index data of rank " << rank;
    return failure();
  }
  int64_t k = ind.back();
  SmallVector<int64_t> expected(ArrayRef<int64_t>(ind).drop_back());
  expected.append(data.begin() + k, data.end());
  if (upd != expected) {
    nc.error() << "updates have shape " << listStr(upd) << " but data "
               << listStr(data) << " and indices " << listStr(ind)
               << " need " << listStr(expected);
    return failure();
  }
  if (nc.inputDType(2) != d) {
    nc.error() << "updates have element type " << dtypeName(nc.inputDType(2))
               << " but data has " << dtypeName(d);
    return failure();
  }
  FailureOr<std::string> redOr = scatterReduction(nc, d);
  if (failed(redOr))
    return failure();
  std::string red = *redOr;
  int64_t numUpd = shapeProduct(expected) == 0
                       ? 0
                       : shapeProduct(ArrayRef<int64_t>(ind).drop_back());
  if (numUpd == 0) {
    nc.setOutput(0, nc.input(0), d);
    return success();
  }
  // Domain (data dims..., u): each output element visits every update u
  // and combines those whose index tuple is its own, in order.
  Value indices = nc.reshape(nc.input(1), {numUpd, k});
  SmallVector<int64_t> updShape = {numUpd};
  updShape.append(data.begin() + k, data.end());
  Value updates = nc.reshape(nc.input(2), updShape);
  MLIRContext *ctx = nc.ctx();
  SmallVector<AffineExpr> updExprs = {getAffineDimExpr(rank, ctx)};
  SmallVector<AffineExpr> dataExprs;
  for (int64_t i = 0; i < rank; ++i) {
    dataExprs.push_back(getAffineDimExpr(i, ctx));
    if (i >= k)
      updExprs.push_back(getAffineDimExpr(i, ctx));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(rank + 1, 0, dataExprs, ctx),
                                 AffineMap::get(rank + 1, 0, updExprs, ctx),
                                 AffineMap::get(rank + 1, 0, dataExprs, ctx)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  // The init is never read at u == 0 (the data is), so that the scatter
  // does not write into its data operand.
  Value init = nc.empty(data, toMLIRType(ctx, d));
  auto generic = linalg::GenericOp::create(
      nc.b, nc.loc, init.getType(), ValueRange{nc.input(0), updates},
      ValueRange{init}, maps, iters,
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value u = linalg::IndexOp::create(b, l, rank);
        Value first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, u,
                                            cidx(b, l, 0));
        Value acc = arith::SelectOp::create(b, l, first, args[0], args[2]);
        Value match = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
        for (int64_t j = 0; j < k; ++j) {
          Value ij = tensor::ExtractOp::create(b, l, indices,
                                               ValueRange{u, cidx(b, l, j)});
          ij = wrapIndex(b, l, toIndex(b, l, ij, indDType), data[j]);
          Value eq = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, ij,
                                           linalg::IndexOp::create(b, l, j));
          match = arith::AndIOp::create(b, l, match, eq);
        }
        Value r = combine(b, l, red, d, acc, args[1]);
        linalg::YieldOp::create(b, l,
                                Value(arith::SelectOp::create(b, l, match, r,
                                                              acc)));
      });
  nc.setOutput(0, generic.getResult(0), d);
  return success();
}

/// GatherND: out[b.., i.., r..] = data[b.., indices[b.., i.., :], r..]
/// with batch_dims b (out: indices' shape but its last dim, then data's
/// dims after the indexed ones).
LogicalResult importGatherND(NodeContext &nc) {
  if (failed(requireInputs(nc, 2)) || failed(checkIndexType(nc, 1)))
    return failure();
  SmallVector<int64_t> data = inputShape(nc, 0), ind = inputShape(nc, 1);
  DType d = nc.inputDType(0), indDType = nc.inputDType(1);
  int64_t r = data.size(), q = ind.size(), bd = nc.attrInt("batch_dims", 0);
  int64_t k = q ? ind.back() : 0;
  bool ok = q >= 1 && bd >= 0 && bd < std::min(q, r) && k >= 1 &&
            bd + k <= r;
  for (int64_t i = 0; ok && i < bd; ++i)
    ok = data[i] == ind[i];
  if (!ok) {
    nc.error() << "indices " << listStr(ind) << " (batch_dims " << bd
               << ") do not index data " << listStr(data);
    return failure();
  }
  SmallVector<int64_t> outShape(ind.begin(), ind.end() - 1);
  outShape.append(data.begin() + bd + k, data.end());
  Value dataV = nc.input(0), indV = nc.input(1);
  Value out = emitGeneric(
      nc, outShape, toMLIRType(nc.ctx(), d), {}, {},
      [&](OpBuilder &b, Location l, ValueRange, ArrayRef<Value> ivs) {
        SmallVector<Value> at(ivs.begin(), ivs.begin() + bd);
        SmallVector<Value> row(ivs.begin(), ivs.begin() + q - 1);
        row.push_back(Value());
        for (int64_t j = 0; j < k; ++j) {
          row.back() = cidx(b, l, j);
          Value i = tensor::ExtractOp::create(b, l, indV, row);
          at.push_back(wrapIndex(b, l, toIndex(b, l, i, indDType),
                                 data[bd + j]));
        }
        at.append(ivs.begin() + q - 1, ivs.end());
        return tensor::ExtractOp::create(b, l, dataV, at);
      });
  nc.setOutput(0, out, d);
  return success();
}

/// ScatterElements (and the older Scatter): data with updates[u] combined
/// into out[u with its axis coordinate replaced by indices[u]], in update
/// order. Domain (data dims..., u): each output element visits every
/// update and takes those that land on it.
LogicalResult importScatterElements(NodeContext &nc) {
  if (failed(requireInputs(nc, 3)) || failed(checkIndexType(nc, 1)))
    return failure();
  SmallVector<int64_t> data = inputShape(nc, 0), ind = inputShape(nc, 1),
                       upd = inputShape(nc, 2);
  DType d = nc.inputDType(0), indDType = nc.inputDType(1);
  int64_t rank = data.size();
  FailureOr<int64_t> axisOr = axisAttr(nc, 0, std::max<int64_t>(rank, 1));
  if (failed(axisOr))
    return failure();
  int64_t axis = *axisOr;
  bool fits = ind == upd && int64_t(ind.size()) == rank;
  for (int64_t i = 0; fits && i < rank; ++i)
    fits = i == axis || ind[i] <= data[i];
  if (!fits || rank == 0) {
    nc.error() << "indices " << listStr(ind) << " and updates "
               << listStr(upd) << " do not fit data " << listStr(data);
    return failure();
  }
  if (nc.inputDType(2) != d) {
    nc.error() << "updates have element type " << dtypeName(nc.inputDType(2))
               << " but data has " << dtypeName(d);
    return failure();
  }
  FailureOr<std::string> redOr = scatterReduction(nc, d);
  if (failed(redOr))
    return failure();
  std::string red = *redOr;
  int64_t numUpd = shapeProduct(upd);
  if (numUpd == 0) {
    nc.setOutput(0, nc.input(0), d);
    return success();
  }
  Value indices = nc.reshape(nc.input(1), {numUpd});
  Value updates = nc.reshape(nc.input(2), {numUpd});
  SmallVector<int64_t> strides = rowMajorStrides(upd);
  MLIRContext *ctx = nc.ctx();
  SmallVector<AffineExpr> dataExprs;
  for (int64_t i = 0; i < rank; ++i)
    dataExprs.push_back(getAffineDimExpr(i, ctx));
  AffineMap dataMap = AffineMap::get(rank + 1, 0, dataExprs, ctx);
  AffineMap updMap = AffineMap::get(rank + 1, 0, getAffineDimExpr(rank, ctx));
  SmallVector<AffineMap> maps = {dataMap, updMap, updMap, dataMap};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  // As in ScatterND: the init is never read at u == 0.
  Value init = nc.empty(data, toMLIRType(ctx, d));
  auto generic = linalg::GenericOp::create(
      nc.b, nc.loc, init.getType(),
      ValueRange{nc.input(0), indices, updates}, ValueRange{init}, maps, iters,
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value u = linalg::IndexOp::create(b, l, rank);
        Value first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, u,
                                            cidx(b, l, 0));
        Value acc = arith::SelectOp::create(b, l, first, args[0], args[3]);
        Value at = wrapIndex(b, l, toIndex(b, l, args[1], indDType),
                             data[axis]);
        Value match = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, at,
                                            linalg::IndexOp::create(b, l, axis));
        for (int64_t i = 0; i < rank; ++i) {
          if (i == axis)
            continue;
          Value c = arith::RemUIOp::create(
              b, l, arith::DivUIOp::create(b, l, u, cidx(b, l, strides[i])),
              cidx(b, l, upd[i]));
          match = arith::AndIOp::create(
              b, l, match,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, c,
                                    linalg::IndexOp::create(b, l, i)));
        }
        Value r = combine(b, l, red, d, acc, args[2]);
        linalg::YieldOp::create(
            b, l, Value(arith::SelectOp::create(b, l, match, r, acc)));
      });
  nc.setOutput(0, generic.getResult(0), d);
  return success();
}

LogicalResult importOneHot(NodeContext &nc) {
  if (failed(requireInputs(nc, 3)))
    return failure();
  SmallVector<int64_t> ind = inputShape(nc, 0);
  DType indDType = nc.inputDType(0), d = nc.inputDType(2);
  if (!isInteger(indDType) && !isFloat(indDType)) {
    nc.error() << "indices must be numbers, found " << dtypeName(indDType);
    return failure();
  }
  const HostTensor *cdepth = nc.inputConstant(1);
  if (!cdepth || cdepth->numElements() != 1) {
    nc.error() << "depth (input 1) must be a scalar known at compile time";
    return failure();
  }
  int64_t depth = isFloat(cdepth->dtype)
                      ? static_cast<int64_t>(cdepth->getDouble(0))
                      : cdepth->getInt(0);
  if (depth <= 0 || depth > (int64_t(1) << 32)) {
    nc.error() << "depth must be positive, found " << depth;
    return failure();
  }
  if (shapeProduct(inputShape(nc, 2)) != 2) {
    nc.error() << "values (input 2) must hold [off, on], found "
               << shapeProduct(inputShape(nc, 2)) << " elements";
    return failure();
  }
  int64_t outRank = ind.size() + 1, axis = nc.attrInt("axis", -1);
  if (axis < -outRank || axis >= outRank) {
    nc.error() << "axis " << axis << " is out of range for output rank "
               << outRank;
    return failure();
  }
  if (axis < 0)
    axis += outRank;
  SmallVector<int64_t> outShape = ind;
  outShape.insert(outShape.begin() + axis, depth);
  Type elt = toMLIRType(nc.ctx(), d);
  Value off, on;
  if (const HostTensor *cv = nc.inputConstant(2)) {
    off = hostScalar(nc, *cv, 0, elt);
    on = hostScalar(nc, *cv, 1, elt);
  } else {
    off = extractAt(nc, nc.input(2), 0);
    on = extractAt(nc, nc.input(2), 1);
  }
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < outRank; ++i)
    if (i != axis)
      exprs.push_back(nc.b.getAffineDimExpr(i));
  AffineMap map = AffineMap::get(outRank, 0, exprs, nc.ctx());
  Value out = emitGeneric(
      nc, outShape, elt, nc.input(0), map,
      [&](OpBuilder &b, Location l, ValueRange args, ArrayRef<Value> ivs) {
        Value i = toIndex(b, l, args[0], indDType);
        Value zero = cidx(b, l, 0);
        Value neg =
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
        i = arith::SelectOp::create(
            b, l, neg, arith::AddIOp::create(b, l, i, cidx(b, l, depth)), i);
        Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, i,
                                          ivs[axis]);
        return arith::SelectOp::create(b, l, hit, on, off);
      });
  nc.setOutput(0, out, d);
  return success();
}

} // namespace

/// ReverseSequence: along time_axis, the first sequence_lens[b] elements of
/// each batch entry b reversed, the rest as they are (a gather whose index
/// reads the lengths: out[.., t, ..] = x[.., t < len ? len - 1 - t : t, ..]).
LogicalResult importReverseSequence(NodeContext &nc) {
  SmallVector<int64_t> shape = inputShape(nc, 0);
  int64_t rank = shape.size();
  if (rank < 2 || !isInteger(nc.inputDType(1)) ||
      inputShape(nc, 1).size() != 1) {
    nc.error() << "expects input of rank >= 2 and 1-D integer sequence_lens";
    return failure();
  }
  int64_t batchAxis = nc.attrInt("batch_axis", 1);
  int64_t timeAxis = nc.attrInt("time_axis", 0);
  if (batchAxis < 0 || batchAxis > 1 || timeAxis < 0 || timeAxis > 1 ||
      batchAxis == timeAxis ||
      inputShape(nc, 1)[0] != shape[batchAxis]) {
    nc.error() << "batch_axis " << batchAxis << " and time_axis " << timeAxis
               << " must be 0 and 1 (either way) and sequence_lens one length "
                  "per batch entry";
    return failure();
  }
  DType lenDType = nc.inputDType(1);
  int64_t steps = shape[timeAxis];
  AffineMap lenMap = AffineMap::get(
      rank, 0, {getAffineDimExpr(batchAxis, nc.ctx())}, nc.ctx());
  Value x = nc.input(0);
  Value out = emitGeneric(
      nc, shape, toMLIRType(nc.ctx(), nc.inputDType(0)), nc.input(1), lenMap,
      [&](OpBuilder &b, Location l, ValueRange args, ArrayRef<Value> ivs) {
        Value len = toIndex(b, l, args[0], lenDType);
        Value t = ivs[timeAxis];
        Value inside = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                             t, len);
        Value back = arith::SubIOp::create(
            b, l, arith::SubIOp::create(b, l, len, cidx(b, l, 1)), t);
        Value src = wrapIndex(
            b, l, arith::SelectOp::create(b, l, inside, back, t), steps);
        SmallVector<Value> at(ivs);
        at[timeAxis] = src;
        return tensor::ExtractOp::create(b, l, x, at).getResult();
      });
  nc.setOutput(0, out, nc.inputDType(0));
  return success();
}

void qc::detail::registerGatherOps(OpRegistry &r) {
  r.add("ReverseSequence", importReverseSequence);
  r.add("Gather", importGather);
  r.add("GatherElements", importGatherElements);
  r.add("GatherND", importGatherND);
  r.add("com.microsoft::GatherBlockQuantized", importGatherBlockQuantized);
  r.add("ScatterND", importScatterND);
  r.add("ScatterElements", importScatterElements);
  r.add("Scatter", importScatterElements);
  r.add("OneHot", importOneHot);
}
