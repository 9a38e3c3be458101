// A host of qtopology::core alone, compiled against the installed headers:
// they need nothing but the standard library and nlohmann/json, and an
// outside host can run a worker of its own (its own TopologyRunner, a
// TopologyWorker, MemoryStorage) without any MySQL client library.
#include <atomic>
#include <iostream>
#include <mutex>
#include <set>

#include <qtopology/logger.hpp>
#include <qtopology/memory_storage.hpp>
#include <qtopology/worker.hpp>

namespace {

// The host's own logging: the library's lines arrive here, no spdlog needed.
class HostLogger final : public qtopology::Logger {
 public:
  void log(qtopology::LogLevel level, std::string_view message) noexcept override {
    if (level >= qtopology::LogLevel::info) ++lines;
    static_cast<void>(message);
  }
  std::atomic<int> lines{0};
};

// The host's idea of running a topology: remember it until told to stop.
// Locked: the worker's lease watchdog may kill from its own thread.
class SetRunner : public qtopology::TopologyRunner {
 public:
  void setExitCallback(ExitCallback callback) override { exit_ = std::move(callback); }
  std::optional<int> start(const qtopology::StartRequest& request) override {
    std::lock_guard<std::mutex> lock(mutex_);
    running.insert(request.uuid);
    return 4242;
  }
  void stop(const std::string& uuid) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (running.erase(uuid)) exit_({uuid, std::nullopt});
  }
  void kill(const std::string& uuid) override { stop(uuid); }

  std::set<std::string> running;

 private:
  ExitCallback exit_;
  std::mutex mutex_;
};

bool runsAWorker() {
  qtopology::MemoryStorage storage;
  storage.registerTopology("t1", {{"general", {{"weight", 2}}}});
  storage.enableTopology("t1");
  SetRunner runner;
  qtopology::WorkerOptions options;
  options.name = "consumer-worker";
  options.leader_loop = std::chrono::milliseconds(1);
  const auto logger = std::make_shared<HostLogger>();
  options.logger = logger;
  qtopology::TopologyWorker worker(storage, runner, options);
  worker.start();
  for (int i = 0; i < 5 && runner.running.empty(); ++i) worker.tick();
  const auto info = storage.getTopologyInfo("t1");
  const bool ran = worker.isLeader() && runner.running.count("t1") &&
                   info.status == qtopology::TopologyState::running &&
                   info.worker == options.name && info.pid == 4242;
  const bool stopped = worker.shutdown() && runner.running.empty() &&
                       storage.getTopologyInfo("t1").status == qtopology::TopologyState::unassigned;
  // Statuses are typed, text only where they leave the process.
  const bool spelled = qtopology::toString(info.status) == "running" &&
                       qtopology::parseLeadership("") == qtopology::Leadership::normal;
  std::cout << "worker ran t1: " << ran << ", stopped it: " << stopped
            << ", logged: " << logger->lines.load() << "\n";
  return ran && stopped && spelled && logger->lines > 0;
}

}  // namespace

int main() { return runsAWorker() ? 0 : 1; }
