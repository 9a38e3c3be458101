// A cluster of worker processes on one test database: qtopology-worker (C++)
// and the real Node worker (qtopology 2.3.2, tests/interop/node_worker.js),
// with short timeouts, topologies of both formats, and the helpers the
// mixed-cluster, partition and pause tests share.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <qtopology/mysql_coordinator.hpp>

#include "process.hpp"
#include "test_database.hpp"

namespace qtopology::testing {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Timeouts in qtopology_settings: short, with room for a loaded 2-core
// machine (a heartbeat every 250 ms, stored with one-second resolution).
constexpr int kLeaderTimeoutS = 3;
constexpr int kWorkerDeadTimeoutS = 8;
constexpr int kWaitingTimeoutS = 10;
// The C++ workers' tick, and their lease: below the dead-worker timeout by
// more than a tick, the longest failing storage call (a cut-off worker's URL
// sets 1 s timeouts) and the second that last_ping's resolution may lose.
constexpr std::chrono::milliseconds kTick{250};
constexpr std::chrono::milliseconds kLease{3000};

// Polls `done` every 100 ms until it holds or `timeout` passes.
bool eventually(std::chrono::milliseconds timeout, const std::function<bool()>& done);

double secondsSince(Clock::time_point start);

// One "[figures] name: value" line on stdout, for the closing report.
void figure(const std::string& name, const std::string& value);

class ClusterFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A unique uuid for this test run: the process scan sees every test on the
  // machine, so names must not collide with another run's.
  std::string uuid(const std::string& base) const;

  // A command topology (qtopology-worker runs it as a child process) and a
  // Node-format one (only the Node worker runs it); registered, not enabled.
  void registerCommandTopology(const std::string& uuid, const std::vector<std::string>& affinity,
                               int weight = 1);
  void registerNodeTopology(const std::string& uuid, const std::vector<std::string>& affinity,
                            int weight = 1);
  void enableAll();

  // `url` defaults to the test database; a proxy's URL for partition tests.
  void startCppWorker(const std::string& name, const std::string& url = "");
  void startNodeWorker(const std::string& name);
  Child& worker(const std::string& name) { return *workers_.at(name); }

  std::map<std::string, WorkerStatus> workers();
  std::map<std::string, TopologyStatus> topologies();
  std::vector<std::string> leaders();
  // Every given topology is running on an alive worker (on `on` when given).
  bool allRunning(const std::set<std::string>& uuids,
                  const std::optional<std::string>& on = std::nullopt);
  // The worker each topology is assigned to.
  std::map<std::string, std::string> placement(const std::set<std::string>& uuids);

  TestDatabase db_;
  std::unique_ptr<MySqlCoordinator> storage_;
  std::map<std::string, std::unique_ptr<Child>> workers_;
  std::string tag_;
};

}  // namespace qtopology::testing
