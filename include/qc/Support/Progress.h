//===- Progress.h - one line of progress on a terminal ----------*- C++ -*-===//
//
// Long work (calibration, quantizing a model's layers) redraws one line on
// stderr: what it does, step i of n, the time so far and, from the steps
// done, the time left. Nothing is printed unless enabled and stderr is a
// terminal, so logs and tests stay clean. Plain C++ and POSIX.
//
//===----------------------------------------------------------------------===//

#ifndef QC_SUPPORT_PROGRESS_H
#define QC_SUPPORT_PROGRESS_H

#include <chrono>
#include <cstdint>
#include <string>

namespace qc {

class Progress {
public:
  /// `tool` prefixes the line ("qc-calibrate").
  Progress(std::string tool, bool enabled);
  ~Progress();
  Progress(const Progress &) = delete;
  Progress &operator=(const Progress &) = delete;

  /// `what (elapsed s)`.
  void show(const std::string &what);
  /// `what done/total (elapsed s, ~remaining s left)`.
  void step(const std::string &what, int64_t done, int64_t total);

  bool enabled() const { return on; }

private:
  double elapsed() const;
  void draw(const std::string &line);

  std::string tool;
  bool on;
  bool drawn = false;
  std::chrono::steady_clock::time_point start;
};

} // namespace qc

#endif // QC_SUPPORT_PROGRESS_H
