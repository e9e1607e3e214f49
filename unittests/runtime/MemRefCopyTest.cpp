//===- MemRefCopyTest.cpp - Tests of the runtime's memrefCopy -------------===//

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

extern "C" void memrefCopy(int64_t elemSize, void *src, void *dst);

namespace {

/// A ranked descriptor as 8-byte fields plus the unranked wrapper that
/// memrefCopy receives.
struct Strided {
  std::vector<int64_t> fields;
  struct {
    int64_t rank;
    void *descriptor;
  } unranked;

  Strided(void *data, int64_t offset, std::vector<int64_t> sizes,
          std::vector<int64_t> strides) {
    fields.resize(3 + 2 * sizes.size());
    std::memcpy(&fields[0], &data, sizeof(data));
    std::memcpy(&fields[1], &data, sizeof(data));
    fields[2] = offset;
    for (size_t i = 0; i < sizes.size(); ++i) {
      fields[3 + i] = sizes[i];
      fields[3 + sizes.size() + i] = strides[i];
    }
    unranked.rank = static_cast<int64_t>(sizes.size());
    unranked.descriptor = fields.data();
  }
};

std::vector<int64_t> rowMajor(const std::vector<int64_t> &sizes) {
  std::vector<int64_t> strides(sizes.size());
  int64_t stride = 1;
  for (size_t d = sizes.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= sizes[d];
  }
  return strides;
}

/// Reference: a scalar loop over every index.
template <typename T>
void referenceCopy(const T *src, int64_t srcOffset,
                   const std::vector<int64_t> &srcStrides, T *dst,
                   int64_t dstOffset, const std::vector<int64_t> &dstStrides,
                   const std::vector<int64_t> &sizes) {
  int64_t count = 1;
  for (int64_t size : sizes)
    count *= size;
  for (int64_t linear = 0; linear < count; ++linear) {
    int64_t rest = linear, s = srcOffset, d = dstOffset;
    for (size_t dim = sizes.size(); dim-- > 0;) {
      int64_t index = rest % sizes[dim];
      rest /= sizes[dim];
      s += index * srcStrides[dim];
      d += index * dstStrides[dim];
    }
    dst[d] = src[s];
  }
}

TEST(MemRefCopy, TransposedSourceMatchesScalarLoop) {
  // src is a 4x5 row-major buffer viewed transposed as 5x4.
  std::vector<float> src(20);
  std::iota(src.begin(), src.end(), 0.0f);
  std::vector<float> dst(20, -1), expected(20, -1);
  Strided srcView(src.data(), 0, {5, 4}, {1, 5});
  Strided dstView(dst.data(), 0, {5, 4}, {4, 1});
  memrefCopy(sizeof(float), &srcView.unranked, &dstView.unranked);
  referenceCopy(src.data(), 0, {1, 5}, expected.data(), 0, {4, 1}, {5, 4});
  EXPECT_EQ(dst, expected);
  EXPECT_EQ(dst[1], 5.0f);
}

TEST(MemRefCopy, PermutedRank3WithOffsetsAndPadding) {
  // Source: a 3x4x5 i16 box with offset 7 and padded strides, read in
  // (2, 0, 1) order; destination: padded rows with offset 3.
  std::vector<int16_t> src(7 + 4 * 64);
  std::iota(src.begin(), src.end(), int16_t(0));
  std::vector<int64_t> sizes = {5, 3, 4};
  std::vector<int64_t> srcStrides = {1, 64, 8};
  std::vector<int64_t> dstStrides = {3 * 6, 6, 1};
  std::vector<int16_t> dst(3 + 5 * 18, -1), expected = dst;
  Strided srcView(src.data(), 7, sizes, srcStrides);
  Strided dstView(dst.data(), 3, sizes, dstStrides);
  memrefCopy(sizeof(int16_t), &srcView.unranked, &dstView.unranked);
  referenceCopy(src.data(), 7, srcStrides, expected.data(), 3, dstStrides,
                sizes);
  EXPECT_EQ(dst, expected);
}

TEST(MemRefCopy, ContiguousAndInnerContiguous) {
  std::vector<double> src(24);
  std::iota(src.begin(), src.end(), 1.0);
  // Fully contiguous.
  std::vector<double> dst(24, 0);
  Strided a(src.data(), 0, {2, 3, 4}, rowMajor({2, 3, 4}));
  Strided b(dst.data(), 0, {2, 3, 4}, rowMajor({2, 3, 4}));
  memrefCopy(sizeof(double), &a.unranked, &b.unranked);
  EXPECT_EQ(dst, src);
  // Inner dimension contiguous, rows strided (a 3x2 window of a 4x6 matrix).
  std::vector<double> window(6, 0), expected(6, 0);
  Strided c(src.data(), 7, {3, 2}, {6, 1});
  Strided d(window.data(), 0, {3, 2}, {2, 1});
  memrefCopy(sizeof(double), &c.unranked, &d.unranked);
  referenceCopy(src.data(), 7, {6, 1}, expected.data(), 0, {2, 1}, {3, 2});
  EXPECT_EQ(window, expected);
  // Size-1 dimensions with arbitrary strides still count as contiguous.
  std::vector<double> one(4, 0);
  Strided e(src.data(), 2, {1, 4}, {999, 1});
  Strided f(one.data(), 0, {1, 4}, {4, 1});
  memrefCopy(sizeof(double), &e.unranked, &f.unranked);
  EXPECT_EQ(one, (std::vector<double>{3, 4, 5, 6}));
}

TEST(MemRefCopy, RankZeroAndEmpty) {
  int64_t src[3] = {11, 22, 33}, dst = 0;
  Strided a(src, 2, {}, {});
  Strided b(&dst, 0, {}, {});
  memrefCopy(sizeof(int64_t), &a.unranked, &b.unranked);
  EXPECT_EQ(dst, 33);

  // A zero-size dimension copies nothing (and must not touch the pointers).
  Strided c(nullptr, 0, {3, 0}, {0, 1});
  Strided d(nullptr, 0, {3, 0}, {0, 1});
  memrefCopy(4, &c.unranked, &d.unranked);
}

} // namespace
