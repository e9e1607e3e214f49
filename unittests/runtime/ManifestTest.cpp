//===- ManifestTest.cpp - Tests of the manifest parser --------------------===//

#include "Manifest.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstring>

using namespace qc::rt;

namespace {

const char *kGood = "qc-artifact 1\n"
                    "qc-version 0.1.0\n"
                    "weights model.qcw 4160 0123456789abcdef\n"
                    "input x%20y f32 4 1 3 224 224\n"
                    "input s i64 0\n"
                    "output out/0 f16 2 1 0\n"
                    "weight w.1:a-b bool 1 64 4096 64\n"
                    "weight scalar u16 0 4160 2\n"
                    "end\n";

/// Parses `text` expecting failure and returns the message.
std::string parseError(const std::string &text) {
  Manifest manifest;
  Status status = parseManifest(text, "art/model.so", manifest);
  EXPECT_FALSE(status.ok()) << "accepted:\n" << text;
  EXPECT_EQ(status.code(), QCRT_ERR_MANIFEST);
  return status.message();
}

/// kGood with line `lineNo` (1-based) replaced by `line` ("" deletes it).
std::string withLine(int lineNo, const std::string &line) {
  std::string text = kGood, result;
  int current = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string original = text.substr(pos, end - pos);
    pos = end + 1;
    if (++current == lineNo) {
      if (!line.empty())
        result += line + "\n";
    } else {
      result += original + "\n";
    }
  }
  return result;
}

TEST(Manifest, ParsesGoodManifest) {
  Manifest m;
  Status status = parseManifest(kGood, "art/model.so", m);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(m.formatVersion, 1u);
  EXPECT_EQ(m.qcVersion, "0.1.0");
  EXPECT_EQ(m.weightsFile, "model.qcw");
  EXPECT_EQ(m.payloadBytes, 4160u);
  EXPECT_EQ(m.checksum, 0x0123456789abcdefULL);

  ASSERT_EQ(m.inputs.size(), 2u);
  EXPECT_EQ(m.inputs[0].name, "x y");
  EXPECT_EQ(m.inputs[0].escapedName, "x%20y");
  EXPECT_EQ(m.inputs[0].dtype, QCRT_F32);
  EXPECT_EQ(m.inputs[0].dims, (std::vector<int64_t>{1, 3, 224, 224}));
  EXPECT_EQ(m.inputs[0].numElements, 3u * 224 * 224);
  EXPECT_EQ(m.inputs[0].byteSize, 4u * 3 * 224 * 224);
  EXPECT_EQ(m.inputs[1].name, "s");
  EXPECT_TRUE(m.inputs[1].dims.empty());
  EXPECT_EQ(m.inputs[1].numElements, 1u);
  EXPECT_EQ(m.inputs[1].byteSize, 8u);

  ASSERT_EQ(m.outputs.size(), 1u);
  EXPECT_EQ(m.outputs[0].name, "out/0");
  EXPECT_EQ(m.outputs[0].dtype, QCRT_F16);
  EXPECT_EQ(m.outputs[0].numElements, 0u);
  EXPECT_EQ(m.outputs[0].byteSize, 0u);

  ASSERT_EQ(m.weights.size(), 2u);
  EXPECT_EQ(m.weights[0].name, "w.1:a-b");
  EXPECT_EQ(m.weights[0].dtype, QCRT_BOOL);
  EXPECT_EQ(m.weights[0].offset, 4096u);
  EXPECT_EQ(m.weights[0].byteSize, 64u);
  EXPECT_EQ(m.weights[1].dtype, QCRT_U16);
  EXPECT_EQ(m.weights[1].offset, 4160u);
  EXPECT_EQ(m.weights[1].byteSize, 2u);
}

TEST(Manifest, AcceptsMissingFinalNewlineAndUpperCaseChecksum) {
  std::string text = withLine(3, "weights model.qcw 4160 0123456789ABCDEF");
  text.pop_back();
  Manifest m;
  Status status = parseManifest(text, "m", m);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(m.checksum, 0x0123456789abcdefULL);
}

TEST(Manifest, AcceptsEveryDType) {
  for (const char *dtype : {"f16", "bf16", "f32", "f64", "i8", "i16", "i32",
                            "i64", "u8", "u16", "u32", "u64", "bool"}) {
    Manifest m;
    Status status = parseManifest(
        withLine(4, std::string("input x ") + dtype + " 1 5"), "m", m);
    ASSERT_TRUE(status.ok()) << status.message();
    EXPECT_STREQ(dtypeName(m.inputs[0].dtype), dtype);
    EXPECT_EQ(m.inputs[0].byteSize, 5 * dtypeSize(m.inputs[0].dtype));
  }
}

TEST(Manifest, MessagesNameSourceAndLine) {
  EXPECT_EQ(parseError(withLine(4, "input x f32 2 1")),
            "art/model.so: manifest line 4: input 'x': rank 2 needs 6 fields, "
            "found 5");
}

TEST(Manifest, RejectsBadHeader) {
  EXPECT_NE(parseError("").find("empty manifest"), std::string::npos);
  EXPECT_NE(parseError(withLine(1, "qc-artifact")).find("qc-artifact"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(1, "hello 1")).find("not a qc manifest"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(1, "qc-artifact 2"))
                .find("unsupported artifact format version 2"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(2, "")).find("missing 'qc-version'"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(3, "")).find("missing 'weights'"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(2, "qc-version 1 2"))
                .find("expected 'qc-version <version>'"),
            std::string::npos);
}

TEST(Manifest, RejectsBadStructure) {
  EXPECT_NE(parseError(withLine(9, "")).find("missing 'end' record"),
            std::string::npos);
  EXPECT_NE(parseError(std::string(kGood) + "input z f32 0\n")
                .find("line 10: text after the 'end' record"),
            std::string::npos);
  EXPECT_NE(parseError(std::string(kGood) + "\n").find("text after"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(9, "end now")).find("'end' takes no fields"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "inputs s i64 0"))
                .find("line 5: unknown record 'inputs'"),
            std::string::npos);
  EXPECT_NE(
      parseError(withLine(5, "qc-artifact 1")).find("duplicate 'qc-artifact'"),
      std::string::npos);
  EXPECT_NE(
      parseError(withLine(5, "qc-version 2")).find("duplicate 'qc-version'"),
      std::string::npos);
  EXPECT_NE(parseError(withLine(5, "weights a.qcw 0 0000000000000000"))
                .find("duplicate 'weights'"),
            std::string::npos);
}

TEST(Manifest, RejectsBadSpacing) {
  EXPECT_NE(parseError(withLine(5, "input  s i64 0")).find("empty field"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input s i64 0 ")).find("empty field"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input\ts i64 0")).find("byte 0x09"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input s i64 0\r")).find("byte 0x0D"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input s\xc3\xa9 i64 0")).find("byte 0xC3"),
            std::string::npos);
  std::string emptyLine = kGood;
  emptyLine.insert(emptyLine.find("input s"), "\n");
  EXPECT_NE(parseError(emptyLine).find("line 5: empty line"),
            std::string::npos);
}

TEST(Manifest, RejectsBadTensorLines) {
  EXPECT_NE(
      parseError(withLine(5, "input s f48 0")).find("unknown dtype 'f48'"),
      std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input s i64 x")).find("malformed rank 'x'"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input s i64 1")).find("rank 1 needs 5"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input s i64 1 2 3")).find("rank 1 needs 5"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input s i64 99999999999999999999999 1"))
                .find("malformed rank"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input s i64")).find("at least 4 fields"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input s i64 1 -1"))
                .find("malformed dimension 0 '-1'"),
            std::string::npos);
  EXPECT_NE(
      parseError(withLine(5, "input s i64 1 +1")).find("malformed dimension"),
      std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input s i64 1 9223372036854775808"))
                .find("malformed dimension"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input s i64 2 4294967296 4294967296"))
                .find("element count overflows"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input s i64 1 4611686018427387904"))
                .find("byte size overflows"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "input x%20y i64 0"))
                .find("duplicate input name 'x%20y'"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(5, "output out/0 i64 0"))
                .find("duplicate output name 'out/0'"),
            std::string::npos);
  // The same name may be an input and an output (identity models).
  Manifest m;
  EXPECT_TRUE(parseManifest(withLine(5, "output s i64 0"), "m", m).ok());
}

TEST(Manifest, RejectsBadWeightLines) {
  EXPECT_NE(parseError(withLine(8, "weight scalar u16 0 4161 2"))
                .find("offset 4161 is not a multiple of 64"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(8, "weight scalar u16 0 4160 4"))
                .find("nbytes 4 does not match its shape and dtype (2 bytes)"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(8, "weight scalar u16 0 x 2"))
                .find("malformed offset 'x'"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(8, "weight scalar u16 0 4160 y"))
                .find("malformed nbytes 'y'"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(8, "weight scalar u16 0 4160"))
                .find("at least 6 fields"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(8, "weight w.1:a-b u16 0 4160 2"))
                .find("duplicate weight name"),
            std::string::npos);
}

TEST(Manifest, ParsesStates) {
  const char *text = "qc-artifact 1\n"
                     "qc-version 0.1.0\n"
                     "weights model.qcw 0 0000000000000000\n"
                     "input ids i64 2 1 1\n"
                     "input past.k f32 2 4 8\n"
                     "output logits f32 2 1 10\n"
                     "output present.k f32 2 4 8\n"
                     "state past.k present.k\n"
                     "end\n";
  Manifest m;
  Status status = parseManifest(text, "art/model.so", m);
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(m.states.size(), 1u);
  EXPECT_EQ(m.states[0].input, 1u);
  EXPECT_EQ(m.states[0].output, 1u);
  EXPECT_FALSE(m.isStateOutput(0));
  EXPECT_TRUE(m.isStateOutput(1));
}

TEST(Manifest, RejectsBadStates) {
  // kGood: inputs x%20y (f32 1x3x224x224), s (i64 scalar); output out/0.
  EXPECT_NE(parseError(withLine(9, "state x%20y out/0\nend"))
                .find("state: input 'x%20y' and output 'out/0' differ in "
                      "dtype or shape"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(9, "state nope out/0\nend"))
                .find("state: no input 'nope' declared before it"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(9, "state s nope\nend"))
                .find("state: no output 'nope' declared before it"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(9, "state s\nend"))
                .find("expected 'state <input-name> <output-name>'"),
            std::string::npos);
  std::string twice = "qc-artifact 1\nqc-version 0.1.0\n"
                      "weights model.qcw 0 0000000000000000\n"
                      "input a f32 1 2\ninput b f32 1 2\n"
                      "output c f32 1 2\n"
                      "state a c\nstate b c\nend\n";
  EXPECT_NE(parseError(twice).find("is already paired"), std::string::npos);
}

TEST(Manifest, ParsesEntries) {
  Manifest m;
  Status status = parseManifest(
      withLine(9, "entry prefill\nentry with%20space\nend"), "art/model.so",
      m);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(m.entries,
            (std::vector<std::string>{"prefill", "with space"}));
  EXPECT_NE(parseError(withLine(9, "entry a\nentry a\nend"))
                .find("duplicate entry 'a'"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(9, "entry\nend"))
                .find("expected 'entry <name>'"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(9, "entry a b\nend"))
                .find("expected 'entry <name>'"),
            std::string::npos);
}

TEST(Manifest, ParsesPlanes) {
  Manifest m;
  Status status =
      parseManifest(withLine(9, "planes 3\nentry planes2\nend"), "m.so", m);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(m.planes, 3u);
  Manifest none;
  ASSERT_TRUE(parseManifest(withLine(9, "end"), "m.so", none).ok());
  EXPECT_EQ(none.planes, 0u);
  for (const char *bad : {"planes 0\nend", "planes 9\nend", "planes\nend",
                          "planes x\nend", "planes 2 3\nend",
                          "planes 2\nplanes 2\nend"})
    EXPECT_NE(parseError(withLine(9, bad))
                  .find("expected one 'planes <1..8>' record"),
              std::string::npos)
        << bad;
}

TEST(Manifest, RejectsBadWeightsRecord) {
  EXPECT_NE(parseError(withLine(3, "weights model.qcw 4160"))
                .find("expected 'weights <file>"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(3, "weights ../x.qcw 1 0123456789abcdef"))
                .find("not a plain file name"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(3, "weights .. 1 0123456789abcdef"))
                .find("not a plain file name"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(3, "weights model.qcw -1 0123456789abcdef"))
                .find("malformed payload size '-1'"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(3, "weights model.qcw 1 0123456789abcde"))
                .find("malformed checksum"),
            std::string::npos);
  EXPECT_NE(parseError(withLine(3, "weights model.qcw 1 0123456789abcdeg"))
                .find("malformed checksum"),
            std::string::npos);
}

TEST(Manifest, RejectsBadNames) {
  for (const char *name :
       {"a%2", "a%", "a%2f", "a%G0", "a%00", "a@b", "a\\b", "%%41"}) {
    std::string message =
        parseError(withLine(5, std::string("input ") + name + " i64 0"));
    EXPECT_NE(message.find("malformed name"), std::string::npos)
        << name << ": " << message;
  }
}

TEST(Manifest, EscapingRoundTripsEveryByte) {
  std::string all;
  for (int c = 1; c < 256; ++c)
    all.push_back(static_cast<char>(c));
  std::string escaped = escapeName(all);
  for (char c : escaped)
    EXPECT_TRUE(c == '%' || std::isalnum(static_cast<unsigned char>(c)) ||
                std::strchr("_.:/-", c))
        << c;
  std::string back;
  ASSERT_TRUE(unescapeName(escaped, back));
  EXPECT_EQ(back, all);
  EXPECT_EQ(escapeName("a b/c%"), "a%20b/c%25");
  // Escaping a plain byte is redundant but harmless.
  ASSERT_TRUE(unescapeName("%41b", back));
  EXPECT_EQ(back, "Ab");
  EXPECT_FALSE(unescapeName("", back));
}

TEST(Manifest, DTypeHelpers) {
  qcrt_dtype dtype;
  EXPECT_TRUE(parseDType("bf16", dtype));
  EXPECT_EQ(dtype, QCRT_BF16);
  EXPECT_FALSE(parseDType("float32", dtype));
  EXPECT_EQ(dtypeSize(QCRT_F64), 8u);
  EXPECT_STREQ(dtypeName(static_cast<qcrt_dtype>(42)), "?");
  EXPECT_EQ(dtypeSize(static_cast<qcrt_dtype>(-1)), 0u);
}

} // namespace
