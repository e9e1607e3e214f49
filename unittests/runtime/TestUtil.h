//===- TestUtil.h - Shared helpers for the runtime tests --------*- C++ -*-===//

#ifndef QCRT_UNITTESTS_TESTUTIL_H
#define QCRT_UNITTESTS_TESTUTIL_H

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace qc::test {

/// A fresh directory under $TMPDIR, removed with its (flat) contents.
class TempDir {
public:
  TempDir() {
    const char *base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base && *base ? base : "/tmp") + "/qcrt-test-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()))
      dir = buffer.data();
  }
  ~TempDir() { removeTree(dir); }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  const std::string &path() const { return dir; }
  std::string file(const std::string &name) const { return dir + "/" + name; }

  /// Names in the directory, sorted, without "." and "..".
  std::vector<std::string> list(const std::string &sub = "") const {
    std::vector<std::string> names;
    std::string where = sub.empty() ? dir : dir + "/" + sub;
    if (DIR *d = opendir(where.c_str())) {
      while (dirent *entry = readdir(d)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..")
          names.push_back(name);
      }
      closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

private:
  static void removeTree(const std::string &path) {
    if (path.empty())
      return;
    if (DIR *d = opendir(path.c_str())) {
      while (dirent *entry = readdir(d)) {
        std::string name = entry->d_name;
        if (name == "." || name == "..")
          continue;
        std::string child = path + "/" + name;
        struct stat st;
        if (lstat(child.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
          removeTree(child);
        else
          unlink(child.c_str());
      }
      closedir(d);
    }
    rmdir(path.c_str());
  }

  std::string dir;
};

inline bool writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline void appendLE64(std::string &out, uint64_t value) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

inline uint64_t fnv1a(const std::string &bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

/// A model.qcw image: 40-byte header, zeros to 4096, then `payload`.
inline std::string weightsImage(const std::string &payload,
                                uint64_t version = 1) {
  std::string out = "QCWEIGHT";
  appendLE64(out, version);
  appendLE64(out, 4096);
  appendLE64(out, payload.size());
  appendLE64(out, fnv1a(payload));
  out.resize(4096, '\0');
  return out + payload;
}

/// The payload the fake model's manifest describes: w0 = {10, 20, 30} f32 at
/// payload offset 0, w1 = 100 i32 at payload offset 64.
inline std::string fakeModelPayload() {
  std::string payload(68, '\0');
  float w0[3] = {10, 20, 30};
  int32_t w1 = 100;
  std::memcpy(&payload[0], w0, sizeof(w0));
  std::memcpy(&payload[64], &w1, sizeof(w1));
  return payload;
}

/// Copies the fake model.so into `dir` (a copy, not a link: dlopen would
/// hand back the same handle for the same inode) and writes `weights` as
/// model.qcw unless it is null.
inline bool makeArtifact(const TempDir &dir, const char *modelPath,
                         const std::string *weights) {
  if (!writeFile(dir.file("model.so"), readFile(modelPath)))
    return false;
  return !weights || writeFile(dir.file("model.qcw"), *weights);
}

} // namespace qc::test

#endif // QCRT_UNITTESTS_TESTUTIL_H
