//===- Packing.cpp - Bit packing of quantized codes -----------------------===//

#include "qc/Quant/Packing.h"

#include "QuantUtils.h"

using namespace qc::quant;
using namespace qc::quant::detail;

namespace {

bool checkBits(const char *fn, int bits, std::string &err) {
  if (bits == 2 || bits == 3 || bits == 4 || bits == 8)
    return true;
  err = std::string(fn) + ": bits must be 2, 3, 4 or 8, got " +
        std::to_string(bits);
  return false;
}

bool checkPackArgs(const char *fn, int64_t K, int64_t N, int bits,
                   PackOrder order, int64_t tileN, std::string &err) {
  if (!checkShape(fn, K, N, err, 2) || !checkBits(fn, bits, err))
    return false;
  if (order == PackOrder::KMajor)
    return true;
  if (order != PackOrder::TileInterleaved) {
    err = std::string(fn) + ": unknown pack order";
    return false;
  }
  return checkRange(fn, "tileN", tileN, 1, N, err);
}

/// Byte offset of the packed stream holding code (k, n), and the bit offset
/// of the code within that stream. Both orders are bit streams of codes.
struct Layout {
  int64_t K, N;
  int bits;
  PackOrder order;
  int64_t tileN;

  int64_t size() const {
    if (order == PackOrder::KMajor)
      return N * ceilDiv(K * bits, 8);
    return ceilDiv(N, tileN) * tileN * ceilDiv(K, 8) * bits;
  }

  /// Absolute bit position of code (k, n).
  int64_t bitPos(int64_t k, int64_t n) const {
    if (order == PackOrder::KMajor)
      return n * ceilDiv(K * bits, 8) * 8 + k * bits;
    const int64_t tile = n / tileN, tc = n % tileN;
    const int64_t chunk = k / 8, j = k % 8;
    const int64_t byte = ((tile * ceilDiv(K, 8) + chunk) * tileN + tc) * bits;
    return byte * 8 + j * bits;
  }
};

} // namespace

int64_t qc::quant::packedCodesSize(int64_t K, int64_t N, int bits,
                                   PackOrder order, int64_t tileN) {
  std::string err;
  if (!checkPackArgs("packedCodesSize", K, N, bits, order, tileN, err))
    return -1;
  return Layout{K, N, bits, order, tileN}.size();
}

bool qc::quant::packCodes(const uint8_t *codes, int64_t K, int64_t N, int bits,
                          PackOrder order, int64_t tileN,
                          std::vector<uint8_t> &packed, std::string &err) {
  const char *fn = "packCodes";
  if (!codes) {
    err = std::string(fn) + ": null codes pointer";
    return false;
  }
  if (!checkPackArgs(fn, K, N, bits, order, tileN, err))
    return false;
  const Layout layout{K, N, bits, order, tileN};
  std::vector<uint8_t> out(size_t(layout.size()), 0);
  const unsigned limit = 1u << bits;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      const unsigned c = codes[k * N + n];
      if (c >= limit) {
        err = std::string(fn) + ": code " + std::to_string(c) + " at (" +
              std::to_string(k) + ", " + std::to_string(n) +
              ") does not fit in " + std::to_string(bits) + " bits";
        return false;
      }
      const int64_t pos = layout.bitPos(k, n);
      for (int b = 0; b < bits; ++b)
        if ((c >> b) & 1)
          out[size_t((pos + b) / 8)] |= uint8_t(1u << ((pos + b) % 8));
    }
  packed = std::move(out);
  return true;
}

bool qc::quant::unpackCodes(const uint8_t *packed, size_t packedSize, int64_t K,
                            int64_t N, int bits, PackOrder order, int64_t tileN,
                            std::vector<uint8_t> &codes, std::string &err) {
  const char *fn = "unpackCodes";
  if (!packed) {
    err = std::string(fn) + ": null packed pointer";
    return false;
  }
  if (!checkPackArgs(fn, K, N, bits, order, tileN, err))
    return false;
  const Layout layout{K, N, bits, order, tileN};
  if (packedSize != size_t(layout.size())) {
    err = std::string(fn) + ": packed size " + std::to_string(packedSize) +
          " does not match the expected " + std::to_string(layout.size());
    return false;
  }
  codes.assign(size_t(K * N), 0);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      const int64_t pos = layout.bitPos(k, n);
      unsigned c = 0;
      for (int b = 0; b < bits; ++b)
        c |= unsigned((packed[(pos + b) / 8] >> ((pos + b) % 8)) & 1) << b;
      codes[size_t(k * N + n)] = uint8_t(c);
    }
  return true;
}

int64_t qc::quant::packedBitPlanesSize(int64_t K, int64_t N, int planes) {
  std::string err;
  if (!checkShape("packedBitPlanesSize", K, N, err, 8) ||
      !checkRange("packedBitPlanesSize", "planes", planes, 1, 8, err))
    return -1;
  return ceilDiv(K, 8) * planes * N;
}

bool qc::quant::packBitPlanes(const int8_t *signs, int64_t K, int64_t N,
                              int planes, std::vector<uint8_t> &packed,
                              std::string &err) {
  const char *fn = "packBitPlanes";
  if (!signs) {
    err = std::string(fn) + ": null signs pointer";
    return false;
  }
  if (!checkShape(fn, K, N, err, 8) ||
      !checkRange(fn, "planes", planes, 1, 8, err))
    return false;
  std::vector<uint8_t> out(size_t(ceilDiv(K, 8) * planes * N), 0);
  for (int i = 0; i < planes; ++i)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n) {
        const int8_t s = signs[(i * K + k) * N + n];
        if (s != 1 && s != -1) {
          err = std::string(fn) + ": bit-plane entries must be -1 or +1";
          return false;
        }
        if (s == 1)
          out[size_t(((k / 8) * planes + i) * N + n)] |= uint8_t(1u << (k % 8));
      }
  packed = std::move(out);
  return true;
}

bool qc::quant::unpackBitPlanes(const uint8_t *packed, size_t packedSize,
                                int64_t K, int64_t N, int planes,
                                std::vector<int8_t> &signs, std::string &err) {
  const char *fn = "unpackBitPlanes";
  if (!packed) {
    err = std::string(fn) + ": null packed pointer";
    return false;
  }
  if (!checkShape(fn, K, N, err, 8) ||
      !checkRange(fn, "planes", planes, 1, 8, err))
    return false;
  const int64_t expected = ceilDiv(K, 8) * planes * N;
  if (packedSize != size_t(expected)) {
    err = std::string(fn) + ": packed size " + std::to_string(packedSize) +
          " does not match the expected " + std::to_string(expected);
    return false;
  }
  signs.resize(size_t(planes * K * N));
  for (int i = 0; i < planes; ++i)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n) {
        const uint8_t byte = packed[((k / 8) * planes + i) * N + n];
        signs[size_t((i * K + k) * N + n)] = ((byte >> (k % 8)) & 1) ? 1 : -1;
      }
  return true;
}

namespace {

bool checkKernelBlockArgs(const char *fn, int64_t K, int64_t N, int bits,
                          std::string &err) {
  if (!checkShape(fn, K, N, err, 2))
    return false;
  if (!qc::quant::isKernelPanelBits(bits)) {
    err = std::string(fn) + ": bits must be 2, 3, 4 or 8, got " +
          std::to_string(bits);
    return false;
  }
  return true;
}

/// Calls fn(byte, shift, width, codeShift) for each piece of the code of row
/// k, column n in the kernel panels: the piece is `width` bits at bit `shift`
/// of byte `byte` and holds code bits from `codeShift` up.
template <typename Fn>
void forEachPiece(int64_t k, int64_t n, int64_t K, int bits, Fn fn) {
  static const int kPieces[9][3] = {{},     {},     {2, 0}, {2, 1, 0}, {4, 0},
                                    {},     {},     {},     {8, 0}};
  const int64_t quad = k % 32 / 4, lane = 4 * (n % 8) + k % 4;
  int64_t offset = n / 8 * qc::quant::kernelPanelBytes(K, bits) +
                   k / 32 * bits * 32;
  int codeShift = 0;
  for (const int *w = kPieces[bits]; *w; ++w) {
    const int64_t perVector = 8 / *w;
    fn(offset + quad / perVector * 32 + lane,
       static_cast<int>(quad % perVector * *w), *w, codeShift);
    offset += *w * 32;
    codeShift += *w;
  }
}

} // namespace

int64_t qc::quant::kernelPanelBytes(int64_t K, int bits) {
  return ceilDiv(K, kSuperblockRows) * kSuperblockRows * bits;
}

bool qc::quant::packKernelPanels(const uint8_t *codes, int64_t K, int64_t N,
                                 int bits, std::vector<uint8_t> &packed,
                                 std::string &err) {
  const char *fn = "packKernelPanels";
  if (!codes) {
    err = std::string(fn) + ": null codes pointer";
    return false;
  }
  if (!checkKernelBlockArgs(fn, K, N, bits, err))
    return false;
  std::vector<uint8_t> out(size_t(ceilDiv(N, 8) * kernelPanelBytes(K, bits)),
                           0);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      const uint8_t c = codes[k * N + n];
      if (c >> bits) {
        err = std::string(fn) + ": code " + std::to_string(c) +
              " does not fit in " + std::to_string(bits) + " bits";
        return false;
      }
      forEachPiece(k, n, K, bits,
                   [&](int64_t byte, int shift, int width, int codeShift) {
                     const unsigned piece =
                         (c >> codeShift) & ((1u << width) - 1);
                     out[size_t(byte)] |= uint8_t(piece << shift);
                   });
    }
  packed = std::move(out);
  return true;
}

bool qc::quant::unpackKernelPanels(const uint8_t *packed, size_t packedSize,
                                   int64_t K, int64_t N, int bits,
                                   std::vector<uint8_t> &codes,
                                   std::string &err) {
  const char *fn = "unpackKernelPanels";
  if (!packed) {
    err = std::string(fn) + ": null packed pointer";
    return false;
  }
  if (!checkKernelBlockArgs(fn, K, N, bits, err))
    return false;
  const int64_t size = ceilDiv(N, 8) * kernelPanelBytes(K, bits);
  if (packedSize != size_t(size)) {
    err = std::string(fn) + ": expected " + std::to_string(size) +
          " bytes, got " + std::to_string(packedSize);
    return false;
  }
  std::vector<uint8_t> out(size_t(K * N), 0);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      forEachPiece(k, n, K, bits,
                   [&](int64_t byte, int shift, int width, int codeShift) {
                     const unsigned piece =
                         (packed[byte] >> shift) & ((1u << width) - 1);
                     out[size_t(k * N + n)] |= uint8_t(piece << codeShift);
                   });
  codes = std::move(out);
  return true;
}
