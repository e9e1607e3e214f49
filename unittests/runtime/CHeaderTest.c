//===- CHeaderTest.c - qcrt.h compiles as C and links from C --------------===//
//
// Called from a gtest so that the C view of the API is exercised too.

#include "qcrt.h"

int qcrtCHeaderCheck(void) {
  qcrt_model *model = 0;
  qcrt_tensor_info info;
  qcrt_status status = qcrt_load("/nonexistent", &model);
  if (status != QCRT_ERR_IO || model != 0 || qcrt_last_error()[0] == '\0')
    return 1;
  if (qcrt_input_info(model, 0, &info) != QCRT_ERR_ARGUMENT)
    return 2;
  if (qcrt_dtype_name(QCRT_BOOL)[0] != 'b')
    return 3;
  return 0;
}
