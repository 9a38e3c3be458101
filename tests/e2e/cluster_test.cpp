// The demo's scenario with short timeouts, every step checked in the
// database: three qtopology-worker processes elect a leader, spread the six
// demo topologies by weight and affinity, survive the SIGKILL of the leader,
// obey a stop from the CLI and shut down cleanly.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

#include "process.hpp"
#include "test_database.hpp"

namespace qtopology::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

// Short, but with room for a loaded 2-core CI machine: a heartbeat is sent
// every second and stored with one-second resolution.
constexpr int kWorkerDeadTimeoutS = 5;
constexpr int kLeaderTimeoutS = 3;
constexpr int kWaitingTimeoutS = 5;

const std::vector<std::string> kWorkers = {"worker-1", "worker-2", "worker-3"};

// Polls `done` until it holds or `timeout` passes; says which on failure.
bool eventually(seconds timeout, const std::function<bool()>& done) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return done();
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = std::make_unique<MySqlCoordinator>(db_.options());  // migrates
    db_.exec(
        "UPDATE qtopology_settings SET value = CASE name"
        " WHEN 'worker_dead_timeout_s' THEN '" +
        std::to_string(kWorkerDeadTimeoutS) +
        "'"
        " WHEN 'leader_timeout_s' THEN '" +
        std::to_string(kLeaderTimeoutS) +
        "'"
        " WHEN 'waiting_timeout_s' THEN '" +
        std::to_string(kWaitingTimeoutS) +
        "' END"
        " WHERE name IN ('worker_dead_timeout_s', 'leader_timeout_s', 'waiting_timeout_s')");
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& name : kWorkers) {
        std::cerr << "---- log of " << name << "\n" << readFile(logOf(name));
      }
    }
    for (const auto& name : kWorkers) std::remove(logOf(name).c_str());
  }

  std::string logOf(const std::string& worker) const {
    return ::testing::TempDir() + db_.name() + "-" + worker + ".log";
  }

  RunResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--url", db_.url()});
    return run(QTOPOLOGY_CLI, args);
  }

  void startWorker(const std::string& name) {
    workers_[name] = std::make_unique<Child>(
        QTOPOLOGY_WORKER, std::vector<std::string>{"--name", name, "--url", db_.url()},
        logOf(name));
  }

  std::map<std::string, WorkerStatus> workers() {
    std::map<std::string, WorkerStatus> out;
    for (auto& w : storage_->getWorkerStatus()) out[w.name] = w;
    return out;
  }

  std::map<std::string, TopologyStatus> topologies() {
    std::map<std::string, TopologyStatus> out;
    for (auto& t : storage_->getTopologyStatus()) out[t.uuid] = t;
    return out;
  }

  // The alive leaders' names.
  std::vector<std::string> leaders() {
    std::vector<std::string> out;
    for (const auto& [name, w] : workers()) {
      if (w.status == "alive" && w.lstatus == "leader") out.push_back(name);
    }
    return out;
  }

  bool allEnabledRunningOnAliveWorkers() {
    const auto ws = workers();
    for (const auto& [uuid, t] : topologies()) {
      if (!t.enabled) continue;
      if (t.status != "running" || !t.worker || ws.at(*t.worker).status != "alive") return false;
    }
    return true;
  }

  TestDatabase db_;
  std::unique_ptr<MySqlCoordinator> storage_;
  std::map<std::string, std::unique_ptr<Child>> workers_;
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
  for (const auto& name : kWorkers) startWorker(name);
  ASSERT_TRUE(eventually(seconds(20), [&] {
    const auto ws = workers();
    return ws.size() == 3 && leaders().size() == 1 &&
           std::all_of(ws.begin(), ws.end(),
                       [](const auto& w) { return w.second.status == "alive"; });
  })) << "three alive workers and one leader";
  const std::string first_leader = leaders().at(0);

  // 2. Enabled in one statement, so the leader sees all six in the same
  // tick and the placement is the deterministic one of placement_test.
  db_.exec("UPDATE qtopology_topology SET enabled = 1");
  ASSERT_TRUE(eventually(seconds(20), [&] { return allEnabledRunningOnAliveWorkers(); }))
      << "all six running";
  const std::map<std::string, std::string> expected =
      {
          {"orders-ingest", "worker-1"},  {"clickstream", "worker-2"},
          {"fraud-scoring", "worker-3"},  {"metrics-rollup", "worker-2"},
          {"audit-archiver", "worker-2"},  // affinity: worker-2 counts 6/5 = 1.2
          {"email-digest", "worker-3"},
      };
  auto ts = topologies();
  for (const auto& [uuid, worker] : expected) {
    EXPECT_EQ(ts.at(uuid).worker, worker) << uuid;
    // Running with the pid of the worker process that runs it.
    EXPECT_EQ(ts.at(uuid).pid, workers_.at(worker)->pid()) << uuid;
  }

  // 3. SIGKILL the leader: another one takes over, marks it dead, unloads it
  // and gives its topologies to the others.
  std::vector<std::string> orphaned;
  for (const auto& [uuid, t] : ts) {
    if (t.worker == first_leader) orphaned.push_back(uuid);
  }
  const auto killed_at = Clock::now();
  workers_.at(first_leader)->signal(SIGKILL);
  ASSERT_TRUE(eventually(seconds(45),
                         [&] {
                           const auto now = topologies();
                           return workers().at(first_leader).status == "unloaded" &&
                                  allEnabledRunningOnAliveWorkers() &&
                                  std::all_of(orphaned.begin(), orphaned.end(),
                                              [&](const auto& uuid) {
                                                return now.at(uuid).worker != first_leader;
                                              });
                         }))
      << "recovery from the SIGKILL of " << first_leader;
  EXPECT_LT(Clock::now() - killed_at, seconds(45));
  ASSERT_EQ(leaders().size(), 1u);
  EXPECT_NE(leaders().at(0), first_leader);
  const auto killed_history = storage_->getWorkerHistory(first_leader);
  ASSERT_GE(killed_history.size(), 2u);
  EXPECT_EQ(killed_history[0].status, "unloaded");
  EXPECT_EQ(killed_history[1].status, "dead");

  // 4. Stop one topology through the CLI: disabled, then unassigned by its
  // worker, and never placed again.
  ts = topologies();
  const std::string stopped = "fraud-scoring";
  const std::string stopped_on = ts.at(stopped).worker.value();
  const auto stop = cli({"stop", stopped});
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
  ASSERT_TRUE(eventually(seconds(10),
                         [&] {
                           const auto t = topologies().at(stopped);
                           return t.status == "unassigned" && !t.enabled;
                         }))
      << "stop of " << stopped;
  EXPECT_EQ(topologies().at(stopped).worker, stopped_on);
  std::this_thread::sleep_for(seconds(2));
  EXPECT_EQ(topologies().at(stopped).status, "unassigned");
  EXPECT_TRUE(storage_->getMsgQueueContent().empty());

  // 5. Shutdown: SIGTERM for one, the CLI's shutdown-worker for the other.
  std::vector<std::string> remaining;
  for (const auto& name : kWorkers) {
    if (name != first_leader) remaining.push_back(name);
  }
  workers_.at(remaining[0])->signal(SIGTERM);
  const auto shutdown = cli({"shutdown-worker", remaining[1]});
  ASSERT_EQ(shutdown.exit_code, 0) << shutdown.err;
  for (const auto& name : remaining) {
    EXPECT_EQ(workers_.at(name)->wait(std::chrono::seconds(20)), 0) << name << " exit code";
  }
  for (const auto& [name, w] : workers()) {
    EXPECT_EQ(w.status, "unloaded") << name;
    EXPECT_EQ(w.lstatus, "normal") << name;
  }
  for (const auto& name : remaining) {
    const auto history = storage_->getWorkerHistory(name);
    ASSERT_GE(history.size(), 2u);
    EXPECT_EQ(history[0].status, "unloaded") << name;  // newest first
    EXPECT_EQ(history[1].status, "closing") << name;
  }
  for (const auto& [uuid, t] : topologies()) {
    EXPECT_EQ(t.status, "unassigned") << uuid;
  }
}

}  // namespace
}  // namespace qtopology::testing
