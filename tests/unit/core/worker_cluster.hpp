// A cluster in one test: MemoryStorage and TopologyWorkers on one clock that
// the test advances, each worker with a RecordingRunner (tests/support).
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

#include "recording_runner.hpp"

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
// logs: as the host's qtopology::Logger, or as a sink of spdlog's default
// logger (what the library falls back to). Thread-safe: the lease watchdog
// logs from its own thread.
class LineSink final : public spdlog::sinks::base_sink<std::mutex>, public Logger {
 public:
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  // Lines at `level` or above that contain `text`.
  int count(const std::string& text, LogLevel level = LogLevel::trace) {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      if (levels_[i] >= level && lines_[i].find(text) != std::string::npos) ++n;
    }
    return n;
  }

  void log(LogLevel level, std::string_view message) noexcept override {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(message);
    levels_.push_back(level);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    // Called with base_sink's mutex_ held, which the readers take too.
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
    levels_.push_back(msg.level >= spdlog::level::err    ? LogLevel::error
                      : msg.level == spdlog::level::warn ? LogLevel::warn
                      : msg.level == spdlog::level::info ? LogLevel::info
                                                         : LogLevel::debug);
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
  std::vector<LogLevel> levels_;
};

// The sink as the logger a host gives the library.
inline std::shared_ptr<Logger> lineLogger(const std::shared_ptr<LineSink>& sink) { return sink; }

// The sink behind an spdlog logger, to stand in for spdlog's default one.
inline std::shared_ptr<spdlog::logger> spdlogLineLogger(const std::shared_ptr<LineSink>& sink,
                                                        const std::string& name) {
  auto logger =
      std::make_shared<spdlog::logger>(name, std::static_pointer_cast<spdlog::sinks::sink>(sink));
  logger->set_level(spdlog::level::trace);
  return logger;
}

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
  // The storage's rows, then foreign_rows.
  std::vector<TopologyStatus> getTopologyStatus() override {
    auto rows = MemoryStorage::getTopologyStatus();
    rows.insert(rows.end(), foreign_rows.begin(), foreign_rows.end());
    return rows;
  }
  std::vector<TopologyStatus> getTopologiesForWorker(const std::string& worker) override {
    auto rows = MemoryStorage::getTopologiesForWorker(worker);
    for (const auto& t : foreign_rows) {
      if (t.worker == worker) rows.push_back(t);
    }
    return rows;
  }

  std::set<std::string> offline;  // their heartbeats and registrations fail
  std::optional<std::string> dead_timeout_property;
  std::function<void(const std::string& name)> before_heartbeat;  // may block
  std::function<void(const std::string& name)> after_heartbeat;   // before the reply
  int worker_table_reads = 0;
  std::function<void()> after_refresh;
  // Rows another writer left, which MemoryStorage's checked writes cannot
  // make: listed as a shared storage lists them, flagged or (a storage that
  // does not check) not.
  std::vector<TopologyStatus> foreign_rows;
};

// A heartbeat_write_interval for tests that count the lease or the leader's
// timeout from the last tick: every heartbeat writes the ping, as v25 did.
constexpr std::chrono::milliseconds kEveryHeartbeatWrites{0};

struct Cluster {
  explicit Cluster(std::vector<StorageProperty> properties = {},
                   std::chrono::milliseconds worker_dead_timeout = 30s,
                   std::optional<std::chrono::milliseconds> heartbeat_write_interval = {})
      : storage([&] {
          MemoryStorageOptions o;
          o.clock = [this] { return clock.system(); };
          o.properties = std::move(properties);
          o.worker_dead_timeout = worker_dead_timeout;
          o.heartbeat_write_interval = heartbeat_write_interval;
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
  // Every worker added next logs here (empty: the library's default).
  std::shared_ptr<Logger> logger;
  // Applied to each worker's options before it is made.
  std::function<void(WorkerOptions&)> adjust;
  std::map<std::string, std::unique_ptr<RecordingRunner>> runners;
  std::map<std::string, std::unique_ptr<TopologyWorker>> workers;
};

}  // namespace qtopology::testing
