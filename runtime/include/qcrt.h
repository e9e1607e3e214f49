//===- qcrt.h - C API of the qc runtime (libqcrt) -----------------*- C -*-===//
//
// libqcrt loads a qc artifact folder (model.so, model.qcw; see
// docs/artifact.md) and runs the compiled model on caller-owned buffers. The
// header is plain C (C99) so that any language with a C FFI can use it.
//
// Errors: every function that can fail returns a qcrt_status; 0 is success.
// On failure qcrt_last_error() returns a one-line message for the calling
// thread that names the file (or argument) and what is wrong.
//
// Threading: a loaded model is immutable. qcrt_run may be called from several
// threads at once on the same model as long as each call has its own output
// buffers.
//
//===----------------------------------------------------------------------===//

#ifndef QCRT_H
#define QCRT_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define QCRT_API
#else
#define QCRT_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

// Status codes. Values are stable: tools may use them as exit codes.
typedef int qcrt_status;
enum {
  QCRT_OK = 0,
  QCRT_ERR_ARGUMENT = 1, // null pointer, index out of range, null buffer
  QCRT_ERR_IO = 2,       // a file is missing, unreadable or cannot be mapped
  QCRT_ERR_LOAD = 3,     // dlopen/dlsym of model.so failed
  QCRT_ERR_MANIFEST = 4, // embedded manifest malformed or unsupported
  QCRT_ERR_WEIGHTS = 5   // model.qcw corrupt or disagrees with the manifest
};

// Element types, in the order docs/artifact.md lists them.
typedef enum qcrt_dtype {
  QCRT_F16 = 0,
  QCRT_BF16 = 1,
  QCRT_F32 = 2,
  QCRT_F64 = 3,
  QCRT_I8 = 4,
  QCRT_I16 = 5,
  QCRT_I32 = 6,
  QCRT_I64 = 7,
  QCRT_U8 = 8,
  QCRT_U16 = 9,
  QCRT_U32 = 10,
  QCRT_U64 = 11,
  QCRT_BOOL = 12, // one byte per element, 0 or 1
  // The sub-byte and 8-bit float types of ONNX, one element a byte: the
  // integers sign- (i4, i2) or zero-extended (u4, u2), the floats' codes
  // in the low bits (qcrt/SmallFloat.h decodes them).
  QCRT_I4 = 13,
  QCRT_U4 = 14,
  QCRT_I2 = 15,
  QCRT_U2 = 16,
  QCRT_F8E4M3FN = 17,
  QCRT_F8E4M3FNUZ = 18,
  QCRT_F8E5M2 = 19,
  QCRT_F8E5M2FNUZ = 20,
  QCRT_F4E2M1 = 21,
  QCRT_F8E8M0 = 22
} qcrt_dtype;

// Describes one input, output or weight. All pointers stay valid until the
// model is freed.
typedef struct qcrt_tensor_info {
  const char *name; // unescaped manifest name, NUL-terminated
  qcrt_dtype dtype;
  int32_t rank;          // 0 for scalars
  const int64_t *dims;   // rank entries; NULL when rank is 0
  size_t elem_size;      // bytes per element
  uint64_t num_elements; // product of dims (1 for rank 0)
  uint64_t byte_size;    // num_elements * elem_size
} qcrt_tensor_info;

typedef struct qcrt_model qcrt_model;

// Loads ARTIFACT_DIR/model.so and the weights file its manifest names
// (model.qcw), validating both as docs/artifact.md requires.
// On success stores a new model in *out and returns QCRT_OK; on failure
// stores NULL in *out (when out is not NULL).
QCRT_API qcrt_status qcrt_load(const char *artifact_dir, qcrt_model **out);

// Releases the model (NULL is allowed): unmaps the weights and dlclose()s
// model.so. No qcrt_run on this model may be in flight.
QCRT_API void qcrt_free(qcrt_model *model);

// An artifact may hold further entry points next to the default one that
// qcrt_load gives (an LLM's prefill step next to its decode step, say,
// from `qc-compile --prefill`), sharing its weights. The names of the
// further entries of the artifact MODEL was loaded from (its default
// entry); NULL when INDEX is out of range.
QCRT_API size_t qcrt_num_entries(const qcrt_model *model);
QCRT_API const char *qcrt_entry_name(const qcrt_model *model, size_t index);
// Loads the entry NAME of MODEL's artifact as a model of its own, on the
// same mapping of the weights (nothing is read again). It stays valid
// after qcrt_free(model).
QCRT_API qcrt_status qcrt_load_entry(const qcrt_model *model,
                                     const char *name, qcrt_model **out);

// AnyBCQ artifacts (`qc-compile --quant bcq<P>g<G> --min-planes M`) serve
// several precisions from one stored copy of the weights: the default
// entry computes with P bit-planes, the entry "planes<p>" with p of them
// (M <= p < P). The planes MODEL computes with; 0 when its artifact is not
// multi-precision (or MODEL is NULL).
QCRT_API unsigned qcrt_model_planes(const qcrt_model *model);
// Loads the precision of PLANES bit-planes of MODEL's artifact (MODEL is
// its default entry): the entry "planes<PLANES>", or the default entry
// again when PLANES is its own. An error names the precisions there are.
QCRT_API qcrt_status qcrt_load_planes(const qcrt_model *model,
                                      unsigned planes, qcrt_model **out);

// Message of the most recent failed qcrt_* call on this thread ("" if none).
QCRT_API const char *qcrt_last_error(void);

QCRT_API size_t qcrt_num_inputs(const qcrt_model *model);
QCRT_API size_t qcrt_num_outputs(const qcrt_model *model);
QCRT_API size_t qcrt_num_weights(const qcrt_model *model);
QCRT_API qcrt_status qcrt_input_info(const qcrt_model *model, size_t index,
                                     qcrt_tensor_info *out);
QCRT_API qcrt_status qcrt_output_info(const qcrt_model *model, size_t index,
                                      qcrt_tensor_info *out);
QCRT_API qcrt_status qcrt_weight_info(const qcrt_model *model, size_t index,
                                      qcrt_tensor_info *out);

// The qc-version line of the manifest (the compiler that built the model).
QCRT_API const char *qcrt_model_qc_version(const qcrt_model *model);

// The manifest spelling of a dtype ("f32", "bool", ...); "?" if invalid.
QCRT_API const char *qcrt_dtype_name(qcrt_dtype dtype);

// Runs the model once. inputs[i] / outputs[i] point to dense row-major
// buffers of byte_size bytes, in manifest order. Buffers of zero-size tensors
// may be NULL. The model only reads inputs and writes every output.
QCRT_API qcrt_status qcrt_run(const qcrt_model *model,
                              const void *const *inputs, void *const *outputs);

// Like qcrt_run, with some weights replaced: `weights` is NULL (all from
// model.qcw) or has qcrt_num_weights entries, each NULL (use model.qcw) or a
// dense buffer of that weight's byte_size. Calibration uses it to run a
// model whose early layers are already quantized without recompiling.
QCRT_API qcrt_status qcrt_run_with_weights(const qcrt_model *model,
                                           const void *const *inputs,
                                           void *const *outputs,
                                           const void *const *weights);

// States and sessions. A state is an input the model updates in place, paired
// with the output that names its new value (a key-value cache; the manifest's
// `state` lines). qcrt_run copies each state input into its output buffer
// and updates that. A session instead owns one zeroed buffer per state and
// carries it from run to run: an LLM's prefill, then its decode steps.
QCRT_API size_t qcrt_num_states(const qcrt_model *model);
// The input and output indices of state `index`.
QCRT_API qcrt_status qcrt_state_info(const qcrt_model *model, size_t index,
                                     size_t *input_index,
                                     size_t *output_index);
typedef struct qcrt_session qcrt_session;
// A new session of `model` (which must outlive it) with zeroed states.
QCRT_API qcrt_status qcrt_session_create(const qcrt_model *model,
                                         qcrt_session **out);
QCRT_API void qcrt_session_free(qcrt_session *session);
// Zeroes every state (a new conversation).
QCRT_API void qcrt_session_reset(qcrt_session *session);
// The buffer of state `index` (its input's byte_size bytes), NULL when out
// of range. Valid until the session is freed.
QCRT_API void *qcrt_session_state(qcrt_session *session, size_t index);
// Runs the model like qcrt_run on the session's states: the entries of
// state inputs and outputs in `inputs` / `outputs` are ignored (may be NULL).
// One run at a time per session.
QCRT_API qcrt_status qcrt_session_run(qcrt_session *session,
                                      const void *const *inputs,
                                      void *const *outputs);

// Calibration taps. A model compiled with qc.observe taps (qc-calibrate)
// calls qcrt_observe at each tap; libqcrt forwards the rows to the observer
// the *calling thread* registered (none: the call does nothing). `data` has
// `rows` rows of `cols` floats, row r at data + r * row_stride; it is only
// valid during the call.
typedef void (*qcrt_observer_fn)(void *user, int64_t tap, const float *data,
                                 int64_t rows, int64_t cols,
                                 int64_t row_stride);
QCRT_API void qcrt_set_observer(qcrt_observer_fn fn, void *user);

// Called by generated code (the expanded memref<?x?xf32, strided> of the
// tap's [rows, cols] view); not for direct use.
QCRT_API void qcrt_observe(int64_t tap, float *allocated, float *aligned,
                           int64_t offset, int64_t rows, int64_t cols,
                           int64_t row_stride, int64_t col_stride);

// Threads. Generated kernels split their output rows over a process-wide
// pool of worker threads; its size is QCRT_NUM_THREADS when set, else the
// number of hardware threads. qcrt_set_num_threads changes it (n >= 1; 1
// runs everything on the calling thread). Runs on several threads at once
// share the pool: a kernel that finds it busy runs on its own thread.
QCRT_API qcrt_status qcrt_set_num_threads(int n);
QCRT_API int qcrt_get_num_threads(void);

// Called by generated code: calls task(ctx, b, e) for a partition of
// [begin, end) over the pool's threads (interior bounds are multiples of
// `align`) and returns when all ranges are done; not for direct use.
typedef void (*qcrt_task_fn)(void *ctx, int64_t begin, int64_t end);
QCRT_API void qcrt_parallel_for(qcrt_task_fn task, void *ctx, int64_t begin,
                                int64_t end, int64_t align);

#ifdef __cplusplus
}
#endif

#endif // QCRT_H
