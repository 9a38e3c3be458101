// Child processes for the test tiers: programs are tested as an operator runs
// them, through their command line and exit code. An exit code is the
// program's own, or 128 + the signal that ended it, as a shell reports it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace qtopology::testing {

struct RunResult {
  int exit_code = -1;  // 128 + signal when a signal ended it
  std::string out;
  std::string err;
};

// The environment a child gets: ours, with `set` added or replaced and the
// names in `unset` removed.
struct Environment {
  std::map<std::string, std::string> set;
  std::vector<std::string> unset;
};

// Runs `program args...` to completion, feeding it `input` on stdin.
RunResult run(const std::string& program, const std::vector<std::string>& args,
              const std::string& input = "", const Environment& env = {});

// A program left running in the background, its stdout and stderr going to
// `log_file` (empty: to ours). The destructor SIGKILLs it if it still runs.
class Child {
 public:
  Child(const std::string& program, const std::vector<std::string>& args,
        const std::string& log_file = "", const Environment& env = {});
  ~Child();
  Child(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child& operator=(Child&&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signal_number);
  bool running();
  // The exit code once it has exited within `timeout`, nullopt if it is
  // still running.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // The exit code, waiting as long as it takes.
  int wait();

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// Contents of a file; empty when it cannot be read.
std::string readFile(const std::string& path);

// Polls `done` until it holds or `timeout` passes; returns whether it held.
bool eventually(std::chrono::milliseconds timeout, const std::function<bool()>& done);

// Whether `pid` runs (a zombie has ended: it is not alive).
bool processAlive(pid_t pid);
// The parent of a running process, -1 when it does not run.
pid_t parentOf(pid_t pid);
// The live processes whose environment holds all of `entries`
// ("NAME=value"): the descendants of whoever set them, wherever they have
// been reparented to.
std::vector<pid_t> processesWithEnvironment(const std::vector<std::string>& entries);

}  // namespace qtopology::testing
