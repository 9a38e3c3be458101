#include "token.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
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
