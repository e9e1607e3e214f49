//===- WeightsTest.cpp - Tests of model.qcw validation --------------------===//

#include "Weights.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

using namespace qc::rt;
using namespace qc::test;

namespace {

/// A manifest for the fake model's weights, with the payload size and hash
/// of `payload`; `extraWeight` adds one more weight line.
Manifest manifestFor(const std::string &payload,
                     const std::string &extraWeight = "") {
  char line[128];
  std::snprintf(line, sizeof(line), "weights model.qcw %zu %016llx\n",
                payload.size(),
                static_cast<unsigned long long>(fnv1a(payload)));
  std::string text = std::string("qc-artifact 1\nqc-version t\n") + line +
                     "weight w0 f32 1 3 4096 12\n"
                     "weight w1 i32 0 4160 4\n" +
                     extraWeight + "end\n";
  Manifest manifest;
  Status status = parseManifest(text, "test", manifest);
  EXPECT_TRUE(status.ok()) << status.message();
  return manifest;
}

/// Opens `image` written as model.qcw against `manifest`; returns the
/// status.
Status openImage(const std::string &image, const Manifest &manifest,
                 WeightsFile &file, TempDir &dir) {
  EXPECT_TRUE(writeFile(dir.file("model.qcw"), image));
  return file.open(dir.file("model.qcw"), manifest);
}

void expectRejected(const std::string &image, const Manifest &manifest,
                    const std::string &expected,
                    qcrt_status code = QCRT_ERR_WEIGHTS) {
  TempDir dir;
  WeightsFile file;
  Status status = openImage(image, manifest, file, dir);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), code);
  // One line, naming the file, saying what is wrong.
  EXPECT_EQ(status.message().find('\n'), std::string::npos);
  EXPECT_EQ(status.message().rfind(dir.file("model.qcw") + ": ", 0), 0u)
      << status.message();
  EXPECT_NE(status.message().find(expected), std::string::npos)
      << status.message();
  EXPECT_EQ(file.base(), nullptr);
}

TEST(Weights, Fnv1aKnownValues) {
  EXPECT_EQ(fnv1a64("", 0), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a", 1), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar", 6), 0x85944171f73967e8ULL);
}

TEST(Weights, OpensValidFile) {
  std::string payload = fakeModelPayload();
  Manifest manifest = manifestFor(payload);
  TempDir dir;
  WeightsFile file;
  Status status = openImage(weightsImage(payload), manifest, file, dir);
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_NE(file.base(), nullptr);
  EXPECT_EQ(file.size(), 4096u + 68);
  const auto *w0 = reinterpret_cast<const float *>(file.base() + 4096);
  EXPECT_EQ(w0[2], 30.0f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w0) % 64, 0u);
  int32_t w1;
  std::memcpy(&w1, file.base() + 4160, 4);
  EXPECT_EQ(w1, 100);
}

TEST(Weights, AcceptsTrailingBytesAfterPayload) {
  std::string payload = fakeModelPayload();
  TempDir dir;
  WeightsFile file;
  EXPECT_TRUE(openImage(weightsImage(payload) + std::string(100, '\0'),
                        manifestFor(payload), file, dir)
                  .ok());
}

TEST(Weights, RejectsMissingFile) {
  TempDir dir;
  WeightsFile file;
  Status status = file.open(dir.file("model.qcw"), manifestFor("x"));
  EXPECT_EQ(status.code(), QCRT_ERR_IO);
  EXPECT_NE(status.message().find("model.qcw: cannot open weights file: No "
                                  "such file"),
            std::string::npos)
      << status.message();
}

TEST(Weights, RejectsDirectory) {
  TempDir dir;
  WeightsFile file;
  Status status = file.open(dir.path(), manifestFor("x"));
  EXPECT_EQ(status.code(), QCRT_ERR_IO);
  EXPECT_NE(status.message().find("not a regular file"), std::string::npos);
}

TEST(Weights, RejectsBadMagic) {
  std::string payload = fakeModelPayload();
  std::string image = weightsImage(payload);
  image[0] = 'X';
  expectRejected(image, manifestFor(payload), "bad magic");
  expectRejected(std::string(4200, '\0'), manifestFor(payload), "bad magic");
}

TEST(Weights, RejectsWrongVersion) {
  std::string payload = fakeModelPayload();
  expectRejected(weightsImage(payload, 2), manifestFor(payload),
                 "unsupported weights format version 2");
}

TEST(Weights, RejectsTruncatedHeader) {
  std::string payload = fakeModelPayload();
  expectRejected(weightsImage(payload).substr(0, 39), manifestFor(payload),
                 "truncated: file is 39 bytes, the header alone needs 40");
  expectRejected("", manifestFor(payload), "truncated: file is 0 bytes");
}

TEST(Weights, RejectsTruncatedPayload) {
  std::string payload = fakeModelPayload();
  std::string image = weightsImage(payload);
  expectRejected(image.substr(0, image.size() - 1), manifestFor(payload),
                 "truncated: file is 4163 bytes, but the header puts the "
                 "payload at [4096, 4096+68)");
  expectRejected(image.substr(0, 100), manifestFor(payload), "truncated");
}

TEST(Weights, RejectsHugePayloadSizeWithoutOverflow) {
  std::string payload = fakeModelPayload();
  std::string image = weightsImage(payload);
  for (int i = 0; i < 8; ++i)
    image[24 + i] = '\xff';
  expectRejected(image, manifestFor(payload), "truncated");
}

TEST(Weights, RejectsPayloadOffsetInsideHeader) {
  std::string payload = fakeModelPayload();
  std::string image = weightsImage(payload);
  image[16] = 8;
  image[17] = 0;
  expectRejected(image, manifestFor(payload),
                 "payload offset 8 overlaps the 40-byte header");
}

TEST(Weights, RejectsPayloadSizeMismatch) {
  std::string payload = fakeModelPayload();
  std::string bigger = payload + std::string(64, '\0');
  expectRejected(weightsImage(bigger), manifestFor(payload),
                 "payload is 132 bytes, the manifest says 68");
}

TEST(Weights, RejectsHeaderChecksumDifferentFromManifest) {
  std::string payload = fakeModelPayload();
  std::string other = payload;
  other[1] ^= 1;
  // A self-consistent file that belongs to a different build.
  expectRejected(weightsImage(other), manifestFor(payload),
                 "differs from the manifest's");
}

TEST(Weights, RejectsCorruptedPayload) {
  std::string payload = fakeModelPayload();
  std::string image = weightsImage(payload);
  image[4096 + 5] ^= 0x40;
  char expected[128];
  std::snprintf(expected, sizeof(expected),
                "checksum mismatch: payload hashes to %016llx, header says "
                "%016llx",
                static_cast<unsigned long long>(fnv1a(image.substr(4096))),
                static_cast<unsigned long long>(fnv1a(payload)));
  expectRejected(image, manifestFor(payload), expected);
}

TEST(Weights, RejectsWeightOutOfBounds) {
  std::string payload = fakeModelPayload();
  // Ends 4 bytes past the payload end (4164).
  expectRejected(weightsImage(payload),
                 manifestFor(payload, "weight w2 i32 1 2 4160 8\n"),
                 "weight 'w2' at [4160, 4160+8) lies outside the payload "
                 "[4096, 4164)");
  // Starts inside the header.
  expectRejected(weightsImage(payload),
                 manifestFor(payload, "weight w2 i32 0 0 4\n"),
                 "weight 'w2' at [0, 0+4) lies outside the payload");
  // Offset near 2^64: offset + nbytes must not wrap around.
  expectRejected(
      weightsImage(payload),
      manifestFor(payload, "weight w2 i32 1 64 18446744073709551552 256\n"),
      "lies outside the payload");
}

TEST(Weights, ReopenReleasesPreviousMapping) {
  std::string payload = fakeModelPayload();
  Manifest manifest = manifestFor(payload);
  TempDir dir;
  WeightsFile file;
  ASSERT_TRUE(openImage(weightsImage(payload), manifest, file, dir).ok());
  std::string bad = weightsImage(payload);
  bad[0] = 'X';
  EXPECT_FALSE(openImage(bad, manifest, file, dir).ok());
  EXPECT_EQ(file.base(), nullptr);
  EXPECT_EQ(file.size(), 0u);
}

} // namespace
