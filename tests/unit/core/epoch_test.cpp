// Fencing epochs: every assignment grows the topology's epoch, a report made
// for an older assignment changes nothing, and the worker starts each
// instance with its assignment's epoch and reports with it. On MemoryStorage
// and on the interface's default implementations over it.
#include <gtest/gtest.h>

#include "basic_calls_storage.hpp"
#include "worker_cluster.hpp"

namespace qtopology::testing {
namespace {

namespace ts = consts::topology_status;

// true: MemoryStorage's own calls; false: the interface's defaults over it.
class Epochs : public ::testing::TestWithParam<bool> {
 protected:
  Epochs()
      : memory([this] {
          MemoryStorageOptions o;
          o.clock = [this] { return clock.system(); };
          return o;
        }()),
        basic(memory) {}

  CoordinationStorage& storage() {
    return GetParam() ? static_cast<CoordinationStorage&>(memory) : basic;
  }
  std::int64_t epoch(const std::string& uuid) { return memory.getTopologyInfo(uuid).epoch; }

  TestClock clock;
  MemoryStorage memory;
  BasicCallsStorage basic;
};

TEST_P(Epochs, GrowOnEveryAssignmentWhoeverAssigns) {
  auto& s = storage();
  s.registerWorker("w1");
  s.registerTopology("t", Json::object());
  s.enableTopology("t");
  EXPECT_EQ(epoch("t"), 0);
  s.assignTopology("t", "w1");
  EXPECT_EQ(epoch("t"), 1);
  s.assignTopology("t", "w1");  // the same worker again is a new assignment
  EXPECT_EQ(epoch("t"), 2);
  // Status changes are not assignments.
  s.setTopologyStatus("t", std::nullopt, std::string(ts::unassigned), std::nullopt);
  s.setTopologyStatus("t", std::nullopt, std::string(ts::running), std::nullopt);
  EXPECT_EQ(epoch("t"), 2);
  ASSERT_TRUE(s.campaign("w1"));
  LeaderActions actions;
  actions.assignments.push_back({"t", "w1"});
  ASSERT_TRUE(s.applyLeaderActions("w1", actions));
  EXPECT_EQ(epoch("t"), 3);
  // Every read shows it.
  EXPECT_EQ(s.getTopologyStatus().at(0).epoch, 3);
  EXPECT_EQ(s.getTopologiesForWorker("w1").at(0).epoch, 3);
  EXPECT_EQ(s.getTopologyInfo("t").epoch, 3);
}

TEST_P(Epochs, AReportForAnOlderAssignmentChangesNothing) {
  auto& s = storage();
  s.registerWorker("w1");
  s.registerTopology("t", Json::object());
  s.assignTopology("t", "w1");
  EXPECT_TRUE(s.reportTopologyStatus("t", std::string("w1"), "running", std::nullopt, 1));
  EXPECT_TRUE(s.reportTopologyPid("t", 41, 1));
  s.assignTopology("t", "w1");  // epoch 2: the instance of epoch 1 is stale
  const auto history_rows = s.getTopologyHistory("t").size();
  EXPECT_FALSE(s.reportTopologyStatus("t", std::string("w1"), "error", std::string("old"), 1));
  EXPECT_FALSE(s.reportTopologyPid("t", 42, 1));
  auto info = s.getTopologyInfo("t");
  EXPECT_EQ(info.status, ts::waiting);
  EXPECT_EQ(info.error, std::nullopt);
  EXPECT_EQ(info.pid, 41);
  EXPECT_EQ(s.getTopologyHistory("t").size(), history_rows);
  // The current epoch, and a newer one, are written.
  EXPECT_TRUE(s.reportTopologyStatus("t", std::string("w1"), "running", std::nullopt, 2));
  EXPECT_TRUE(s.reportTopologyPid("t", 43, 3));
  info = s.getTopologyInfo("t");
  EXPECT_EQ(info.status, ts::running);
  EXPECT_EQ(info.pid, 43);
  // The other fences still hold: a worker the topology left changes nothing.
  EXPECT_FALSE(s.reportTopologyStatus("t", std::string("w2"), "error", std::nullopt, 2));
  EXPECT_EQ(s.getTopologyInfo("t").status, ts::running);
  // Reports without an epoch (Node workers, old callers) work as before.
  s.setTopologyStatus("t", std::string("w1"), "error", std::string("from Node"));
  EXPECT_EQ(s.getTopologyInfo("t").status, ts::error);
  // Errors as the calls without an epoch.
  EXPECT_THROW(s.reportTopologyStatus("nope", std::nullopt, "running", std::nullopt, 1),
               NotFoundError);
  EXPECT_THROW(s.reportTopologyStatus("t", std::nullopt, "sleeping", std::nullopt, 9),
               InvalidArgument);
  EXPECT_THROW(s.reportTopologyPid("nope", 1, 1), NotFoundError);
}

INSTANTIATE_TEST_SUITE_P(Storage, Epochs, ::testing::Bool(), [](const auto& param_info) {
  return param_info.param ? std::string("MemoryStorage") : std::string("InterfaceDefaults");
});

// Records the epoch each start() was given.
class EpochRunner : public RecordingRunner {
 public:
  std::optional<int> start(const std::string& uuid, const Json& config,
                           std::int64_t epoch) override {
    epochs[uuid].push_back(epoch);
    return RecordingRunner::start(uuid, config);
  }
  using RecordingRunner::start;
  std::map<std::string, std::vector<std::int64_t>> epochs;
};

// A one-worker cluster whose runner records epochs.
struct OneWorker {
  OneWorker() {
    MemoryStorageOptions o;
    o.clock = [this] { return clock.system(); };
    storage = std::make_unique<TestStorage>(std::move(o));
    WorkerOptions w;
    w.name = "w1";
    w.leader_loop = 1s;
    w.stop_timeout = 100ms;
    w.clock = [this] { return clock.steady(); };
    worker = std::make_unique<TopologyWorker>(*storage, runner, std::move(w));
    worker->start();
    storage->registerTopology("a", Json::object());
    storage->enableTopology("a");
    rounds(3);
  }
  ~OneWorker() { worker->shutdown(); }
  void rounds(int n) {
    for (int i = 0; i < n; ++i) {
      clock.advance(1s);
      worker->tick();
    }
  }
  TopologyInfo info() { return storage->getTopologyInfo("a"); }

  TestClock clock;
  std::unique_ptr<TestStorage> storage;
  EpochRunner runner;
  std::unique_ptr<TopologyWorker> worker;
};

TEST(WorkerEpochs, TheRunnerGetsTheAssignmentsEpoch) {
  OneWorker c;
  ASSERT_TRUE(c.runner.runs("a"));
  EXPECT_EQ(c.runner.epochs["a"], std::vector<std::int64_t>{c.info().epoch});
  EXPECT_EQ(c.info().epoch, 1);
  EXPECT_EQ(c.info().status, ts::running);
}

TEST(WorkerEpochs, AStaleInstancesEndCannotFlipTheNewAssignment) {
  OneWorker c;
  // The topology is handed out again to the same worker (the leader took it
  // back meanwhile) before the worker read the new start: epoch 2.
  c.storage->setTopologyStatus("a", std::nullopt, std::string(ts::unassigned), std::nullopt);
  c.storage->assignTopology("a", "w1");
  // The old instance fails now: its report, for epoch 1, is ignored.
  c.runner.crash("a", "exit code 1: old instance");
  c.storage->sendMessageToWorker("w1", "start_topology", Json{{"uuid", "a"}}, 120s);
  c.rounds(1);
  EXPECT_EQ(c.info().error, std::nullopt);
  EXPECT_EQ(c.info().status, ts::running);
  EXPECT_EQ(c.runner.epochs["a"], (std::vector<std::int64_t>{1, 2}));
}

TEST(WorkerEpochs, AnInstanceOfAnOlderAssignmentIsReplaced) {
  OneWorker c;
  c.storage->assignTopology("a", "w1");  // epoch 2 while epoch 1 runs
  c.storage->sendMessageToWorker("w1", "start_topology", Json{{"uuid", "a"}}, 120s);
  c.rounds(1);
  EXPECT_EQ(c.runner.killed(), std::vector<std::string>{"a"});
  c.rounds(1);
  EXPECT_TRUE(c.runner.runs("a"));
  EXPECT_EQ(c.runner.epochs["a"], (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(c.info().status, ts::running);
  EXPECT_EQ(c.info().epoch, 2);
}

TEST(WorkerEpochs, ReconcileReplacesAnInstanceWhoseStartMessageWasLost) {
  OneWorker c;
  c.storage->assignTopology("a", "w1");  // epoch 2, and no message at all
  c.rounds(21);                          // at least one re-read of the assignments
  EXPECT_EQ(c.runner.epochs["a"], (std::vector<std::int64_t>{1, 2}));
  EXPECT_TRUE(c.runner.runs("a"));
  EXPECT_EQ(c.info().status, ts::running);
}

}  // namespace
}  // namespace qtopology::testing
