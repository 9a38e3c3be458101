// A cluster of qtopology-worker processes on a private database, with short
// timeouts, for the e2e tests: start workers, run the CLI, read the state.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <qtopology/mysql_coordinator.hpp>

#include "process.hpp"
#include "test_database.hpp"

namespace qtopology::testing {

// Short, but with room for a loaded 2-core CI machine: a heartbeat is sent
// every second and stored with one-second resolution.
constexpr int kWorkerDeadTimeoutS = 5;
constexpr int kLeaderTimeoutS = 3;
constexpr int kWaitingTimeoutS = 5;

class ClusterFixture : public ::testing::Test {
 protected:
  // Migrates, lowers the cluster's timeouts, and runs in the source tree, so
  // that the workers find the demo's relative general.command paths.
  void SetUp() override;
  // Prints every worker's log when the test failed; removes the logs.
  void TearDown() override;

  std::string logOf(const std::string& worker) const;
  RunResult cli(std::vector<std::string> args, const std::string& input = "");
  // qtopology-worker --name NAME with short intervals (a lease below the
  // dead-worker timeout), plus `extra` options.
  void startWorker(const std::string& name, const std::vector<std::string>& extra = {});

  std::map<std::string, WorkerStatus> workers();
  std::map<std::string, TopologyStatus> topologies();
  // The live processes this test's workers started (their descendants too)
  // whose environment also holds `entry` ("QTOPOLOGY_UUID=t1").
  std::vector<pid_t> processesOfThisTestWith(const std::string& entry);
  // Reported running, with the pid of a live process its worker's supervisor
  // started (the worker records the pid right after it reports the topology
  // running).
  bool runsAsChildOfItsWorker(const TopologyStatus& t);
  // The alive leaders' names.
  std::vector<std::string> leaders();

  TestDatabase db_;
  std::unique_ptr<MySqlCoordinator> storage_;
  std::map<std::string, std::unique_ptr<Child>> workers_;
};

}  // namespace qtopology::testing
