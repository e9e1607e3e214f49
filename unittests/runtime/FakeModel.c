//===- FakeModel.c - Hand-written stand-in for a compiled model.so --------===//
//
// Exercises the runtime alone, without the compiler: it exports the two
// symbols a real artifact exports and checks the descriptors it receives.
//
//   inputs  a, "in b"  f32 [2, 3]
//   weights w0 f32 [3] = {10, 20, 30}, w1 i32 [] = 100
//   outputs sum f32 [2, 3] = a + b + w0[j] + w1
//           "a/T" f32 [3, 2] = transpose(a), copied with memrefCopy so that
//           the symbol must resolve from libqcrt, as for generated code.
//
// A descriptor that is not what docs/artifact.md promises turns every
// output element into -1, which the tests detect.
//
// Two further entries (variant 0): "scaled", on the same weights,
//   input a f32 [2, 3], weight w1, output out f32 [2, 3] = a * w1;
// and "other", whose manifest names other weights (an error to load).
//
// FAKE_MODEL_VARIANT selects broken variants for the loader's error paths:
//   1: no qc_manifest symbol, 2: malformed manifest, 3: no qc_entry symbol.
//
//===----------------------------------------------------------------------===//

#include <stdint.h>

#ifndef FAKE_MODEL_VARIANT
#define FAKE_MODEL_VARIANT 0
#endif

#define EXPORT __attribute__((visibility("default")))

typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} MemRef2;
typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} MemRef1;
typedef struct {
  int32_t *allocated, *aligned;
  int64_t offset;
} MemRef0;
typedef struct {
  int64_t rank;
  void *descriptor;
} UnrankedMemRef;

void memrefCopy(int64_t elemSize, UnrankedMemRef *src, UnrankedMemRef *dst);

#if FAKE_MODEL_VARIANT != 1
EXPORT const char qc_manifest[] =
#if FAKE_MODEL_VARIANT == 2
    "qc-artifact 1\n"
    "qc-version 0.1.0-test\n"
    "input a f32 2 2\n"
    "end\n";
#else
    "qc-artifact 1\n"
    "qc-version 0.1.0-test\n"
    "weights model.qcw 68 b7b2636cc91cdda6\n"
    "input a f32 2 2 3\n"
    "input in%20b f32 2 2 3\n"
    "weight w0 f32 1 3 4096 12\n"
    "weight w1 i32 0 4160 4\n"
    "output sum f32 2 2 3\n"
    "output a/T f32 2 3 2\n"
    "entry scaled\n"
    "entry other\n"
    "end\n";

EXPORT const char qc_manifest_scaled[] =
    "qc-artifact 1\n"
    "qc-version 0.1.0-test\n"
    "weights model.qcw 68 b7b2636cc91cdda6\n"
    "input a f32 2 2 3\n"
    "weight w1 i32 0 4160 4\n"
    "output out f32 2 2 3\n"
    "end\n";

EXPORT void qc_entry_scaled(void **args) {
  const MemRef2 *a = (const MemRef2 *)args[0];
  const MemRef0 *w1 = (const MemRef0 *)args[1];
  MemRef2 *out = (MemRef2 *)args[2];
  for (int i = 0; i < 6; ++i)
    out->aligned[i] = a->aligned[i] * (float)*w1->aligned;
}

EXPORT const char qc_manifest_other[] =
    "qc-artifact 1\n"
    "qc-version 0.1.0-test\n"
    "weights model.qcw 68 0000000000000001\n"
    "input a f32 2 2 3\n"
    "output out f32 2 2 3\n"
    "end\n";

EXPORT void qc_entry_other(void **args) { (void)args; }
#endif
#endif

#if FAKE_MODEL_VARIANT != 3
static int isDense2(const MemRef2 *m, int64_t d0, int64_t d1) {
  return m->allocated == m->aligned && m->offset == 0 && m->sizes[0] == d0 &&
         m->sizes[1] == d1 && m->strides[0] == d1 && m->strides[1] == 1;
}

EXPORT void qc_entry(void **args) {
  const MemRef2 *a = (const MemRef2 *)args[0];
  const MemRef2 *b = (const MemRef2 *)args[1];
  const MemRef1 *w0 = (const MemRef1 *)args[2];
  const MemRef0 *w1 = (const MemRef0 *)args[3];
  MemRef2 *sum = (MemRef2 *)args[4];
  MemRef2 *aT = (MemRef2 *)args[5];

  int ok = isDense2(a, 2, 3) && isDense2(b, 2, 3) && isDense2(sum, 2, 3) &&
           isDense2(aT, 3, 2) && w0->allocated == w0->aligned &&
           w0->offset == 0 && w0->sizes[0] == 3 && w0->strides[0] == 1 &&
           w1->allocated == w1->aligned && w1->offset == 0 &&
           ((uintptr_t)w0->aligned % 64) == 0 &&
           ((uintptr_t)w1->aligned % 64) == 0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      sum->aligned[i * 3 + j] = ok ? a->aligned[i * 3 + j] +
                                         b->aligned[i * 3 + j] +
                                         w0->aligned[j] + (float)*w1->aligned
                                   : -1.0f;

  if (!ok) {
    for (int i = 0; i < 6; ++i)
      aT->aligned[i] = -1.0f;
    return;
  }
  // Transposed view of a: sizes [3, 2], strides [1, 3].
  MemRef2 view = {a->allocated, a->aligned, 0, {3, 2}, {1, 3}};
  UnrankedMemRef src = {2, &view};
  UnrankedMemRef dst = {2, aT};
  memrefCopy(sizeof(float), &src, &dst);
}
#endif
