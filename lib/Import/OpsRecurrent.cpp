//===- OpsRecurrent.cpp - RNN, GRU, LSTM ----------------------------------===//
//
// Each direction is one matmul of the whole sequence with W (the input
// projections of every step at once, biases added), then an scf.for over
// the steps carrying the hidden (and cell) state and the output sequence:
// per step a [batch, H] x [H, gates * H] matmul with R and the gate
// arithmetic as elementwise generics (ONNX's gate orders: LSTM i o f c,
// GRU z r h). `layout` 1 (batch first) is transposed in and out. Supported:
// the activations Sigmoid, Tanh and Relu, `clip`, LSTM peepholes, GRU's
// linear_before_reset; sequence_lens only when every length is the whole
// sequence (shorter ones need masking).
//
//===----------------------------------------------------------------------===//

#include "Importer.h"
#include "ShapeUtils.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

namespace {

enum class Cell { RNN, GRU, LSTM };

unsigned numGates(Cell cell) {
  return cell == Cell::LSTM ? 4 : cell == Cell::GRU ? 3 : 1;
}

using Activation = std::function<Value(OpBuilder &, Location, Value)>;

FailureOr<Activation> activation(NodeContext &nc, StringRef name) {
  if (name == "Sigmoid")
    return Activation([](OpBuilder &b, Location l, Value x) -> Value {
      Value one = arith::ConstantOp::create(b, l, b.getFloatAttr(x.getType(), 1));
      Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x));
      return arith::DivFOp::create(b, l, one,
                                   arith::AddFOp::create(b, l, one, e));
    });
  if (name == "Tanh")
    return Activation([](OpBuilder &b, Location l, Value x) -> Value {
      return math::TanhOp::create(b, l, x);
    });
  if (name == "Relu")
    return Activation([](OpBuilder &b, Location l, Value x) -> Value {
      Value zero =
          arith::ConstantOp::create(b, l, b.getFloatAttr(x.getType(), 0));
      return arith::MaximumFOp::create(b, l, x, zero);
    });
  nc.error() << "activation '" << name
             << "' is not supported (Sigmoid, Tanh, Relu are)";
  return failure();
}

/// What one node asks for.
struct Spec {
  Cell cell;
  int64_t seq, batch, input, hidden, dirs;
  bool reverse = false; // direction "reverse" (one direction)
  bool batchFirst = false;
  bool linearBeforeReset = false;
  std::optional<double> clip;
  Type elt;
  /// f, g, h (LSTM) / f, g (GRU) / f (RNN), per direction.
  SmallVector<Activation> acts;
};

/// Columns [col, col + width) of a 2-D `t`.
Value columns(NodeContext &nc, Value t, int64_t col, int64_t width) {
  auto type = cast<RankedTensorType>(t.getType());
  int64_t rows = type.getDimSize(0);
  return tensor::ExtractSliceOp::create(
      nc.b, nc.loc, RankedTensorType::get({rows, width}, type.getElementType()),
      t, ValueRange{}, ValueRange{}, ValueRange{},
      nc.b.getDenseI64ArrayAttr({0, col}),
      nc.b.getDenseI64ArrayAttr({rows, width}),
      nc.b.getDenseI64ArrayAttr({1, 1}));
}

/// x [m, k] x wT [k, n].
Value matmul(NodeContext &nc, Value x, Value wT) {
  auto xt = cast<RankedTensorType>(x.getType());
  auto wt = cast<RankedTensorType>(wT.getType());
  Value acc = nc.filled({xt.getDimSize(0), wt.getDimSize(1)},
                        nc.scalar(xt.getElementType(), 0));
  return linalg::MatmulOp::create(nc.b, nc.loc, ValueRange{x, wT},
                                  ValueRange{acc})
      .getResult(0);
}

/// Row d of a [dirs, ...] input as its own tensor.
Value direction(NodeContext &nc, Value t, int64_t d) {
  auto type = cast<RankedTensorType>(t.getType());
  SmallVector<int64_t> offsets(type.getRank(), 0), sizes(type.getShape()),
      strides(type.getRank(), 1);
  offsets[0] = d;
  sizes[0] = 1;
  Value row = tensor::ExtractSliceOp::create(
      nc.b, nc.loc, RankedTensorType::get(sizes, type.getElementType()), t,
      ValueRange{}, ValueRange{}, ValueRange{},
      nc.b.getDenseI64ArrayAttr(offsets), nc.b.getDenseI64ArrayAttr(sizes),
      nc.b.getDenseI64ArrayAttr(strides));
  return nc.reshape(row, ArrayRef<int64_t>(sizes).drop_front());
}

/// `x` clipped to [-clip, clip] when the node has a clip.
Value clipped(const Spec &s, OpBuilder &b, Location l, Value x) {
  if (!s.clip)
    return x;
  Value hi = arith::ConstantOp::create(b, l, b.getFloatAttr(x.getType(), *s.clip));
  Value lo = arith::ConstantOp::create(b, l, b.getFloatAttr(x.getType(), -*s.clip));
  return arith::MinimumFOp::create(b, l, arith::MaximumFOp::create(b, l, x, lo),
                                   hi);
}

/// The weights of one direction.
struct DirWeights {
  Value w, rT;      // [G*H, I]; R transposed, [H, G*H], before the loop
  Value wb, rb;     // [G*H] each (zeros without B)
  Value peephole;   // [3H] (LSTM, null without P)
  Value h0, c0;     // [B, H]
};

/// One step: the new hidden (and cell) state from the step's input
/// projection `xw` [B, G*H] (W's bias added) and the previous states.
std::pair<Value, Value> step(NodeContext &nc, const Spec &s,
                             const DirWeights &w, const Activation *acts,
                             Value xw, Value h, Value c) {
  int64_t H = s.hidden, B = s.batch;
  Location l = nc.loc;
  auto gate = [&](Value t, int64_t k) { return columns(nc, t, k * H, H); };
  Value hr = matmul(nc, h, w.rT); // [B, G*H]
  SmallVector<int64_t> shape = {B, H};
  if (s.cell == Cell::RNN) {
    Value hNew = nc.elementwiseTo(
        {xw, hr, w.rb}, shape, s.elt,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value x = arith::AddFOp::create(
              b, l, arith::AddFOp::create(b, l, a[0], a[1]), a[2]);
          return acts[0](b, l, clipped(s, b, l, x));
        });
    return {hNew, Value()};
  }
  if (s.cell == Cell::GRU) {
    // z, r from x + h projections; h~ per linear_before_reset.
    Value rb3 = nc.reshape(w.rb, {3, H});
    Value rbz = direction(nc, rb3, 0), rbr = direction(nc, rb3, 1),
          rbh = direction(nc, rb3, 2);
    auto sum3 = [&](OpBuilder &b, Location l, Value x, Value y, Value z) {
      return arith::AddFOp::create(b, l, arith::AddFOp::create(b, l, x, y), z);
    };
    auto gateOf = [&](int64_t k, Value rb) {
      return nc.elementwiseTo(
          {gate(xw, k), gate(hr, k), rb}, shape, s.elt,
          [&](OpBuilder &b, Location l, ValueRange a) {
            return acts[0](b, l, clipped(s, b, l, sum3(b, l, a[0], a[1], a[2])));
          });
    };
    Value z = gateOf(0, rbz), r = gateOf(1, rbr);
    Value hh;
    if (s.linearBeforeReset) {
      hh = nc.elementwiseTo(
          {gate(xw, 2), r, gate(hr, 2), rbh}, shape, s.elt,
          [&](OpBuilder &b, Location l, ValueRange a) {
            Value rh = arith::MulFOp::create(
                b, l, a[1], arith::AddFOp::create(b, l, a[2], a[3]));
            return acts[1](b, l,
                           clipped(s, b, l, arith::AddFOp::create(b, l, a[0], rh)));
          });
    } else {
      Value rhPrev = nc.elementwiseTo(
          {r, h}, shape, s.elt, [](OpBuilder &b, Location l, ValueRange a) {
            return arith::MulFOp::create(b, l, a[0], a[1]);
          });
      Value rh = matmul(nc, rhPrev, columns(nc, w.rT, 2 * H, H));
      hh = nc.elementwiseTo(
          {gate(xw, 2), rh, rbh}, shape, s.elt,
          [&](OpBuilder &b, Location l, ValueRange a) {
            return acts[1](b, l, clipped(s, b, l, sum3(b, l, a[0], a[1], a[2])));
          });
    }
    Value hNew = nc.elementwiseTo(
        {z, hh, h}, shape, s.elt, [](OpBuilder &b, Location l, ValueRange a) {
          // (1 - z) * h~ + z * h = h~ + z * (h - h~)
          Value d = arith::SubFOp::create(b, l, a[2], a[1]);
          return arith::AddFOp::create(b, l, a[1],
                                       arith::MulFOp::create(b, l, a[0], d));
        });
    return {hNew, Value()};
  }
  // LSTM: gates i o f c; peepholes P = [Pi, Po, Pf].
  Value g = nc.elementwiseTo({xw, hr, w.rb}, {B, 4 * H}, s.elt,
                             [&](OpBuilder &b, Location l, ValueRange a) {
                               return arith::AddFOp::create(
                                   b, l, arith::AddFOp::create(b, l, a[0], a[1]),
                                   a[2]);
                             });
  Value p = w.peephole ? nc.reshape(w.peephole, {3, H})
                       : nc.filled({3, H}, nc.scalar(s.elt, 0));
  Value pi = direction(nc, p, 0), po = direction(nc, p, 1),
        pf = direction(nc, p, 2);
  Value cNew = nc.elementwiseTo(
      {gate(g, 0), gate(g, 2), gate(g, 3), c, pi, pf}, shape, s.elt,
      [&](OpBuilder &b, Location l, ValueRange a) {
        auto peep = [&](Value x, Value pp) {
          return clipped(s, b, l,
                         arith::AddFOp::create(
                             b, l, x, arith::MulFOp::create(b, l, pp, a[3])));
        };
        Value i = acts[0](b, l, peep(a[0], a[4]));
        Value f = acts[0](b, l, peep(a[1], a[5]));
        Value cc = acts[1](b, l, clipped(s, b, l, a[2]));
        return arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, f, a[3]),
                                     arith::MulFOp::create(b, l, i, cc));
      });
  Value hNew = nc.elementwiseTo(
      {gate(g, 1), cNew, po}, shape, s.elt,
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value o = acts[0](
            b, l,
            clipped(s, b, l,
                    arith::AddFOp::create(b, l, a[0],
                                          arith::MulFOp::create(b, l, a[2], a[1]))));
        return arith::MulFOp::create(b, l, o, acts[2](b, l, a[1]));
      });
  return {hNew, cNew};
}

/// One direction over the whole sequence: Y [S, B, H] and the last
/// hidden (and cell) state.
struct DirResult {
  Value y, h, c;
};

DirResult runDirection(NodeContext &nc, const Spec &s, const DirWeights &w,
                       const Activation *acts, Value x) {
  int64_t S = s.seq, B = s.batch, H = s.hidden, GH = numGates(s.cell) * H;
  // Every step's input projection at once: [S * B, I] x W^T + Wb.
  Value xw = matmul(nc, nc.reshape(x, {S * B, s.input}),
                    nc.transpose(w.w, {1, 0}));
  xw = nc.elementwiseTo({xw, w.wb}, {S * B, GH}, s.elt,
                        [](OpBuilder &b, Location l, ValueRange a) {
                          return arith::AddFOp::create(b, l, a[0], a[1]);
                        });
  xw = nc.reshape(xw, {S, B, GH});
  Value y0 = nc.empty({S, B, H}, s.elt);
  SmallVector<Value> init = {w.h0, y0};
  if (s.cell == Cell::LSTM)
    init.push_back(w.c0);
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(nc.b, nc.loc, v).getResult();
  };
  auto loop = scf::ForOp::create(nc.b, nc.loc, idx(0), idx(S), idx(1), init);
  {
    OpBuilder::InsertionGuard guard(nc.b);
    nc.b.setInsertionPointToStart(loop.getBody());
    Value t = loop.getInductionVar();
    if (s.reverse)
      t = arith::SubIOp::create(nc.b, nc.loc, idx(S - 1), t);
    Value h = loop.getRegionIterArgs()[0];
    Value c = s.cell == Cell::LSTM ? loop.getRegionIterArgs()[2] : Value();
    auto [hNew, cNew] = step(nc, s, w, acts, extractStep(nc, xw, t), h, c);
    Value y = insertStep(nc, hNew, loop.getRegionIterArgs()[1], t);
    SmallVector<Value> next = {hNew, y};
    if (cNew)
      next.push_back(cNew);
    scf::YieldOp::create(nc.b, nc.loc, next);
  }
  return {loop.getResult(1), loop.getResult(0),
          s.cell == Cell::LSTM ? loop.getResult(2) : Value()};
}

/// Stacks [B, H]-shaped (or [S, B, H]) per-direction values along a new
/// axis `axis` of size dirs.
Value stack(NodeContext &nc, ArrayRef<Value> parts, int64_t axis) {
  auto type = cast<RankedTensorType>(parts[0].getType());
  SmallVector<int64_t> shape(type.getShape());
  shape.insert(shape.begin() + axis, parts.size());
  Value out = nc.empty(shape, type.getElementType());
  SmallVector<int64_t> one(shape);
  one[axis] = 1;
  for (auto [d, part] : llvm::enumerate(parts)) {
    SmallVector<int64_t> offsets(shape.size(), 0), strides(shape.size(), 1);
    offsets[axis] = d;
    out = tensor::InsertSliceOp::create(
        nc.b, nc.loc, nc.reshape(part, one), out, ValueRange{}, ValueRange{},
        ValueRange{}, nc.b.getDenseI64ArrayAttr(offsets),
        nc.b.getDenseI64ArrayAttr(one), nc.b.getDenseI64ArrayAttr(strides));
  }
  return out;
}

/// Reads attributes and shapes into `s`; fails with a diagnostic.
LogicalResult readSpec(NodeContext &nc, Cell cell, Spec &s) {
  s.cell = cell;
  DType d = nc.inputDType(0);
  if (!isFloat(d) || d == TP::BFLOAT16) {
    nc.error() << "X is " << dtypeName(d) << "; f32, f64 and f16 are supported";
    return failure();
  }
  s.elt = toMLIRType(nc.ctx(), d);
  RankedTensorType xt = nc.inputType(0), wt = nc.inputType(1),
                   rt = nc.inputType(2);
  if (xt.getRank() != 3 || wt.getRank() != 3 || rt.getRank() != 3) {
    nc.error() << "X, W and R must have rank 3";
    return failure();
  }
  s.batchFirst = nc.attrInt("layout", 0) == 1;
  s.seq = xt.getDimSize(s.batchFirst ? 1 : 0);
  s.batch = xt.getDimSize(s.batchFirst ? 0 : 1);
  s.input = xt.getDimSize(2);
  s.dirs = wt.getDimSize(0);
  s.hidden = nc.attrInt("hidden_size", rt.getDimSize(2));
  std::string dir = nc.attrString("direction", "forward");
  s.reverse = dir == "reverse";
  int64_t G = numGates(cell);
  if ((dir == "bidirectional") != (s.dirs == 2) || s.dirs > 2 ||
      (dir != "forward" && dir != "reverse" && dir != "bidirectional")) {
    nc.error() << "direction '" << dir << "' with W for " << s.dirs
               << " direction(s)";
    return failure();
  }
  if (wt.getDimSize(1) != G * s.hidden || wt.getDimSize(2) != s.input ||
      rt.getDimSize(0) != s.dirs || rt.getDimSize(1) != G * s.hidden ||
      rt.getDimSize(2) != s.hidden) {
    nc.error() << "W " << listStr(wt.getShape()) << " and R "
               << listStr(rt.getShape()) << " do not fit X "
               << listStr(xt.getShape()) << " and hidden_size " << s.hidden;
    return failure();
  }
  if (nc.hasAttr("clip"))
    s.clip = nc.attrFloat("clip", 0);
  s.linearBeforeReset = nc.attrInt("linear_before_reset", 0) != 0;
  if (nc.attrInt("input_forget", 0) != 0) {
    nc.error() << "input_forget = 1 is not supported";
    return failure();
  }
  if (nc.hasAttr("activation_alpha") || nc.hasAttr("activation_beta")) {
    nc.error() << "activation_alpha / activation_beta are not supported";
    return failure();
  }
  // sequence_lens: only the whole sequence for every batch entry.
  if (nc.hasInput(4)) {
    const HostTensor *lens = nc.inputConstant(4);
    bool whole = lens != nullptr;
    for (int64_t i = 0; whole && i < lens->numElements(); ++i)
      whole = lens->getInt(i) == s.seq;
    if (!whole) {
      nc.error() << "sequence_lens must be known at compile time and equal "
                    "the sequence length ("
                 << s.seq << "); shorter sequences are not supported";
      return failure();
    }
  }
  SmallVector<std::string> names;
  if (const onnx::AttributeProto *a = nc.attr("activations"))
    names.assign(a->strings().begin(), a->strings().end());
  SmallVector<std::string> defaults =
      cell == Cell::LSTM  ? SmallVector<std::string>{"Sigmoid", "Tanh", "Tanh"}
      : cell == Cell::GRU ? SmallVector<std::string>{"Sigmoid", "Tanh"}
                          : SmallVector<std::string>{"Tanh"};
  if (names.empty())
    for (int64_t k = 0; k < s.dirs; ++k)
      names.append(defaults.begin(), defaults.end());
  if (names.size() != defaults.size() * s.dirs) {
    nc.error() << "expects " << defaults.size() * s.dirs
               << " activations, has " << names.size();
    return failure();
  }
  for (const std::string &n : names) {
    FailureOr<Activation> act = activation(nc, n);
    if (failed(act))
      return failure();
    s.acts.push_back(*act);
  }
  return success();
}

LogicalResult importRecurrent(NodeContext &nc, Cell cell) {
  Spec s;
  if (failed(readSpec(nc, cell, s)))
    return failure();
  int64_t G = numGates(cell), H = s.hidden;
  Value x = nc.input(0);
  if (s.batchFirst)
    x = nc.transpose(x, {1, 0, 2});
  auto optional = [&](unsigned i, ArrayRef<int64_t> shape) -> Value {
    if (!nc.hasInput(i))
      return Value();
    if (nc.inputType(i).getShape() != shape) {
      nc.error() << "input " << i << " has shape "
                 << listStr(nc.inputType(i).getShape()) << ", expected "
                 << listStr(shape);
      return Value();
    }
    return nc.input(i);
  };
  auto bad = [&](unsigned i, Value v) { return nc.hasInput(i) && !v; };
  Value bias = optional(3, {s.dirs, 2 * G * H});
  SmallVector<int64_t> stateShape =
      s.batchFirst ? SmallVector<int64_t>{s.batch, s.dirs, H}
                   : SmallVector<int64_t>{s.dirs, s.batch, H};
  Value h0 = optional(5, stateShape);
  Value c0 = cell == Cell::LSTM ? optional(6, stateShape) : Value();
  Value p = cell == Cell::LSTM ? optional(7, {s.dirs, 3 * H}) : Value();
  if (bad(3, bias) || bad(5, h0) || (cell == Cell::LSTM && (bad(6, c0) || bad(7, p))))
    return failure();
  if (s.batchFirst) {
    h0 = h0 ? nc.transpose(h0, {1, 0, 2}) : h0;
    c0 = c0 ? nc.transpose(c0, {1, 0, 2}) : c0;
  }
  Value zeros = nc.filled({s.batch, H}, nc.scalar(s.elt, 0));
  SmallVector<Value> ys, hs, cs;
  for (int64_t d = 0; d < s.dirs; ++d) {
    DirWeights w;
    w.w = direction(nc, nc.input(1), d);
    w.rT = nc.transpose(direction(nc, nc.input(2), d), {1, 0});
    Value b = bias ? direction(nc, bias, d)
                   : nc.filled({2 * G * H}, nc.scalar(s.elt, 0));
    w.wb = nc.reshape(direction(nc, nc.reshape(b, {2, G * H}), 0), {G * H});
    w.rb = nc.reshape(direction(nc, nc.reshape(b, {2, G * H}), 1), {G * H});
    w.peephole = p ? direction(nc, p, d) : Value();
    w.h0 = h0 ? direction(nc, h0, d) : zeros;
    w.c0 = c0 ? direction(nc, c0, d) : zeros;
    Spec sd = s;
    sd.reverse = s.reverse || d == 1;
    size_t per = s.acts.size() / s.dirs;
    DirResult r = runDirection(nc, sd, w, &s.acts[d * per], x);
    ys.push_back(r.y);
    hs.push_back(r.h);
    cs.push_back(r.c);
  }
  // Y [S, D, B, H] (layout 1: [B, S, D, H]); Y_h, Y_c [D, B, H] ([B, D, H]).
  if (nc.hasOutput(0)) {
    Value y = stack(nc, ys, 1);
    nc.setOutput(0, s.batchFirst ? nc.transpose(y, {2, 0, 1, 3}) : y,
                 nc.inputDType(0));
  }
  auto state = [&](unsigned i, ArrayRef<Value> parts) {
    if (!nc.hasOutput(i))
      return;
    Value v = stack(nc, parts, 0);
    nc.setOutput(i, s.batchFirst ? nc.transpose(v, {1, 0, 2}) : v,
                 nc.inputDType(0));
  };
  state(1, hs);
  if (cell == Cell::LSTM)
    state(2, cs);
  return success();
}

} // namespace

void qc::detail::registerRecurrentOps(OpRegistry &r) {
  r.add("RNN", [](NodeContext &nc) { return importRecurrent(nc, Cell::RNN); });
  r.add("GRU", [](NodeContext &nc) { return importRecurrent(nc, Cell::GRU); });
  r.add("LSTM", [](NodeContext &nc) { return importRecurrent(nc, Cell::LSTM); });
}
