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
    for (const char* f : {"t", "target", "link", "dir/x", "in"}) {
      std::remove((dir_ + "/" + f).c_str());
    }
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

// 128 bits: 32 hex digits, or 22 characters of a wider alphabet.
TEST(DashboardToken, ShortTokensAreRefused) {
  EXPECT_NO_THROW(checkTokenStrength(generateToken(), "--token"));
  EXPECT_NO_THROW(checkTokenStrength("0123456789abcdef0123456789abcdef", "--token"));
  EXPECT_NO_THROW(checkTokenStrength("Q2hhbmdlIHRoaXMgdG9rZW4", "--token"));  // 23 base64url
  EXPECT_NO_THROW(checkTokenStrength("abcdefghij-klmnopqrs_t", "--token"));   // 22
  const auto refused = [](const std::string& token) {
    try {
      checkTokenStrength(token, "--token");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_THAT(refused("a"),
              HasSubstr("it has 1 character, fewer than the 32 needed when all are hex digits"));
  EXPECT_THAT(refused("z"), HasSubstr("it has 1 character, fewer than the 22 needed;"));
  EXPECT_THAT(refused("s3cret-token"), HasSubstr("fewer than the 22 needed"));
  EXPECT_THAT(refused("abcdefghij-klmnopqrs_"), HasSubstr("21 characters"));
  // All hex: 4 bits a character, so 32 are needed.
  EXPECT_THAT(refused("0123456789abcdef0123456789abcde"),
              HasSubstr("31 characters, fewer than the 32 needed when all are hex digits"));
  EXPECT_THAT(refused(std::string(40, 'a')), HasSubstr("fewer than 8 different characters"));
  EXPECT_THAT(refused("abcdefghij klmnopqrstuvwxyz"), HasSubstr("a space"));
  EXPECT_THAT(refused(std::string(1025, 'x') + "abcdefgh"), HasSubstr("longer than 1024"));
  // Where it came from is named; the token is not.
  EXPECT_THAT(refused("s3cret-token"), HasSubstr("from --token"));
  EXPECT_THAT(refused("s3cret-token"), ::testing::Not(HasSubstr("s3cret")));
}

TEST_F(TokenFileTest, ReadOnlyFromAPrivateFileOfThisUser) {
  const auto path = dir_ + "/in";
  const std::string token = generateToken();
  std::ofstream(path) << token << "\nsecond line ignored\n";
  ::chmod(path.c_str(), 0600);
  EXPECT_EQ(readTokenFile(path), token);
  ::chmod(path.c_str(), 0640);
  try {
    readTokenFile(path);
    FAIL() << "read a file its group may read";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("group or others: chmod 600 it"));
  }
  ::chmod(path.c_str(), 0600);
  std::ofstream(path) << "short\n";
  EXPECT_THROW(readTokenFile(path), std::runtime_error);
  std::ofstream(path) << "";
  EXPECT_THROW(readTokenFile(path), std::runtime_error);
  const auto link = dir_ + "/link";
  ASSERT_EQ(::symlink(path.c_str(), link.c_str()), 0);
  try {
    readTokenFile(link);
    FAIL() << "read through a link";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("symbolic link"));
  }
  EXPECT_THROW(readTokenFile(dir_ + "/missing"), std::runtime_error);
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
