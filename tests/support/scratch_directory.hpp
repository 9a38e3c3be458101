// A directory of the running test's own, under gtest's TempDir(): named by
// the test and this process (so that parallel runs and tests do not meet),
// made when the fixture is, removed with it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace qtopology::testing {

class ScratchDirectory {
 public:
  explicit ScratchDirectory(const std::string& prefix)
      : dir_(::testing::TempDir() + prefix + "-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()) {
    std::filesystem::create_directories(dir_);
  }
  ~ScratchDirectory() { std::filesystem::remove_all(dir_); }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

}  // namespace qtopology::testing
