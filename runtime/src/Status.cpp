//===- Status.cpp - Error values of the runtime internals -----------------===//

#include "Status.h"

#include <cstdarg>
#include <cstdio>

namespace qc::rt {

std::string formatString(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list argsCopy;
  va_copy(argsCopy, args);
  int length = std::vsnprintf(nullptr, 0, fmt, args);
  va_end(args);
  std::string result;
  if (length > 0) {
    result.resize(static_cast<size_t>(length) + 1);
    std::vsnprintf(result.data(), result.size(), fmt, argsCopy);
    result.resize(static_cast<size_t>(length));
  }
  va_end(argsCopy);
  return result;
}

} // namespace qc::rt
