// The one fork-and-exec path of the worker and its supervisors, with real
// programs: the child gets exactly the descriptors it is given, in order,
// nothing else of the caller's (also what was opened without close-on-exec),
// its signals at their defaults, and a program that cannot run is an error
// with its errno.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>

#include "process.hpp"
#include "spawn.hpp"

namespace qtopology::testing {
namespace {

using worker::ChildSpec;
using worker::spawn;

class SpawnTest : public ::testing::Test {
 protected:
  SpawnTest() {
    dir_ = ::testing::TempDir() + "spawn-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
  }
  ~SpawnTest() override { std::filesystem::remove_all(dir_); }

  // Runs `script` in /bin/sh with `fds`, waits for it; its exit code.
  int run(const std::string& script, std::vector<int> fds) {
    ChildSpec child;
    child.program = "/bin/sh";
    child.argv = {"sh", "-c", script};
    child.envp = {"PATH=/usr/bin:/bin"};
    child.fds = std::move(fds);
    const auto spawned = spawn(child);
    EXPECT_GT(spawned.pid, 0) << spawned.error;
    int status = 0;
    ::waitpid(spawned.pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string dir_;
};

TEST_F(SpawnTest, TheChildHasTheGivenDescriptorsInOrderAndNoOtherOfTheCallers) {
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int out_fd = ::open(path("out").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  // Opened the way a library might: inherited by any plain fork and exec.
  const int leaked = ::open("/dev/null", O_RDONLY);
  const int high = ::fcntl(leaked, F_DUPFD, 200);
  ASSERT_GE(high, 200);
  // 0 /dev/null, 1 the file, 2 the file again, 3 /dev/null.
  EXPECT_EQ(run("ls /proc/$$/fd | sort -n | tr '\\n' ' '; readlink /proc/$$/fd/3",
                {null_fd, out_fd, out_fd, null_fd}),
            0);
  EXPECT_EQ(readFile(path("out")), "0 1 2 3 /dev/null\n");
  for (int fd : {null_fd, out_fd, leaked, high}) ::close(fd);
}

TEST_F(SpawnTest, SignalsIgnoredOrBlockedByTheCallerAreAtTheirDefaultsInTheChild) {
  const int out_fd = ::open(path("out").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  const auto previous = std::signal(SIGTERM, SIG_IGN);
  sigset_t blocked, old;
  ::sigemptyset(&blocked);
  ::sigaddset(&blocked, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &blocked, &old);
  const int code = run("grep -E '^(SigBlk|SigIgn)' /proc/$$/status; kill -TERM $$; exit 0",
                       {out_fd, out_fd, out_fd});
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  std::signal(SIGTERM, previous);
  ::close(out_fd);
  EXPECT_EQ(code, 128 + SIGTERM) << readFile(path("out"));
  EXPECT_NE(readFile(path("out")).find("SigBlk:\t0000000000000000\n"), std::string::npos)
      << readFile(path("out"));
}

TEST_F(SpawnTest, AProgramThatCannotRunIsAnExecErrorWithItsErrno) {
  ChildSpec child;
  child.program = path("missing");
  child.argv = {"missing"};
  const auto spawned = spawn(child);
  EXPECT_EQ(spawned.pid, -1);
  EXPECT_TRUE(spawned.exec_failed);
  EXPECT_EQ(spawned.error, ENOENT);
}

}  // namespace
}  // namespace qtopology::testing
