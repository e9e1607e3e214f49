//===- AtomicFile.h - write a file whole or not at all ----------*- C++ -*-===//
//
// Every single file qc writes (statistics, exported models, reports) goes
// through this: a temporary file beside the target, renamed into place, so
// that a reader never sees a half-written file and a failure leaves none.
// Plain C++ and POSIX (lib/Quant uses it too). Artifacts, which are several
// files, commit theirs the same way (lib/Target).
//
//===----------------------------------------------------------------------===//

#ifndef QC_SUPPORT_ATOMICFILE_H
#define QC_SUPPORT_ATOMICFILE_H

#include <string>
#include <string_view>

namespace qc {

/// Writes `bytes` to `path` atomically; on failure returns false, sets
/// `error` ("cannot write 'PATH': reason") and leaves no file behind.
bool writeFileAtomically(const std::string &path, std::string_view bytes,
                         std::string &error);

} // namespace qc

#endif // QC_SUPPORT_ATOMICFILE_H
