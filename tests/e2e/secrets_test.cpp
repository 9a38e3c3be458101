// Passwords stay out of what other local users can read: a password given
// on the command line disappears from /proc/PID/cmdline once the program has
// parsed it, and a password file that others may read is refused.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "process.hpp"

namespace qtopology::testing {
namespace {

using std::chrono::seconds;

constexpr const char* kSecret = "Sup3rSecretPw";

// A port that accepts connections and never answers: a client stays in its
// connect (up to connect_timeout_s) while the test looks at it.
class SilentServer {
 public:
  SilentServer() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot listen on loopback");
    }
    port_ = ntohs(address.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

std::string commandLineOf(pid_t pid) {
  std::string text = readFile("/proc/" + std::to_string(pid) + "/cmdline");
  for (char& c : text) {
    if (c == '\0') c = ' ';
  }
  return text;
}

void expectPasswordHidden(const std::string& program, std::vector<std::string> args) {
  SilentServer server;
  const std::string url = "mysql://qtopology:" + std::string(kSecret) +
                          "@127.0.0.1:" + std::to_string(server.port()) +
                          "/cluster?connect_timeout_s=20";
  args.insert(args.begin(), {"--url", url});
  Child child(program, args, ::testing::TempDir() + "secrets-test.log");
  std::string seen;
  // Parsing takes milliseconds; the connect then waits on the silent server.
  EXPECT_TRUE(eventually(seconds(10), [&] {
    seen = commandLineOf(child.pid());
    return seen.find("qtopology:" + std::string(std::strlen(kSecret), '*') + "@127.0.0.1") !=
           std::string::npos;
  })) << seen;
  EXPECT_EQ(seen.find(kSecret), std::string::npos) << seen;
  child.signal(SIGKILL);
  child.wait(seconds(5));
}

TEST(Secrets, TheWorkerHidesAPasswordGivenInItsUrl) {
  expectPasswordHidden(QTOPOLOGY_WORKER, {"--name", "secrets-test"});
}

TEST(Secrets, TheCliHidesAPasswordGivenInItsUrl) { expectPasswordHidden(QTOPOLOGY_CLI, {"list"}); }

TEST(Secrets, APasswordFileOthersMayReadIsRefused) {
  const std::string path = ::testing::TempDir() + "secrets-test-password";
  std::ofstream(path) << kSecret << "\n";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  const auto r = run(QTOPOLOGY_CLI, {"--url", "mysql://qtopology@127.0.0.1:1/cluster", "list"}, "",
                     Environment{{{"QTOPOLOGY_MYSQL_PASSWORD_FILE", path}}, {}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("group or others"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(kSecret), std::string::npos) << r.err;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace qtopology::testing
