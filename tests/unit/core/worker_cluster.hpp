// A cluster in one test: MemoryStorage and TopologyWorkers on one clock that
// the test advances, each worker with a RecordingRunner, a real
// TopologyRunner whose topologies are entries in a set.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <qtopology/memory_storage.hpp>
#include <qtopology/worker.hpp>

namespace qtopology::testing {

using namespace std::chrono_literals;

// One time line for the storage (system clock) and the workers (steady).
// Atomic: the workers' lease watchdogs read it from their own threads.
class TestClock {
 public:
  TimePoint system() const { return system_base_ + elapsed_.load(); }
  std::chrono::steady_clock::time_point steady() const { return steady_base_ + elapsed_.load(); }
  void advance(std::chrono::milliseconds by) { elapsed_ = elapsed_.load() + by; }

 private:
  // Mid-second, so whole-second rounding is exercised.
  TimePoint system_base_ = std::chrono::system_clock::from_time_t(1800000000) + 400ms;
  std::chrono::steady_clock::time_point steady_base_{std::chrono::hours(1000)};
  std::atomic<std::chrono::milliseconds> elapsed_{std::chrono::milliseconds(0)};
};

// Keeps every line a logger was given, for tests that read what the worker
// logs. Thread-safe: the lease watchdog logs from its own thread.
class LineSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  // Lines at `level` or above that contain `text`.
  int count(const std::string& text, spdlog::level::level_enum level = spdlog::level::trace) {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      if (levels_[i] >= level && lines_[i].find(text) != std::string::npos) ++n;
    }
    return n;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    // Called with base_sink's mutex_ held, which the readers take too.
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
    levels_.push_back(msg.level);
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
  std::vector<spdlog::level::level_enum> levels_;
};

inline std::shared_ptr<spdlog::logger> lineLogger(const std::shared_ptr<LineSink>& sink,
                                                  const std::string& name = "worker-test") {
  auto logger = std::make_shared<spdlog::logger>(name, sink);
  logger->set_level(spdlog::level::trace);
  return logger;
}

// Runs nothing: a started topology is a uuid in `running` until it is
// stopped, killed, crashed or finished by the test. Stop and kill report
// the exit at once (from inside the call), unless exit_on_stop is false.
// Its calls lock, as a worker's watchdog may kill from its own thread; tests
// read the fields directly once no watchdog can be killing (or use the
// locking readers).
class RecordingRunner : public TopologyRunner {
 public:
  void setExitCallback(ExitCallback callback) override { exit_ = std::move(callback); }

  std::optional<int> start(const std::string& uuid, const Json& config) override {
    std::lock_guard lock(mutex_);
    starts.push_back(uuid);
    if (const auto why = refuse.find(uuid); why != refuse.end())
      throw std::runtime_error(why->second);
    if (!running.insert(uuid).second) ADD_FAILURE() << "started twice: " << uuid;
    configs[uuid] = config;
    return next_pid++;
  }
  void stop(const std::string& uuid) override {
    std::lock_guard lock(mutex_);
    stops.push_back(uuid);
    if (exit_on_stop) end(uuid, std::nullopt);
  }
  void kill(const std::string& uuid) override {
    std::lock_guard lock(mutex_);
    kills.push_back(uuid);
    end(uuid, std::nullopt);
  }
  void renewLease(std::chrono::steady_clock::time_point deadline) override {
    std::lock_guard lock(mutex_);
    lease_deadlines.push_back(deadline);
  }

  void crash(const std::string& uuid, const std::string& error) {
    std::lock_guard lock(mutex_);
    end(uuid, error);
  }
  void finish(const std::string& uuid) {
    std::lock_guard lock(mutex_);
    end(uuid, std::nullopt);
  }
  bool runs(const std::string& uuid) {
    std::lock_guard lock(mutex_);
    return running.count(uuid) > 0;
  }
  std::vector<std::string> killed() {
    std::lock_guard lock(mutex_);
    return kills;
  }

  std::set<std::string> running;
  std::vector<std::string> starts, stops, kills;
  std::map<std::string, std::string> refuse;  // uuid -> what start() throws
  std::map<std::string, Json> configs;
  std::vector<std::chrono::steady_clock::time_point> lease_deadlines;  // renewLease()
  bool exit_on_stop = true;
  int next_pid = 1000;

 private:
  void end(const std::string& uuid, std::optional<std::string> error) {
    if (running.erase(uuid) == 0) return;
    exit_(TopologyExit{uuid, std::move(error)});
  }

  ExitCallback exit_;
  std::mutex mutex_;
};

// MemoryStorage that can be cut off (every heartbeat throws) and counts the
// calls that read every worker row.
class TestStorage : public MemoryStorage {
 public:
  explicit TestStorage(MemoryStorageOptions options) : MemoryStorage(std::move(options)) {}

  void registerWorker(const std::string& name) override {
    if (offline.count(name)) throw ConnectionError("registerWorker(name=" + name + "): cut off");
    MemoryStorage::registerWorker(name);
  }
  // The storage's own, with "worker_dead_timeout_s" replaced by
  // dead_timeout_property when that is set.
  std::vector<StorageProperty> getProperties() override {
    auto properties = MemoryStorage::getProperties();
    if (dead_timeout_property) {
      for (auto& p : properties) {
        if (p.key == "worker_dead_timeout_s") p.value = *dead_timeout_property;
      }
    }
    return properties;
  }
  WorkerHeartbeat heartbeat(const std::string& name) override {
    if (before_heartbeat) before_heartbeat(name);
    if (offline.count(name)) throw ConnectionError("heartbeat(worker=" + name + "): cut off");
    auto beat = MemoryStorage::heartbeat(name);
    if (after_heartbeat) after_heartbeat(name);
    return beat;
  }
  std::vector<WorkerStatus> getWorkerStatus() override {
    ++worker_table_reads;
    return MemoryStorage::getWorkerStatus();
  }
  void refreshStatuses() override {
    MemoryStorage::refreshStatuses();
    if (after_refresh) after_refresh();
  }

  std::set<std::string> offline;  // their heartbeats and registrations fail
  std::optional<std::string> dead_timeout_property;
  std::function<void(const std::string& name)> before_heartbeat;  // may block
  std::function<void(const std::string& name)> after_heartbeat;   // before the reply
  int worker_table_reads = 0;
  std::function<void()> after_refresh;
};

struct Cluster {
  explicit Cluster(std::vector<StorageProperty> properties = {},
                   std::chrono::milliseconds worker_dead_timeout = 30s)
      : storage([&] {
          MemoryStorageOptions o;
          o.clock = [this] { return clock.system(); };
          o.properties = std::move(properties);
          o.worker_dead_timeout = worker_dead_timeout;
          return o;
        }()) {}

  TopologyWorker& add(const std::string& name) {
    WorkerOptions o;
    o.name = name;
    o.leader_loop = 1s;
    o.stop_timeout = 100ms;
    o.clock = [this] { return clock.steady(); };
    o.logger = logger;
    if (adjust) adjust(o);
    runners[name] = std::make_unique<RecordingRunner>();
    auto& worker =
        *(workers[name] = std::make_unique<TopologyWorker>(storage, *runners[name], std::move(o)));
    worker.start();
    return worker;
  }

  void topology(const std::string& uuid, double weight = 1, std::vector<std::string> affinity = {},
                Json general = Json::object()) {
    general["weight"] = weight;
    if (!affinity.empty()) general["worker_affinity"] = affinity;
    storage.registerTopology(uuid, Json{{"general", general}});
    storage.enableTopology(uuid);
  }

  // One second passes, then each listed worker (all when empty) ticks once.
  void round(const std::set<std::string>& only = {}) {
    clock.advance(1s);
    for (auto& [name, worker] : workers) {
      if (only.empty() || only.count(name)) worker->tick();
    }
  }
  void rounds(int n, const std::set<std::string>& only = {}) {
    for (int i = 0; i < n; ++i) round(only);
  }

  TopologyInfo info(const std::string& uuid) { return storage.getTopologyInfo(uuid); }
  WorkerStatus workerRow(const std::string& name) {
    for (auto& w : storage.getWorkerStatus()) {
      if (w.name == name) return w;
    }
    throw std::runtime_error("no worker " + name);
  }
  RecordingRunner& runner(const std::string& name) { return *runners.at(name); }
  TopologyWorker& worker(const std::string& name) { return *workers.at(name); }

  // Which workers' runners run `uuid` right now.
  std::vector<std::string> runningOn(const std::string& uuid) {
    std::vector<std::string> out;
    for (auto& [name, r] : runners) {
      if (r->running.count(uuid)) out.push_back(name);
    }
    return out;
  }

  TestClock clock;
  TestStorage storage;
  // Every worker added next logs here (empty: spdlog's default logger).
  std::shared_ptr<spdlog::logger> logger;
  // Applied to each worker's options before it is made.
  std::function<void(WorkerOptions&)> adjust;
  std::map<std::string, std::unique_ptr<RecordingRunner>> runners;
  std::map<std::string, std::unique_ptr<TopologyWorker>> workers;
};

}  // namespace qtopology::testing
