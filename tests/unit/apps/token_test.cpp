// The dashboard's token and its file, without a server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "token.hpp"

namespace qtopology::cli::dashboard {
namespace {

using ::testing::HasSubstr;

std::string contents(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/qtopology-token-test-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    for (const char* f : {"t", "target", "link", "dir/x"}) std::remove((dir_ + "/" + f).c_str());
    ::rmdir((dir_ + "/dir").c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST(DashboardToken, Is256RandomBitsInHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto token = generateToken();
    ASSERT_EQ(token.size(), 64u);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos) << token;
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST_F(TokenFileTest, NewFileOnlyItsUserCanRead) {
  const auto path = dir_ + "/t";
  writeTokenFile(path, "abc");
  struct stat info {};
  ASSERT_EQ(::lstat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(contents(path), "abc\n");
  // A file left by a dashboard that was killed is replaced.
  ::chmod(path.c_str(), 0644);
  writeTokenFile(path, "def");
  ASSERT_EQ(::lstat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(contents(path), "def\n");
}

TEST_F(TokenFileTest, NeverThroughALinkNorOverADirectory) {
  const auto target = dir_ + "/target";
  std::ofstream(target) << "keep";
  const auto link = dir_ + "/link";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  try {
    writeTokenFile(link, "abc");
    FAIL() << "wrote through a link";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("symbolic link"));
  }
  EXPECT_EQ(contents(target), "keep");
  ASSERT_EQ(::mkdir((dir_ + "/dir").c_str(), 0700), 0);
  EXPECT_THROW(writeTokenFile(dir_ + "/dir", "abc"), std::runtime_error);
}

TEST(DashboardToken, DefaultPathIsInTheRuntimeDirectory) {
  ::setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
  EXPECT_EQ(defaultTokenPath(8080), "/run/user/1000/qtopology-dashboard-8080.token");
  ::setenv("XDG_RUNTIME_DIR", "relative", 1);
  EXPECT_EQ(defaultTokenPath(8080), "");
  ::unsetenv("XDG_RUNTIME_DIR");
  EXPECT_EQ(defaultTokenPath(8080), "");
}

}  // namespace
}  // namespace qtopology::cli::dashboard
