// The one TopologyRunner fake of the tests and the bench: runs nothing, and
// records what the worker asked. A started topology is a uuid in `running`
// until it is stopped, killed, crashed or finished by the test. Stop and kill
// report the exit at once (from inside the call), unless exit_on_stop is
// false. Every call locks, as a worker's lease watchdog may kill from its
// own thread; tests read the fields directly once no watchdog can be killing
// (or use the locking readers).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <qtopology/worker.hpp>

namespace qtopology::testing {

class RecordingRunner : public TopologyRunner {
 public:
  void setExitCallback(ExitCallback callback) override { exit_ = std::move(callback); }

  std::optional<int> start(const StartRequest& request) override {
    std::lock_guard lock(mutex_);
    starts.push_back(request.uuid);
    epochs[request.uuid].push_back(request.epoch);
    if (const auto why = refuse.find(request.uuid); why != refuse.end()) {
      throw std::runtime_error(why->second);
    }
    if (!running.insert(request.uuid).second) {
      started_twice.push_back(request.uuid);
#ifdef ADD_FAILURE  // in a gtest binary, a failure of the test at once
      ADD_FAILURE() << "started twice: " << request.uuid;
#endif
    }
    configs[request.uuid] = request.config;
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
  std::size_t runningCount() {
    std::lock_guard lock(mutex_);
    return running.size();
  }
  std::vector<std::string> killed() {
    std::lock_guard lock(mutex_);
    return kills;
  }

  std::set<std::string> running;
  std::vector<std::string> starts, stops, kills;
  std::vector<std::string> started_twice;                   // uuids started while they ran
  std::map<std::string, std::vector<std::int64_t>> epochs;  // uuid -> each start's epoch
  std::map<std::string, std::string> refuse;                // uuid -> what start() throws
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

}  // namespace qtopology::testing
