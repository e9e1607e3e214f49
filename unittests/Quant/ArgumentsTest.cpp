//===- ArgumentsTest.cpp - Bad arguments give errors, not crashes ---------===//

#include "qc/Quant/Quant.h"

#include "QuantTestUtil.h"

#include <gtest/gtest.h>

#include <limits>

using namespace qc::quant;
using namespace qc::quant::test;

namespace {

/// Expects `ok` false with a message naming `fn`, and clears `err`.
void expectError(bool ok, std::string &err, const char *fn) {
  EXPECT_FALSE(ok);
  EXPECT_NE(err.find(fn), std::string::npos) << err;
  err.clear();
}

} // namespace

TEST(Arguments, Uniform) {
  std::vector<float> W = randomWeights(16, 4, 1);
  UniformResult q;
  std::string err;
  const char *fn = "quantizeUniformRTN";
  for (int bits : {0, 1, 9, -3})
    expectError(quantizeUniformRTN(W.data(), 16, 4, {bits, 8, false, false},
                                   ClipSearch::MinMax, q, err),
                err, fn);
  for (int64_t group : {int64_t(-2), int64_t(-128)})
    expectError(quantizeUniformRTN(W.data(), 16, 4, {4, group, false, false},
                                   ClipSearch::MSE, q, err),
                err, fn);
  expectError(
      quantizeUniformRTN(nullptr, 16, 4, {}, ClipSearch::MinMax, q, err), err,
      fn);
  expectError(
      quantizeUniformRTN(W.data(), 0, 4, {}, ClipSearch::MinMax, q, err), err,
      fn);
  expectError(
      quantizeUniformRTN(W.data(), 16, -1, {}, ClipSearch::MinMax, q, err), err,
      fn);
  std::vector<float> bad = W;
  bad[5] = std::numeric_limits<float>::quiet_NaN();
  expectError(
      quantizeUniformRTN(bad.data(), 16, 4, {}, ClipSearch::MinMax, q, err),
      err, fn);
  bad[5] = std::numeric_limits<float>::infinity();
  expectError(
      quantizeUniformRTN(bad.data(), 16, 4, {}, ClipSearch::MinMax, q, err),
      err, fn);
  // Both whole-axis spellings work.
  for (int64_t group : {int64_t(-1), int64_t(0)}) {
    EXPECT_TRUE(quantizeUniformRTN(W.data(), 16, 4, {4, group, true, true},
                                   ClipSearch::MinMax, q, err))
        << err;
    EXPECT_EQ(q.group, 4);
  }
}

TEST(Arguments, BCQ) {
  std::vector<float> W = randomWeights(16, 4, 2);
  BCQResult q;
  std::string err;
  const char *fn = "fitBCQ";
  for (int planes : {0, 9, -1})
    expectError(fitBCQ(W.data(), 16, 4, planes, 8, true, 2, q, err), err, fn);
  expectError(fitBCQ(W.data(), 16, 4, 2, -5, true, 2, q, err), err, fn);
  expectError(fitBCQ(W.data(), 16, 4, 2, 8, true, -1, q, err), err, fn);
  expectError(fitBCQ(nullptr, 16, 4, 2, 8, true, 2, q, err), err, fn);
  expectError(fitBCQ(W.data(), 16, 0, 2, 8, true, 2, q, err), err, fn);
  UniformResult u;
  expectError(uniformToBCQ(u, q, err), err, "verifyUniform");
}

TEST(Arguments, Codebook) {
  std::vector<float> W = randomWeights(16, 4, 3);
  CodebookResult q;
  std::string err;
  const char *fn = "fitCodebook";
  CodebookParams good;
  good.vectorLen = 4;
  good.entries = 8;
  CodebookParams p = good;
  p.entries = 65537;
  expectError(fitCodebook(W.data(), 16, 4, p, q, err), err, fn);
  p.entries = 0;
  expectError(fitCodebook(W.data(), 16, 4, p, q, err), err, fn);
  p = good;
  p.vectorLen = 0;
  expectError(fitCodebook(W.data(), 16, 4, p, q, err), err, fn);
  p.vectorLen = -4;
  expectError(fitCodebook(W.data(), 16, 4, p, q, err), err, fn);
  p = good;
  for (int m : {0, 5}) {
    p.numCodebooks = m;
    expectError(fitCodebook(W.data(), 16, 4, p, q, err), err, fn);
  }
  p = good;
  p.kmeansIters = -1;
  expectError(fitCodebook(W.data(), 16, 4, p, q, err), err, fn);
  expectError(fitCodebook(nullptr, 16, 4, good, q, err), err, fn);
  expectError(fitCodebook(W.data(), 0, 0, good, q, err), err, fn);
  // A vector longer than K is one short vector per column.
  p = good;
  p.vectorLen = 32;
  EXPECT_TRUE(fitCodebook(W.data(), 16, 4, p, q, err)) << err;
  EXPECT_EQ(q.numVectorRows, 1);
}

TEST(Arguments, FloatFormats) {
  std::vector<float> W = randomWeights(16, 4, 4);
  std::string err;
  MXFP4Result mx;
  expectError(quantizeMXFP4(nullptr, 16, 4, mx, err), err, "quantizeMXFP4");
  expectError(quantizeMXFP4(W.data(), 16, 0, mx, err), err, "quantizeMXFP4");
  AMXFP4Result amx;
  expectError(quantizeAMXFP4(nullptr, 16, 4, amx, err), err, "quantizeAMXFP4");
  std::vector<float> bad = W;
  bad[0] = std::numeric_limits<float>::infinity();
  expectError(quantizeAMXFP4(bad.data(), 16, 4, amx, err), err,
              "quantizeAMXFP4");
  DIntResult d;
  for (int bits : {0, 1, 9})
    expectError(quantizeDInt(W.data(), 16, 4, bits, 8, d, err), err,
                "quantizeDInt");
  expectError(quantizeDInt(W.data(), 16, 4, 4, -3, d, err), err,
              "quantizeDInt");
  expectError(quantizeDInt(nullptr, 16, 4, 4, 8, d, err), err, "quantizeDInt");
  std::vector<float> out;
  expectError(dequantizeMXFP4(MXFP4Result(), out, err), err, "dequantizeMXFP4");
  expectError(dequantizeAMXFP4(AMXFP4Result(), out, err), err,
              "dequantizeAMXFP4");
  expectError(dequantizeDInt(DIntResult(), out, err), err, "dequantizeDInt");
  EXPECT_EQ(dintLevel(9, 3), 0.0f);
  EXPECT_EQ(dintLevel(4, 16), 0.0f);
}
