//===- QcRunTest.cpp - Tests of the qc-run tool on the fake model ---------===//

#include "TestUtil.h"
#include "qcrt/Npy.h"

#include <gtest/gtest.h>

#include <sys/wait.h>

using namespace qc::test;
using qc::npy::Array;
using qc::npy::DType;

namespace {

struct Result {
  int exitCode = -1;
  std::string out, err;
};

std::string quote(const std::string &text) {
  std::string result = "'";
  for (char c : text)
    result += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return result + "'";
}

class QcRun : public ::testing::Test {
protected:
  void SetUp() override {
    std::string weights = weightsImage(fakeModelPayload());
    ASSERT_EQ(mkdir(dir.file("art").c_str(), 0777), 0);
    ASSERT_TRUE(writeFile(dir.file("art/model.so"), readFile(QCRT_TEST_MODEL)));
    ASSERT_TRUE(writeFile(dir.file("art/model.qcw"), weights));
    writeInput("a.npy", DType::F32, {2, 3}, a);
    writeInput("b.npy", DType::F32, {2, 3}, b);
  }

  void writeInput(const std::string &name, DType dtype,
                  const std::vector<int64_t> &shape, const void *data) {
    std::string error;
    ASSERT_TRUE(
        qc::npy::writeNpyFile(dir.file(name), dtype, shape, data, error))
        << error;
  }

  /// Runs qc-run with `args` (already quoted as needed) in the temp dir.
  Result run(const std::string &args) {
    Result result;
    std::string command =
        "cd " + quote(dir.path()) + " && " + quote(QC_RUN_PATH) + " " + args +
        " >" + quote(dir.file("stdout")) + " 2>" + quote(dir.file("stderr"));
    int status = std::system(command.c_str());
    if (status != -1 && WIFEXITED(status))
      result.exitCode = WEXITSTATUS(status);
    result.out = readFile(dir.file("stdout"));
    result.err = readFile(dir.file("stderr"));
    unlink(dir.file("stdout").c_str());
    unlink(dir.file("stderr").c_str());
    return result;
  }

  Array readOutput(const std::string &path) {
    Array array;
    std::string error;
    EXPECT_TRUE(qc::npy::readNpyFile(path, array, error)) << error;
    return array;
  }

  void expectGoodOutputs(const std::string &outDir) {
    Array sum = readOutput(dir.file(outDir + "/sum.npy"));
    Array aT = readOutput(dir.file(outDir + "/a%2FT.npy"));
    ASSERT_EQ(sum.shape(), (std::vector<int64_t>{2, 3}));
    ASSERT_EQ(aT.shape(), (std::vector<int64_t>{3, 2}));
    const auto *s = static_cast<const float *>(sum.data());
    const auto *t = static_cast<const float *>(aT.data());
    const float w0[3] = {10, 20, 30};
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) {
        EXPECT_EQ(s[i * 3 + j], a[i * 3 + j] + b[i * 3 + j] + w0[j] + 100);
        EXPECT_EQ(t[j * 2 + i], a[i * 3 + j]);
      }
  }

  /// Expects failure with exit code 1 and "qc-run: error: <expected...>".
  void expectError(const Result &result, const std::string &expected,
                   int exitCode = 1) {
    EXPECT_EQ(result.exitCode, exitCode) << result.err;
    EXPECT_EQ(result.err.rfind("qc-run: error: ", 0), 0u) << result.err;
    EXPECT_NE(result.err.find(expected), std::string::npos) << result.err;
  }

  TempDir dir;
  float a[6] = {1, 2, 3, 4, 5, 6};
  float b[6] = {0.5f, 0, -1, 2, 0, 1};
};

TEST_F(QcRun, PositionalInputs) {
  Result result = run("art a.npy b.npy --output-dir out");
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(result.out, "output sum f32 [2, 3] -> out/sum.npy\n"
                        "output a/T f32 [3, 2] -> out/a%2FT.npy\n");
  expectGoodOutputs("out");
  // Only the outputs: no temporary files are left behind.
  EXPECT_EQ(dir.list("out"),
            (std::vector<std::string>{"a%2FT.npy", "sum.npy"}));
}

TEST_F(QcRun, NamedInputsAndPrint) {
  Result result = run("art --input 'in b=b.npy' --input=a=a.npy --print "
                      "--output-dir=deep/er/out");
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.out.find("output sum f32 [2, 3] -> deep/er/out/sum.npy: "
                            "[111.5, 122, 132, 116, 125, 137]"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("output a/T f32 [3, 2] -> "
                            "deep/er/out/a%2FT.npy: [1, 4, 2, 5, 3, 6]"),
            std::string::npos)
      << result.out;
  expectGoodOutputs("deep/er/out");
}

TEST_F(QcRun, MixedNamedAndPositional) {
  // "a" is named, so the positional file binds to "in b".
  Result result = run("art b.npy --input a=a.npy");
  ASSERT_EQ(result.exitCode, 0) << result.err;
  expectGoodOutputs(".");
}

TEST_F(QcRun, RepeatPrintsTiming) {
  Result result = run("art a.npy b.npy --repeat 5 --warmup 2");
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_EQ(result.out.rfind("time: median ", 0), 0u) << result.out;
  EXPECT_NE(result.out.find(" ms, min "), std::string::npos);
  EXPECT_NE(result.out.find(" ms over 5 runs\n"), std::string::npos);
  expectGoodOutputs(".");
}

TEST_F(QcRun, DTypeMismatch) {
  double d[6] = {};
  writeInput("d.npy", DType::F64, {2, 3}, d);
  expectError(run("art d.npy b.npy"),
              "input 'a' (d.npy): expected f32 [2, 3], found f64 [2, 3]");
}

TEST_F(QcRun, ShapeMismatch) {
  writeInput("s.npy", DType::F32, {3, 2}, a);
  expectError(run("art a.npy s.npy"),
              "input 'in b' (s.npy): expected f32 [2, 3], found f32 [3, 2]");
}

TEST_F(QcRun, FortranOrderInput) {
  std::string image = qc::npy::encodeNpy(DType::F32, {2, 3}, a);
  size_t at = image.find("False");
  image.replace(at, 5, "True ");
  ASSERT_TRUE(writeFile(dir.file("f.npy"), image));
  expectError(run("art f.npy b.npy"), "input 'a': f.npy: fortran_order=True");
}

TEST_F(QcRun, BindingErrors) {
  expectError(run("art a.npy"), "no file for input 'in b' (f32 [2, 3])");
  expectError(run("art a.npy b.npy b.npy"),
              "too many input files: the model has 2 input(s)");
  expectError(run("art --input c=a.npy a.npy b.npy"),
              "the model has no input named 'c' (inputs: a, in b)");
  expectError(run("art --input a=a.npy --input a=b.npy b.npy"),
              "input 'a' is given twice");
  expectError(run("art missing.npy b.npy"),
              "input 'a': missing.npy: No such file or directory");
}

TEST_F(QcRun, UsageErrors) {
  expectError(run(""), "missing ARTIFACT_DIR", 2);
  expectError(run("art --bogus"), "unknown option '--bogus'", 2);
  expectError(run("art --repeat 0"), "--repeat expects a positive count", 2);
  expectError(run("art --repeat x"), "--repeat expects a positive count", 2);
  expectError(run("art --warmup"), "option '--warmup' needs a value", 2);
  expectError(run("art --input a.npy"), "--input expects NAME=FILE.npy", 2);
  Result help = run("--help");
  EXPECT_EQ(help.exitCode, 0);
  EXPECT_EQ(help.out.rfind("usage: qc-run", 0), 0u);
}

TEST_F(QcRun, ArtifactErrors) {
  expectError(run("nothere a.npy b.npy"),
              "nothere/model.so: No such file or directory");
  ASSERT_EQ(unlink(dir.file("art/model.qcw").c_str()), 0);
  expectError(run("art a.npy b.npy"),
              "art/model.qcw: cannot open weights file");
}

TEST_F(QcRun, OutputDirIsAFile) {
  ASSERT_TRUE(writeFile(dir.file("plain"), "x"));
  expectError(run("art a.npy b.npy --output-dir plain"),
              "output directory 'plain' is not a directory");
}

TEST_F(QcRun, FailedOutputWriteLeavesNoPartialFiles) {
  // "a%2FT.npy" exists as a non-empty directory: its rename fails after
  // sum.npy was written to a temporary file.
  ASSERT_EQ(mkdir(dir.file("out").c_str(), 0777), 0);
  ASSERT_EQ(mkdir(dir.file("out/a%2FT.npy").c_str(), 0777), 0);
  ASSERT_TRUE(writeFile(dir.file("out/a%2FT.npy/x"), "x"));
  expectError(run("art a.npy b.npy --output-dir out"),
              "output 'a/T': out/a%2FT.npy: cannot move the written file");
  std::vector<std::string> left = dir.list("out");
  for (const std::string &name : left)
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
}

} // namespace
