//===- OpsEinsum.cpp - ONNX Einsum ----------------------------------------===//
//
// Einsum becomes one linalg.generic: every distinct subscript letter (and
// every dim covered by "...") is a loop, each operand is read through the map
// its term spells (a repeated letter reads a diagonal) and letters missing
// from the output are reduction loops. The body multiplies the operands and
// adds the product to the accumulator; half floats accumulate in f32.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

using namespace mlir;
using namespace qc::detail;
using TP = onnx::TensorProto;

namespace {

/// One einsum term: its letters, with the ellipsis (if any) before letter
/// `ellipsisAt`.
struct Term {
  std::string letters;
  std::optional<size_t> ellipsisAt;
};

/// Parses one term of letters and at most one "..."; fails with a message.
FailureOr<Term> parseTerm(NodeContext &nc, StringRef text) {
  Term t;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      if (t.ellipsisAt || !text.substr(i).starts_with("...")) {
        nc.error() << "malformed ellipsis in equation term '" << text << "'";
        return failure();
      }
      t.ellipsisAt = t.letters.size();
      i += 2;
      continue;
    }
    if (!llvm::isAlpha(c)) {
      nc.error() << "unexpected character '" << c << "' in equation term '"
                 << text << "'";
      return failure();
    }
    t.letters.push_back(c);
  }
  return t;
}

LogicalResult importEinsum(NodeContext &nc) {
  OpBuilder &b = nc.b;
  MLIRContext *ctx = nc.ctx();
  std::string eq;
  for (char c : nc.attrString("equation", ""))
    if (!llvm::isSpace(c))
      eq.push_back(c);
  if (eq.empty() && !nc.hasAttr("equation")) {
    nc.error() << "missing attribute 'equation'";
    return failure();
  }

  // Split "lhs->rhs" and the lhs into one term per input.
  StringRef eqRef(eq);
  size_t arrow = eqRef.find("->");
  bool explicitOut = arrow != StringRef::npos;
  StringRef lhs = explicitOut ? eqRef.take_front(arrow) : eqRef;
  SmallVector<StringRef> termTexts;
  lhs.split(termTexts, ',');
  if (termTexts.size() != nc.numInputs()) {
    nc.error() << "equation '" << eq << "' has " << termTexts.size()
               << " input terms for " << nc.numInputs() << " inputs";
    return failure();
  }
  SmallVector<Term> terms;
  for (StringRef text : termTexts) {
    FailureOr<Term> t = parseTerm(nc, text);
    if (failed(t))
      return failure();
    terms.push_back(*t);
  }

  // Inputs, their ranks and element type.
  DType d = nc.inputDType(0);
  if (!isFloat(d) && !isInteger(d)) {
    nc.error() << "element type " << dtypeName(d) << " is not supported";
    return failure();
  }
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < nc.numInputs(); ++i) {
    Value v = nc.input(i);
    if (!v) {
      nc.error() << "input " << i << " is missing";
      return failure();
    }
    if (nc.inputDType(i) != d) {
      nc.error() << "inputs have different element types";
      return failure();
    }
    inputs.push_back(v);
  }

  // The dims covered by "..." broadcast together (numpy rules, aligned on
  // the right); each letter has one size.
  SmallVector<int64_t> ellRanks;
  SmallVector<SmallVector<int64_t>> ellShapes;
  llvm::StringMap<int64_t> letterSize;
  for (auto [term, v] : llvm::zip(terms, inputs)) {
    auto shape = cast<RankedTensorType>(v.getType()).getShape();
    int64_t ell = static_cast<int64_t>(shape.size()) -
                  static_cast<int64_t>(term.letters.size());
    if (ell < 0 || (ell > 0 && !term.ellipsisAt)) {
      nc.error() << "equation term with " << term.letters.size()
                 << " subscripts does not match an input of rank "
                 << shape.size();
      return failure();
    }
    size_t at = term.ellipsisAt.value_or(term.letters.size());
    ellRanks.push_back(ell);
    ellShapes.emplace_back(shape.slice(at, ell));
    for (size_t j = 0; j < term.letters.size(); ++j) {
      int64_t size = shape[j < at ? j : j + ell];
      auto [it, inserted] =
          letterSize.try_emplace(StringRef(&term.letters[j], 1), size);
      if (!inserted && it->second != size) {
        nc.error() << "subscript '" << term.letters[j] << "' has sizes "
                   << it->second << " and " << size;
        return failure();
      }
    }
  }
  FailureOr<SmallVector<int64_t>> ellShape = nc.broadcastShape(ellShapes);
  if (failed(ellShape))
    return failure();
  int64_t numEll = ellShape->size();

  // The output term: explicit, or "..." then the letters used once, sorted.
  Term out;
  if (explicitOut) {
    FailureOr<Term> t = parseTerm(nc, eqRef.drop_front(arrow + 2));
    if (failed(t))
      return failure();
    out = *t;
    for (size_t j = 0; j < out.letters.size(); ++j) {
      char c = out.letters[j];
      if (!letterSize.count(StringRef(&c, 1))) {
        nc.error() << "output subscript '" << c
                   << "' does not appear in the inputs";
        return failure();
      }
      if (out.letters.find(c, j + 1) != std::string::npos) {
        nc.error() << "output subscript '" << c << "' is repeated";
        return failure();
      }
    }
    if (numEll > 0 && !out.ellipsisAt) {
      nc.error() << "summing the dims covered by '...' (no '...' in the "
                    "output) is not supported";
      return failure();
    }
  } else {
    std::string all;
    for (const Term &t : terms)
      all += t.letters;
    for (int c = 0; c < 128; ++c)
      if (llvm::count(all, static_cast<char>(c)) == 1)
        out.letters.push_back(static_cast<char>(c));
    out.ellipsisAt = 0;
  }

  // Loops: the "..." dims, the output letters, then the summed letters.
  std::string loopLetters = out.letters;
  for (const Term &t : terms)
    for (char c : t.letters)
      if (loopLetters.find(c) == std::string::npos)
        loopLetters.push_back(c);
  unsigned numLoops = numEll + loopLetters.size();
  auto letterDim = [&](char c) {
    return b.getAffineDimExpr(numEll + loopLetters.find(c));
  };

  SmallVector<AffineMap> maps;
  for (auto [i, term] : llvm::enumerate(terms)) {
    SmallVector<AffineExpr> exprs;
    size_t at = term.ellipsisAt.value_or(term.letters.size());
    auto shape = cast<RankedTensorType>(inputs[i].getType()).getShape();
    for (size_t j = 0; j <= term.letters.size(); ++j) {
      if (j == at) {
        for (int64_t e = 0; e < ellRanks[i]; ++e) {
          int64_t loop = numEll - ellRanks[i] + e;
          bool broadcast = shape[at + e] != (*ellShape)[loop];
          exprs.push_back(broadcast ? b.getAffineConstantExpr(0)
                                    : b.getAffineDimExpr(loop));
        }
      }
      if (j < term.letters.size())
        exprs.push_back(letterDim(term.letters[j]));
    }
    maps.push_back(AffineMap::get(numLoops, 0, exprs, ctx));
  }
  SmallVector<AffineExpr> outExprs;
  SmallVector<int64_t> outShape;
  size_t outAt = out.ellipsisAt.value_or(out.letters.size());
  for (size_t j = 0; j <= out.letters.size(); ++j) {
    if (j == outAt) {
      for (int64_t e = 0; e < numEll; ++e) {
        outExprs.push_back(b.getAffineDimExpr(e));
        outShape.push_back((*ellShape)[e]);
      }
    }
    if (j < out.letters.size()) {
      outExprs.push_back(letterDim(out.letters[j]));
      outShape.push_back(letterSize[StringRef(&out.letters[j], 1)]);
    }
  }
  maps.push_back(AffineMap::get(numLoops, 0, outExprs, ctx));
  SmallVector<utils::IteratorType> iters(numEll + out.letters.size(),
                                         utils::IteratorType::parallel);
  iters.append(loopLetters.size() - out.letters.size(),
               utils::IteratorType::reduction);
  bool reduces = loopLetters.size() > out.letters.size();

  DType acc = d == TP::FLOAT16 || d == TP::BFLOAT16 ? TP::FLOAT : d;
  Type accElt = toMLIRType(ctx, acc);
  bool fp = isFloat(acc);
  Value init = reduces ? nc.filled(outShape, nc.scalar(accElt, 0))
                       : nc.empty(outShape, accElt);
  Value r =
      linalg::GenericOp::create(
          b, nc.loc, init.getType(), inputs, ValueRange{init}, maps, iters,
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value p = nc.convertScalar(nb, l, a[0], d, acc);
            for (Value v : a.drop_front().drop_back()) {
              Value w = nc.convertScalar(nb, l, v, d, acc);
              p = fp ? (Value)arith::MulFOp::create(nb, l, p, w)
                     : (Value)arith::MulIOp::create(nb, l, p, w);
            }
            if (reduces)
              p = fp ? (Value)arith::AddFOp::create(nb, l, a.back(), p)
                     : (Value)arith::AddIOp::create(nb, l, a.back(), p);
            linalg::YieldOp::create(nb, l, p);
          })
          .getResult(0);
  nc.setOutput(0, nc.castTo(r, acc, d), d);
  return success();
}

} // namespace

void qc::detail::registerEinsumOps(OpRegistry &r) {
  r.add("Einsum", importEinsum);
}
