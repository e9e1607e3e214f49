//===- Status.h - Error values of the runtime internals ---------*- C++ -*-===//
//
// The runtime is built without exceptions, so internal functions return a
// Status: a qcrt_status code plus a one-line message. The C API copies the
// message into the thread-local last-error slot.
//
//===----------------------------------------------------------------------===//

#ifndef QCRT_SRC_STATUS_H
#define QCRT_SRC_STATUS_H

#include "qcrt.h"

#include <string>

namespace qc::rt {

class [[nodiscard]] Status {
public:
  static Status success() { return Status(); }
  static Status error(qcrt_status code, std::string message) {
    Status s;
    s.statusCode = code;
    s.text = std::move(message);
    return s;
  }

  bool ok() const { return statusCode == QCRT_OK; }
  qcrt_status code() const { return statusCode; }
  const std::string &message() const { return text; }

private:
  qcrt_status statusCode = QCRT_OK;
  std::string text;
};

/// printf-style formatting into a std::string; messages are short, so the
/// convenience outweighs the cost.
std::string formatString(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

} // namespace qc::rt

#endif // QCRT_SRC_STATUS_H
