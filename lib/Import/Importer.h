//===- Importer.h - internals shared by the ONNX op importers ---*- C++ -*-===//
//
// The importer walks the ONNX graph in order and hands each node to the
// handler registered for its op type. A handler reads its inputs and
// attributes through a NodeContext, emits linalg / tensor / arith / math ops
// on tensors, and binds the node's outputs. Small integer tensors whose value
// is known at import time (shapes, axes, indices) travel as HostTensors as
// well, so that shape computations fold and every tensor type stays static.
//
//===----------------------------------------------------------------------===//

#ifndef QC_LIB_IMPORT_IMPORTER_H
#define QC_LIB_IMPORT_IMPORTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include "HostTensor.h"
#include "QC/IR/QCAttrs.h"
#include "onnx/onnx_pb.h"

#include <functional>
#include <optional>
#include <vector>

namespace qc {
namespace detail {

/// Cast's attributes for the narrow float types: `saturate` (an overflow
/// is the largest finite value, not infinity / NaN) and E8M0's rounding.
struct CastOptions {
  bool saturate = true;
  smallfloat::E8M0Rounding rounding = smallfloat::E8M0Rounding::Up;
};

/// A narrow float's one-byte code (i8) as f32 (NarrowTypes.cpp).
mlir::Value decodeNarrowFloat(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::Value code, DType dtype);
/// The code of f32 `x` in narrow float `dtype`, rounded to nearest even.
mlir::Value encodeNarrowFloat(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::Value x, DType dtype,
                              const CastOptions &options);
/// An i32 wrapped into int4 / uint4 / int2 / uint2 (its low bits, sign- or
/// zero-extended into the i8 that holds it).
mlir::Value wrapSubByteInt(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value v, DType dtype);

/// What the importer knows about one ONNX value.
struct TensorInfo {
  mlir::Value value; // Materialized lazily for constants.
  DType dtype = onnx::TensorProto::FLOAT;
  std::optional<HostTensor> constant;
  /// Name of the initializer or Constant node it came from, for resources.
  std::string constantName;
};

class ImportContext;

/// Everything a handler needs for one node.
class NodeContext {
public:
  NodeContext(ImportContext &ic, const onnx::NodeProto &node,
              mlir::Location loc);

  const onnx::NodeProto &node;
  mlir::Location loc;
  mlir::OpBuilder &b;
  int64_t opset() const;
  mlir::MLIRContext *ctx() const { return b.getContext(); }

  // -- inputs ---------------------------------------------------------------
  unsigned numInputs() const { return node.input_size(); }
  /// Whether input i is present (ONNX marks omitted optional inputs by "").
  bool hasInput(unsigned i) const;
  /// The MLIR value of input i (materializing a known constant).
  mlir::Value input(unsigned i);
  mlir::RankedTensorType inputType(unsigned i);
  DType inputDType(unsigned i) const;
  /// The host value of input i if known at import time, else null.
  const HostTensor *inputConstant(unsigned i) const;
  /// Input i as a list of integers; fails with a diagnostic if it is not a
  /// constant known at import time.
  mlir::FailureOr<llvm::SmallVector<int64_t>> constantInts(unsigned i,
                                                           llvm::StringRef what);

  // -- the graph before the node ----------------------------------------------
  /// The node that produced the value `name` (null for graph inputs,
  /// initializers and unknown names).
  const onnx::NodeProto *producer(llvm::StringRef name) const;
  /// The MLIR value of the value `name` (materializing a known constant);
  /// null if unknown.
  mlir::Value valueOf(llvm::StringRef name);
  /// The host value of `name` if known at import time, else null.
  const HostTensor *constantOf(llvm::StringRef name) const;
  /// The ONNX element type of `name` (UNDEFINED if unknown).
  DType dtypeOf(llvm::StringRef name) const;

  // -- attributes -----------------------------------------------------------
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  bool hasAttr(llvm::StringRef name) const { return attr(name) != nullptr; }
  int64_t attrInt(llvm::StringRef name, int64_t dflt) const;
  float attrFloat(llvm::StringRef name, float dflt) const;
  std::string attrString(llvm::StringRef name, llvm::StringRef dflt) const;
  llvm::SmallVector<int64_t> attrInts(llvm::StringRef name) const;
  llvm::SmallVector<float> attrFloats(llvm::StringRef name) const;

  // -- outputs --------------------------------------------------------------
  unsigned numOutputs() const { return node.output_size(); }
  bool hasOutput(unsigned i) const;
  void setOutput(unsigned i, mlir::Value value, DType dtype);
  /// Binds output i to a host constant (materialized when used).
  void setOutputConstant(unsigned i, HostTensor value);

  // -- subgraphs (If, Scan, Loop) -------------------------------------------------------
  /// The subgraph attribute `name`, or null.
  const onnx::GraphProto *attrGraph(llvm::StringRef name) const;
  /// Imports the nodes of subgraph `graph` at the builder's insertion point;
  /// its values join the outer ones.
  mlir::LogicalResult importSubgraph(const onnx::GraphProto &graph);
  /// The names of the values known now; forgetValuesExcept drops the others
  /// again (a subgraph imported into a region, whose values stay inside).
  llvm::StringSet<> valueNames() const;
  void forgetValuesExcept(const llvm::StringSet<> &names);
  /// Binds output i to what the value `name` is (value or constant).
  void setOutputLike(unsigned i, llvm::StringRef name);
  /// Binds the value `name` (a subgraph's input) to `value` / a constant.
  void bindValue(llvm::StringRef name, mlir::Value value, DType dtype);
  void bindConstant(llvm::StringRef name, HostTensor value);

  // -- diagnostics ----------------------------------------------------------
  /// An error naming the node and op: "node 'n' (Op): ...".
  mlir::InFlightDiagnostic error();

  // -- helpers for emitting IR ----------------------------------------------
  /// Materializes a host tensor as an arith.constant (dense_resource when
  /// large, plain dense otherwise).
  mlir::Value constant(const HostTensor &t, llvm::StringRef nameHint = "");
  /// A scalar constant of MLIR element type `type` (float or integer).
  mlir::Value scalar(mlir::Type type, double value);
  /// An empty tensor of the given shape / element type.
  mlir::Value empty(llvm::ArrayRef<int64_t> shape, mlir::Type elt);
  /// A tensor filled with one scalar.
  mlir::Value filled(llvm::ArrayRef<int64_t> shape, mlir::Value scalar);
  /// Numpy-broadcast shape of the given shapes; fails with a diagnostic.
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  broadcastShape(llvm::ArrayRef<llvm::SmallVector<int64_t>> shapes);
  /// One linalg.generic over the broadcast of `operands` (numpy rules) with
  /// a scalar body; `resultElt` is the result element type.
  using ScalarBody = std::function<mlir::Value(
      mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;
  mlir::FailureOr<mlir::Value> elementwise(mlir::ValueRange operands,
                                           mlir::Type resultElt,
                                           const ScalarBody &body);
  /// Same, with an explicit result shape (operands broadcast to it).
  mlir::Value elementwiseTo(mlir::ValueRange operands,
                            llvm::ArrayRef<int64_t> resultShape,
                            mlir::Type resultElt, const ScalarBody &body);
  /// Reduces `input` over `axes` (sorted, non-negative) with `combine`,
  /// starting from `init`; keeps reduced dims as size 1 if `keepDims`.
  mlir::Value reduce(mlir::Value input, llvm::ArrayRef<int64_t> axes,
                     bool keepDims, mlir::Value init,
                     const ScalarBody &combine);
  /// Reshape between static shapes with the same element count.
  mlir::Value reshape(mlir::Value input, llvm::ArrayRef<int64_t> shape);
  /// Permutes dimensions (result dim i = input dim perm[i]).
  mlir::Value transpose(mlir::Value input, llvm::ArrayRef<int64_t> perm);
  /// Converts between element types with ONNX Cast semantics.
  mlir::Value convertScalar(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value v, DType from, DType to,
                            const CastOptions &options = {});
  mlir::Value castTo(mlir::Value input, DType from, DType to,
                     const CastOptions &options = {});
  /// Normalizes a possibly negative axis against `rank`; diagnoses overflow.
  mlir::FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank);

private:
  ImportContext &ic;
};

/// Handler for one op type. Returns failure after emitting a diagnostic.
using OpHandler = std::function<mlir::LogicalResult(NodeContext &)>;

/// The table of op handlers, filled by the register* functions below.
class OpRegistry {
public:
  void add(llvm::StringRef opType, OpHandler handler) {
    handlers[opType] = std::move(handler);
  }
  const OpHandler *lookup(llvm::StringRef opType) const {
    auto it = handlers.find(opType);
    return it == handlers.end() ? nullptr : &it->second;
  }

private:
  llvm::StringMap<OpHandler> handlers;
};

/// Folds an elementwise op (Add, Sub, Mul, Div, Mod, Neg, Abs, Max, Min,
/// Sum, Equal, Less, LessOrEqual, Greater, GreaterOrEqual, And, Or, Xor, Not,
/// Where) whose inputs are all integer / bool host constants and whose result
/// has at most 4096 elements: binds output 0 to the host result and returns
/// true. Returns false, having done nothing, in every other case.
bool foldHostElementwise(NodeContext &nc);

// Each Ops*.cpp file registers the op types it implements.
/// Where the rows of a rotary embedding's cos / sin caches come from:
/// `ids` ([batch, seq] integers) or `offset` + the sequence index (an
/// index); neither: the caches are [batch, seq, half] themselves.
struct RotaryPositions {
  mlir::Value ids;
  mlir::Value offset;
};
/// Rotates the first `rot` elements of each head of `x` ([batch, ., .,
/// head_size] with the sequence at `seqDim`, 1 or 2), halves or
/// interleaved pairs, by the cos / sin cache rows of `positions` (clamped
/// into the caches).
mlir::Value buildRotary(NodeContext &nc, mlir::Value x, int64_t seqDim,
                        mlir::Value cosC, mlir::Value sinC,
                        RotaryPositions positions, int64_t rot,
                        bool interleaved);

/// ONNX MatMul semantics (rank-1 promotion, batch broadcasting) on two
/// values of one element type, float or integer (OpsMatmul.cpp).
mlir::FailureOr<mlir::Value> emitMatMulOf(NodeContext &nc, mlir::Value a,
                                          mlir::Value b);

void registerElementwiseOps(OpRegistry &registry);
void registerMatmulOps(OpRegistry &registry);
void registerShapeOps(OpRegistry &registry);
void registerSliceOps(OpRegistry &registry);
void registerGatherOps(OpRegistry &registry);
void registerPadTileOps(OpRegistry &registry);
void registerReductionOps(OpRegistry &registry);
void registerEinsumOps(OpRegistry &registry);
void registerNormalizationOps(OpRegistry &registry);
void registerAttentionOps(OpRegistry &registry);
void registerConvPoolOps(OpRegistry &registry);
void registerResizeOps(OpRegistry &registry);
void registerGridSampleOps(OpRegistry &registry);
void registerDFTOps(OpRegistry &registry);
/// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, QLinearMatMul,
/// MatMulInteger and com.microsoft::MatMulNBits; wraps the MatMul handler
/// registered before it (block-quantized weights become qc.qlinear).
void registerQuantOps(OpRegistry &registry);
void registerControlFlowOps(OpRegistry &registry);
void registerRecurrentOps(OpRegistry &registry);
/// After the graph walk: drops the block-dequantizing generics that every
/// consumer turned into qc.qlinear (OpsQuant.cpp).
void finishQuantOps(mlir::func::FuncOp func);
/// A QDQ model's quantized layers (OpsQuant.cpp). Whether `weight` is the
/// DequantizeLinear of a constant weight laid out as `layout` says
/// ("direct" [K, N], "transposed" [N, K], "filter" [F, C, kh, kw]).
bool isQuantizedWeight(mlir::Value weight, llvm::StringRef layout);
/// qc.qlinear(input, weight) with activation scheme `act` (null: float) on
/// such a weight's codes; null if `weight` is not one.
mlir::Value quantizedLinear(NodeContext &nc, mlir::Value input,
                            qc::ActivationAttr act, mlir::Value weight,
                            llvm::StringRef layout);
/// The float input of a static QDQ pair's DequantizeLinear and the pair's
/// activation scheme; (x, null) for anything else.
std::pair<mlir::Value, qc::ActivationAttr> staticallyQuantized(mlir::Value x);

/// State of one import.
class ImportContext {
public:
  ImportContext(mlir::ModuleOp module, mlir::OpBuilder &builder,
                llvm::StringRef fileName, int64_t opset)
      : module(module), builder(builder), fileName(fileName.str()),
        opset(opset) {}

  mlir::ModuleOp module;
  mlir::func::FuncOp func;
  mlir::OpBuilder &builder;
  std::string fileName;
  int64_t opset;
  llvm::StringMap<TensorInfo> values;
  /// The node that produced each value, for handlers that match a pattern
  /// of nodes ending at theirs.
  llvm::StringMap<const onnx::NodeProto *> producers;
  /// Resource keys already used, to keep blob names unique.
  llvm::StringMap<unsigned> resourceNames;

  /// Materializes the value of a known constant if not done yet.
  mlir::Value materialize(TensorInfo &info, mlir::Location loc);
  /// Imports `graph`'s nodes in order (the main graph or a subgraph).
  mlir::LogicalResult importNodes(const onnx::GraphProto &graph);
  std::string uniqueResourceName(llvm::StringRef hint);
};

} // namespace detail
} // namespace qc

#endif // QC_LIB_IMPORT_IMPORTER_H
