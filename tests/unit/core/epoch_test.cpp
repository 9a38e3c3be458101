// Fencing epochs on the worker's side: it starts each instance with its
// assignment's epoch and reports with it. What the storages do with epochs
// is in the conformance suite (tests/conformance/storage_contract.hpp).
#include <gtest/gtest.h>

#include "worker_cluster.hpp"

namespace qtopology::testing {
namespace {

using ts = TopologyState;

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
  RecordingRunner runner;
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
  c.storage->setTopologyStatus({"a", std::nullopt, ts::unassigned, std::nullopt});
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
