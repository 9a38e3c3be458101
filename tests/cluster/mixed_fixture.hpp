// The e2e cluster fixture, widened to mixed clusters: qtopology-worker (C++)
// beside the real Node worker (qtopology 2.3.2, tests/interop/node_worker.js),
// topologies of both formats, and the timeouts the partition and pause tests
// need.
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster_fixture.hpp"  // tests/e2e

namespace qtopology::testing {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The dead-worker timeout here is longer than the e2e cluster's: the lease
// (below) must run out before it by more than a tick, the time a kill takes
// to end a topology's processes and the second that last_ping's resolution
// may lose. The lease holds even while a cut-off worker's storage call hangs
// (its watchdog kills), so a call's own timeouts do not count.
constexpr int kMixedWorkerDeadTimeoutS = 8;
constexpr int kMixedWaitingTimeoutS = 10;
constexpr milliseconds kTick{250};
constexpr milliseconds kLease{3000};

double secondsSince(Clock::time_point start);

// One "[figures] name: value" line on stdout, for the closing report.
void figure(const std::string& name, const std::string& value);

class MixedFixture : public ClusterFixture {
 protected:
  void SetUp() override;
  // Resumes paused workers, so that they can shut down; shows the logs also
  // of a passing test when QTOPOLOGY_TEST_SHOW_LOGS is set.
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
  // A C++ worker that also runs Node topologies, with the Node worker's
  // qtopology (node_peer_install).
  void startCppWorkerForNodeTopologies(const std::string& name);
  Child& worker(const std::string& name) { return *workers_.at(name); }

  // Every given topology is running on an alive worker (on `on` when given).
  bool allRunning(const std::set<std::string>& uuids,
                  const std::optional<std::string>& on = std::nullopt);
  // The worker each topology is assigned to.
  std::map<std::string, std::string> placement(const std::set<std::string>& uuids);

  std::string tag_;
};

}  // namespace qtopology::testing
