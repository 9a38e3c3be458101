#include "simulated_runner.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

namespace qtopology::worker {

void SimulatedRunner::setExitCallback(ExitCallback callback) { on_exit_ = std::move(callback); }

std::optional<int> SimulatedRunner::start(const StartRequest& request) {
  std::lock_guard<std::mutex> lock(mutex_);
  running_.insert(request.uuid);
  spdlog::info("simulating topology {}", request.uuid);
  return static_cast<int>(::getpid());
}

void SimulatedRunner::stop(const std::string& uuid) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (running_.erase(uuid) == 0) return;
  }
  on_exit_({uuid, std::nullopt});
}

void SimulatedRunner::kill(const std::string& uuid) { stop(uuid); }

}  // namespace qtopology::worker
