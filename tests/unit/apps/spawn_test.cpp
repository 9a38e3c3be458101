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
#include <string>

#include "process.hpp"
#include "scratch_directory.hpp"
#include "spawn.hpp"

namespace qtopology::testing {
namespace {

using worker::ChildSpec;
using worker::spawn;

class SpawnTest : public ::testing::Test {
 protected:
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

  std::string path(const std::string& name) const { return scratch_.path(name); }
  ScratchDirectory scratch_{"spawn"};
};

TEST_F(SpawnTest, TheChildHasTheGivenDescriptorsInOrderAndNoOtherOfTheCallers) {
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int out_fd = ::open(path("out").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  // Opened the way a library might: inherited by any plain fork and exec.
  const int leaked = ::open("/dev/null", O_RDONLY);
  const int high = ::fcntl(leaked, F_DUPFD, 200);
  ASSERT_GE(high, 200);
  // 0 /dev/null, 1 the file, 2 the file again, 3 /dev/null; ls itself
  // lists 4, the directory it reads.
  EXPECT_EQ(run("exec ls /proc/self/fd", {null_fd, out_fd, out_fd, null_fd}), 0);
  EXPECT_EQ(run("exec readlink /proc/self/fd/3", {null_fd, out_fd, out_fd, null_fd}), 0);
  EXPECT_EQ(readFile(path("out")), "0\n1\n2\n3\n4\n/dev/null\n");
  for (int fd : {null_fd, out_fd, leaked, high}) ::close(fd);
}

TEST_F(SpawnTest, SignalsIgnoredOrBlockedByTheCallerAreAtTheirDefaultsInTheChild) {
  const int out_fd = ::open(path("out").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const auto previous = std::signal(SIGTERM, SIG_IGN);
  sigset_t blocked, old;
  ::sigemptyset(&blocked);
  ::sigaddset(&blocked, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &blocked, &old);
  // The spawned program itself reads its mask; the shell then tries the
  // signal on itself.
  const int listed =
      run("exec grep -E '^(SigBlk|SigIgn)' /proc/self/status", {out_fd, out_fd, out_fd});
  const int code = run("kill -TERM $$; exit 0", {out_fd, out_fd, out_fd});
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  std::signal(SIGTERM, previous);
  ::close(out_fd);
  EXPECT_EQ(listed, 0);
  EXPECT_EQ(readFile(path("out")), "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
  EXPECT_EQ(code, 128 + SIGTERM) << "SIGTERM stayed ignored";
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
