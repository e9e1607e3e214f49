//===- ONNXImporter.cpp - ONNX graph to MLIR: the graph walk --------------===//

#include "Importer.h"
#include "qc/Import/ModelLoader.h"
#include "qc/Import/ONNX.h"
#include "qc/Transforms/Passes.h"
#include "QC/IR/QCDialect.h"
#include "qcrt/Npy.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include <cstring>

using namespace mlir;
using namespace qc;
using namespace qc::detail;
using TP = onnx::TensorProto;

//===----------------------------------------------------------------------===//
// Import context and node context
//===----------------------------------------------------------------------===//

std::string ImportContext::uniqueResourceName(StringRef hint) {
  std::string base;
  for (char c : hint)
    base.push_back(llvm::isAlnum(c) || c == '_' || c == '.' ? c : '_');
  if (base.empty() || llvm::isDigit(base[0]))
    base = "w_" + base;
  unsigned &count = resourceNames[base];
  std::string name = count == 0 ? base : base + "_" + std::to_string(count);
  ++count;
  return name;
}

Value ImportContext::materialize(TensorInfo &info, Location loc) {
  if (info.value || !info.constant)
    return info.value;
  const HostTensor &t = *info.constant;
  MLIRContext *ctx = builder.getContext();
  Type elt = toMLIRType(ctx, t.dtype);
  auto type = RankedTensorType::get(t.shape, elt);
  // Constants live at the top of the entry block so that every use is
  // dominated whatever node first asked for them.
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(&func.getBody().front());
  Attribute attr;
  bool blob = t.dtype != TP::BOOL &&
              (t.numElements() > 16 || (isFloat(t.dtype) && t.numElements() > 1));
  if (blob) {
    // Weights (every float tensor) and other large constants: a blob, never
    // a uniqued attribute. Small integer tensors (shapes, axes) stay inline.
    std::string key = uniqueResourceName(
        info.constantName.empty() ? "cst" : info.constantName);
    AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(t.data.data(), t.data.size()), alignof(uint64_t));
    attr = DenseResourceElementsAttr::get(type, key, std::move(blob));
  } else if (t.dtype == TP::BOOL) {
    SmallVector<bool> bits;
    for (char c : t.data)
      bits.push_back(c != 0);
    attr = DenseElementsAttr::get(type, bits);
  } else {
    attr = DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(t.data.data(), t.data.size()));
  }
  info.value = arith::ConstantOp::create(builder, loc, cast<TypedAttr>(attr));
  return info.value;
}

NodeContext::NodeContext(ImportContext &ic, const onnx::NodeProto &node,
                         Location loc)
    : node(node), loc(loc), b(ic.builder), ic(ic) {}

int64_t NodeContext::opset() const { return ic.opset; }

const onnx::GraphProto *NodeContext::attrGraph(StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  return a && a->has_g() ? &a->g() : nullptr;
}

LogicalResult NodeContext::importSubgraph(const onnx::GraphProto &graph) {
  return ic.importNodes(graph);
}

llvm::StringSet<> NodeContext::valueNames() const {
  llvm::StringSet<> names;
  for (const auto &entry : ic.values)
    names.insert(entry.getKey());
  return names;
}

void NodeContext::forgetValuesExcept(const llvm::StringSet<> &names) {
  SmallVector<std::string> added;
  for (const auto &entry : ic.values)
    if (!names.contains(entry.getKey()))
      added.push_back(entry.getKey().str());
  for (const std::string &name : added) {
    ic.values.erase(name);
    ic.producers.erase(name);
  }
}

void NodeContext::bindValue(StringRef name, Value value, DType dtype) {
  TensorInfo info;
  info.value = value;
  info.dtype = dtype;
  ic.values[name] = std::move(info);
}

void NodeContext::bindConstant(StringRef name, HostTensor value) {
  TensorInfo info;
  info.dtype = value.dtype;
  info.constant = std::move(value);
  ic.values[name] = std::move(info);
}

void NodeContext::setOutputLike(unsigned i, StringRef name) {
  TensorInfo info = ic.values.lookup(name);
  if (info.constant)
    setOutputConstant(i, *info.constant);
  else
    setOutput(i, valueOf(name), info.dtype);
}

bool NodeContext::hasInput(unsigned i) const {
  return i < static_cast<unsigned>(node.input_size()) &&
         !node.input(i).empty();
}

Value NodeContext::input(unsigned i) {
  if (!hasInput(i))
    return {};
  return valueOf(node.input(i));
}

Value NodeContext::valueOf(StringRef name) {
  auto it = ic.values.find(name);
  if (it == ic.values.end())
    return {};
  return ic.materialize(it->second, loc);
}

const onnx::NodeProto *NodeContext::producer(StringRef name) const {
  return ic.producers.lookup(name);
}

const HostTensor *NodeContext::constantOf(StringRef name) const {
  auto it = ic.values.find(name);
  if (it == ic.values.end() || !it->second.constant)
    return nullptr;
  return &*it->second.constant;
}

DType NodeContext::dtypeOf(StringRef name) const {
  auto it = ic.values.find(name);
  return it == ic.values.end() ? TP::UNDEFINED : it->second.dtype;
}

RankedTensorType NodeContext::inputType(unsigned i) {
  if (!hasInput(i))
    return {};
  auto it = ic.values.find(node.input(i));
  if (it == ic.values.end())
    return {};
  TensorInfo &info = it->second;
  if (info.value)
    return cast<RankedTensorType>(info.value.getType());
  Type elt = toMLIRType(ctx(), info.dtype);
  return RankedTensorType::get(info.constant->shape, elt);
}

DType NodeContext::inputDType(unsigned i) const {
  auto it = ic.values.find(node.input(i));
  return it == ic.values.end() ? TP::UNDEFINED : it->second.dtype;
}

const HostTensor *NodeContext::inputConstant(unsigned i) const {
  if (!hasInput(i))
    return nullptr;
  auto it = ic.values.find(node.input(i));
  if (it == ic.values.end() || !it->second.constant)
    return nullptr;
  return &*it->second.constant;
}

FailureOr<SmallVector<int64_t>> NodeContext::constantInts(unsigned i,
                                                          StringRef what) {
  const HostTensor *t = inputConstant(i);
  if (!t) {
    error() << what
            << " must be known at compile time (a constant or computed from "
               "static shapes)";
    return failure();
  }
  return t->toInts();
}

const onnx::AttributeProto *NodeContext::attr(StringRef name) const {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeContext::attrInt(StringRef name, int64_t dflt) const {
  const auto *a = attr(name);
  return a ? a->i() : dflt;
}
float NodeContext::attrFloat(StringRef name, float dflt) const {
  const auto *a = attr(name);
  return a ? a->f() : dflt;
}
std::string NodeContext::attrString(StringRef name, StringRef dflt) const {
  const auto *a = attr(name);
  return a ? a->s() : dflt.str();
}
SmallVector<int64_t> NodeContext::attrInts(StringRef name) const {
  const auto *a = attr(name);
  if (!a)
    return {};
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}
SmallVector<float> NodeContext::attrFloats(StringRef name) const {
  const auto *a = attr(name);
  if (!a)
    return {};
  return SmallVector<float>(a->floats().begin(), a->floats().end());
}

bool NodeContext::hasOutput(unsigned i) const {
  return i < static_cast<unsigned>(node.output_size()) &&
         !node.output(i).empty();
}

void NodeContext::setOutput(unsigned i, Value value, DType dtype) {
  if (!hasOutput(i))
    return;
  TensorInfo info;
  info.value = value;
  info.dtype = dtype;
  ic.values[node.output(i)] = std::move(info);
}

void NodeContext::setOutputConstant(unsigned i, HostTensor value) {
  if (!hasOutput(i))
    return;
  TensorInfo info;
  info.dtype = value.dtype;
  info.constantName = node.output(i);
  info.constant = std::move(value);
  ic.values[node.output(i)] = std::move(info);
}

InFlightDiagnostic NodeContext::error() {
  std::string name = node.name().empty()
                         ? (node.output_size() ? node.output(0) : "")
                         : node.name();
  return emitError(loc) << "node '" << name << "' (" << node.op_type()
                        << "): ";
}

Value NodeContext::constant(const HostTensor &t, StringRef nameHint) {
  TensorInfo info;
  info.dtype = t.dtype;
  info.constant = t;
  info.constantName = nameHint.str();
  return ic.materialize(info, loc);
}

Value NodeContext::scalar(Type type, double value) {
  if (auto ft = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, value));
  auto it = cast<IntegerType>(type);
  if (it.getWidth() == 1)
    return arith::ConstantOp::create(b, loc, b.getBoolAttr(value != 0));
  return arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(it, static_cast<int64_t>(value)));
}

Value NodeContext::empty(ArrayRef<int64_t> shape, Type elt) {
  return tensor::EmptyOp::create(b, loc, shape, elt);
}

Value NodeContext::filled(ArrayRef<int64_t> shape, Value s) {
  return linalg::FillOp::create(b, loc, s, empty(shape, s.getType()))
      .getResult(0);
}

FailureOr<int64_t> NodeContext::normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1)) {
    error() << "axis " << axis << " is out of range for rank " << rank;
    return failure();
  }
  return axis < 0 ? axis + rank : axis;
}

//===----------------------------------------------------------------------===//
// The graph walk
//===----------------------------------------------------------------------===//

namespace {

const OpRegistry &getRegistry() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    registerElementwiseOps(r);
    registerMatmulOps(r);
    registerShapeOps(r);
    registerSliceOps(r);
    registerGatherOps(r);
    registerPadTileOps(r);
    registerReductionOps(r);
    registerEinsumOps(r);
    registerNormalizationOps(r);
    registerAttentionOps(r);
    registerConvPoolOps(r);
    registerResizeOps(r);
    registerGridSampleOps(r);
    registerDFTOps(r);
    registerControlFlowOps(r);
    registerRecurrentOps(r);
    registerQuantOps(r); // last: it wraps the MatMul handler
    return r;
  }();
  return registry;
}

/// Why node `nc` cannot take its narrow-typed inputs (float8 / float4 /
/// E8M0 codes, 4- and 2-bit integers), or "": only casts, (de)quantization
/// and data movement know that their bytes are not plain int8 values.
std::string narrowTypeUse(NodeContext &nc, bool defaultDomain) {
  static const llvm::StringSet<> movers = {
      "Cast",  "CastLike",  "Identity", "Reshape", "Flatten",
      "Squeeze", "Unsqueeze", "Transpose", "Shape", "Size"};
  StringRef op = nc.node.op_type();
  for (unsigned i = 0; i < nc.numInputs(); ++i) {
    if (!nc.hasInput(i) || !isNarrowType(nc.inputDType(i)))
      continue;
    bool takes = defaultDomain &&
                 (movers.contains(op) ||
                  (op == "DequantizeLinear" && (i == 0 || i == 2)) ||
                  (op == "QuantizeLinear" && i == 2));
    if (!takes)
      return "input '" + nc.node.input(i) + "' is " +
             dtypeName(nc.inputDType(i)).str() +
             "; values of that type are only supported by Cast, CastLike, "
             "QuantizeLinear, DequantizeLinear and data movement (Identity, "
             "Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Shape, Size)";
  }
  return "";
}

/// Whether `dim` is a known size: exporters write -1 for an unknown one
/// (and ONNX's shape inference carries it), which is no size.
bool isStaticDim(const onnx::TensorShapeProto_Dimension &dim) {
  return dim.has_dim_value() && dim.dim_value() >= 0;
}

/// The static type of a graph input, with flags applied.
FailureOr<RankedTensorType>
inputTensorType(MLIRContext *ctx, const onnx::ValueInfoProto &vi,
                const ONNXImportOptions &options, Location loc) {
  if (!vi.type().has_tensor_type()) {
    emitError(loc) << "input '" << vi.name()
                   << "' is not a tensor (sequences, maps and optionals are "
                      "not supported)";
    return failure();
  }
  const auto &tt = vi.type().tensor_type();
  Type elt = toMLIRType(ctx, tt.elem_type());
  if (!elt) {
    emitError(loc) << "input '" << vi.name() << "' has unsupported element type "
                   << dtypeName(tt.elem_type());
    return failure();
  }
  SmallVector<int64_t> shape;
  auto flag = options.inputShapes.find(vi.name());
  if (flag != options.inputShapes.end()) {
    shape = flag->second;
    if (tt.has_shape() && tt.shape().dim_size() != (int)shape.size()) {
      emitError(loc) << "--input-shape for '" << vi.name() << "' has rank "
                     << shape.size() << " but the model's input has rank "
                     << tt.shape().dim_size();
      return failure();
    }
  } else {
    if (!tt.has_shape()) {
      emitError(loc) << "input '" << vi.name()
                     << "' has no shape; give it with --input-shape "
                     << vi.name() << "=D0xD1x...";
      return failure();
    }
    for (int i = 0, e = tt.shape().dim_size(); i < e; ++i) {
      const auto &dim = tt.shape().dim(i);
      if (isStaticDim(dim)) {
        shape.push_back(dim.dim_value());
        continue;
      }
      if (dim.has_dim_param()) {
        auto v = options.dimValues.find(dim.dim_param());
        if (v != options.dimValues.end()) {
          shape.push_back(v->second);
          continue;
        }
        emitError(loc) << "input '" << vi.name() << "' dimension " << i
                       << " is symbolic ('" << dim.dim_param()
                       << "'); give it with --dim " << dim.dim_param()
                       << "=N or --input-shape " << vi.name() << "=...";
        return failure();
      }
      emitError(loc) << "input '" << vi.name() << "' dimension " << i
                     << " is unknown; give the shape with --input-shape "
                     << vi.name() << "=...";
      return failure();
    }
  }
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      emitError(loc) << "input '" << vi.name() << "' has negative dimension "
                     << d;
      return failure();
    }
    if (d != 0 && n > (int64_t(1) << 40) / d) {
      emitError(loc) << "input '" << vi.name()
                     << "' has an absurd shape (more than 2^40 elements)";
      return failure();
    }
    n *= d;
  }
  return RankedTensorType::get(shape, elt);
}

/// Checks a node's outputs against ONNX shape inference where it gave a
/// static shape; a difference means the importer has a bug.
LogicalResult
crossCheck(NodeContext &nc, ImportContext &ic,
           const llvm::StringMap<const onnx::TypeProto *> &inferred) {
  for (unsigned i = 0; i < nc.numOutputs(); ++i) {
    if (!nc.hasOutput(i))
      continue;
    auto it = inferred.find(nc.node.output(i));
    auto vit = ic.values.find(nc.node.output(i));
    if (vit == ic.values.end()) {
      nc.error() << "produced no value for output '" << nc.node.output(i)
                 << "'";
      return failure();
    }
    if (it == inferred.end() || !it->second->has_tensor_type())
      continue;
    const auto &tt = it->second->tensor_type();
    const TensorInfo &info = vit->second;
    if (tt.elem_type() != 0 && tt.elem_type() != info.dtype) {
      nc.error() << "output '" << nc.node.output(i) << "' has element type "
                 << dtypeName(info.dtype) << " but ONNX infers "
                 << dtypeName(tt.elem_type());
      return failure();
    }
    if (!tt.has_shape())
      continue;
    ArrayRef<int64_t> shape =
        info.value ? cast<RankedTensorType>(info.value.getType()).getShape()
                   : ArrayRef<int64_t>(info.constant->shape);
    if (tt.shape().dim_size() != static_cast<int>(shape.size())) {
      nc.error() << "output '" << nc.node.output(i) << "' has rank "
                 << shape.size() << " but ONNX infers rank "
                 << tt.shape().dim_size();
      return failure();
    }
    for (int d = 0, e = tt.shape().dim_size(); d < e; ++d)
      if (isStaticDim(tt.shape().dim(d)) &&
          tt.shape().dim(d).dim_value() != shape[d]) {
        nc.error() << "output '" << nc.node.output(i) << "' dimension " << d
                   << " is " << shape[d] << " but ONNX infers "
                   << tt.shape().dim(d).dim_value();
        return failure();
      }
  }
  return success();
}

/// Reads the .npy file bound to graph input `vi`; its dtype must be the
/// input's and its shape must agree with every static dimension.
FailureOr<HostTensor> readBoundInput(const onnx::ValueInfoProto &vi,
                                     StringRef file, Location loc) {
  npy::Array array;
  std::string error;
  if (!npy::readNpyFile(file.str(), array, error)) {
    emitError(loc) << "--bind-input '" << vi.name() << "': " << error;
    return failure();
  }
  if (!vi.type().has_tensor_type()) {
    emitError(loc) << "--bind-input: input '" << vi.name()
                   << "' is not a tensor";
    return failure();
  }
  const auto &tt = vi.type().tensor_type();
  StringRef want = dtypeName(tt.elem_type());
  if (want.empty() || want != npy::dtypeName(array.dtype())) {
    emitError(loc) << "--bind-input '" << vi.name() << "': " << file
                   << " holds " << npy::dtypeName(array.dtype())
                   << " but the input is " << (want.empty() ? "?" : want);
    return failure();
  }
  const std::vector<int64_t> &shape = array.shape();
  bool agrees = !tt.has_shape() ||
                tt.shape().dim_size() == static_cast<int>(shape.size());
  for (int i = 0; agrees && tt.has_shape() && i < tt.shape().dim_size(); ++i)
    if (isStaticDim(tt.shape().dim(i)) &&
        tt.shape().dim(i).dim_value() != shape[i])
      agrees = false;
  if (!agrees) {
    emitError(loc) << "--bind-input '" << vi.name() << "': " << file
                   << " has shape " << npy::formatShape(shape)
                   << ", which the input's declared shape does not allow";
    return failure();
  }
  HostTensor t;
  t.dtype = tt.elem_type();
  t.shape.assign(shape.begin(), shape.end());
  const char *bytes = static_cast<const char *>(array.data());
  t.data.assign(bytes, bytes + array.byteSize());
  return t;
}

} // namespace

LogicalResult ImportContext::importNodes(const onnx::GraphProto &graph) {
  llvm::StringMap<const onnx::TypeProto *> inferred;
  for (const auto &vi : graph.value_info())
    inferred[vi.name()] = &vi.type();
  for (const auto &vi : graph.output())
    if (vi.has_type())
      inferred[vi.name()] = &vi.type();

  const OpRegistry &registry = getRegistry();
  Location fileLoc = FileLineColLoc::get(builder.getContext(), fileName, 0, 0);
  for (const auto &node : graph.node()) {
    std::string name = node.name().empty()
                           ? (node.output_size() ? node.output(0) : "")
                           : node.name();
    Location loc = NameLoc::get(builder.getStringAttr(name), fileLoc);
    NodeContext nc(*this, node, loc);
    // Ops of other domains are registered as "domain::OpType"; of those
    // only com.microsoft::MatMulNBits is.
    bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
    std::string opKey =
        defaultDomain ? node.op_type() : node.domain() + "::" + node.op_type();
    if (!defaultDomain && !registry.lookup(opKey)) {
      nc.error() << "unsupported op '" << node.domain() << "::"
                 << node.op_type() << "' (domain not supported)";
      return failure();
    }
    for (unsigned i = 0; i < nc.numInputs(); ++i)
      if (nc.hasInput(i) && !values.count(node.input(i))) {
        nc.error() << "input '" << node.input(i)
                   << "' is not produced by any earlier node";
        return failure();
      }
    if (std::string e = narrowTypeUse(nc, defaultDomain); !e.empty()) {
      nc.error() << e;
      return failure();
    }
    const OpHandler *handler = registry.lookup(opKey);
    if (!handler) {
      nc.error() << "unsupported op '" << node.op_type() << "'";
      return failure();
    }
    if (defaultDomain)
      if (std::string e = checkSignature(
              node, opset, [&](int i) { return nc.inputDType(i); });
          !e.empty()) {
        nc.error() << e;
        return failure();
      }
    if (failed((*handler)(nc)))
      return failure();
    if (failed(crossCheck(nc, *this, inferred)))
      return failure();
    for (const std::string &output : node.output())
      if (!output.empty())
        producers[output] = &node;
  }

  return success();
}

OwningOpRef<ModuleOp> qc::importONNXFile(StringRef path, MLIRContext *context,
                                         const ONNXImportOptions &options) {
  LoadedModel loaded;
  std::string err =
      options.kvCacheLength > 0
          ? "--context builds the key-value cache form of GGUF models; an "
            "ONNX model brings its own (GroupQueryAttention's past and "
            "present inputs)"
          : loadModel(path.str(), options.runChecker, loaded);
  if (!err.empty()) {
    emitError(FileLineColLoc::get(context, path, 0, 0)) << err;
    return {};
  }
  return importLoadedModel(loaded, path, context, options);
}

OwningOpRef<ModuleOp>
qc::detail::importLoadedModel(const LoadedModel &loaded, StringRef path,
                              MLIRContext *context,
                              const ONNXImportOptions &options) {
  context->loadDialect<func::FuncDialect, arith::ArithDialect,
                       linalg::LinalgDialect, tensor::TensorDialect,
                       math::MathDialect, scf::SCFDialect, qc::QCDialect>();
  Location fileLoc = FileLineColLoc::get(context, path, 0, 0);
  const onnx::GraphProto &graph = loaded.model.graph();

  OpBuilder builder(context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  module->getOperation()->setAttr("qc.onnx.opset",
                                  builder.getI64IntegerAttr(loaded.opset));
  module->getOperation()->setAttr(
      "qc.onnx.producer",
      builder.getStringAttr(loaded.model.producer_name()));
  ImportContext ic(*module, builder, path, loaded.opset);

  // Initializers first: old models also list them as graph inputs.
  llvm::StringSet<> initializerNames;
  for (const auto &init : graph.initializer()) {
    TensorInfo info;
    HostTensor t;
    std::string e = decodeTensor(init, t);
    if (!e.empty()) {
      emitError(fileLoc) << "initializer '" << init.name() << "': " << e;
      return {};
    }
    info.dtype = t.dtype;
    info.constant = std::move(t);
    info.constantName = init.name();
    ic.values[init.name()] = std::move(info);
    initializerNames.insert(init.name());
  }

  // Inputs bound to .npy files become constants, like initializers.
  for (const auto &[name, file] : options.boundInputs) {
    const onnx::ValueInfoProto *vi = nullptr;
    for (const auto &input : graph.input())
      if (input.name() == name.str() && !initializerNames.contains(name))
        vi = &input;
    if (!vi) {
      emitError(fileLoc) << "--bind-input: the graph has no input '" << name
                         << "'";
      return {};
    }
    FailureOr<HostTensor> bound = readBoundInput(*vi, file, fileLoc);
    if (failed(bound))
      return {};
    TensorInfo info;
    info.dtype = bound->dtype;
    info.constant = std::move(*bound);
    info.constantName = name.str();
    ic.values[name] = std::move(info);
    initializerNames.insert(name);
  }

  SmallVector<Type> argTypes;
  SmallVector<const onnx::ValueInfoProto *> inputs;
  for (const auto &vi : graph.input()) {
    if (initializerNames.contains(vi.name()))
      continue;
    FailureOr<RankedTensorType> type =
        inputTensorType(context, vi, options, fileLoc);
    if (failed(type))
      return {};
    argTypes.push_back(*type);
    inputs.push_back(&vi);
  }

  auto func = func::FuncOp::create(
      builder, fileLoc, options.entryName,
      builder.getFunctionType(argTypes, {}));
  module->push_back(func);
  ic.func = func;
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToEnd(entry);
  for (auto [i, vi] : llvm::enumerate(inputs)) {
    TensorInfo info;
    info.value = entry->getArgument(i);
    info.dtype = vi->type().tensor_type().elem_type();
    ic.values[vi->name()] = std::move(info);
    func.setArgAttr(i, "qc.name", builder.getStringAttr(vi->name()));
    func.setArgAttr(i, kDTypeAttrName,
                    builder.getStringAttr(dtypeName(info.dtype)));
  }

  if (failed(ic.importNodes(graph)))
    return {};

  SmallVector<Value> results;
  for (const auto &vi : graph.output()) {
    auto it = ic.values.find(vi.name());
    if (it == ic.values.end()) {
      emitError(fileLoc) << "graph output '" << vi.name()
                         << "' is not produced by any node";
      return {};
    }
    results.push_back(ic.materialize(it->second, fileLoc));
  }
  func::ReturnOp::create(builder, fileLoc, results);
  finishQuantOps(func);
  func.setFunctionType(
      builder.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (auto [i, vi] : llvm::enumerate(graph.output())) {
    func.setResultAttr(i, "qc.name", builder.getStringAttr(vi.name()));
    func.setResultAttr(
        i, kDTypeAttrName,
        builder.getStringAttr(dtypeName(ic.values[vi.name()].dtype)));
  }
  // A handler that built invalid IR is a bug in qc: say so here (after
  // the verifier's own message) rather than let the passes meet it.
  if (failed(verify(*module))) {
    emitError(fileLoc) << "internal error: the imported graph does not "
                          "verify (a bug in qc's importer; the verifier's "
                          "message is above)";
    return {};
  }
  return module;
}

void qc::registerONNXImportDialects(DialectRegistry &registry) {
  registry.insert<func::FuncDialect, arith::ArithDialect,
                  linalg::LinalgDialect, tensor::TensorDialect,
                  math::MathDialect, scf::SCFDialect, qc::QCDialect>();
}

static std::string parseDims(StringRef text, SmallVectorImpl<int64_t> &dims) {
  if (text.empty() || text == "scalar")
    return "";
  SmallVector<StringRef> parts;
  text.split(parts, 'x');
  for (StringRef p : parts) {
    int64_t v;
    if (p.getAsInteger(10, v) || v < 0)
      return "'" + p.str() + "' is not a dimension";
    dims.push_back(v);
  }
  return "";
}

std::string qc::parseInputShapeFlag(StringRef text,
                                    ONNXImportOptions &options) {
  auto [name, dims] = text.rsplit('=');
  if (name.empty() || !text.contains('='))
    return "expected NAME=D0xD1x..., found '" + text.str() + "'";
  SmallVector<int64_t> shape;
  std::string e = parseDims(dims, shape);
  if (!e.empty())
    return "--input-shape " + text.str() + ": " + e;
  options.inputShapes[name] = shape;
  return "";
}

std::string qc::parseDimFlag(StringRef text, ONNXImportOptions &options) {
  auto [name, value] = text.rsplit('=');
  int64_t v;
  if (name.empty() || value.getAsInteger(10, v) || v < 0)
    return "expected --dim NAME=N with N >= 0, found '" + text.str() + "'";
  options.dimValues[name] = v;
  return "";
}

std::string qc::parseBindInputFlag(StringRef text,
                                   ONNXImportOptions &options) {
  auto [name, file] = text.split('=');
  if (name.empty() || file.empty())
    return "expected --bind-input NAME=FILE.npy, found '" + text.str() + "'";
  if (!options.boundInputs.try_emplace(name, file.str()).second)
    return "input '" + name.str() + "' is bound twice";
  return "";
}
