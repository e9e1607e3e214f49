//===- AtomicFile.h - write a file whole or not at all ----------*- C++ -*-===//
//
// Every single file qc writes (statistics, exported models, reports) goes
// through this: a temporary file beside the target, renamed into place, so
// that a reader never sees a half-written file and a failure leaves none.
// Plain C++ and POSIX (lib/Quant uses it too). Files that other programs
// write (the linker's shared object) and groups of files that land together
// (an artifact) are staged under temporary names with StagedFiles and renamed
// at the end.
//
//===----------------------------------------------------------------------===//

#ifndef QC_SUPPORT_ATOMICFILE_H
#define QC_SUPPORT_ATOMICFILE_H

#include <string>
#include <string_view>
#include <vector>

namespace qc {

/// Writes `bytes` to `path` atomically; on failure returns false, sets
/// `error` ("cannot write 'PATH': reason") and leaves no file behind.
bool writeFileAtomically(const std::string &path, std::string_view bytes,
                         std::string &error);

/// Temporary files in one folder, removed on destruction unless committed.
/// Names start with '.' so that a half-written artifact folder holds no file
/// a loader would read.
class StagedFiles {
public:
  explicit StagedFiles(std::string dir) : dir(std::move(dir)) {}
  ~StagedFiles();
  StagedFiles(const StagedFiles &) = delete;
  StagedFiles &operator=(const StagedFiles &) = delete;

  /// Creates an empty file `.STEM.tmp-PID-N` in the folder and returns its
  /// path; on failure returns "" and sets `error`.
  std::string create(const std::string &stem, std::string &error);
  /// Renames the staged file `temp` to `finalName` in the folder; on failure
  /// returns false and sets `error` (the staged file is still removed later).
  bool commit(const std::string &temp, const std::string &finalName,
              std::string &error);

private:
  std::string dir;
  std::vector<std::string> paths;
};

} // namespace qc

#endif // QC_SUPPORT_ATOMICFILE_H
