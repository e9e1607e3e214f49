//===- AtomicFile.cpp - write a file whole or not at all ------------------===//

#include "qc/Support/AtomicFile.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace {
/// Creates a new file `path`.tmp-PID-N beside `path` (mode 0666 less the
/// umask, as a plain create would); returns its descriptor or -1.
int createTemporary(const std::string &path, std::string &temp) {
  static std::atomic<unsigned> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp = path + ".tmp-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter++);
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    0666);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  return -1;
}
} // namespace

bool qc::writeFileAtomically(const std::string &path, std::string_view bytes,
                             std::string &error) {
  auto fail = [&](int err) {
    error = "cannot write '" + path + "': " + std::strerror(err);
    return false;
  };
  std::string temp;
  int fd = createTemporary(path, temp);
  if (fd < 0)
    return fail(errno);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(temp.c_str());
      return fail(err);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return fail(err);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return fail(err);
  }
  return true;
}
