// Runs nothing: every topology "runs" inside the worker process (its pid is
// the worker's) until it is stopped or killed. For trying a cluster out
// without programs to run (qtopology-worker --simulate).
#pragma once

#include <mutex>
#include <set>
#include <string>

#include <qtopology/worker.hpp>

namespace qtopology::worker {

// Thread-safe. stop() and kill() report the exit before they return.
class SimulatedRunner final : public TopologyRunner {
 public:
  void setExitCallback(ExitCallback callback) override;
  std::optional<int> start(const StartRequest& request) override;
  void stop(const std::string& uuid) override;
  void kill(const std::string& uuid) override;

 private:
  ExitCallback on_exit_;
  std::mutex mutex_;
  std::set<std::string> running_;
};

}  // namespace qtopology::worker
