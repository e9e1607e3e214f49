//===- ModelLoader.cpp - read, validate and check ONNX protobufs ----------===//

#include "qc/Import/ModelLoader.h"

#include "onnx/checker.h"
#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unordered_set>

using namespace qc::detail;

namespace {

std::string dirName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

bool readWholeFile(const std::string &path, std::string &out,
                   std::string &err) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    err = "cannot open '" + path + "': no such file";
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    err = "'" + path + "' is not a regular file";
    return false;
  }
  if (st.st_size > INT_MAX) {
    err = "'" + path +
          "' is larger than 2 GiB; store the weights as ONNX external data";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err = "cannot open '" + path + "'";
    return false;
  }
  out.resize(st.st_size);
  in.read(&out[0], st.st_size);
  if (!in) {
    err = "cannot read '" + path + "'";
    return false;
  }
  return true;
}

/// Resolves one external-data tensor into raw_data. The location must be a
/// relative path without `..` that, after resolving symbolic links, stays
/// inside the model's folder.
std::string resolveExternal(onnx::TensorProto &tensor,
                            const std::string &modelDir) {
  std::string location;
  long long offset = 0, length = -1;
  for (const auto &kv : tensor.external_data()) {
    const std::string &key = kv.key();
    if (key == "location") {
      location = kv.value();
    } else if (key == "offset" || key == "length") {
      char *end = nullptr;
      long long v = std::strtoll(kv.value().c_str(), &end, 10);
      if (kv.value().empty() || *end != '\0' || v < 0)
        return "initializer '" + tensor.name() + "': external data " + key +
               " '" + kv.value() + "' is not a non-negative integer";
      (key == "offset" ? offset : length) = v;
    }
  }
  const std::string what = "initializer '" + tensor.name() + "'";
  if (location.empty())
    return what + ": external data has no location";
  if (location[0] == '/')
    return what + ": external data location '" + location +
           "' is an absolute path; it must be relative to the model's folder";
  std::stringstream parts(location);
  for (std::string part; std::getline(parts, part, '/');)
    if (part == "..")
      return what + ": external data location '" + location +
             "' leaves the model's folder ('..')";
  char resolvedDir[PATH_MAX], resolvedFile[PATH_MAX];
  std::string file = modelDir + "/" + location;
  if (!realpath(modelDir.c_str(), resolvedDir))
    return what + ": cannot resolve the model folder '" + modelDir + "'";
  if (!realpath(file.c_str(), resolvedFile))
    return what + ": external data file '" + file + "' does not exist";
  std::string dir = resolvedDir, target = resolvedFile;
  if (target.compare(0, dir.size() + 1, dir + "/") != 0)
    return what + ": external data file '" + location +
           "' resolves outside the model's folder";
  struct stat st;
  if (stat(target.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return what + ": external data '" + location + "' is not a regular file";
  if (length < 0)
    length = st.st_size - offset;
  if (offset > st.st_size || length > st.st_size - offset)
    return what + ": external data range [" + std::to_string(offset) + ", " +
           std::to_string(offset + length) + ") exceeds '" + location +
           "' (" + std::to_string(st.st_size) + " bytes)";
  std::ifstream in(target, std::ios::binary);
  std::string data(length, '\0');
  in.seekg(offset);
  in.read(&data[0], length);
  if (!in)
    return what + ": cannot read external data '" + location + "'";
  tensor.set_raw_data(std::move(data));
  tensor.clear_external_data();
  tensor.set_data_location(onnx::TensorProto::DEFAULT);
  return "";
}

/// "" when every value the main graph reads or returns is defined in it (a
/// graph input, an initializer or a node's output), else the first that
/// is not. libonnx's version converter dereferences such values unchecked.
std::string checkWiring(const onnx::GraphProto &graph) {
  std::unordered_set<std::string> defined;
  for (const auto &v : graph.input())
    defined.insert(v.name());
  for (const auto &t : graph.initializer())
    defined.insert(t.name());
  for (const auto &n : graph.node())
    for (const std::string &o : n.output())
      defined.insert(o);
  for (const auto &n : graph.node())
    for (const std::string &i : n.input())
      if (!i.empty() && !defined.count(i))
        return "node '" + n.name() + "' (" + n.op_type() + ") reads '" + i +
               "', which nothing in the graph defines";
  for (const auto &v : graph.output())
    if (!defined.count(v.name()))
      return "graph output '" + v.name() +
             "' is not defined by any node, input or initializer";
  return "";
}

/// Checks, in front of LayerNormalization's shape inference, that its axis
/// is within the input's rank: libonnx 1.12 indexes the dimensions by it
/// unchecked (a crash found by fuzzing).
void checkNormalizationAxis(onnx::InferenceContext &ctx) {
  if (!onnx::hasInputShape(ctx, 0))
    return;
  int64_t rank = ctx.getInputType(0)->tensor_type().shape().dim_size();
  int64_t axis = onnx::getAttribute(ctx, "axis", -1);
  if (axis < -rank || axis >= rank)
    fail_shape_inference("axis ", axis, " is out of range for an input of rank ",
                         rank);
}

/// libonnx's schemas, with qc's checks in front of the shape inference of
/// those whose libonnx 1.12 inference trusts an attribute it should check.
/// A failed check is an inference error (a clear refusal), not a crash.
class GuardedSchemas final : public onnx::ISchemaRegistry {
public:
  const onnx::OpSchema *
  GetSchema(const std::string &key, const int maxInclusiveVersion,
            const std::string &domain) const override {
    const onnx::OpSchema *schema = onnx::OpSchemaRegistry::Instance()->GetSchema(
        key, maxInclusiveVersion, domain);
    if (!schema || !domain.empty() || key != "LayerNormalization")
      return schema;
    std::lock_guard<std::mutex> lock(mutex);
    auto [it, fresh] = guarded.try_emplace(schema, *schema);
    if (fresh) {
      onnx::InferenceFunction inner = schema->GetTypeAndShapeInferenceFunction();
      it->second.TypeAndShapeInferenceFunction(
          [inner](onnx::InferenceContext &ctx) {
            checkNormalizationAxis(ctx);
            if (inner)
              inner(ctx);
          });
    }
    return &it->second;
  }

private:
  mutable std::mutex mutex;
  mutable std::map<const onnx::OpSchema *, onnx::OpSchema> guarded;
};

/// Whether libonnx's schema registry covers every opset the model imports.
bool libonnxKnows(const onnx::ModelProto &model) {
  if (model.ir_version() > onnx::IR_VERSION)
    return false;
  const auto &ranges = onnx::OpSchemaRegistry::DomainToVersionRange::Instance()
                           .Map();
  for (const auto &imp : model.opset_import()) {
    std::string domain = imp.domain() == "ai.onnx" ? "" : imp.domain();
    auto it = ranges.find(domain);
    if (it == ranges.end() || imp.version() > it->second.second)
      return false;
  }
  return true;
}

} // namespace

int64_t qc::detail::libonnxMaxOpset() {
  const auto &ranges =
      onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = ranges.find("");
  return it == ranges.end() ? 0 : it->second.second;
}

std::string qc::detail::loadModel(const std::string &path, bool runChecker,
                                  LoadedModel &out) {
  std::string bytes, err;
  if (!readWholeFile(path, bytes, err))
    return err;
  if (bytes.empty())
    return "'" + path + "' is empty";
  if (!out.model.ParseFromString(bytes))
    return "'" + path +
           "' is not a valid ONNX model: the protobuf is truncated or corrupt";
  if (!out.model.has_graph() || out.model.ir_version() <= 0)
    return "'" + path +
           "' is not a valid ONNX model: no graph or no IR version (the "
           "protobuf is truncated or not an ONNX model)";
  out.modelDir = dirName(path);
  return prepareModel(path, runChecker, out);
}

/// IR versions before 4 required every initializer to be a graph input too;
/// some exporters of that time left them out (onnxruntime runs such models,
/// the checker refuses them). The missing ones become inputs, which the
/// importer binds to their initializers like any other.
static void listInitializersAsInputs(onnx::ModelProto &model) {
  if (model.ir_version() >= 4)
    return;
  onnx::GraphProto *graph = model.mutable_graph();
  std::set<std::string> inputs;
  for (const auto &input : graph->input())
    inputs.insert(input.name());
  for (const auto &init : graph->initializer()) {
    if (!inputs.insert(init.name()).second)
      continue;
    onnx::ValueInfoProto *vi = graph->add_input();
    vi->set_name(init.name());
    onnx::TypeProto_Tensor *t = vi->mutable_type()->mutable_tensor_type();
    t->set_elem_type(init.data_type());
    onnx::TensorShapeProto *shape = t->mutable_shape();
    for (int64_t d : init.dims())
      shape->add_dim()->set_dim_value(d);
  }
}

std::string qc::detail::prepareModel(const std::string &path, bool runChecker,
                                     LoadedModel &out) {
  out.opset = -1;
  for (const auto &imp : out.model.opset_import())
    if (imp.domain().empty() || imp.domain() == "ai.onnx")
      out.opset = imp.version();
  if (out.opset < 0)
    return "'" + path + "': the model imports no default (ai.onnx) opset";

  for (auto &tensor : *out.model.mutable_graph()->mutable_initializer())
    if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
      std::string e = resolveExternal(tensor, out.modelDir);
      if (!e.empty())
        return "'" + path + "': " + e;
    }

  listInitializersAsInputs(out.model);
  try {
    if (out.opset < 11) {
      // Older graphs are converted to opset 13 by libonnx's converter; what
      // it cannot convert is refused here. The converter trusts the graph
      // (an output no node produces crashed it: found by fuzzing), so the
      // checker and a check of the graph's wiring run first,
      // --no-onnx-checker or not.
      if (std::string e = checkWiring(out.model.graph()); !e.empty())
        return "'" + path + "': " + e;
      // Scan-8 scans a batch of sequences (its sequence_lens and batch axis
      // went in opset 9); the converter does not keep its meaning.
      for (const auto &node : out.model.graph().node())
        if (out.opset < 9 && node.op_type() == "Scan")
          return "'" + path + "': node '" + node.name() +
                 "' (Scan): Scan before opset 9 (a batch axis, "
                 "sequence_lens) is not supported";
      onnx::checker::check_model(out.model);
      out.model = onnx::version_conversion::ConvertVersion(out.model, 13);
      out.opset = 13;
    }
    out.checkedByLibonnx = runChecker && libonnxKnows(out.model);
    if (out.checkedByLibonnx) {
      onnx::checker::check_model(out.model);
      onnx::ShapeInferenceOptions options(/*check_type=*/false,
                                          /*error_mode=*/0,
                                          /*data_prop=*/true);
      static GuardedSchemas schemas;
      onnx::shape_inference::InferShapes(out.model, &schemas, options);
    }
  } catch (const std::exception &e) {
    std::string msg = e.what();
    // libonnx messages span lines; keep the diagnostic on one.
    for (char &c : msg)
      if (c == '\n')
        c = ' ';
    return "'" + path + "' failed the ONNX checker: " + msg;
  }
  return "";
}

/// ONNX's name of element type `t` (its number where this libonnx has none).
static std::string typeName(int32_t t) {
  std::string name = onnx::TensorProto::DataType_IsValid(t)
                         ? onnx::TensorProto::DataType_Name(t)
                         : "";
  return name.empty() ? "type " + std::to_string(t) : name;
}

std::string qc::detail::checkSignature(const onnx::NodeProto &node,
                                       int64_t opset,
                                       llvm::function_ref<int32_t(int)> dtype) {
  const onnx::OpSchema *schema = onnx::OpSchemaRegistry::Schema(
      node.op_type(), static_cast<int>(std::min(opset, libonnxMaxOpset())),
      "");
  if (!schema)
    return "";
  auto count = [](int64_t n, int lo, int hi, const char *what) {
    std::string range =
        lo == hi ? std::to_string(lo)
        : hi == std::numeric_limits<int>::max()
            ? "at least " + std::to_string(lo)
            : std::to_string(lo) + " to " + std::to_string(hi);
    return "has " + std::to_string(n) + " " + what + (n == 1 ? "" : "s") +
           "; its schema takes " + range;
  };
  // Newer opsets than libonnx's add optional inputs and outputs: only the
  // lower bounds of its newest schema hold for them.
  bool newer = opset > libonnxMaxOpset();
  if (node.input_size() < schema->min_input() ||
      (!newer && node.input_size() > schema->max_input()))
    return count(node.input_size(), schema->min_input(), schema->max_input(),
                 "input");
  if (node.output_size() < schema->min_output() ||
      (!newer && node.output_size() > schema->max_output()))
    return count(node.output_size(), schema->min_output(),
                 schema->max_output(), "output");
  const auto &formal = schema->inputs();
  for (int i = 0; i < node.input_size() && i < int(formal.size()); ++i)
    if (node.input(i).empty() &&
        formal[i].GetOption() == onnx::OpSchema::Single)
      return "required input " + std::to_string(i) + " ('" +
             formal[i].GetName() + "') is omitted";
  // Inputs of one type parameter (T of Add's A and B) share an element
  // type; the handlers rely on it. (Not at newer opsets, whose inputs may
  // map to other parameters: ReduceL2-18's int64 axes.)
  std::map<std::string, std::pair<int32_t, int>> seen; // T -> (dtype, input)
  for (int i = 0; i < node.input_size() && !newer; ++i) {
    if (node.input(i).empty())
      continue;
    bool variadicTail = !formal.empty() && i >= int(formal.size()) &&
                        formal.back().GetOption() == onnx::OpSchema::Variadic;
    if (i >= int(formal.size()) && !variadicTail)
      break;
    const auto &param = variadicTail ? formal.back() : formal[i];
    if (!param.GetIsHomogeneous())
      continue;
    int32_t t = dtype(i);
    auto [it, fresh] = seen.try_emplace(param.GetTypeStr(), t, i);
    if (!fresh && it->second.first != t)
      return "inputs " + std::to_string(it->second.second) + " and " +
             std::to_string(i) + " must have one element type (" +
             param.GetTypeStr() + "), not " + typeName(it->second.first) +
             " and " + typeName(t);
  }
  return "";
}
