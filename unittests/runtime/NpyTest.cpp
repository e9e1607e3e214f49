//===- NpyTest.cpp - Tests of the .npy reader and writer ------------------===//

#include "qcrt/Npy.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <random>

using namespace qc::npy;
using namespace qc::test;

namespace {

const DType kAllDTypes[] = {DType::F16, DType::F32, DType::F64, DType::I8,
                            DType::I16, DType::I32, DType::I64, DType::U8,
                            DType::U16, DType::U32, DType::U64, DType::Bool};

/// An .npy image with the given version byte and dict text, padded the way
/// NumPy pads (so the data starts 64-byte aligned), followed by `data`.
std::string rawNpy(int major, const std::string &dict,
                   const std::string &data = "") {
  size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % 64)
    header.push_back(' ');
  header.push_back('\n');
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  for (size_t i = 0; i < prefix - 8; ++i)
    out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  return out + header + data;
}

std::string parseError(const std::string &bytes) {
  Array array;
  std::string error;
  EXPECT_FALSE(parseNpy(bytes.data(), bytes.size(), array, error))
      << "accepted: " << bytes.substr(0, 80);
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  return error;
}

std::string f4Dict(const std::string &shape) {
  return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
}

Array randomArray(DType dtype, const std::vector<int64_t> &shape,
                  std::mt19937 &rng) {
  Array array;
  std::string error;
  EXPECT_TRUE(array.allocate(dtype, shape, error)) << error;
  auto *bytes = static_cast<uint8_t *>(array.data());
  for (size_t i = 0; i < array.byteSize(); ++i)
    bytes[i] = static_cast<uint8_t>(rng());
  if (dtype == DType::Bool)
    for (size_t i = 0; i < array.byteSize(); ++i)
      bytes[i] &= 1;
  return array;
}

void expectSameArray(const Array &a, const Array &b) {
  EXPECT_EQ(a.dtype(), b.dtype());
  EXPECT_EQ(a.shape(), b.shape());
  ASSERT_EQ(a.byteSize(), b.byteSize());
  if (a.byteSize()) {
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.byteSize()), 0);
  }
}

TEST(Npy, RoundTripsEveryDTypeAndOddShapes) {
  std::mt19937 rng(42);
  const std::vector<std::vector<int64_t>> shapes = {
      {}, {0}, {1}, {7}, {2, 3}, {3, 0, 2}, {1, 1, 1, 1, 5}, {2, 1, 3, 1}};
  TempDir dir;
  for (DType dtype : kAllDTypes) {
    for (const auto &shape : shapes) {
      SCOPED_TRACE(std::string(dtypeName(dtype)) + " " + formatShape(shape));
      Array original = randomArray(dtype, shape, rng);

      // In memory.
      std::string image = encodeNpy(dtype, shape, original.data());
      EXPECT_EQ(image.size() - original.byteSize(),
                encodeHeader(dtype, shape).size());
      EXPECT_EQ(encodeHeader(dtype, shape).size() % 64, 0u);
      Array decoded;
      std::string error;
      ASSERT_TRUE(parseNpy(image.data(), image.size(), decoded, error))
          << error;
      expectSameArray(original, decoded);

      // Through a file.
      std::string path = dir.file("a.npy");
      ASSERT_TRUE(writeNpyFile(path, original, error)) << error;
      EXPECT_EQ(readFile(path), image);
      Array fromFile;
      ASSERT_TRUE(readNpyFile(path, fromFile, error)) << error;
      expectSameArray(original, fromFile);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(fromFile.data()) % 64, 0u);
    }
  }
  // Atomic writes leave no temporary files behind.
  EXPECT_EQ(dir.list(), std::vector<std::string>{"a.npy"});
}

TEST(Npy, HeaderMatchesNumPy) {
  float data[6] = {0, 1, 2, 3, 4, 5};
  std::string image = encodeNpy(DType::F32, {2, 3}, data);
  std::string dict = f4Dict("(2, 3)");
  ASSERT_EQ(image.size(), 128u + 24);
  EXPECT_EQ(image.substr(0, 10), std::string("\x93NUMPY\x01\x00\x76\x00", 10));
  EXPECT_EQ(image.substr(10, dict.size()), dict);
  EXPECT_EQ(image[127], '\n');
  EXPECT_EQ(encodeHeader(DType::Bool, {3}).substr(10, 60),
            "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }   ");
  EXPECT_NE(encodeHeader(DType::I64, {}).find("'shape': (), }"),
            std::string::npos);
}

TEST(Npy, ReadsWhatNumPyWrites) {
  // np.save(f, np.arange(6, dtype='<f4').reshape(2, 3)) with NumPy 2.x,
  // whose header carries extra spaces before the padding.
  std::string dict = f4Dict("(2, 3)");
  std::string image = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict;
  image.append(127 - image.size(), ' ');
  image += "\n";
  image += std::string("\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x40"
                       "\x00\x00\x40\x40\x00\x00\x80\x40\x00\x00\xa0\x40",
                       24);
  Array array;
  std::string error;
  ASSERT_TRUE(parseNpy(image.data(), image.size(), array, error)) << error;
  EXPECT_EQ(array.dtype(), DType::F32);
  EXPECT_EQ(array.shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(static_cast<const float *>(array.data())[5], 5.0f);
}

TEST(Npy, ReadsVersions2And3AndSpellingVariants) {
  int32_t data[2] = {7, -8};
  std::string bytes(reinterpret_cast<const char *>(data), sizeof(data));
  for (int major : {1, 2, 3}) {
    for (const std::string &dict :
         {std::string("{'descr': '<i4', 'fortran_order': False, 'shape': "
                      "(2,), }"),
          std::string("{\"shape\": (2,), \"descr\": \"<i4\", "
                      "\"fortran_order\": False}"),
          std::string("{'descr':'=i4','fortran_order':False,'shape':(2L,)}"),
          std::string("{'descr': 'i4', 'fortran_order': False, 'shape': "
                      "( 2 , ) }")}) {
      SCOPED_TRACE(std::to_string(major) + ": " + dict);
      std::string image = rawNpy(major, dict, bytes);
      Array array;
      std::string error;
      ASSERT_TRUE(parseNpy(image.data(), image.size(), array, error)) << error;
      EXPECT_EQ(array.dtype(), DType::I32);
      EXPECT_EQ(array.shape(), std::vector<int64_t>{2});
      EXPECT_EQ(static_cast<const int32_t *>(array.data())[1], -8);
    }
  }
  // Byte order is irrelevant for one-byte types.
  std::string image = rawNpy(
      1, "{'descr': '>u1', 'fortran_order': False, 'shape': (1,), }", "x");
  Array array;
  std::string error;
  ASSERT_TRUE(parseNpy(image.data(), image.size(), array, error)) << error;
  EXPECT_EQ(array.dtype(), DType::U8);
}

TEST(Npy, RejectsMalformedPreamble) {
  EXPECT_NE(parseError("").find("too short"), std::string::npos);
  EXPECT_NE(parseError("\x93NUMPY\x01").find("too short"), std::string::npos);
  std::string good = rawNpy(1, f4Dict("(1,)"), "abcd");
  std::string bad = good;
  bad[1] = 'n';
  EXPECT_NE(parseError(bad).find("bad magic"), std::string::npos);
  bad = good;
  bad[6] = 4;
  EXPECT_NE(parseError(bad).find("unsupported .npy format version 4.0"),
            std::string::npos);
  bad = good;
  bad[7] = 1;
  EXPECT_NE(parseError(bad).find("version 1.1"), std::string::npos);
  EXPECT_NE(parseError(good.substr(0, 50)).find("truncated .npy header"),
            std::string::npos);
  EXPECT_NE(
      parseError(std::string("\x93NUMPY\x02\x00\x10", 9)).find("too short"),
      std::string::npos);
}

TEST(Npy, RejectsMalformedDicts) {
  struct Case {
    const char *dict;
    const char *expected;
  } cases[] = {
      {"['descr']", "does not start with '{'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), ",
       "expected a quoted key"},
      {"{'descr' '<f4'}", "expected ':'"},
      {"{'descr': '<f4' 'shape': (1,)}", "expected ',' or '}'"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",
       "expected ',' or '}'"},
      {"{'descr': '<f4", "unterminated string"},
      {"{'descr': '<f\\x34', 'fortran_order': False, 'shape': (1,)}",
       "escapes in strings"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x",
       "unexpected text after the header dict"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
       "unsupported value for 'fortran_order'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1)}",
       "'shape' is a parenthesized integer, not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [1]}",
       "'shape' is a list"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1 2)}",
       "expected ',' or ')' in tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
       "negative dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (a,)}",
       "expected an integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': "
       "(99999999999999999999,)}",
       "dimension overflows int64"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': "
       "(4294967296, 4294967296)}",
       "element count overflows"},
      {"{'descr': '<f4', 'fortran_order': False}", "header lacks 'shape'"},
      {"{'fortran_order': False, 'shape': (1,)}", "header lacks 'descr'"},
      {"{'descr': '<f4', 'shape': (1,)}", "header lacks 'fortran_order'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': True}",
       "unexpected key 'x'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
       "'shape': (1,)}",
       "duplicate key 'descr'"},
      {"{'descr': True, 'fortran_order': False, 'shape': (1,)}",
       "'descr' is not a string"},
      {"{'descr': '<f4', 'fortran_order': 'no', 'shape': (1,)}",
       "'fortran_order' is not True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': '1'}",
       "'shape' is not a tuple"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}",
       "structured dtypes are not supported"},
      {"{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}",
       "unsupported dtype '<c8'"},
      {"{'descr': '<U3', 'fortran_order': False, 'shape': (1,)}",
       "unsupported dtype '<U3'"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (1,)}",
       "big-endian dtype '>f4' is not supported"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (1,)}",
       "fortran_order=True arrays are not supported"},
  };
  for (const Case &c : cases) {
    std::string message = parseError(rawNpy(1, c.dict, std::string(64, 'x')));
    EXPECT_NE(message.find(c.expected), std::string::npos)
        << c.dict << "\n  gave: " << message;
  }
}

TEST(Npy, RejectsWrongDataSize) {
  EXPECT_NE(parseError(rawNpy(1, f4Dict("(2, 3)"), std::string(23, 'x')))
                .find("truncated data: expected 24 bytes, found 23"),
            std::string::npos);
  EXPECT_NE(parseError(rawNpy(1, f4Dict("(2, 3)"), std::string(25, 'x')))
                .find("1 unexpected bytes after the array data"),
            std::string::npos);
}

TEST(Npy, FileErrorsNameThePath) {
  TempDir dir;
  Array array;
  std::string error;
  EXPECT_FALSE(readNpyFile(dir.file("missing.npy"), array, error));
  EXPECT_EQ(error, dir.file("missing.npy") + ": No such file or directory");
  EXPECT_FALSE(readNpyFile(dir.path(), array, error));
  EXPECT_EQ(error, dir.path() + ": not a regular file");

  std::string image = rawNpy(1, f4Dict("(2, 3)"), std::string(24, 'x'));
  for (size_t cut :
       {size_t(0), size_t(5), size_t(11), size_t(70), image.size() - 1}) {
    ASSERT_TRUE(writeFile(dir.file("cut.npy"), image.substr(0, cut)));
    EXPECT_FALSE(readNpyFile(dir.file("cut.npy"), array, error)) << cut;
    EXPECT_EQ(error.rfind(dir.file("cut.npy") + ": ", 0), 0u) << error;
    EXPECT_TRUE(error.find("truncated") != std::string::npos ||
                error.find("too short") != std::string::npos)
        << error;
  }
  ASSERT_TRUE(writeFile(dir.file("long.npy"), image + "!"));
  EXPECT_FALSE(readNpyFile(dir.file("long.npy"), array, error));
  EXPECT_NE(error.find("1 unexpected bytes"), std::string::npos) << error;
  ASSERT_TRUE(writeFile(dir.file("f.npy"),
                        rawNpy(1,
                               "{'descr': '<f4', 'fortran_order': True, "
                               "'shape': (2, 3), }",
                               std::string(24, 'x'))));
  EXPECT_FALSE(readNpyFile(dir.file("f.npy"), array, error));
  EXPECT_NE(error.find("fortran_order=True"), std::string::npos);
}

TEST(Npy, FailedWriteLeavesNothing) {
  TempDir dir;
  float value = 1;
  std::string error;
  EXPECT_FALSE(writeNpyFile(dir.file("no/such/dir/x.npy"), DType::F32, {},
                            &value, error));
  EXPECT_NE(error.find("cannot create a temporary file"), std::string::npos)
      << error;
  // The destination is a directory: the rename fails and the temporary
  // file is removed.
  ASSERT_EQ(mkdir(dir.file("x.npy").c_str(), 0777), 0);
  ASSERT_TRUE(writeFile(dir.file("x.npy/keep"), "k"));
  EXPECT_FALSE(writeNpyFile(dir.file("x.npy"), DType::F32, {}, &value, error));
  EXPECT_NE(error.find("cannot move the written file into place"),
            std::string::npos)
      << error;
  EXPECT_EQ(dir.list(), std::vector<std::string>{"x.npy"});
}

TEST(Npy, TempFileThenCommit) {
  TempDir dir;
  int16_t values[2] = {1, 2};
  std::string temp, error;
  ASSERT_TRUE(
      writeNpyTempFile(dir.file("y.npy"), DType::I16, {2}, values, temp, error))
      << error;
  EXPECT_EQ(dir.list().size(), 1u);
  EXPECT_NE(dir.list()[0], "y.npy");
  EXPECT_EQ(dir.list()[0][0], '.'); // Hidden until committed.
  ASSERT_TRUE(commitTempFile(temp, dir.file("y.npy"), error)) << error;
  EXPECT_EQ(dir.list(), std::vector<std::string>{"y.npy"});
}

TEST(Npy, ArrayAllocateRejectsBadShapes) {
  Array array;
  std::string error;
  EXPECT_FALSE(array.allocate(DType::F32, {2, -1}, error));
  EXPECT_NE(error.find("negative dimension -1"), std::string::npos);
  EXPECT_FALSE(array.allocate(DType::F64, {1LL << 62, 4}, error));
  EXPECT_NE(error.find("overflows"), std::string::npos);
  ASSERT_TRUE(array.allocate(DType::U8, {0, 3}, error));
  EXPECT_EQ(array.data(), nullptr);
  EXPECT_EQ(array.numElements(), 0u);
}

TEST(Npy, DTypeHelpers) {
  for (DType dtype : kAllDTypes) {
    DType back;
    ASSERT_TRUE(dtypeFromName(dtypeName(dtype), back));
    EXPECT_EQ(back, dtype);
  }
  DType dtype;
  EXPECT_FALSE(dtypeFromName("bf16", dtype));
  EXPECT_EQ(dtypeSize(DType::F16), 2u);
  EXPECT_STREQ(dtypeDescr(DType::Bool), "|b1");
  EXPECT_EQ(formatShape({}), "[]");
  EXPECT_EQ(formatShape({2, 0, 3}), "[2, 0, 3]");
}

TEST(Npy, FileNameForTensor) {
  EXPECT_EQ(fileNameForTensor("logits"), "logits.npy");
  EXPECT_EQ(fileNameForTensor("a/b c%:d-e_f.g"), "a%2Fb%20c%25:d-e_f.g.npy");
  EXPECT_EQ(fileNameForTensor(".."), "...npy");
}

TEST(Npy, FormatValues) {
  float f[3] = {1.5f, -2, 1e10f};
  EXPECT_EQ(formatValues(DType::F32, f, 3, 8), "1.5, -2, 1e+10");
  EXPECT_EQ(formatValues(DType::F32, f, 3, 2), "1.5, -2, ...");
  uint16_t half[4] = {0x3c00, 0xc000, 0x0001, 0x7c00};
  EXPECT_EQ(formatValues(DType::F16, half, 4, 8), "1, -2, 5.96046e-08, inf");
  int8_t i8[2] = {-128, 127};
  EXPECT_EQ(formatValues(DType::I8, i8, 2, 8), "-128, 127");
  uint64_t u64 = ~0ULL;
  EXPECT_EQ(formatValues(DType::U64, &u64, 1, 8), "18446744073709551615");
  uint8_t b[2] = {1, 0};
  EXPECT_EQ(formatValues(DType::Bool, b, 2, 8), "1, 0");
  EXPECT_EQ(formatValues(DType::F32, nullptr, 0, 8), "");
}

} // namespace
