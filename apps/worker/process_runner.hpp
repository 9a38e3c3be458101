// Runs each topology as a child process: the program and arguments of its
// general.command. What the child gets:
// - environment: the worker's, plus QTOPOLOGY_UUID, QTOPOLOGY_WORKER and
//   QTOPOLOGY_CONFIG (the path of a file holding the topology's config as
//   JSON, removed once the child has ended);
// - stdin /dev/null, stdout the worker's, stderr a pipe the runner reads:
//   each line is logged, and the last ones go into the error text when the
//   child fails;
// - its own process group (stop and kill signal the whole group), and
//   SIGKILL when the worker dies, even by SIGKILL.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <qtopology/worker.hpp>

namespace qtopology::worker {

struct ProcessRunnerOptions {
  std::string worker;  // the worker's name, for QTOPOLOGY_WORKER
  // How long stop() waits after SIGTERM before it sends SIGKILL.
  std::chrono::milliseconds grace{std::chrono::seconds(5)};
};

// Thread-safe. Exits are reported from the runner's own thread.
//
// The children die with the thread that started them (PR_SET_PDEATHSIG
// follows the thread, not the process): call start() from a thread that
// lives as long as the worker, as TopologyWorker::run() does.
class ProcessRunner final : public TopologyRunner {
 public:
  explicit ProcessRunner(ProcessRunnerOptions options);
  // SIGKILLs what still runs and waits for it, without reporting.
  ~ProcessRunner() override;
  ProcessRunner(const ProcessRunner&) = delete;
  ProcessRunner& operator=(const ProcessRunner&) = delete;

  void setExitCallback(ExitCallback callback) override;
  // Throws apps::InvalidTopology for a config without a valid
  // general.command, std::runtime_error when the program cannot be run (not
  // found, not executable) or the topology already runs here.
  std::optional<int> start(const std::string& uuid, const Json& config) override;
  void stop(const std::string& uuid) override;
  void kill(const std::string& uuid) override;

 private:
  struct Child {
    pid_t pid = -1;
    int stderr_fd = -1;  // -1 once the pipe reached its end
    std::string config_file;
    std::string stderr_tail;
    std::string partial_line;  // stderr since the last newline, not logged yet
    bool end_requested = false;
    std::optional<std::chrono::steady_clock::time_point> kill_at;
  };

  void reap();
  void readStderr(const std::string& uuid, Child& child);
  void wake();

  ProcessRunnerOptions options_;
  ExitCallback on_exit_;
  std::mutex mutex_;
  std::map<std::string, Child> children_;
  bool closing_ = false;
  int wake_fds_[2] = {-1, -1};
  std::thread reaper_;
};

}  // namespace qtopology::worker
