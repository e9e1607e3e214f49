//===- neon_driver.c - Runs a lowered qc model under qemu-aarch64 ---------===//
//
// Test driver for neon-kernels.test: linked with a model object lowered by
// qc-opt (entry renamed to qc_model, with llvm.emit_c_interface), it reads
// an M x K f32 input from a raw file, calls the model and writes the M x N
// f32 output to another raw file. It also provides the runtime symbol the
// generated code calls, serially.
//
// Usage: neon_driver M K N X.bin Y.bin
//
//===----------------------------------------------------------------------===//

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

// memref<MxKxf32> as MLIR's C interface passes it.
typedef struct {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} MemRef2D;

void _mlir_ciface_qc_model(MemRef2D *x, MemRef2D *y);

// Serial qcrt_parallel_for (runtime/include/qcrt.h): two ranges split at a
// multiple of `align`, as two threads would get them, so the second kernel
// call starts at a nonzero column.
typedef void (*qcrt_task_fn)(void *ctx, int64_t begin, int64_t end);
void qcrt_parallel_for(qcrt_task_fn task, void *ctx, int64_t begin,
                       int64_t end, int64_t align) {
  int64_t mid = begin + (end - begin) / 2 / align * align;
  if (mid > begin)
    task(ctx, begin, mid);
  task(ctx, mid, end);
}

static MemRef2D matrix(int64_t rows, int64_t cols) {
  float *data = calloc((size_t)(rows * cols), sizeof(float));
  if (!data) {
    perror("calloc");
    exit(1);
  }
  MemRef2D m = {data, data, 0, {rows, cols}, {cols, 1}};
  return m;
}

static void transfer(const char *path, const char *mode, float *data,
                     size_t count) {
  FILE *f = fopen(path, mode);
  size_t done = 0;
  if (f)
    done = mode[0] == 'r' ? fread(data, sizeof(float), count, f)
                          : fwrite(data, sizeof(float), count, f);
  if (!f || done != count || fclose(f) != 0) {
    fprintf(stderr, "neon_driver: cannot %s %zu floats: %s\n",
            mode[0] == 'r' ? "read" : "write", count, path);
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s M K N X.bin Y.bin\n", argv[0]);
    return 2;
  }
  int64_t m = atoll(argv[1]), k = atoll(argv[2]), n = atoll(argv[3]);
  MemRef2D x = matrix(m, k), y = matrix(m, n);
  transfer(argv[4], "rb", x.aligned, (size_t)(m * k));
  _mlir_ciface_qc_model(&x, &y);
  transfer(argv[5], "wb", y.aligned, (size_t)(m * n));
  free(x.allocated);
  free(y.allocated);
  return 0;
}
