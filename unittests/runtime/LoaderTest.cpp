//===- LoaderTest.cpp - End-to-end tests of the C API on a fake model -----===//

#include "TestUtil.h"
#include "qcrt.h"

#include <gtest/gtest.h>

#include <thread>

using namespace qc::test;

namespace {

/// The expected outputs of the fake model (see FakeModel.c).
void expectOutputs(const float *a, const float *b, const float *sum,
                   const float *aT) {
  const float w0[3] = {10, 20, 30};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ(sum[i * 3 + j], a[i * 3 + j] + b[i * 3 + j] + w0[j] + 100)
          << i << "," << j;
      EXPECT_EQ(aT[j * 2 + i], a[i * 3 + j]) << i << "," << j;
    }
}

class Loader : public ::testing::Test {
protected:
  /// Builds an artifact from the fake model; `weights` null means no
  /// model.qcw.
  void make(const std::string *weights, const char *model = QCRT_TEST_MODEL) {
    ASSERT_TRUE(makeArtifact(dir, model, weights));
  }
  void makeGood() {
    std::string weights = weightsImage(fakeModelPayload());
    make(&weights);
  }

  /// Loads expecting failure; checks the code and that the message is one
  /// line containing `expected`.
  void expectLoadError(qcrt_status code, const std::string &expected) {
    qcrt_model *model = reinterpret_cast<qcrt_model *>(1);
    EXPECT_EQ(qcrt_load(dir.path().c_str(), &model), code);
    EXPECT_EQ(model, nullptr);
    std::string message = qcrt_last_error();
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }

  TempDir dir;
};

TEST_F(Loader, LoadsAndDescribesModel) {
  makeGood();
  qcrt_model *model = nullptr;
  ASSERT_EQ(qcrt_load(dir.path().c_str(), &model), QCRT_OK)
      << qcrt_last_error();
  ASSERT_NE(model, nullptr);
  EXPECT_STREQ(qcrt_model_qc_version(model), "0.1.0-test");
  ASSERT_EQ(qcrt_num_inputs(model), 2u);
  ASSERT_EQ(qcrt_num_outputs(model), 2u);
  ASSERT_EQ(qcrt_num_weights(model), 2u);

  qcrt_tensor_info info;
  ASSERT_EQ(qcrt_input_info(model, 1, &info), QCRT_OK);
  EXPECT_STREQ(info.name, "in b");
  EXPECT_EQ(info.dtype, QCRT_F32);
  ASSERT_EQ(info.rank, 2);
  EXPECT_EQ(info.dims[0], 2);
  EXPECT_EQ(info.dims[1], 3);
  EXPECT_EQ(info.elem_size, 4u);
  EXPECT_EQ(info.num_elements, 6u);
  EXPECT_EQ(info.byte_size, 24u);

  ASSERT_EQ(qcrt_output_info(model, 1, &info), QCRT_OK);
  EXPECT_STREQ(info.name, "a/T");
  EXPECT_EQ(info.dims[0], 3);
  EXPECT_EQ(info.dims[1], 2);

  ASSERT_EQ(qcrt_weight_info(model, 1, &info), QCRT_OK);
  EXPECT_STREQ(info.name, "w1");
  EXPECT_EQ(info.dtype, QCRT_I32);
  EXPECT_EQ(info.rank, 0);
  EXPECT_EQ(info.dims, nullptr);
  EXPECT_EQ(info.num_elements, 1u);
  EXPECT_EQ(info.byte_size, 4u);

  EXPECT_EQ(qcrt_output_info(model, 2, &info), QCRT_ERR_ARGUMENT);
  EXPECT_STREQ(qcrt_last_error(), "output index 2 out of range (model has 2)");
  EXPECT_EQ(qcrt_input_info(model, 0, nullptr), QCRT_ERR_ARGUMENT);
  qcrt_free(model);
}

TEST_F(Loader, RunsModel) {
  makeGood();
  qcrt_model *model = nullptr;
  ASSERT_EQ(qcrt_load(dir.path().c_str(), &model), QCRT_OK)
      << qcrt_last_error();
  float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {0.5f, 0.25f, 0, -1, -2, -3};
  float sum[6] = {}, aT[6] = {};
  const void *inputs[2] = {a, b};
  void *outputs[2] = {sum, aT};
  ASSERT_EQ(qcrt_run(model, inputs, outputs), QCRT_OK) << qcrt_last_error();
  expectOutputs(a, b, sum, aT);
  qcrt_free(model);
}

TEST_F(Loader, LoadsFurtherEntries) {
  makeGood();
  qcrt_model *model = nullptr;
  ASSERT_EQ(qcrt_load(dir.path().c_str(), &model), QCRT_OK)
      << qcrt_last_error();
  ASSERT_EQ(qcrt_num_entries(model), 2u);
  EXPECT_STREQ(qcrt_entry_name(model, 0), "scaled");
  EXPECT_STREQ(qcrt_entry_name(model, 1), "other");
  EXPECT_EQ(qcrt_entry_name(model, 2), nullptr);

  qcrt_model *scaled = nullptr;
  ASSERT_EQ(qcrt_load_entry(model, "scaled", &scaled), QCRT_OK)
      << qcrt_last_error();
  // The entry outlives the model it came from: it holds the weights too.
  qcrt_free(model);
  ASSERT_EQ(qcrt_num_inputs(scaled), 1u);
  ASSERT_EQ(qcrt_num_weights(scaled), 1u);
  EXPECT_EQ(qcrt_num_entries(scaled), 0u);
  float a[6] = {1, 2, 3, 4, 5, -6}, out[6] = {};
  const void *inputs[1] = {a};
  void *outputs[1] = {out};
  ASSERT_EQ(qcrt_run(scaled, inputs, outputs), QCRT_OK) << qcrt_last_error();
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(out[i], a[i] * 100) << i;
  qcrt_free(scaled);
}

TEST_F(Loader, RejectsBadEntries) {
  makeGood();
  qcrt_model *model = nullptr;
  ASSERT_EQ(qcrt_load(dir.path().c_str(), &model), QCRT_OK)
      << qcrt_last_error();
  qcrt_model *entry = reinterpret_cast<qcrt_model *>(1);
  EXPECT_EQ(qcrt_load_entry(model, "nope", &entry), QCRT_ERR_ARGUMENT);
  EXPECT_EQ(entry, nullptr);
  EXPECT_NE(std::string(qcrt_last_error())
                .find("has no entry 'nope' (it has: scaled, other)"),
            std::string::npos)
      << qcrt_last_error();
  EXPECT_EQ(qcrt_load_entry(model, "other", &entry), QCRT_ERR_MANIFEST);
  EXPECT_NE(std::string(qcrt_last_error())
                .find("entry 'other' names other weights"),
            std::string::npos)
      << qcrt_last_error();
  EXPECT_EQ(qcrt_load_entry(model, nullptr, &entry), QCRT_ERR_ARGUMENT);
  EXPECT_EQ(qcrt_load_entry(nullptr, "scaled", &entry), QCRT_ERR_ARGUMENT);
  qcrt_free(model);
}

TEST_F(Loader, RunIsReentrant) {
  makeGood();
  qcrt_model *model = nullptr;
  ASSERT_EQ(qcrt_load(dir.path().c_str(), &model), QCRT_OK)
      << qcrt_last_error();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int iter = 0; iter < 200; ++iter) {
        float a[6], b[6], sum[6], aT[6];
        for (int i = 0; i < 6; ++i) {
          a[i] = static_cast<float>(t * 1000 + iter + i);
          b[i] = static_cast<float>(-i * t);
        }
        const void *inputs[2] = {a, b};
        void *outputs[2] = {sum, aT};
        if (qcrt_run(model, inputs, outputs) != QCRT_OK) {
          ++failures[t];
          continue;
        }
        const float w0[3] = {10, 20, 30};
        for (int i = 0; i < 6; ++i)
          if (sum[i] != a[i] + b[i] + w0[i % 3] + 100)
            ++failures[t];
      }
    });
  }
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
  qcrt_free(model);
}

TEST_F(Loader, TwoLoadsOfTheSameModelAreIndependent) {
  makeGood();
  qcrt_model *first = nullptr, *second = nullptr;
  ASSERT_EQ(qcrt_load(dir.path().c_str(), &first), QCRT_OK);
  ASSERT_EQ(qcrt_load(dir.path().c_str(), &second), QCRT_OK);
  qcrt_free(first);
  float a[6] = {1, 1, 1, 1, 1, 1}, b[6] = {}, sum[6], aT[6];
  const void *inputs[2] = {a, b};
  void *outputs[2] = {sum, aT};
  ASSERT_EQ(qcrt_run(second, inputs, outputs), QCRT_OK);
  expectOutputs(a, b, sum, aT);
  qcrt_free(second);
}

TEST_F(Loader, RejectsNullArguments) {
  makeGood();
  qcrt_model *model = nullptr;
  EXPECT_EQ(qcrt_load(nullptr, &model), QCRT_ERR_ARGUMENT);
  EXPECT_EQ(qcrt_load(dir.path().c_str(), nullptr), QCRT_ERR_ARGUMENT);
  EXPECT_EQ(qcrt_load("", &model), QCRT_ERR_ARGUMENT);
  EXPECT_EQ(qcrt_run(nullptr, nullptr, nullptr), QCRT_ERR_ARGUMENT);
  EXPECT_EQ(qcrt_num_inputs(nullptr), 0u);
  qcrt_free(nullptr);

  ASSERT_EQ(qcrt_load(dir.path().c_str(), &model), QCRT_OK);
  float a[6] = {}, sum[6], aT[6];
  const void *inputs[2] = {a, nullptr};
  void *outputs[2] = {sum, aT};
  EXPECT_EQ(qcrt_run(model, inputs, outputs), QCRT_ERR_ARGUMENT);
  EXPECT_STREQ(qcrt_last_error(), "buffer of input 'in%20b' is null");
  inputs[1] = a;
  outputs[0] = nullptr;
  EXPECT_EQ(qcrt_run(model, inputs, outputs), QCRT_ERR_ARGUMENT);
  EXPECT_STREQ(qcrt_last_error(), "buffer of output 'sum' is null");
  EXPECT_EQ(qcrt_run(model, nullptr, outputs), QCRT_ERR_ARGUMENT);
  EXPECT_EQ(qcrt_run(model, inputs, nullptr), QCRT_ERR_ARGUMENT);
  qcrt_free(model);
}

TEST_F(Loader, MissingDirectory) {
  qcrt_model *model = nullptr;
  std::string missing = dir.file("nope");
  EXPECT_EQ(qcrt_load(missing.c_str(), &model), QCRT_ERR_IO);
  EXPECT_EQ(std::string(qcrt_last_error()),
            missing + "/model.so: No such file or directory (is '" + missing +
                "' a qc artifact folder?)");
}

TEST_F(Loader, MissingModelSo) {
  std::string weights = weightsImage(fakeModelPayload());
  ASSERT_TRUE(writeFile(dir.file("model.qcw"), weights));
  expectLoadError(QCRT_ERR_IO, dir.file("model.so") + ": No such file");
}

TEST_F(Loader, MissingWeights) {
  make(nullptr);
  expectLoadError(QCRT_ERR_IO, dir.file("model.qcw") +
                                   ": cannot open weights file: No such file");
}

TEST_F(Loader, CorruptWeights) {
  std::string weights = weightsImage(fakeModelPayload());
  weights[4096 + 64] ^= 1;
  make(&weights);
  expectLoadError(QCRT_ERR_WEIGHTS,
                  dir.file("model.qcw") + ": checksum mismatch");
}

TEST_F(Loader, TruncatedWeights) {
  std::string weights = weightsImage(fakeModelPayload()).substr(0, 4100);
  make(&weights);
  expectLoadError(QCRT_ERR_WEIGHTS, dir.file("model.qcw") + ": truncated");
}

TEST_F(Loader, WrongMagic) {
  std::string weights = weightsImage(fakeModelPayload());
  std::memcpy(&weights[0], "QCWEIGHS", 8);
  make(&weights);
  expectLoadError(QCRT_ERR_WEIGHTS, dir.file("model.qcw") + ": bad magic");
}

TEST_F(Loader, WeightsFromAnotherBuild) {
  std::string payload = fakeModelPayload();
  payload[0] ^= 1;
  std::string weights = weightsImage(payload);
  make(&weights);
  expectLoadError(QCRT_ERR_WEIGHTS, "differs from the manifest's");
}

TEST_F(Loader, NotASharedObject) {
  ASSERT_TRUE(writeFile(dir.file("model.so"), "this is not ELF\n"));
  std::string weights = weightsImage(fakeModelPayload());
  ASSERT_TRUE(writeFile(dir.file("model.qcw"), weights));
  expectLoadError(QCRT_ERR_LOAD, dir.file("model.so") + ": cannot load: ");
}

TEST_F(Loader, ModelWithoutManifest) {
  std::string weights = weightsImage(fakeModelPayload());
  make(&weights, QCRT_TEST_MODEL_NO_MANIFEST);
  expectLoadError(QCRT_ERR_LOAD,
                  dir.file("model.so") + ": does not export 'qc_manifest'");
}

TEST_F(Loader, ModelWithMalformedManifest) {
  std::string weights = weightsImage(fakeModelPayload());
  make(&weights, QCRT_TEST_MODEL_BAD_MANIFEST);
  expectLoadError(QCRT_ERR_MANIFEST, dir.file("model.so") +
                                         ": manifest line 3: input 'a': "
                                         "rank 2 needs 6 fields, found 5");
}

TEST_F(Loader, ModelWithoutEntry) {
  std::string weights = weightsImage(fakeModelPayload());
  make(&weights, QCRT_TEST_MODEL_NO_ENTRY);
  expectLoadError(QCRT_ERR_LOAD,
                  dir.file("model.so") + ": does not export 'qc_entry'");
}

TEST(LastError, IsPerThread) {
  qcrt_model *model = nullptr;
  EXPECT_EQ(qcrt_load("/nonexistent/a", &model), QCRT_ERR_IO);
  std::string mine = qcrt_last_error();
  std::string theirs;
  std::thread([&] {
    theirs = qcrt_last_error();
    EXPECT_EQ(qcrt_load("/nonexistent/b", &model), QCRT_ERR_IO);
  }).join();
  EXPECT_EQ(theirs, "");
  EXPECT_EQ(qcrt_last_error(), mine);
}

TEST(DTypeName, CoversEveryDType) {
  const char *expected[] = {
      "f16",      "bf16",       "f32",    "f64",        "i8",
      "i16",      "i32",        "i64",    "u8",         "u16",
      "u32",      "u64",        "bool",   "i4",         "u4",
      "i2",       "u2",         "f8e4m3fn", "f8e4m3fnuz", "f8e5m2",
      "f8e5m2fnuz", "f4e2m1",   "f8e8m0"};
  for (int i = 0; i <= QCRT_F8E8M0; ++i)
    EXPECT_STREQ(qcrt_dtype_name(static_cast<qcrt_dtype>(i)), expected[i]);
  EXPECT_STREQ(qcrt_dtype_name(static_cast<qcrt_dtype>(QCRT_F8E8M0 + 1)),
               "?");
}

} // namespace

extern "C" int qcrtCHeaderCheck(void);

TEST(CHeader, UsableFromC) { EXPECT_EQ(qcrtCHeaderCheck(), 0); }
