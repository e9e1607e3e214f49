//===- AtomicFileTest.cpp - qc::writeFileAtomically -----------------------===//

#include "qc/Support/AtomicFile.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

std::string tempDir() {
  char pattern[] = "/tmp/qc-atomic-XXXXXX";
  const char *dir = ::mkdtemp(pattern);
  EXPECT_NE(dir, nullptr);
  return dir ? dir : "";
}

int entries(const std::string &dir) {
  int n = 0;
  if (DIR *d = ::opendir(dir.c_str())) {
    while (dirent *e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
        ++n;
    ::closedir(d);
  }
  return n;
}

std::string slurp(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(AtomicFile, WritesAndReplaces) {
  std::string dir = tempDir(), path = dir + "/out.bin";
  std::string error;
  std::string bytes("a\0b", 3);
  ASSERT_TRUE(qc::writeFileAtomically(path, bytes, error)) << error;
  EXPECT_EQ(slurp(path), bytes);
  ASSERT_TRUE(qc::writeFileAtomically(path, "second", error)) << error;
  EXPECT_EQ(slurp(path), "second");
  EXPECT_EQ(entries(dir), 1); // no temporary file left
  // Created as a plain file would be: 0666 less the umask.
  mode_t mask = ::umask(022);
  ::umask(mask);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask);
  std::remove(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(AtomicFile, FailureLeavesNothing) {
  std::string dir = tempDir();
  std::string error;
  EXPECT_FALSE(qc::writeFileAtomically(dir + "/missing/out.bin", "x", error));
  EXPECT_EQ(error, "cannot write '" + dir +
                       "/missing/out.bin': No such file or directory");
  // A folder in the way of the rename: the temporary file is removed.
  std::string blocked = dir + "/blocked";
  ASSERT_EQ(::mkdir(blocked.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((blocked + "/inside").c_str(), 0755), 0);
  EXPECT_FALSE(qc::writeFileAtomically(blocked, "x", error));
  EXPECT_NE(error.find("cannot write '" + blocked + "'"), std::string::npos);
  EXPECT_EQ(entries(dir), 1); // just the folder
  ::rmdir((blocked + "/inside").c_str());
  ::rmdir(blocked.c_str());
  ::rmdir(dir.c_str());
}

TEST(StagedFiles, CommitsAndCleansUp) {
  std::string dir = tempDir(), error;
  {
    qc::StagedFiles staged(dir);
    std::string kept = staged.create("kept", error);
    std::string dropped = staged.create("dropped", error);
    ASSERT_FALSE(kept.empty()) << error;
    ASSERT_FALSE(dropped.empty()) << error;
    EXPECT_EQ(kept.rfind(dir + "/.kept", 0), 0u); // hidden until committed
    EXPECT_EQ(entries(dir), 2);
    std::ofstream(kept) << "payload";
    ASSERT_TRUE(staged.commit(kept, "kept.txt", error)) << error;
  } // the uncommitted file goes with the stager
  EXPECT_EQ(entries(dir), 1);
  EXPECT_EQ(slurp(dir + "/kept.txt"), "payload");
  std::remove((dir + "/kept.txt").c_str());

  qc::StagedFiles missing(dir + "/missing");
  EXPECT_EQ(missing.create("x", error), "");
  EXPECT_EQ(error, "cannot create a file in '" + dir +
                       "/missing': No such file or directory");
  ::rmdir(dir.c_str());
}

} // namespace
