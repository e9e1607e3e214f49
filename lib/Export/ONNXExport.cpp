//===- ONNXExport.cpp - qc.qlinear back to ONNX MatMulNBits ---------------===//

#include "qc/Export/ONNX.h"

#include "qc/Import/ModelLoader.h"
#include "QC/IR/QCOps.h"
#include "qc/Support/AtomicFile.h"
#include "qc/Transforms/ConstantData.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace qc;

namespace {

/// Packs `bits`-bit values low bits first into bytes (MatMulNBits order).
void packInto(std::string &dst, ArrayRef<uint8_t> values, int bits) {
  size_t start = dst.size();
  dst.append((values.size() * bits + 7) / 8, '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    size_t bit = i * bits;
    for (int b = 0; b < bits; ++b, ++bit)
      if (values[i] >> b & 1)
        dst[start + bit / 8] |= static_cast<char>(1 << (bit % 8));
  }
}

LogicalResult exportLayer(QLinearOp op, onnx::GraphProto &graph,
                          llvm::StringMap<int> &initializerUses) {
  auto scheme = dyn_cast<UniformAttr>(op.getScheme());
  int64_t k = op.getInFeatures(), n = op.getOutFeatures();
  auto fail = [&]() {
    return op.emitError() << "qc-export-onnx: layer '" << op.getLayer()
                          << "': ";
  };
  if (!scheme || scheme.getPerIc())
    return fail() << "scheme " << op.getScheme()
                  << " has no MatMulNBits form (uniform per-OC groups only)";
  int64_t group = scheme.getGroup() == -1 ? k : scheme.getGroup();
  unsigned bits = scheme.getBits();
  if (bits != 4 && bits != 8)
    return fail() << "MatMulNBits here takes 4 or 8 bits, the layer has "
                  << bits;
  if (group < 16 || (group & (group - 1)) != 0)
    return fail() << "MatMulNBits needs a power-of-two block of at least 16, "
                     "the layer's group is "
                  << group;
  if (op.getBias())
    return fail() << "a fused bias has no MatMul to map back to";
  // Activations: float (accuracy_level 0) or onnxruntime's int8 per block
  // of block_size inputs (accuracy_level 4).
  ActivationAttr act = op.getActAttr();
  auto span = [&](int64_t block) {
    return block == -1 ? k : std::min(block, k);
  };
  if (act && (act.getKind() != ActKind::int8 || act.isStatic() ||
              span(act.getBlock()) != span(group)))
    return fail() << "activation scheme " << act.getShortName()
                  << " has no MatMulNBits form (float, or int8 per block "
                     "of "
                  << group << " inputs: accuracy_level 4)";

  onnx::NodeProto *node = nullptr;
  // The importer names a layer after its node, or its first output when the
  // node has no name.
  for (auto &candidate : *graph.mutable_node()) {
    const std::string &name = candidate.name().empty() &&
                                      candidate.output_size() > 0
                                  ? candidate.output(0)
                                  : candidate.name();
    if (name == op.getLayer().str())
      node = &candidate;
  }
  if (!node || node->op_type() != "MatMul" || node->input_size() != 2)
    return fail() << "no MatMul node of that name in the source model";

  FailureOr<std::vector<char>> codes = getConstantBytes(op.getCodes());
  FailureOr<std::vector<float>> scales = getConstantFloats(op.getScales());
  FailureOr<std::vector<float>> zeros =
      op.getZeros() ? getConstantFloats(op.getZeros())
                    : FailureOr<std::vector<float>>(std::vector<float>{});
  if (failed(codes) || failed(scales) || failed(zeros) ||
      static_cast<int64_t>(codes->size()) != k * n)
    return fail() << "quantized operands are not constants in qc's layout";

  // A partial last block is padded with zero codes, as MatMulNBits expects.
  int64_t blocks = (k + group - 1) / group;
  std::string base = node->name();
  // B: [N][blocks][group * bits / 8], codes along K low bits first.
  onnx::TensorProto b;
  b.set_name(base + ".qweight");
  b.set_data_type(onnx::TensorProto::UINT8);
  for (int64_t d : {n, blocks, group * bits / 8})
    b.add_dims(d);
  std::string packed;
  std::vector<uint8_t> column(blocks * group, 0);
  for (int64_t c = 0; c < n; ++c) {
    for (int64_t r = 0; r < k; ++r)
      column[r] = static_cast<uint8_t>((*codes)[r * n + c]);
    packInto(packed, column, bits);
  }
  b.set_raw_data(packed);
  // Scales: [N * blocks], column-major over qc's [blocks, N].
  onnx::TensorProto s;
  s.set_name(base + ".scales");
  s.set_data_type(onnx::TensorProto::FLOAT);
  s.add_dims(n * blocks);
  for (int64_t c = 0; c < n; ++c)
    for (int64_t g = 0; g < blocks; ++g)
      s.add_float_data((*scales)[g * n + c]);
  // Zero points: per column, blocks packed low bits first, byte aligned.
  onnx::TensorProto z;
  if (!zeros->empty()) {
    z.set_name(base + ".zero_points");
    z.set_data_type(onnx::TensorProto::UINT8);
    std::string zp;
    std::vector<uint8_t> colZeros(blocks);
    for (int64_t c = 0; c < n; ++c) {
      for (int64_t g = 0; g < blocks; ++g)
        colZeros[g] = static_cast<uint8_t>((*zeros)[g * n + c]);
      packInto(zp, colZeros, bits);
    }
    z.add_dims(static_cast<int64_t>(zp.size()));
    z.set_raw_data(zp);
  }

  std::string weightName = node->input(1);
  --initializerUses[weightName];
  node->set_op_type("MatMulNBits");
  node->set_domain("com.microsoft");
  node->set_input(1, b.name());
  node->add_input(s.name());
  if (!zeros->empty())
    node->add_input(z.name());
  auto addInt = [&](const char *name, int64_t value) {
    onnx::AttributeProto *attr = node->add_attribute();
    attr->set_name(name);
    attr->set_type(onnx::AttributeProto::INT);
    attr->set_i(value);
  };
  node->clear_attribute();
  addInt("K", k);
  addInt("N", n);
  addInt("bits", bits);
  addInt("block_size", group);
  if (act)
    addInt("accuracy_level", 4);
  *graph.add_initializer() = std::move(b);
  *graph.add_initializer() = std::move(s);
  if (!zeros->empty())
    *graph.add_initializer() = std::move(z);
  return success();
}

} // namespace

LogicalResult qc::exportMatMulNBits(StringRef sourcePath, ModuleOp quantized,
                                    StringRef outputPath) {
  Location loc = quantized.getLoc();
  detail::LoadedModel loaded;
  std::string err = detail::loadModel(sourcePath.str(), /*runChecker=*/false,
                                      loaded);
  if (!err.empty())
    return emitError(loc) << err;
  onnx::ModelProto &model = loaded.model;
  onnx::GraphProto &graph = *model.mutable_graph();
  llvm::StringMap<int> uses;
  for (const auto &node : graph.node())
    for (const std::string &input : node.input())
      ++uses[input];

  unsigned exported = 0;
  WalkResult walk = quantized.walk([&](QLinearOp op) {
    if (failed(exportLayer(op, graph, uses)))
      return WalkResult::interrupt();
    ++exported;
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  if (exported == 0)
    return emitError(loc) << "qc-export-onnx: no quantized layer to export";

  // Drop float weights no node reads any more.
  auto *inits = graph.mutable_initializer();
  for (int i = inits->size() - 1; i >= 0; --i) {
    auto it = uses.find(inits->Get(i).name());
    if (it != uses.end() && it->second <= 0)
      inits->DeleteSubrange(i, 1);
  }
  bool haveMS = false;
  for (const auto &opset : model.opset_import())
    haveMS |= opset.domain() == "com.microsoft";
  if (!haveMS) {
    onnx::OperatorSetIdProto *opset = model.add_opset_import();
    opset->set_domain("com.microsoft");
    opset->set_version(1);
  }
  if (model.ByteSizeLong() > (size_t(1) << 31) - 1)
    return emitError(loc) << "qc-export-onnx: the quantized model is larger "
                             "than 2 GiB, which one protobuf cannot hold";
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return emitError(loc) << "qc-export-onnx: serializing the model failed";

  std::string error;
  if (!writeFileAtomically(outputPath.str(), bytes, error))
    return emitError(loc) << error;
  return success();
}
