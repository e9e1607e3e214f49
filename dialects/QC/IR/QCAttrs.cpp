//===- QCAttrs.cpp - qc quantization scheme attributes --------------------===//

#include "QC/IR/QCAttrs.h"
#include "QC/IR/QCDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <string>

using namespace mlir;
using namespace qc;

#include "QC/IR/QCAttrInterfaces.cpp.inc"
#include "QC/IR/QCEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "QC/IR/QCAttrs.cpp.inc"

void QCDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "QC/IR/QCAttrs.cpp.inc"
      >();
}

namespace {

using EmitErrorFn = llvm::function_ref<InFlightDiagnostic()>;

LogicalResult verifyScaleType(EmitErrorFn emitError, Type type) {
  if (!type || !(type.isF16() || type.isBF16() || type.isF32()))
    return emitError() << "scale_type must be f16, bf16 or f32, found "
                       << type;
  return success();
}

LogicalResult verifyGroup(EmitErrorFn emitError, int64_t group) {
  if (group != -1 && group <= 0)
    return emitError() << "group must be positive or -1 (the whole axis), "
                          "found "
                       << group;
  return success();
}

/// The group size along an axis of `size` (-1: the whole axis).
int64_t groupSize(int64_t group, int64_t size) {
  return group == -1 ? size : group;
}

/// Checks that `group` fits the axis it groups. A group that does not
/// divide the axis leaves a shorter last group (as GPTQ and MatMulNBits
/// do: SmolLM2's K = 576 with groups of 128); one longer than the axis is
/// refused.
LogicalResult verifyGroupFits(EmitErrorFn emitError, int64_t group,
                              int64_t size, StringRef axis) {
  if (groupSize(group, size) > size)
    return emitError() << "group " << group << " is larger than " << axis
                       << " = " << size;
  return success();
}

/// Number of groups along an axis, the last one possibly partial.
int64_t numGroups(int64_t group, int64_t size) {
  int64_t g = groupSize(group, size);
  return (size + g - 1) / g;
}

int64_t bytesOf(Type type) { return (type.getIntOrFloatBitWidth() + 7) / 8; }

int64_t packedBytes(int64_t count, double bits) {
  return static_cast<int64_t>((static_cast<double>(count) * bits + 7) / 8);
}

} // namespace

//===----------------------------------------------------------------------===//
// UniformAttr
//===----------------------------------------------------------------------===//

LogicalResult UniformAttr::verify(EmitErrorFn emitError, unsigned bits,
                                  int64_t group, bool perIC, bool symmetric,
                                  Type scaleType) {
  if (bits < 2 || bits > 8)
    return emitError() << "uniform bits must be in [2, 8], found " << bits;
  if (failed(verifyGroup(emitError, group)))
    return failure();
  return verifyScaleType(emitError, scaleType);
}

LogicalResult UniformAttr::verifyShape(int64_t k, int64_t n,
                                       EmitErrorFn emitError) const {
  return getPerIc() ? verifyGroupFits(emitError, getGroup(), n, "N")
                     : verifyGroupFits(emitError, getGroup(), k, "K");
}

void UniformAttr::getOperandShapes(int64_t k, int64_t n,
                                   SmallVectorImpl<int64_t> &codes,
                                   SmallVectorImpl<int64_t> &scales,
                                   SmallVectorImpl<int64_t> &zeros,
                                   SmallVectorImpl<int64_t> &codebook) const {
  codes.assign({k, n});
  if (getPerIc())
    scales.assign({k, numGroups(getGroup(), n)});
  else
    scales.assign({numGroups(getGroup(), k), n});
  zeros.clear();
  if (!getSymmetric())
    zeros.assign(scales.begin(), scales.end());
  codebook.clear();
}

double UniformAttr::getCodeBits() const { return getBits(); }

int64_t UniformAttr::getStorageBytes(int64_t k, int64_t n) const {
  int64_t groups = getPerIc() ? k * (numGroups(getGroup(), n))
                               : (numGroups(getGroup(), k)) * n;
  int64_t bytes = packedBytes(k * n, getBits()) +
                  groups * bytesOf(getScaleType());
  if (!getSymmetric())
    bytes += packedBytes(groups, getBits());
  return bytes;
}

std::string UniformAttr::getShortName() const {
  std::string name = "w" + std::to_string(getBits());
  if (getGroup() != -1)
    name += "g" + std::to_string(getGroup());
  if (getPerIc())
    name += "ic";
  if (getSymmetric())
    name += "s";
  return name;
}

//===----------------------------------------------------------------------===//
// BCQAttr
//===----------------------------------------------------------------------===//

LogicalResult BCQAttr::verify(EmitErrorFn emitError, unsigned planes,
                              int64_t group, bool offset, Type scaleType,
                              unsigned storedPlanes) {
  if (planes < 1 || planes > 8)
    return emitError() << "bcq planes must be in [1, 8], found " << planes;
  if (storedPlanes != 0 && (storedPlanes < planes || storedPlanes > 8))
    return emitError() << "bcq stored_planes must be in [planes, 8] = ["
                       << planes << ", 8], found " << storedPlanes;
  if (failed(verifyGroup(emitError, group)))
    return failure();
  return verifyScaleType(emitError, scaleType);
}

LogicalResult BCQAttr::verifyShape(int64_t k, int64_t n,
                                   EmitErrorFn emitError) const {
  return verifyGroupFits(emitError, getGroup(), k, "K");
}

void BCQAttr::getOperandShapes(int64_t k, int64_t n,
                               SmallVectorImpl<int64_t> &codes,
                               SmallVectorImpl<int64_t> &scales,
                               SmallVectorImpl<int64_t> &zeros,
                               SmallVectorImpl<int64_t> &codebook) const {
  int64_t groups = numGroups(getGroup(), k);
  codes.assign({k, n});
  scales.assign({static_cast<int64_t>(getPlanes()), groups, n});
  zeros.clear();
  if (getOffset())
    zeros.assign({groups, n});
  codebook.clear();
}

double BCQAttr::getCodeBits() const { return getPlanes(); }

int64_t BCQAttr::getStorageBytes(int64_t k, int64_t n) const {
  int64_t groups = (numGroups(getGroup(), k)) * n;
  int64_t scaleBytes = bytesOf(getScaleType());
  return packedBytes(k * n, getPlanesInCodes()) +
         groups * scaleBytes * (getPlanes() + (getOffset() ? 1 : 0));
}

std::string BCQAttr::getShortName() const {
  std::string name = "bcq" + std::to_string(getPlanes());
  if (getStoredPlanes())
    name += "of" + std::to_string(getStoredPlanes());
  if (getGroup() != -1)
    name += "g" + std::to_string(getGroup());
  return name;
}

//===----------------------------------------------------------------------===//
// CodebookAttr
//===----------------------------------------------------------------------===//

LogicalResult CodebookAttr::verify(EmitErrorFn emitError, unsigned vectorSize,
                                   unsigned entries, unsigned books,
                                   Type scaleType) {
  if (vectorSize < 1 || vectorSize > 64)
    return emitError() << "codebook vector_size must be in [1, 64], found "
                       << vectorSize;
  if (entries < 2 || entries > (1u << 16))
    return emitError() << "codebook entries must be in [2, 65536] (a 16-bit "
                          "index at most), found "
                       << entries;
  if (books < 1 || books > 4)
    return emitError() << "codebook books must be in [1, 4], found " << books;
  return verifyScaleType(emitError, scaleType);
}

unsigned CodebookAttr::getIndexBits() const {
  return llvm::Log2_32_Ceil(getEntries());
}

LogicalResult CodebookAttr::verifyShape(int64_t k, int64_t n,
                                        EmitErrorFn emitError) const {
  if (k % getVectorSize() != 0)
    return emitError() << "codebook vector_size " << getVectorSize()
                       << " does not divide K = " << k;
  return success();
}

void CodebookAttr::getOperandShapes(int64_t k, int64_t n,
                                    SmallVectorImpl<int64_t> &codes,
                                    SmallVectorImpl<int64_t> &scales,
                                    SmallVectorImpl<int64_t> &zeros,
                                    SmallVectorImpl<int64_t> &codebook) const {
  int64_t books = getBooks(), v = getVectorSize();
  codes.assign({books, k / v, n});
  scales.assign({n});
  zeros.clear();
  codebook.assign({books, static_cast<int64_t>(getEntries()), v});
}

double CodebookAttr::getCodeBits() const {
  return static_cast<double>(getBooks() * getIndexBits()) / getVectorSize();
}

int64_t CodebookAttr::getStorageBytes(int64_t k, int64_t n) const {
  int64_t books = getBooks(), v = getVectorSize();
  // Codebooks are stored in f16.
  return packedBytes(books * (k / v) * n, getIndexBits()) +
         books * static_cast<int64_t>(getEntries()) * v * 2 +
         n * bytesOf(getScaleType());
}

std::string CodebookAttr::getShortName() const {
  return "cb" + std::to_string(getBooks()) + "x" +
         std::to_string(getIndexBits()) + "v" +
         std::to_string(getVectorSize());
}

//===----------------------------------------------------------------------===//
// FloatFormatAttr
//===----------------------------------------------------------------------===//

LogicalResult FloatFormatAttr::verify(EmitErrorFn emitError,
                                      FloatFormat format, unsigned bits,
                                      int64_t block) {
  switch (format) {
  case FloatFormat::fp8e4m3:
    if (bits != 8)
      return emitError() << "fp8e4m3 has 8 bits, found " << bits;
    return success();
  case FloatFormat::mxfp4:
  case FloatFormat::amxfp4:
    if (bits != 4)
      return emitError() << stringifyFloatFormat(format)
                         << " has 4 bits, found " << bits;
    if (block != 32)
      return emitError() << stringifyFloatFormat(format)
                         << " shares one scale per block of 32, found "
                         << block;
    return success();
  case FloatFormat::dint:
    if (bits < 3 || bits > 8)
      return emitError() << "dint bits must be in [3, 8], found " << bits;
    return verifyGroup(emitError, block);
  }
  return emitError() << "unknown float format";
}

LogicalResult FloatFormatAttr::verifyShape(int64_t k, int64_t n,
                                           EmitErrorFn emitError) const {
  if (getFormat() == FloatFormat::fp8e4m3)
    return success();
  return verifyGroupFits(emitError, getBlock(), k, "K");
}

void FloatFormatAttr::getOperandShapes(
    int64_t k, int64_t n, SmallVectorImpl<int64_t> &codes,
    SmallVectorImpl<int64_t> &scales, SmallVectorImpl<int64_t> &zeros,
    SmallVectorImpl<int64_t> &codebook) const {
  codes.assign({k, n});
  zeros.clear();
  codebook.clear();
  int64_t blocks =
      getFormat() == FloatFormat::fp8e4m3 ? 1 : numGroups(getBlock(), k);
  if (getFormat() == FloatFormat::amxfp4)
    scales.assign({2, blocks, n});
  else
    scales.assign({blocks, n});
}

double FloatFormatAttr::getCodeBits() const { return getBits(); }

int64_t FloatFormatAttr::getStorageBytes(int64_t k, int64_t n) const {
  int64_t codes = packedBytes(k * n, getBits());
  switch (getFormat()) {
  case FloatFormat::fp8e4m3:
    return codes + n * 4;
  case FloatFormat::mxfp4:
    return codes + numGroups(32, k) * n; // one E8M0 byte per block
  case FloatFormat::amxfp4:
    return codes + 2 * numGroups(32, k) * n;
  case FloatFormat::dint:
    return codes + (numGroups(getBlock(), k)) * n * 2; // f16 scales
  }
  return codes;
}

std::string FloatFormatAttr::getShortName() const {
  if (getFormat() == FloatFormat::dint)
    return "dint" + std::to_string(getBits()) + "g" +
           std::to_string(getBlock());
  return stringifyFloatFormat(getFormat()).str();
}

//===----------------------------------------------------------------------===//
// Short names
//===----------------------------------------------------------------------===//

namespace {

/// Consumes a decimal number at the front of `text`.
bool consumeNumber(StringRef &text, int64_t &value) {
  size_t digits = 0;
  while (digits < text.size() && llvm::isDigit(text[digits]))
    ++digits;
  if (digits == 0 || text.take_front(digits).getAsInteger(10, value))
    return false;
  text = text.drop_front(digits);
  return true;
}

} // namespace

QuantSchemeAttrInterface qc::parseQuantScheme(MLIRContext *context,
                                              StringRef name,
                                              std::string &error) {
  Type f16 = Float16Type::get(context);
  StringRef text = name.trim();
  auto fail = [&](const Twine &why) -> QuantSchemeAttrInterface {
    error = ("bad scheme '" + name + "': " + why).str();
    return {};
  };
  // Builds through the verifier so bad numbers are refused, not asserted.
  auto check = [&](auto attr) -> QuantSchemeAttrInterface {
    if (!attr)
      return fail("parameters out of range");
    return cast<QuantSchemeAttrInterface>(attr);
  };
  auto emitError = [&]() {
    return mlir::emitError(UnknownLoc::get(context));
  };
  ScopedDiagnosticHandler silence(context, [](Diagnostic &) {
    return success();
  });

  if (text == "fp8" || text == "fp8e4m3")
    return check(FloatFormatAttr::getChecked(emitError, context,
                                             FloatFormat::fp8e4m3, 8, -1));
  if (text == "mxfp4" || text == "amxfp4")
    return check(FloatFormatAttr::getChecked(
        emitError, context,
        text == "mxfp4" ? FloatFormat::mxfp4 : FloatFormat::amxfp4, 4, 32));

  int64_t bits = 0, group = -1;
  auto parseGroup = [&]() -> bool {
    if (!text.consume_front("g"))
      return true;
    return consumeNumber(text, group);
  };
  if (text.consume_front("dint")) {
    if (!consumeNumber(text, bits) || !parseGroup() || !text.empty())
      return fail("expected dint<bits>[g<group>]");
    return check(FloatFormatAttr::getChecked(emitError, context,
                                             FloatFormat::dint, bits, group));
  }
  if (text.consume_front("bcq")) {
    int64_t stored = 0;
    if (!consumeNumber(text, bits) ||
        (text.consume_front("of") && !consumeNumber(text, stored)) ||
        !parseGroup() || !text.empty())
      return fail("expected bcq<planes>[of<stored planes>][g<group>]");
    return check(BCQAttr::getChecked(emitError, context, bits, group,
                                     /*offset=*/true, f16,
                                     static_cast<unsigned>(stored)));
  }
  if (text.consume_front("cb")) {
    int64_t books = 0, indexBits = 0, vector = 8;
    if (!consumeNumber(text, books) || !text.consume_front("x") ||
        !consumeNumber(text, indexBits))
      return fail("expected cb<books>x<index bits>[v<vector size>]");
    if (text.consume_front("v") && !consumeNumber(text, vector))
      return fail("expected a vector size after 'v'");
    if (!text.empty() || indexBits < 1 || indexBits > 16)
      return fail("expected cb<books>x<index bits 1..16>[v<vector size>]");
    return check(CodebookAttr::getChecked(emitError, context, vector,
                                          1u << indexBits, books, f16));
  }
  if (text.consume_front("w")) {
    if (!consumeNumber(text, bits) || !parseGroup())
      return fail("expected w<bits>[g<group>][ic][s]");
    bool perIC = text.consume_front("ic");
    bool symmetric = text.consume_front("s");
    if (!text.empty())
      return fail("unexpected '" + text + "'");
    return check(UniformAttr::getChecked(emitError, context, bits, group,
                                         perIC, symmetric, f16));
  }
  return fail("expected w<bits>g<group>, bcq<planes>g<group>, cb<books>x<bits>, "
              "fp8, mxfp4, amxfp4 or dint<bits>g<group>");
}

//===----------------------------------------------------------------------===//
// ActivationAttr
//===----------------------------------------------------------------------===//

LogicalResult ActivationAttr::verify(EmitErrorFn emitError, ActKind kind,
                                     int64_t block, FloatAttr scale,
                                     int64_t zeroPoint) {
  if (scale) {
    double s = scale.getValueAsDouble();
    if (kind != ActKind::int8 || block != -1)
      return emitError() << "a static activation scale needs int8 activations "
                            "with one block per tensor (block = -1)";
    if (!scale.getType().isF32() || !std::isfinite(s) || s <= 0 ||
        static_cast<float>(s) < std::numeric_limits<float>::min())
      return emitError() << "a static activation scale must be a positive, "
                            "normal f32, found "
                         << s;
  }
  if (zeroPoint < -128 || zeroPoint > 127)
    return emitError() << "activation zero point " << zeroPoint
                       << " is not in [-128, 127]";
  if (zeroPoint != 0 && !scale)
    return emitError() << "an activation zero point needs a static scale";
  if (kind == ActKind::uint8 && (block != -1 || scale))
    return emitError() << "uint8 activations take one dynamic scale per "
                          "tensor (block = -1, no scale)";
  if ((kind == ActKind::mxfp4 || kind == ActKind::amxfp4) && block != 32)
    return emitError() << stringifyActKind(kind)
                       << " activations share their scales per block of 32, "
                          "found "
                       << block;
  if (block != -1 && block < 1)
    return emitError() << "activation block must be positive or -1 (the "
                          "whole row), found "
                       << block;
  return success();
}

int64_t ActivationAttr::getIntLimit() const {
  switch (getKind()) {
  case ActKind::int8:
    return 127;
  case ActKind::int4:
    return 7;
  case ActKind::mxfp4:
  case ActKind::amxfp4:
  case ActKind::dint4:
  case ActKind::uint8:
    return 0;
  }
  return 0;
}

std::string ActivationAttr::getShortName() const {
  std::string name = stringifyActKind(getKind()).str();
  if (isStatic())
    return name + "s";
  if (getKind() == ActKind::mxfp4 || getKind() == ActKind::amxfp4 ||
      getKind() == ActKind::uint8)
    return name;
  return name + (getBlock() == -1 ? std::string("t")
                                  : "b" + std::to_string(getBlock()));
}

FailureOr<ActivationAttr> qc::activationFor(StringRef name,
                                            QuantSchemeAttrInterface scheme,
                                            std::string &error) {
  MLIRContext *ctx = scheme.getContext();
  auto group = [&]() -> int64_t {
    if (auto u = dyn_cast<UniformAttr>(scheme))
      return u.getPerIc() ? -1 : u.getGroup();
    if (auto bcq = dyn_cast<BCQAttr>(scheme))
      return bcq.getGroup();
    return -1;
  };
  auto blockOf = [](int64_t g) -> int64_t {
    return g == -1 ? 128 : static_cast<int64_t>(std::gcd<uint64_t>(g, 128));
  };
  if (name == "auto")
    return isa<UniformAttr, BCQAttr>(scheme)
               ? ActivationAttr::get(ctx, ActKind::int8, blockOf(group()))
               : ActivationAttr();
  if (name == "f32")
    return ActivationAttr();
  if (name == "mxfp4")
    return ActivationAttr::get(ctx, ActKind::mxfp4, 32);
  if (name == "amxfp4")
    return ActivationAttr::get(ctx, ActKind::amxfp4, 32);
  if (name == "uint8")
    return ActivationAttr::get(ctx, ActKind::uint8, -1);
  if (isStaticActivationName(name))
    return ActivationAttr::get(ctx, /*scale=*/1.0f, /*zeroPoint=*/0);
  auto unknown = [&]() -> FailureOr<ActivationAttr> {
    error = "unknown activation scheme '" + name.str() +
            "' (auto, f32, int8, int8t, int8b<B>, int4, int4t, int4b<B>, "
            "dint4, dint4t, dint4b<B>, mxfp4, amxfp4, uint8, int8s)";
    return failure();
  };
  StringRef rest = name;
  ActKind kind;
  if (rest.consume_front("int8"))
    kind = ActKind::int8;
  else if (rest.consume_front("dint4"))
    kind = ActKind::dint4;
  else if (rest.consume_front("int4"))
    kind = ActKind::int4;
  else
    return unknown();
  int64_t block = blockOf(group());
  if (rest == "t") {
    block = -1;
  } else if (rest.consume_front("b")) {
    if (rest.getAsInteger(10, block) || block < 1) {
      error = "activation scheme '" + name.str() +
              "': the block must be a positive integer";
      return failure();
    }
  } else if (!rest.empty()) {
    return unknown();
  }
  return ActivationAttr::get(ctx, kind, block);
}
