//===- CPUKernels.h - bodies of the generated CPU kernels -------*- C++ -*-===//
//
// qc-emit-kernels gives each kernel function the generators declared its
// body. The bodies are built from the function's role and shape
// (KernelShape.h) and ask the shape's KernelTarget for what differs between
// instruction sets (lib/Codegen/CPU/Kernels: one file per kernel family).
//
//===----------------------------------------------------------------------===//

#ifndef QC_CODEGEN_CPUKERNELS_H
#define QC_CODEGEN_CPUKERNELS_H

#include "QC/IR/KVCache.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace qc {

/// Whether `fn` is a kernel declaration waiting for its body (it carries a
/// role).
bool isKernelDeclaration(mlir::func::FuncOp fn);

/// Gives the kernel declaration `fn` its body (and its target's LLVM
/// features) and removes its role and shape; an error on `fn` when the
/// shape is malformed or the role unknown.
mlir::LogicalResult emitKernelBody(mlir::func::FuncOp fn);

/// The shape of the kernel of a qc.cached_attention: batch B, query heads
/// H, cache heads KV, step positions S, cache capacity T, head size D, the
/// score scale, the f32 lanes of the target's vectors (0: none known) and
/// the caches' storage format.
struct AttentionShape {
  int64_t batch, heads, kvHeads, seq, cacheLen, headDim;
  float scale;
  int64_t lanes;
  KVCacheFormat cache = KVCacheFormat::F32;
  KVCacheLayout cacheLayout() const { return {cache, headDim}; }
  /// The kernel's function name; shapes of one name share one function.
  std::string name() const;
  /// The vector width the kernel uses: the target's lanes where they divide
  /// D (and, for int8 / int4 caches, a group's 32 code bytes / 16 nibbles;
  /// for MiKV's, also a pool piece's D / 8 values), else the widest of 8,
  /// 4, 2 dividing D (1 when none does).
  int64_t vectorLanes() const;
  /// Query heads one row of the kernel computes: heads sharing a cache
  /// group read its keys and values once. MiKV: all heads of the group.
  int64_t headsPerRow() const;
  /// The kernel's rows: batch x cache groups x positions x head passes;
  /// MiKV: batch x cache groups (a row updates its group's pool and
  /// importance, one position after the other).
  int64_t rows() const;
};

/// The function `@<shape name>(q: [B,H,S,D], key_cache: [B,KV,T,W],
/// value_cache, past: index, out: [B,H,S,D], begin: index, end: index)` of
/// `module`, built on first use (private): rows [begin, end) of s.rows()
/// (batch-major, then cache group, position, head pass), each the
/// headsPerRow() query heads of one group at position i attending to cache
/// positions [0, past + i]. The caller marks it parallel. For MiKV caches
/// (s.cache) the caches are written too (pool, importance, slots) and the
/// step's f32 keys and values `[B, KV, S, D]` come after `out`: `(q,
/// key_cache, value_cache, past, out, key, value, begin, end)`.
mlir::func::FuncOp getAttentionKernel(mlir::ModuleOp module,
                                      mlir::Location loc,
                                      const AttentionShape &s);

/// The function `@qc_fwht_r<R>_k<K>_m<M>(x: [R, K] f32, signs: [K] f32,
/// mix: [M, M] f32, out: [R, K] f32, begin: index, end: index)` of `module`,
/// built on first use (private): rows [begin, end) of `out` are those of x
/// times qc.hadamard's T (signs, butterflies over the power-of-two factor
/// P = K / M, then the mix). Without `applyMix` (a mix known to be [[1]])
/// the mix step is left out (`_nomix` in the name). The caller marks it
/// parallel.
mlir::func::FuncOp getHadamardKernel(mlir::ModuleOp module, mlir::Location loc,
                                     int64_t rows, int64_t width,
                                     int64_t order, bool applyMix);

/// The function `@qc_kv_encode_<...>(values: [rows, D] f32, out: [rows, W])`
/// of `module`, built on first use (private): each row of `values` in the
/// storage of `layout` (KVCache.h; int codes rounded to nearest even).
mlir::func::FuncOp getKVCacheEncodeKernel(mlir::ModuleOp module,
                                          mlir::Location loc,
                                          const KVCacheLayout &layout,
                                          int64_t rows);

} // namespace qc

#endif // QC_CODEGEN_CPUKERNELS_H
