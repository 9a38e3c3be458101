// MemoryStorage keeps the MySQL storage's rules (db/README.md).
#include <gtest/gtest.h>

#include <qtopology/memory_storage.hpp>

#include "worker/restart_policy.hpp"
#include "worker_cluster.hpp"

namespace qtopology::testing {
namespace {

class MemoryStorageTest : public ::testing::Test {
 protected:
  MemoryStorageTest()
      : storage([this] {
          MemoryStorageOptions o;
          o.clock = [this] { return clock.system(); };
          return o;
        }()) {}

  WorkerStatus worker(const std::string& name) {
    for (auto& w : storage.getWorkerStatus()) {
      if (w.name == name) return w;
    }
    throw std::runtime_error("no worker " + name);
  }

  TestClock clock;
  MemoryStorage storage;
};

TEST_F(MemoryStorageTest, BadInputIsRejectedNamingTheCallAndNothingChanges) {
  try {
    storage.registerWorker("");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("registerWorker"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(storage.getWorkerStatus().empty());
  EXPECT_THROW(storage.registerTopology("t", Json::array()), InvalidArgument);
  EXPECT_THROW(storage.registerTopology("t", Json{{"general", {{"weight", -1}}}}), InvalidArgument);
  EXPECT_TRUE(storage.getTopologyStatus().empty());
  storage.registerWorker("w1");
  EXPECT_THROW(storage.setWorkerStatus("w1", "sleepy"), InvalidArgument);
  EXPECT_THROW(storage.sendMessageToWorker("w1", "x", Json::object(), 0ms), InvalidArgument);
  EXPECT_THROW(storage.setTopologyStatus("t", std::nullopt, "running", std::string(1001, 'e')),
               InvalidArgument);
  EXPECT_EQ(worker("w1").status, "alive");
}

TEST_F(MemoryStorageTest, UnknownNamesAreNotFound) {
  EXPECT_THROW(storage.pingWorker("w"), NotFoundError);
  EXPECT_THROW(storage.getTopologyInfo("t"), NotFoundError);
  EXPECT_THROW(storage.sendMessageToWorker("w", "x", Json::object(), 1s), NotFoundError);
  EXPECT_THROW(storage.heartbeat("w"), NotFoundError);
  storage.registerTopology("t", Json::object());
  EXPECT_THROW(storage.assignTopology("t", "w"), NotFoundError);
  EXPECT_TRUE(storage.getTopologiesForWorker("w").empty());
  EXPECT_TRUE(storage.getWorkerHistory("w").empty());
}

TEST_F(MemoryStorageTest, TopologyRegistrationReadsWeightAndAffinityAndStartsDisabled) {
  storage.registerTopology("t", Json{{"general", {{"weight", 2.5}, {"worker_affinity", {"a"}}}}});
  auto info = storage.getTopologyInfo("t");
  EXPECT_EQ(info.status, "unassigned");
  EXPECT_FALSE(info.enabled);
  EXPECT_EQ(info.weight, 2.5);
  EXPECT_EQ(info.worker_affinity, std::vector<std::string>{"a"});
  storage.registerWorker("w1");
  storage.assignTopology("t", "w1");
  storage.registerTopology("t", Json::object());  // definition only, not the run state
  info = storage.getTopologyInfo("t");
  EXPECT_EQ(info.status, "waiting");
  EXPECT_EQ(info.weight, 1.0);
  EXPECT_EQ(storage.getTopologyHistory("t").size(), 3u);
  EXPECT_EQ(storage.getTopologyHistory("t").front().status, "waiting");  // newest first
}

TEST_F(MemoryStorageTest, StatusFromAWorkerTheTopologyLeftChangesNothing) {
  storage.registerWorker("w1");
  storage.registerWorker("w2");
  storage.registerTopology("t", Json::object());
  storage.assignTopology("t", "w2");
  storage.setTopologyStatus("t", std::string("w1"), "unassigned", std::nullopt);
  EXPECT_EQ(storage.getTopologyInfo("t").status, "waiting");
  storage.setTopologyStatus("t", std::string("w2"), "error", std::string("boom"));
  EXPECT_EQ(storage.getTopologyInfo("t").error, "boom");
  EXPECT_THROW(storage.clearTopologyError("nope"), NotFoundError);
  storage.clearTopologyError("t");
  EXPECT_EQ(storage.getTopologyInfo("t").status, "unassigned");
  EXPECT_THROW(storage.clearTopologyError("t"), InvalidArgument);
}

TEST_F(MemoryStorageTest, MessagesAreTakenOnceInOrderAndExpire) {
  storage.registerWorker("w1");
  storage.sendMessageToWorker("w1", "a", Json{{"n", 1}}, 10s);
  storage.sendMessageToWorker("w1", "b", Json{{"n", 2}}, 2s);
  storage.sendMessageToWorker("w1", "c", Json{{"n", 3}}, 10s);
  EXPECT_EQ(storage.getMessage("w1")->cmd, "a");
  clock.advance(3s);  // b expired
  EXPECT_EQ(storage.getMsgQueueContent().size(), 1u);
  const auto rest = storage.getMessages("w1");
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].cmd, "c");
  EXPECT_TRUE(storage.getMessages("w1").empty());
}

TEST_F(MemoryStorageTest, StopAndKillDisableAndTellTheWorker) {
  storage.registerWorker("w1");
  storage.registerTopology("t", Json::object());
  storage.enableTopology("t");
  storage.stopTopology("t");  // not assigned: nobody to tell
  EXPECT_TRUE(storage.getMsgQueueContent().empty());
  storage.enableTopology("t");
  storage.assignTopology("t", "w1");
  storage.killTopology("t");
  EXPECT_FALSE(storage.getTopologyInfo("t").enabled);
  const auto queue = storage.getMsgQueueContent();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].cmd, "kill_topology");
  EXPECT_EQ(queue[0].data, (Json{{"uuid", "t"}}));
  EXPECT_EQ(queue[0].valid_until - queue[0].created, 30s);
}

TEST_F(MemoryStorageTest, OnlyAnUnloadedWorkerCanBeDeleted) {
  storage.registerWorker("w1");
  EXPECT_THROW(storage.deleteWorker("w1"), InvalidArgument);
  storage.setWorkerStatus("w1", "unloaded");
  storage.deleteWorker("w1");
  EXPECT_TRUE(storage.getWorkerStatus().empty());
}

TEST_F(MemoryStorageTest, ElectionHasOneWinnerAndTheGreatestCandidateNameWins) {
  for (auto name : {"a", "b", "c"}) storage.registerWorker(name);
  for (auto name : {"a", "b", "c"}) storage.announceLeaderCandidacy(name);
  EXPECT_FALSE(storage.checkLeaderCandidacy("a"));
  EXPECT_TRUE(storage.checkLeaderCandidacy("c"));
  EXPECT_FALSE(storage.checkLeaderCandidacy("b"));  // c leads now
  EXPECT_FALSE(storage.campaign("a"));
  EXPECT_EQ(worker("c").lstatus, "leader");
  EXPECT_EQ(worker("b").lstatus, "normal");
  EXPECT_THROW(storage.setWorkerLStatus("a", "leader"), InvalidArgument);
  storage.setWorkerStatus("a", "disabled");
  EXPECT_THROW(storage.setWorkerLStatus("a", "candidate"), InvalidArgument);
  EXPECT_FALSE(storage.campaign("a"));  // only alive workers campaign
}

TEST_F(MemoryStorageTest, RefreshAppliesTheThreeTimeouts) {
  storage.registerWorker("leader");
  storage.registerWorker("quiet");
  ASSERT_TRUE(storage.campaign("leader"));
  storage.registerTopology("waits", Json::object());
  storage.registerTopology("runs", Json::object());
  storage.assignTopology("waits", "leader");
  storage.assignTopology("runs", "quiet");
  storage.setTopologyStatus("runs", std::string("quiet"), "running", std::nullopt);
  clock.advance(11s);
  storage.pingWorker("quiet");
  storage.refreshStatuses();  // the leader went silent for 11 s: no longer leader
  EXPECT_EQ(worker("leader").lstatus, "normal");
  EXPECT_EQ(worker("leader").status, "alive");
  clock.advance(20s);
  storage.refreshStatuses();  // 31 s: the topology waited too long
  EXPECT_EQ(storage.getTopologyInfo("waits").status, "unassigned");
  EXPECT_EQ(storage.getTopologyInfo("waits").worker, "leader");  // kept, as upstream
  EXPECT_EQ(worker("leader").status, "dead");
  EXPECT_EQ(storage.getTopologyInfo("runs").status, "running");
  clock.advance(11s);
  storage.refreshStatuses();  // quiet silent for 31 s: dead, its running topology freed
  EXPECT_EQ(worker("quiet").status, "dead");
  EXPECT_EQ(storage.getTopologyInfo("runs").status, "unassigned");
}

TEST_F(MemoryStorageTest, HeartbeatPingsTakesMessagesAndReportsTheLeader) {
  storage.registerWorker("a");
  storage.registerWorker("b");
  auto beat = storage.heartbeat("b");
  EXPECT_FALSE(beat.leader_alive);
  EXPECT_FALSE(beat.leader.has_value());
  ASSERT_TRUE(storage.campaign("a"));
  storage.sendMessageToWorker("b", "rebalance", Json::object(), 5s);
  storage.setWorkerStatus("b", "disabled");
  clock.advance(3s);
  beat = storage.heartbeat("b");
  EXPECT_EQ(beat.status, "disabled");  // a heartbeat leaves the status alone
  EXPECT_EQ(beat.leader, "a");
  EXPECT_TRUE(beat.leader_alive);
  ASSERT_EQ(beat.messages.size(), 1u);
  EXPECT_EQ(beat.now, clock.system());
  EXPECT_EQ(worker("b").last_ping, clock.system());
  clock.advance(11s);
  EXPECT_FALSE(storage.heartbeat("b").leader_alive);
}

TEST_F(MemoryStorageTest, ApplyLeaderActionsIsFencedAndAllOrNothing) {
  storage.registerWorker("old");
  storage.registerWorker("new");
  storage.registerTopology("t", Json::object());
  storage.enableTopology("t");
  ASSERT_TRUE(storage.campaign("old"));
  LeaderActions actions;
  actions.assignments.push_back({"t", "new"});

  LeaderActions bad = actions;
  bad.assignments.push_back({"missing", "new"});
  EXPECT_THROW(storage.applyLeaderActions("old", bad), NotFoundError);
  EXPECT_EQ(storage.getTopologyInfo("t").status, "unassigned");
  EXPECT_TRUE(storage.getMsgQueueContent().empty());

  clock.advance(11s);  // old paused past the leader timeout; new takes over
  storage.pingWorker("new");
  ASSERT_TRUE(storage.campaign("new"));
  EXPECT_FALSE(storage.applyLeaderActions("old", actions));
  EXPECT_EQ(storage.getTopologyInfo("t").status, "unassigned");
  EXPECT_TRUE(storage.getMsgQueueContent().empty());

  EXPECT_TRUE(storage.applyLeaderActions("new", actions));
  EXPECT_EQ(storage.getTopologyInfo("t").status, "waiting");
  const auto queue = storage.getMsgQueueContent();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].cmd, "start_topologies");
  EXPECT_EQ(queue[0].data, (Json{{"uuids", {"t"}}}));
}

TEST_F(MemoryStorageTest, UnloadingAWorkerFreesAllButItsErrors) {
  storage.registerWorker("leader");
  storage.registerWorker("gone");
  ASSERT_TRUE(storage.campaign("leader"));
  for (auto uuid : {"r", "e"}) {
    storage.registerTopology(uuid, Json::object());
    storage.assignTopology(uuid, "gone");
  }
  storage.setTopologyStatus("e", std::nullopt, "error", std::string("x"));
  LeaderActions actions;
  actions.unload_workers.push_back("gone");
  actions.moves.push_back({"r", "gone", "leader"});
  // Alive again when the actions arrive: left alone.
  ASSERT_TRUE(storage.applyLeaderActions("leader", LeaderActions{{"gone"}, {}, {}, {}}));
  EXPECT_EQ(worker("gone").status, "alive");
  EXPECT_EQ(storage.getTopologyInfo("r").status, "waiting");
  storage.setWorkerStatus("gone", "dead");
  ASSERT_TRUE(storage.applyLeaderActions("leader", actions));
  EXPECT_EQ(worker("gone").status, "unloaded");
  EXPECT_EQ(storage.getTopologyInfo("r").status, "unassigned");
  EXPECT_EQ(storage.getTopologyInfo("e").status, "error");
  const auto queue = storage.getMsgQueueContent();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].data,
            (Json{{"stop_topologies", {{{"uuid", "r"}, {"worker_new", "leader"}}}}}));
}

TEST_F(MemoryStorageTest, PropertiesIncludeTheConfiguredOnes) {
  MemoryStorageOptions o;
  o.properties.push_back({"rebalance_interval_s", "60"});
  MemoryStorage with(o);
  const auto properties = with.getProperties();
  EXPECT_EQ(properties.front().value, "MemoryStorage");
  EXPECT_EQ(properties.back().key, "rebalance_interval_s");
  o.leader_timeout = 0ms;
  EXPECT_THROW(MemoryStorage{o}, InvalidArgument);
}

// --- restart policy --------------------------------------------------------------

TEST(RestartPolicy, AbsentMeansNever) {
  EXPECT_EQ(detail::restartPolicyOf(Json::object()).max, 0);
  EXPECT_EQ(detail::restartPolicyOf(Json{{"general", {{"weight", 1}}}}).max, 0);
}

TEST(RestartPolicy, MalformedFieldsAreNamed) {
  const auto message = [](Json restart) {
    try {
      detail::restartPolicyOf(Json{{"general", {{"restart", restart}}}});
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message(Json{{"window_s", 1}}).find("general.restart.max is missing"),
            std::string::npos);
  EXPECT_NE(message(Json{{"max", 1.5}, {"window_s", 1}}).find(".max must be"), std::string::npos);
  EXPECT_NE(message(Json{{"max", 1}, {"window_s", 0}}).find(".window_s must be"),
            std::string::npos);
  EXPECT_NE(message(Json(3)).find("must be an object"), std::string::npos);
}

TEST(RestartPolicy, BudgetRefillsAsTheWindowSlides) {
  detail::RestartBudget budget(
      detail::restartPolicyOf(Json{{"general", {{"restart", {{"max", 2}, {"window_s", 10}}}}}}));
  const std::chrono::steady_clock::time_point t0{};
  EXPECT_TRUE(budget.allow(t0));
  EXPECT_TRUE(budget.allow(t0 + 1s));
  EXPECT_FALSE(budget.allow(t0 + 9s));
  EXPECT_TRUE(budget.allow(t0 + 10s));  // the first one left the window
  EXPECT_FALSE(budget.allow(t0 + 10500ms));
}

}  // namespace
}  // namespace qtopology::testing
