// A host of qtopology::core alone, compiled against the installed headers:
// they need nothing but the standard library and nlohmann/json, and an
// outside host can run a worker of its own (its own TopologyRunner, a
// TopologyWorker, MemoryStorage) without any MySQL client library.
#include <iostream>
#include <mutex>
#include <set>

#include <qtopology/memory_storage.hpp>
#include <qtopology/worker.hpp>

namespace {

// The host's idea of running a topology: remember it until told to stop.
// Locked: the worker's lease watchdog may kill from its own thread.
class SetRunner : public qtopology::TopologyRunner {
 public:
  void setExitCallback(ExitCallback callback) override { exit_ = std::move(callback); }
  std::optional<int> start(const std::string& uuid, const qtopology::Json&) override {
    std::lock_guard<std::mutex> lock(mutex_);
    running.insert(uuid);
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
  qtopology::TopologyWorker worker(storage, runner, options);
  worker.start();
  for (int i = 0; i < 5 && runner.running.empty(); ++i) worker.tick();
  const auto info = storage.getTopologyInfo("t1");
  const bool ran = worker.isLeader() && runner.running.count("t1") && info.status == "running" &&
                   info.worker == options.name && info.pid == 4242;
  const bool stopped = worker.shutdown() && runner.running.empty() &&
                       storage.getTopologyInfo("t1").status == "unassigned";
  std::cout << "worker ran t1: " << ran << ", stopped it: " << stopped << "\n";
  return ran && stopped;
}

}  // namespace

int main() { return runsAWorker() ? 0 : 1; }
