// Starting and waiting for child processes in the stress tests.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <string>
#include <vector>

extern char** environ;

namespace qtopology::testing {

// Starts `args` (args[0] is the program's path) with stdout sent to
// `stdout_path` when given. Returns the pid, or -1.
inline pid_t startProcess(const std::vector<std::string>& args,
                          const std::string& stdout_path = "") {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  }
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

inline int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

// A started child; remembers its exit code once reaped.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  pid_t pid() const { return pid_; }
  bool running() {
    int status = 0;
    if (exit_code_ < 0 && waitpid(pid_, &status, WNOHANG) == pid_) exit_code_ = exitCodeOf(status);
    return exit_code_ < 0;
  }
  // The exit code, or 128 + signal for a killed process.
  int wait() {
    int status = 0;
    if (exit_code_ < 0 && waitpid(pid_, &status, 0) == pid_) exit_code_ = exitCodeOf(status);
    return exit_code_;
  }

 private:
  pid_t pid_;
  int exit_code_ = -1;
};

}  // namespace qtopology::testing
