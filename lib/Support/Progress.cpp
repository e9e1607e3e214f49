//===- Progress.cpp - one line of progress on a terminal ------------------===//

#include "qc/Support/Progress.h"

#include <cstdio>
#include <unistd.h>

using namespace qc;

Progress::Progress(std::string tool, bool enabled)
    : tool(std::move(tool)), on(enabled && ::isatty(STDERR_FILENO)),
      start(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  if (drawn)
    std::fputc('\n', stderr);
}

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

void Progress::draw(const std::string &line) {
  // \r back to the line's start, \x1b[K clears what a longer line left.
  std::fprintf(stderr, "\r%s: %s\x1b[K", tool.c_str(), line.c_str());
  std::fflush(stderr);
  drawn = true;
}

void Progress::show(const std::string &what) {
  if (!on)
    return;
  char buf[32];
  std::snprintf(buf, sizeof(buf), " (%.0f s)", elapsed());
  draw(what + buf);
}

void Progress::step(const std::string &what, int64_t done, int64_t total) {
  if (!on)
    return;
  double s = elapsed();
  char buf[96];
  if (done > 0 && done < total)
    std::snprintf(buf, sizeof(buf), " %lld/%lld (%.0f s, ~%.0f s left)",
                  static_cast<long long>(done), static_cast<long long>(total),
                  s, s / double(done) * double(total - done));
  else
    std::snprintf(buf, sizeof(buf), " %lld/%lld (%.0f s)",
                  static_cast<long long>(done), static_cast<long long>(total),
                  s);
  draw(what + buf);
}
