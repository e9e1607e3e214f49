//===- AtomicFile.cpp - write a file whole or not at all ------------------===//

#include "qc/Support/AtomicFile.h"

#include <algorithm>
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

/// "cannot VERB 'PATH': reason" for the current errno.
std::string describe(const char *verb, const std::string &path, int err) {
  return std::string("cannot ") + verb + " '" + path +
         "': " + std::strerror(err);
}
} // namespace

bool qc::writeFileAtomically(const std::string &path, std::string_view bytes,
                             std::string &error) {
  auto fail = [&](int err) {
    error = describe("write", path, err);
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

qc::StagedFiles::~StagedFiles() {
  for (const std::string &p : paths)
    ::unlink(p.c_str());
}

std::string qc::StagedFiles::create(const std::string &stem,
                                    std::string &error) {
  std::string temp;
  int fd = createTemporary(dir + "/." + stem, temp);
  if (fd < 0) {
    error = describe("create a file in", dir, errno);
    return "";
  }
  ::close(fd);
  paths.push_back(temp);
  return paths.back();
}

bool qc::StagedFiles::commit(const std::string &temp,
                             const std::string &finalName,
                             std::string &error) {
  std::string dst = dir + "/" + finalName;
  if (std::rename(temp.c_str(), dst.c_str()) != 0) {
    error = describe("write", dst, errno);
    return false;
  }
  paths.erase(std::remove(paths.begin(), paths.end(), temp), paths.end());
  return true;
}
