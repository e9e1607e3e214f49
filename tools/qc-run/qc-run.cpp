//===- qc-run.cpp - Run a compiled qc artifact on .npy inputs -------------===//
//
//   qc-run ARTIFACT_DIR [--input NAME=FILE.npy ...] [FILE.npy ...]
//          [--output-dir DIR] [--repeat N] [--warmup N] [--print]
//
// Positional files bind, in manifest order, to the inputs that no --input
// option named. Outputs are written as <escaped-name>.npy into the output
// directory; all of them are written to temporary files first and renamed
// into place only when every write succeeded.
//
//===----------------------------------------------------------------------===//

#include "qcrt.h"
#include "qcrt/Npy.h"
#include "qcrt/SmallFloat.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <malloc.h>

namespace {

namespace sf = qc::smallfloat;

constexpr size_t kPrintedValues = 8;

void printUsage() {
  std::printf(
      "usage: qc-run ARTIFACT_DIR [--input NAME=FILE.npy ...] [FILE.npy ...]\n"
      "              [--output-dir DIR] [--repeat N] [--warmup N] [--planes P]\n"
      "              [--print]\n"
      "\n"
      "Runs the compiled model in ARTIFACT_DIR (model.so + model.qcw).\n"
      "  FILE.npy            binds, in manifest order, to the inputs not "
      "named\n"
      "                      by --input\n"
      "  --input NAME=FILE   binds FILE to the input called NAME\n"
      "  --output-dir DIR    where <output-name>.npy files go (default: .)\n"
      "  --repeat N          time N runs after the warm-up runs\n"
      "  --warmup N          untimed runs first (default 1 with --repeat, "
      "else 0)\n"
      "  --planes P          an AnyBCQ artifact (qc-compile --min-planes): "
      "compute\n"
      "                      with P of its bit-planes (default: all)\n"
      "  --print             also print the first values of each output\n"
      "\n"
      "Types NumPy lacks: a bf16 input takes an f32 .npy (rounded to the\n"
      "nearest bf16, ties to even) or a uint16 one (the raw bits); a float8\n"
      "or float4 input an f32 .npy (rounded to nearest even, overflowing as\n"
      "ml_dtypes' astype) or a uint8 one (the codes); an E8M0 input f32\n"
      "(rounded up) or uint8; int4 / int2 inputs take int8 .npy files and\n"
      "uint4 / uint2 uint8 ones (values in range). Such float outputs are\n"
      "written as f32 (exactly), integer ones as int8 / uint8.\n");
}

/// Prints the message and returns the exit code for a failed run (1).
[[nodiscard]] int error(const std::string &message) {
  std::fprintf(stderr, "qc-run: error: %s\n", message.c_str());
  return 1;
}

/// Same for a bad command line, which exits with 2.
[[nodiscard]] int usageError(const std::string &message) {
  std::fprintf(stderr, "qc-run: error: %s\n(run 'qc-run --help' for usage)\n",
               message.c_str());
  return 2;
}

bool parseCount(const std::string &text, long &out) {
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(),
                   [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  out = std::strtol(text.c_str(), nullptr, 10);
  return true;
}

std::string describe(const char *dtype, const std::vector<int64_t> &shape) {
  return std::string(dtype) + " " + qc::npy::formatShape(shape);
}

/// Manifest names may contain any byte; print them escaped so every message
/// stays on one line.
std::string displayName(const char *name) {
  std::string result;
  for (const char *p = name; *p; ++p) {
    auto byte = static_cast<unsigned char>(*p);
    if (byte >= 0x20 && byte < 0x7f && byte != '%')
      result.push_back(*p);
    else {
      char buffer[4];
      std::snprintf(buffer, sizeof(buffer), "%%%02X", byte);
      result += buffer;
    }
  }
  return result;
}

struct Options {
  std::string artifactDir;
  std::vector<std::pair<std::string, std::string>> namedInputs;
  std::vector<std::string> positionalInputs;
  std::string outputDir = ".";
  long repeat = 0;
  long warmup = -1; // -1: default
  long planes = 0;  // AnyBCQ precision (qcrt_load_planes); 0: the default
  bool print = false;
};

/// Returns 0 on success, else the exit code (usage errors are printed).
int parseArgs(int argc, char **argv, Options &options, bool &helpShown) {
  helpShown = false;
  bool sawDir = false, onlyPositional = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (onlyPositional || arg.empty() || arg[0] != '-' || arg == "-") {
      if (!sawDir) {
        options.artifactDir = arg;
        sawDir = true;
      } else {
        options.positionalInputs.push_back(arg);
      }
      continue;
    }
    if (arg == "--") {
      onlyPositional = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      printUsage();
      helpShown = true;
      return 0;
    }
    if (arg == "--print") {
      options.print = true;
      continue;
    }
    // Options with a value accept both "--opt value" and "--opt=value".
    std::string name = arg, value;
    bool hasValue = false;
    size_t equals = arg.find('=');
    if (equals != std::string::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
      hasValue = true;
    }
    if (name != "--input" && name != "--output-dir" && name != "--repeat" &&
        name != "--warmup" && name != "--planes") {
      return usageError("unknown option '" + arg + "'");
    }
    if (!hasValue) {
      if (i + 1 >= argc) {
        return usageError("option '" + name + "' needs a value");
      }
      value = argv[++i];
    }
    if (name == "--input") {
      size_t sep = value.find('=');
      if (sep == std::string::npos || sep == 0 || sep + 1 == value.size())
        return usageError("--input expects NAME=FILE.npy, got '" + value + "'");
      options.namedInputs.emplace_back(value.substr(0, sep),
                                       value.substr(sep + 1));
    } else if (name == "--output-dir") {
      if (value.empty())
        return usageError("--output-dir needs a directory");
      options.outputDir = value;
    } else if (name == "--repeat") {
      if (!parseCount(value, options.repeat) || options.repeat < 1)
        return usageError("--repeat expects a positive count, got '" + value +
                          "'");
    } else if (name == "--planes") {
      if (!parseCount(value, options.planes) || options.planes < 1 ||
          options.planes > 8)
        return usageError("--planes expects 1 to 8 bit-planes, got '" +
                          value + "'");
    } else {
      if (!parseCount(value, options.warmup))
        return usageError("--warmup expects a count, got '" + value + "'");
    }
  }
  if (!sawDir) {
    return usageError("missing ARTIFACT_DIR");
  }
  return 0;
}

/// Frees the model however main() returns.
struct ModelHolder {
  qcrt_model *model = nullptr;
  ~ModelHolder() { qcrt_free(model); }
};

/// Removes temporary output files unless they were committed.
struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    for (const std::string &path : paths)
      if (!path.empty())
        std::remove(path.c_str());
  }
};

/// The bf16 nearest to `f` (ties to even; NaN stays a quiet NaN).
uint16_t bf16FromFloat(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}

float floatFromBf16(uint16_t bits) {
  uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

/// Replaces `array` (of From elements) by one of `dtype` holding
/// convert(element), element by element.
template <typename From, typename To, typename Convert>
bool convertArray(qc::npy::Array &array, qc::npy::DType dtype,
                  Convert convert, std::string &problem) {
  qc::npy::Array result;
  if (!result.allocate(dtype, array.shape(), problem))
    return false;
  const auto *from = static_cast<const From *>(array.data());
  auto *to = static_cast<To *>(result.data());
  for (uint64_t i = 0; i < array.numElements(); ++i)
    to[i] = convert(from[i]);
  array = std::move(result);
  return true;
}

/// The 8- and 4-bit float formats (E8M0 aside) of `dtype`, or null.
const sf::Format *smallFloatFormat(qcrt_dtype dtype) {
  switch (dtype) {
  case QCRT_F8E4M3FN:
    return &sf::kE4M3FN;
  case QCRT_F8E4M3FNUZ:
    return &sf::kE4M3FNUZ;
  case QCRT_F8E5M2:
    return &sf::kE5M2;
  case QCRT_F8E5M2FNUZ:
    return &sf::kE5M2FNUZ;
  case QCRT_F4E2M1:
    return &sf::kE2M1;
  default:
    return nullptr;
  }
}

/// The .npy type of the runtime's bytes for `dtype`: its own, or for the
/// types NumPy lacks the integers that hold them (bf16: uint16 bits; i4,
/// i2: int8 values; u4, u2 and the 8- and 4-bit floats: uint8).
bool storageType(qcrt_dtype dtype, qc::npy::DType &out) {
  switch (dtype) {
  case QCRT_BF16:
    out = qc::npy::DType::U16;
    return true;
  case QCRT_I4:
  case QCRT_I2:
    out = qc::npy::DType::I8;
    return true;
  case QCRT_U4:
  case QCRT_U2:
  case QCRT_F8E8M0:
    out = qc::npy::DType::U8;
    return true;
  default:
    if (smallFloatFormat(dtype)) {
      out = qc::npy::DType::U8;
      return true;
    }
    return qc::npy::dtypeFromName(qcrt_dtype_name(dtype), out);
  }
}

/// The range of the integer values a sub-byte integer type holds.
bool subByteRange(qcrt_dtype dtype, int &lo, int &hi) {
  switch (dtype) {
  case QCRT_I4:
    return lo = -8, hi = 7, true;
  case QCRT_U4:
    return lo = 0, hi = 15, true;
  case QCRT_I2:
    return lo = -2, hi = 1, true;
  case QCRT_U2:
    return lo = 0, hi = 3, true;
  case QCRT_F4E2M1:
    return lo = 0, hi = 15, true; // codes in the low nibble
  default:
    return false;
  }
}

/// Turns an input's .npy data into the runtime's bytes for `dtype`: f32
/// data of a float type NumPy lacks is rounded into it (bf16 and float8 /
/// float4 to nearest even, float8 overflowing to infinity or NaN as
/// ml_dtypes' astype; E8M0 rounded up, as ONNX's Cast); data already of
/// the storage type is taken as the raw values or bits, range-checked for
/// the sub-byte types.
bool convertInput(qcrt_dtype dtype, qc::npy::Array &array,
                  std::string &problem) {
  qc::npy::DType storage;
  if (!storageType(dtype, storage))
    return true;
  if (array.dtype() == qc::npy::DType::F32) {
    if (dtype == QCRT_BF16)
      return convertArray<float, uint16_t>(array, storage, bf16FromFloat,
                                           problem);
    if (dtype == QCRT_F8E8M0)
      return convertArray<float, uint8_t>(
          array, storage,
          [](float f) {
            return sf::encodeE8M0(f, true, sf::E8M0Rounding::Up);
          },
          problem);
    if (const sf::Format *format = smallFloatFormat(dtype))
      return convertArray<float, uint8_t>(
          array, storage,
          [format](float f) { return sf::encode(f, *format, false); },
          problem);
  }
  int lo, hi;
  bool integers = dtype == QCRT_I4 || dtype == QCRT_U4 ||
                  dtype == QCRT_I2 || dtype == QCRT_U2;
  if (array.dtype() != storage) {
    if (dtype != QCRT_BF16 && !integers && !smallFloatFormat(dtype) &&
        dtype != QCRT_F8E8M0)
      return true; // an ordinary type: the caller reports the mismatch
    std::string raw = storage == qc::npy::DType::U16 ? "uint16"
                      : storage == qc::npy::DType::I8  ? "int8"
                                                       : "uint8";
    if (!integers)
      raw += " (raw bits)";
    problem = std::string(qcrt_dtype_name(dtype)) + " is read from " +
              (integers ? raw : "f32 or " + raw) + " .npy files, found " +
              qc::npy::dtypeName(array.dtype());
    return false;
  }
  if (!subByteRange(dtype, lo, hi))
    return true;
  for (uint64_t i = 0; i < array.numElements(); ++i) {
    int v = storage == qc::npy::DType::I8
                ? static_cast<const int8_t *>(array.data())[i]
                : static_cast<const uint8_t *>(array.data())[i];
    if (v < lo || v > hi) {
      problem = std::string("element ") + std::to_string(i) + " is " +
                std::to_string(v) + ", outside " + qcrt_dtype_name(dtype) +
                "'s [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
      return false;
    }
  }
  return true;
}

/// An output of a float type NumPy lacks (bf16, float8, float4, E8M0) as
/// f32, which holds every value exactly; other outputs stay as they are.
bool convertOutput(qcrt_dtype dtype, qc::npy::Array &array,
                   std::string &problem) {
  qc::npy::DType f32 = qc::npy::DType::F32;
  if (dtype == QCRT_BF16)
    return convertArray<uint16_t, float>(array, f32, floatFromBf16, problem);
  if (dtype == QCRT_F8E8M0)
    return convertArray<uint8_t, float>(array, f32, sf::decodeE8M0, problem);
  if (const sf::Format *format = smallFloatFormat(dtype))
    return convertArray<uint8_t, float>(
        array, f32, [format](uint8_t c) { return sf::decode(c, *format); },
        problem);
  return true;
}

std::vector<int64_t> shapeOf(const qcrt_tensor_info &info) {
  return std::vector<int64_t>(info.dims, info.dims + info.rank);
}

bool ensureDirectory(const std::string &dir, std::string &problem) {
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return true;
    problem = "output directory '" + dir + "' is not a directory";
    return false;
  }
  // Create missing parents too, like mkdir -p.
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/')
      continue;
    std::string prefix = dir.substr(0, pos);
    if (mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST) {
      problem = "cannot create output directory '" + prefix +
                "': " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

int runTool(int argc, char **argv) {
  Options options;
  bool helpShown;
  if (int code = parseArgs(argc, argv, options, helpShown))
    return code;
  if (helpShown)
    return 0;

  ModelHolder holder;
  if (qcrt_load(options.artifactDir.c_str(), &holder.model) != QCRT_OK)
    return error(qcrt_last_error());
  if (options.planes) {
    ModelHolder precision;
    if (qcrt_load_planes(holder.model, unsigned(options.planes),
                         &precision.model) != QCRT_OK)
      return error(options.artifactDir + ": --planes: " + qcrt_last_error());
    std::swap(holder.model, precision.model);
  }
  qcrt_model *model = holder.model;

  size_t numInputs = qcrt_num_inputs(model);
  size_t numOutputs = qcrt_num_outputs(model);
  std::vector<qcrt_tensor_info> inputInfo(numInputs), outputInfo(numOutputs);
  for (size_t i = 0; i < numInputs; ++i)
    if (qcrt_input_info(model, i, &inputInfo[i]) != QCRT_OK)
      return error(qcrt_last_error());
  for (size_t i = 0; i < numOutputs; ++i)
    if (qcrt_output_info(model, i, &outputInfo[i]) != QCRT_OK)
      return error(qcrt_last_error());

  // Bind files to inputs: named first, positional fill the rest in order.
  std::vector<std::string> files(numInputs);
  for (const auto &[name, file] : options.namedInputs) {
    size_t index = numInputs;
    for (size_t i = 0; i < numInputs; ++i)
      if (name == inputInfo[i].name)
        index = i;
    if (index == numInputs) {
      std::string known;
      for (size_t i = 0; i < numInputs; ++i)
        known += (i ? ", " : "") + displayName(inputInfo[i].name);
      return error("--input: the model has no input named '" +
                   displayName(name.c_str()) +
                   "' (inputs: " + (known.empty() ? "none" : known) + ")");
    }
    if (!files[index].empty())
      return error("input '" + displayName(name.c_str()) + "' is given twice");
    files[index] = file;
  }
  size_t nextPositional = 0;
  for (size_t i = 0; i < numInputs; ++i) {
    if (!files[i].empty())
      continue;
    if (nextPositional == options.positionalInputs.size())
      return error(
          "no file for input '" + displayName(inputInfo[i].name) + "' (" +
          describe(qcrt_dtype_name(inputInfo[i].dtype), shapeOf(inputInfo[i])) +
          "); the model has " + std::to_string(numInputs) + " input(s)");
    files[i] = options.positionalInputs[nextPositional++];
  }
  if (nextPositional != options.positionalInputs.size())
    return error("too many input files: the model has " +
                 std::to_string(numInputs) + " input(s), " +
                 std::to_string(nextPositional) + " file(s) used, '" +
                 options.positionalInputs[nextPositional] + "' is extra");

  // Read and check inputs.
  std::vector<qc::npy::Array> inputs(numInputs);
  std::vector<const void *> inputPtrs(numInputs);
  for (size_t i = 0; i < numInputs; ++i) {
    const qcrt_tensor_info &info = inputInfo[i];
    std::string name = displayName(info.name);
    qc::npy::DType expectedType;
    if (!storageType(info.dtype, expectedType))
      return error("input '" + name + "' has dtype " +
                   qcrt_dtype_name(info.dtype) +
                   ", which .npy files cannot hold");
    std::string problem;
    if (!qc::npy::readNpyFile(files[i], inputs[i], problem))
      return error("input '" + name + "': " + problem);
    std::vector<int64_t> expectedShape = shapeOf(info);
    if (inputs[i].shape() == expectedShape &&
        !convertInput(info.dtype, inputs[i], problem))
      return error("input '" + name + "' (" + files[i] + "): " + problem);
    if (inputs[i].dtype() != expectedType || inputs[i].shape() != expectedShape)
      return error(
          "input '" + name + "' (" + files[i] + "): expected " +
          describe(qcrt_dtype_name(info.dtype), expectedShape) + ", found " +
          describe(qc::npy::dtypeName(inputs[i].dtype()), inputs[i].shape()));
    inputPtrs[i] = inputs[i].data();
  }

  // Allocate outputs; refuse dtypes .npy cannot hold before running.
  std::vector<qc::npy::Array> outputs(numOutputs);
  std::vector<void *> outputPtrs(numOutputs);
  for (size_t i = 0; i < numOutputs; ++i) {
    const qcrt_tensor_info &info = outputInfo[i];
    // The types NumPy lacks run into their storage, converted below.
    qc::npy::DType type;
    if (!storageType(info.dtype, type))
      return error("output '" + displayName(info.name) + "' has dtype " +
                   qcrt_dtype_name(info.dtype) +
                   ", which .npy files cannot hold");
    std::string problem;
    if (!outputs[i].allocate(type, shapeOf(info), problem))
      return error("output '" + displayName(info.name) + "': " + problem);
    outputPtrs[i] = outputs[i].data();
  }
  std::string problem;
  if (!ensureDirectory(options.outputDir, problem))
    return error(problem);

  // Run: warm-up, then the timed runs (or a single run).
  long warmup =
      options.warmup >= 0 ? options.warmup : (options.repeat > 0 ? 1 : 0);
  long runs = options.repeat > 0 ? options.repeat : 1;
  for (long i = 0; i < warmup; ++i)
    if (qcrt_run(model, inputPtrs.data(), outputPtrs.data()) != QCRT_OK)
      return error(qcrt_last_error());
  std::vector<double> millis;
  for (long i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    if (qcrt_run(model, inputPtrs.data(), outputPtrs.data()) != QCRT_OK)
      return error(qcrt_last_error());
    auto stop = std::chrono::steady_clock::now();
    millis.push_back(
        std::chrono::duration<double, std::milli>(stop - start).count());
  }
  if (options.repeat > 0) {
    std::vector<double> sorted = millis;
    std::sort(sorted.begin(), sorted.end());
    size_t n = sorted.size();
    double median =
        n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    std::printf("time: median %.3f ms, min %.3f ms over %zu runs\n", median,
                sorted.front(), n);
  }

  for (size_t i = 0; i < numOutputs; ++i)
    if (!convertOutput(outputInfo[i].dtype, outputs[i], problem))
      return error("output '" + displayName(outputInfo[i].name) +
                   "': " + problem);

  // Write every output to a temporary file, then publish them all.
  std::string dir = options.outputDir;
  if (dir.back() != '/')
    dir += '/';
  TempFiles temps;
  std::vector<std::string> finalPaths(numOutputs);
  for (size_t i = 0; i < numOutputs; ++i) {
    finalPaths[i] = dir + qc::npy::fileNameForTensor(outputInfo[i].name);
    std::string tempPath;
    if (!qc::npy::writeNpyTempFile(finalPaths[i], outputs[i].dtype(),
                                   outputs[i].shape(), outputs[i].data(),
                                   tempPath, problem))
      return error("output '" + displayName(outputInfo[i].name) +
                   "': " + problem);
    temps.paths.push_back(tempPath);
  }
  for (size_t i = 0; i < numOutputs; ++i) {
    if (!qc::npy::commitTempFile(temps.paths[i], finalPaths[i], problem))
      return error("output '" + displayName(outputInfo[i].name) +
                   "': " + problem);
    temps.paths[i].clear();
  }

  for (size_t i = 0; i < numOutputs; ++i) {
    std::string line =
        "output " + displayName(outputInfo[i].name) + " " +
        describe(qc::npy::dtypeName(outputs[i].dtype()), outputs[i].shape()) +
        " -> " + finalPaths[i];
    if (options.print)
      line += ": [" +
              qc::npy::formatValues(outputs[i].dtype(), outputs[i].data(),
                                    outputs[i].numElements(), kPrintedValues) +
              "]";
    std::printf("%s\n", line.c_str());
  }
  if (std::fflush(stdout) != 0)
    return error(std::string("cannot write to stdout: ") +
                 std::strerror(errno));
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  // The generated code allocates its intermediate buffers with malloc on
  // every run. Keep freed blocks in the heap instead of returning them to
  // the kernel (mmap / trim), so repeated runs do not page-fault fresh
  // zeroed pages each time.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return runTool(argc, argv);
}
