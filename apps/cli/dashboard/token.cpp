#include "token.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>

#include <qtopology/text.hpp>

namespace qtopology::cli::dashboard {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw std::runtime_error("cannot write the token file " + escapeControl(path) + ": " + why);
}

int createExclusive(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}

}  // namespace

std::string generateToken() {
  unsigned char bytes[32];
  std::size_t filled = 0;
  while (filled < sizeof bytes) {
    const auto n = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("cannot make a token: getrandom: ") +
                               std::strerror(errno));
    }
    filled += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 0x0F];
  }
  return token;
}

void checkTokenStrength(const std::string& token, const std::string& source) {
  constexpr std::size_t kHexLength = 32;    // 32 x 4 bits
  constexpr std::size_t kOtherLength = 22;  // 22 x 6 bits (base64url)
  constexpr std::size_t kLongest = 1024;
  constexpr std::size_t kDifferent = 8;
  const auto refuse = [&](const std::string& why) {
    throw std::invalid_argument(
        "the dashboard token from " + source + " is refused: " + why +
        "; a token needs at least 128 random bits: 32 hex digits or 22 base64url characters "
        "(e.g. openssl rand -hex 16), or leave it to the dashboard, which makes one of 256 bits");
  };
  const bool visible =
      std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 127; });
  if (!visible) refuse("it holds a space, a control character or a non-ASCII byte");
  if (token.size() > kLongest) refuse("it is longer than 1024 characters");
  const bool hex = std::all_of(token.begin(), token.end(),
                               [](unsigned char c) { return std::isxdigit(c) != 0; });
  const std::size_t needed = hex ? kHexLength : kOtherLength;
  if (token.size() < needed) {
    refuse("it has " + std::to_string(token.size()) +
           (token.size() == 1 ? " character" : " characters") + ", fewer than the " +
           std::to_string(needed) + " needed" + (hex ? " when all are hex digits" : ""));
  }
  if (std::set<char>(token.begin(), token.end()).size() < kDifferent) {
    refuse("it has fewer than 8 different characters");
  }
}

std::string readTokenFile(const std::string& path) {
  const std::string what = "the token file " + escapeControl(path);
  // O_NOFOLLOW: a link another user planted must not choose the file;
  // O_NONBLOCK: nor may a FIFO hold the start.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error(what + " cannot be opened: " +
                             (errno == ELOOP ? std::string("it is a symbolic link")
                                             : std::string(std::strerror(errno))));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    throw std::runtime_error(what + " is not a regular file");
  }
  if (info.st_uid != ::geteuid()) throw std::runtime_error(what + " belongs to another user");
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    throw std::runtime_error(what + " may be read or written by group or others: chmod 600 it");
  }
  constexpr std::size_t kLongest = 4096;
  std::string content(kLongest + 1, '\0');
  std::size_t filled = 0;
  for (ssize_t got; filled < content.size() &&
                    (got = ::read(fd, &content[filled], content.size() - filled)) != 0;) {
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(what + " cannot be read: " + std::strerror(errno));
    }
    filled += static_cast<std::size_t>(got);
  }
  if (filled > kLongest) throw std::runtime_error(what + " is larger than 4096 bytes");
  content.resize(filled);
  content = content.substr(0, content.find('\n'));
  if (!content.empty() && content.back() == '\r') content.pop_back();
  if (content.empty()) throw std::runtime_error(what + " holds no token on its first line");
  try {
    checkTokenStrength(content, "--token-file");
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  return content;
}

std::string defaultTokenPath(int port) {
  const char* dir = std::getenv("XDG_RUNTIME_DIR");
  if (!dir || dir[0] != '/') return "";
  return std::string(dir) + "/qtopology-dashboard-" + std::to_string(port) + ".token";
}

void writeTokenFile(const std::string& path, const std::string& token) {
  int fd = createExclusive(path);
  if (fd < 0 && errno == EEXIST) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) fail(path, std::strerror(errno));
    if (S_ISLNK(info.st_mode)) fail(path, "it is a symbolic link");
    if (!S_ISREG(info.st_mode) || info.st_uid != ::getuid()) {
      fail(path, "something else is there (not a regular file of this user)");
    }
    // Another user cannot have made it in a directory of ours; a stale file
    // of this user is replaced, never written through.
    if (::unlink(path.c_str()) != 0) fail(path, std::strerror(errno));
    fd = createExclusive(path);
  }
  if (fd < 0) fail(path, std::strerror(errno));
  const std::string line = token + "\n";
  const auto written = ::write(fd, line.data(), line.size());
  const bool ok = written == static_cast<ssize_t>(line.size());
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    fail(path, written < 0 ? std::strerror(saved) : "short write");
  }
}

}  // namespace qtopology::cli::dashboard
