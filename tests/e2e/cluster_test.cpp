// The demo's scenario with short timeouts, every step checked in the
// database and in /proc: three qtopology-worker processes elect a leader,
// run the six demo topologies as child processes spread by weight and
// affinity, survive the SIGKILL of the leader without leaving its children
// behind, obey a stop from the CLI and shut down cleanly.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "cluster_fixture.hpp"

namespace qtopology::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

const std::vector<std::string> kWorkers = {"worker-1", "worker-2", "worker-3"};

class ClusterTest : public ClusterFixture {
 protected:
  // Each enabled topology runs as a child of an alive worker.
  bool allEnabledRunningOnAliveWorkers() {
    const auto ws = workers();
    for (const auto& [uuid, t] : topologies()) {
      if (!t.enabled) continue;
      if (!runsAsChildOfItsWorker(t) || ws.at(*t.worker).status != WorkerState::alive) return false;
    }
    return true;
  }

  // The topology runs under its worker's process (through the supervisor the
  // worker started for it).
  void expectRunsAsChildOf(const TopologyStatus& t) {
    ASSERT_TRUE(t.pid.has_value()) << t.uuid;
    EXPECT_TRUE(processAlive(*t.pid)) << t.uuid;
    EXPECT_EQ(parentOf(parentOf(*t.pid)), workers_.at(t.worker.value())->pid()) << t.uuid;
    const auto found = processesOfThisTestWith("QTOPOLOGY_UUID=" + t.uuid);
    EXPECT_EQ(found, std::vector<pid_t>{*t.pid}) << t.uuid;
  }
};

TEST_F(ClusterTest, DemoScenario) {
  // Six topologies from the demo, registered through the CLI.
  std::vector<std::string> uuids;
  for (const auto& entry : std::filesystem::directory_iterator(QTOPOLOGY_DEMO_TOPOLOGIES)) {
    if (entry.path().extension() != ".json") continue;
    uuids.push_back(entry.path().stem());
    const auto r = cli({"register", uuids.back(), entry.path()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ASSERT_EQ(uuids.size(), 6u);

  // 1. Three workers, one leader.
  for (const auto& name : kWorkers) startWorker(name, {"--grace-ms", "2000"});
  ASSERT_TRUE(eventually(seconds(20), [&] {
    const auto ws = workers();
    return ws.size() == 3 && leaders().size() == 1 &&
           std::all_of(ws.begin(), ws.end(),
                       [](const auto& w) { return w.second.status == WorkerState::alive; });
  })) << "three alive workers and one leader";
  const std::string first_leader = leaders().at(0);

  // 2. Enabled in one statement, so the leader places all six in one loop,
  // deterministically.
  db_.exec("UPDATE qtopology_topology SET enabled = 1");
  ASSERT_TRUE(eventually(seconds(20), [&] { return allEnabledRunningOnAliveWorkers(); }))
      << "all six running";
  // Node qtopology's rule: the smallest load after placing, affinity
  // dividing it by five; ties go by name.
  const std::map<std::string, std::string> expected = {
      {"orders-ingest", "worker-1"},  {"clickstream", "worker-2"},    {"fraud-scoring", "worker-3"},
      {"metrics-rollup", "worker-2"}, {"audit-archiver", "worker-2"},  // affinity
      {"email-digest", "worker-3"},
  };
  auto ts = topologies();
  for (const auto& [uuid, worker] : expected) {
    EXPECT_EQ(ts.at(uuid).worker, worker) << uuid;
    expectRunsAsChildOf(ts.at(uuid));
  }

  // 3. SIGKILL the leader: its children die with it at once; another leader
  // takes over, marks it dead, unloads it and gives its topologies to the
  // others, as new processes.
  std::map<std::string, int> orphaned;  // uuid -> its pid on the killed leader
  for (const auto& [uuid, t] : ts) {
    if (t.worker == first_leader) orphaned[uuid] = t.pid.value();
  }
  ASSERT_FALSE(orphaned.empty());
  const auto killed_at = Clock::now();
  workers_.at(first_leader)->signal(SIGKILL);
  ASSERT_TRUE(workers_.at(first_leader)->wait(seconds(5)).has_value());
  EXPECT_TRUE(eventually(
      seconds(2),
      [&] { return processesOfThisTestWith("QTOPOLOGY_WORKER=" + first_leader).empty(); }))
      << "children of " << first_leader << " outlived it";
  for (const auto& [uuid, pid] : orphaned) EXPECT_FALSE(processAlive(pid)) << uuid;

  ASSERT_TRUE(eventually(seconds(45),
                         [&] {
                           const auto now = topologies();
                           return workers().at(first_leader).status == WorkerState::unloaded &&
                                  allEnabledRunningOnAliveWorkers() &&
                                  std::all_of(orphaned.begin(), orphaned.end(), [&](const auto& o) {
                                    return now.at(o.first).worker != first_leader;
                                  });
                         }))
      << "recovery from the SIGKILL of " << first_leader;
  EXPECT_LT(Clock::now() - killed_at, seconds(45));
  ASSERT_EQ(leaders().size(), 1u);
  EXPECT_NE(leaders().at(0), first_leader);
  const auto killed_history = storage_->getWorkerHistory(first_leader);
  ASSERT_GE(killed_history.size(), 2u);
  EXPECT_EQ(killed_history[0].status, WorkerState::unloaded);
  EXPECT_EQ(killed_history[1].status, WorkerState::dead);
  ts = topologies();
  for (const auto& [uuid, pid] : orphaned) {
    expectRunsAsChildOf(ts.at(uuid));
    EXPECT_NE(ts.at(uuid).pid, pid) << uuid;
  }

  // 4. Stop one topology through the CLI: its process gets SIGTERM (the demo
  // program says so on stdout, into its worker's log) and ends; the topology
  // is disabled, unassigned by its worker, and never placed again.
  const std::string stopped = "fraud-scoring";
  const std::string stopped_on = ts.at(stopped).worker.value();
  const int stopped_pid = ts.at(stopped).pid.value();
  const auto stop = cli({"stop", stopped});
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
  ASSERT_TRUE(eventually(seconds(10),
                         [&] {
                           const auto t = topologies().at(stopped);
                           return t.status == TopologyState::unassigned && !t.enabled;
                         }))
      << "stop of " << stopped;
  EXPECT_EQ(topologies().at(stopped).worker, stopped_on);
  EXPECT_FALSE(processAlive(stopped_pid));
  EXPECT_NE(readFile(logOf(stopped_on)).find(stopped + " on " + stopped_on + ": SIGTERM after"),
            std::string::npos);
  std::this_thread::sleep_for(seconds(2));
  EXPECT_EQ(topologies().at(stopped).status, TopologyState::unassigned);
  EXPECT_TRUE(processesOfThisTestWith("QTOPOLOGY_UUID=" + stopped).empty());

  // 5. Shutdown: SIGTERM for one, the CLI's shutdown-worker for the other.
  // Each stops its topologies' processes before it exits.
  std::vector<std::string> remaining;
  for (const auto& name : kWorkers) {
    if (name != first_leader) remaining.push_back(name);
  }
  workers_.at(remaining[0])->signal(SIGTERM);
  const auto shutdown = cli({"shutdown-worker", remaining[1]});
  ASSERT_EQ(shutdown.exit_code, 0) << shutdown.err;
  for (const auto& name : remaining) {
    EXPECT_EQ(workers_.at(name)->wait(std::chrono::seconds(20)), 0) << name << " exit code";
    EXPECT_TRUE(processesOfThisTestWith("QTOPOLOGY_WORKER=" + name).empty()) << name;
  }
  for (const auto& [name, w] : workers()) {
    EXPECT_EQ(w.status, WorkerState::unloaded) << name;
    EXPECT_EQ(w.lstatus, Leadership::normal) << name;
  }
  for (const auto& name : remaining) {
    const auto history = storage_->getWorkerHistory(name);
    ASSERT_GE(history.size(), 2u);
    EXPECT_EQ(history[0].status, WorkerState::unloaded) << name;  // newest first
    EXPECT_EQ(history[1].status, WorkerState::closing) << name;
  }
  for (const auto& [uuid, t] : topologies()) {
    EXPECT_EQ(t.status, TopologyState::unassigned) << uuid;
  }
}

}  // namespace
}  // namespace qtopology::testing
