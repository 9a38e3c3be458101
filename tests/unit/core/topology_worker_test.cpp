// The worker protocol on MemoryStorage: election, placement, messages as
// Node qtopology 2.3.2 sends them, topology lifecycle, lease and fencing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "worker_cluster.hpp"

namespace qtopology::testing {
namespace {

using ts = TopologyState;

int count(const std::vector<std::string>& v, const std::string& x) {
  return static_cast<int>(std::count(v.begin(), v.end(), x));
}

TEST(TopologyWorker, RejectsBadOptions) {
  MemoryStorage storage;
  RecordingRunner runner;
  WorkerOptions o;
  o.name = "";
  EXPECT_THROW(TopologyWorker(storage, runner, o), InvalidArgument);
  o.name = "w1";
  o.tick = 0ms;
  EXPECT_THROW(TopologyWorker(storage, runner, o), InvalidArgument);
}

TEST(TopologyWorker, LoneWorkerLeadsAndRunsEveryEnabledTopology) {
  Cluster c;
  c.add("w1");
  c.topology("a");
  c.topology("b");
  c.storage.registerTopology("off", Json::object());  // never enabled
  c.rounds(3);
  EXPECT_TRUE(c.worker("w1").isLeader());
  EXPECT_EQ(c.runner("w1").running, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(c.info("a").status, ts::running);
  EXPECT_EQ(c.info("a").worker, "w1");
  EXPECT_TRUE(c.info("a").pid.has_value());
  EXPECT_EQ(c.info("off").status, ts::unassigned);
}

TEST(TopologyWorker, LeaderHandsOutWorkAsStartTopologiesBatches) {
  Cluster c;
  c.add("w1");
  c.round();  // w1 leads
  c.add("w2");
  c.topology("a");
  c.topology("b");
  c.topology("c");
  c.topology("d");
  // One leader loop: what it wrote before anyone reads it.
  c.round({"w1"});
  std::map<std::string, std::size_t> batches;  // worker -> uuids in its one message
  for (const auto& m : c.storage.getMsgQueueContent()) {
    EXPECT_EQ(m.cmd, "start_topologies");
    EXPECT_EQ(batches.count(m.name), 0u) << "two batches for " << m.name;
    batches[m.name] = m.data.at("uuids").size();
  }
  EXPECT_EQ(batches, (std::map<std::string, std::size_t>{{"w1", 2}, {"w2", 2}}));
  c.rounds(2);
  EXPECT_EQ(c.runner("w1").running.size(), 2u);
  EXPECT_EQ(c.runner("w2").running.size(), 2u);
}

TEST(TopologyWorker, EveryTopologyRunsExactlyOnceAcrossThreeWorkers) {
  Cluster c;
  for (auto name : {"w1", "w2", "w3"}) c.add(name);
  const std::vector<std::pair<std::string, double>> weights{{"a", 4}, {"b", 3}, {"c", 3},
                                                            {"d", 2}, {"e", 1}, {"f", 1}};
  for (const auto& [uuid, weight] : weights) c.topology(uuid, weight);
  c.rounds(4);
  std::map<std::string, double> load;
  for (const auto& [uuid, weight] : weights) {
    const auto on = c.runningOn(uuid);
    ASSERT_EQ(on.size(), 1u) << uuid;
    EXPECT_EQ(c.info(uuid).worker, on.front());
    load[on.front()] += weight;
  }
  EXPECT_EQ(load, (std::map<std::string, double>{{"w1", 5}, {"w2", 5}, {"w3", 4}}));
}

TEST(TopologyWorker, AffinityPullsATopologyToItsWorker) {
  Cluster c;
  c.add("w1");
  c.add("w2");
  c.topology("x", 1, {"w2"});
  c.rounds(3);
  EXPECT_EQ(c.runningOn("x"), std::vector<std::string>{"w2"});
}

TEST(TopologyWorker, DeadWorkersTopologiesMoveAndItsWorkerIsUnloaded) {
  Cluster c;
  c.add("w1");
  c.add("w2");
  for (auto uuid : {"a", "b", "c", "d"}) c.topology(uuid);
  c.rounds(3);
  ASSERT_EQ(c.runner("w2").running.size(), 2u);
  const auto on_w2 = c.runner("w2").running;
  // w2 freezes (no ticks): it is declared dead after 30 s.
  c.rounds(35, {"w1"});
  EXPECT_EQ(c.workerRow("w2").status, WorkerState::unloaded);
  for (const auto& uuid : on_w2) {
    EXPECT_EQ(c.info(uuid).worker, "w1") << uuid;
    EXPECT_EQ(c.info(uuid).status, ts::running) << uuid;
  }
  EXPECT_EQ(c.runner("w1").running.size(), 4u);
}

TEST(TopologyWorker, ResumedWorkerPastItsLeaseStopsItsTopologiesInItsFirstTick) {
  Cluster c;
  c.add("w1");
  c.add("w2");
  for (auto uuid : {"a", "b", "c", "d"}) c.topology(uuid);
  c.rounds(3);
  const auto on_w2 = c.runner("w2").running;
  ASSERT_FALSE(on_w2.empty());
  // Paused (SIGSTOP-like) for 21 s: not dead yet for the cluster, but its
  // lease (20 s) lapsed.
  c.rounds(21, {"w1"});
  EXPECT_EQ(c.workerRow("w2").status, WorkerState::alive);
  c.round({"w2"});
  EXPECT_TRUE(c.runner("w2").running.empty());
  for (const auto& uuid : on_w2) EXPECT_EQ(count(c.runner("w2").kills, uuid), 1) << uuid;
  // Handed back and run again somewhere, once.
  c.rounds(4);
  for (auto uuid : {"a", "b", "c", "d"}) EXPECT_EQ(c.runningOn(uuid).size(), 1u) << uuid;
}

TEST(TopologyWorker, ResumedWorkerFoundDeadStopsEverythingAndRegistersAgain) {
  Cluster c;
  c.add("w1");
  c.add("w2");
  for (auto uuid : {"a", "b"}) c.topology(uuid);
  c.rounds(3);
  ASSERT_EQ(c.runner("w2").running.size(), 1u);
  c.rounds(40, {"w1"});  // w2 paused for 40 s; its topology moved to w1
  EXPECT_EQ(c.runner("w1").running.size(), 2u);
  c.round({"w2"});
  EXPECT_TRUE(c.runner("w2").running.empty());
  EXPECT_EQ(c.workerRow("w2").status, WorkerState::alive);  // registered again
  c.rounds(3);
  for (auto uuid : {"a", "b"}) EXPECT_EQ(c.runningOn(uuid).size(), 1u) << uuid;
}

TEST(TopologyWorker, LeaseLapseKillsTopologiesBeforeTheWorkerCouldBeDeclaredDead) {
  Cluster c({}, 30s, kEveryHeartbeatWrites);  // the lease runs from the last tick
  c.add("w1");
  c.topology("a");
  c.rounds(3);
  ASSERT_EQ(c.runner("w1").running.size(), 1u);
  c.storage.offline.insert("w1");
  c.rounds(20);
  EXPECT_EQ(c.runner("w1").running.size(), 1u);  // 20 s: still within the lease
  c.round();
  EXPECT_TRUE(c.runner("w1").running.empty());
  EXPECT_EQ(c.runner("w1").kills, std::vector<std::string>{"a"});
  EXPECT_FALSE(c.worker("w1").isLeader());
  // Back online: the report that failed is written, and it runs again.
  c.storage.offline.clear();
  c.rounds(3);
  EXPECT_EQ(c.runningOn("a"), std::vector<std::string>{"w1"});
  EXPECT_EQ(c.info("a").status, ts::running);
}

TEST(TopologyWorker, TopologyInErrorIsNeverReassigned) {
  Cluster c;
  c.add("w1");
  c.add("w2");
  c.topology("a");
  c.rounds(3);
  const auto owner = c.runningOn("a").at(0);
  c.runner(owner).crash("a", "exit code 3: boom");
  c.rounds(3);
  EXPECT_EQ(c.info("a").status, ts::error);
  EXPECT_EQ(c.info("a").error, "exit code 3: boom");
  EXPECT_TRUE(c.runningOn("a").empty());
  // Even when its worker dies.
  const std::string other = owner == "w1" ? "w2" : "w1";
  c.rounds(40, {other});
  EXPECT_EQ(c.info("a").status, ts::error);
  EXPECT_TRUE(c.runningOn("a").empty());
  // Cleared by an operator: it runs again.
  c.storage.clearTopologyError("a");
  c.rounds(3, {other});
  EXPECT_EQ(c.runningOn("a"), std::vector<std::string>{other});
}

TEST(TopologyWorker, StartFailureIsReportedAsErrorWithTheRunnersText) {
  Cluster c;
  c.add("w1");
  c.runner("w1").refuse["a"] = "general.command is missing";
  c.topology("a");
  c.rounds(3);
  EXPECT_EQ(c.info("a").status, ts::error);
  EXPECT_EQ(c.info("a").error, "general.command is missing");
}

TEST(TopologyWorker, ErrorTextIsMadeToFitTheStorage) {
  Cluster c;
  c.add("w1");
  c.topology("a");
  c.rounds(3);
  c.runner("w1").crash("a", std::string(3000, 'x') + "\xff");
  c.round();
  EXPECT_EQ(c.info("a").status, ts::error);
  EXPECT_EQ(c.info("a").error->size(), 1000u);
}

TEST(TopologyWorker, CleanExitGoesBackToThePool) {
  Cluster c;
  c.add("w1");
  c.topology("a");
  c.rounds(3);
  c.runner("w1").finish("a");
  c.round();
  // Unassigned, then handed out again by the leader (enabled).
  const auto history = c.storage.getTopologyHistory("a");
  EXPECT_TRUE(std::any_of(history.begin(), history.end(),
                          [](const auto& h) { return h.status == ts::unassigned; }));
  c.rounds(2);
  EXPECT_EQ(count(c.runner("w1").starts, "a"), 2);
}

TEST(TopologyWorker, RestartPolicyRestartsUpToMaxThenReportsError) {
  Cluster c;
  c.add("w1");
  c.topology("a", 1, {}, Json{{"restart", {{"max", 2}, {"window_s", 60}}}});
  c.rounds(3);
  ASSERT_EQ(c.runningOn("a"), std::vector<std::string>{"w1"});
  for (int crash = 1; crash <= 2; ++crash) {
    c.runner("w1").crash("a", "exit code 1");
    c.round();
    EXPECT_EQ(c.runningOn("a"), std::vector<std::string>{"w1"}) << crash;
    EXPECT_EQ(c.info("a").status, ts::running);
  }
  c.runner("w1").crash("a", "exit code 1");
  c.round();
  EXPECT_TRUE(c.runningOn("a").empty());
  EXPECT_EQ(c.info("a").status, ts::error);
  EXPECT_NE(c.info("a").error->find("(after 2 restarts within 60 s)"), std::string::npos)
      << *c.info("a").error;
  EXPECT_EQ(count(c.runner("w1").starts, "a"), 3);
}

TEST(TopologyWorker, MalformedRestartPolicyIsAnErrorNamingTheField) {
  Cluster c;
  c.add("w1");
  c.topology("a", 1, {}, Json{{"restart", {{"max", -1}, {"window_s", 60}}}});
  c.rounds(3);
  EXPECT_EQ(c.info("a").status, ts::error);
  EXPECT_NE(c.info("a").error->find("general.restart.max"), std::string::npos);
  EXPECT_TRUE(c.runner("w1").starts.empty());
}

TEST(TopologyWorker, StopTopologiesStopsOnlyTheListedOnes) {
  Cluster c;
  c.add("w1");
  for (auto uuid : {"a", "b", "c"}) c.topology(uuid);
  c.rounds(3);
  c.storage.sendMessageToWorker("w1", "stop_topologies",
                                Json{{"stop_topologies", {{{"uuid", "b"}, {"worker_new", "w9"}}}}},
                                30s);
  c.round();
  EXPECT_EQ(c.runner("w1").stops, std::vector<std::string>{"b"});
  EXPECT_EQ(c.runner("w1").running, (std::set<std::string>{"a", "c"}));
}

TEST(TopologyWorker, StopAndKillMessagesEndTheTopologyAsUnassigned) {
  Cluster c;
  c.add("w1");
  c.topology("a");
  c.topology("b");
  c.rounds(3);
  c.storage.stopTopology("a");  // disables it and sends stop_topology
  c.storage.killTopology("b");
  c.round();
  EXPECT_EQ(c.runner("w1").stops, std::vector<std::string>{"a"});
  EXPECT_EQ(c.runner("w1").kills, std::vector<std::string>{"b"});
  c.rounds(2);
  EXPECT_EQ(c.info("a").status, ts::unassigned);
  EXPECT_EQ(c.info("b").status, ts::unassigned);
  EXPECT_TRUE(c.runner("w1").running.empty());  // disabled: not handed out again
}

TEST(TopologyWorker, StaleStartIsIgnored) {
  Cluster c;
  c.add("w1");
  c.round();
  c.add("w2");
  c.topology("a");
  c.storage.assignTopology("a", "w1");
  c.storage.sendMessageToWorker("w2", "start_topologies", Json{{"uuids", {"a"}}}, 120s);
  c.round({"w2"});
  EXPECT_TRUE(c.runner("w2").starts.empty());
}

TEST(TopologyWorker, MessagesSentBeforeTheWorkerStartedAreIgnored) {
  Cluster c;
  c.storage.registerWorker("w1");
  c.storage.shutDownWorker("w1");
  c.storage.sendMessageToWorker("w1", "set_disabled", Json::object(), 60s);
  c.clock.advance(2s);
  auto& w1 = c.add("w1");
  c.clock.advance(1s);
  EXPECT_TRUE(w1.tick());
  EXPECT_EQ(c.workerRow("w1").status, WorkerState::alive);
  EXPECT_TRUE(c.storage.getMsgQueueContent().empty());  // taken, and dropped
}

TEST(TopologyWorker, MessageSentInTheSecondTheWorkerStartedCounts) {
  Cluster c;
  auto& w1 = c.add("w1");
  c.storage.shutDownWorker("w1");
  EXPECT_FALSE(w1.tick());
}

TEST(TopologyWorker, ShutdownStopsEverythingAndNeverCampaigns) {
  Cluster c({}, 30s, kEveryHeartbeatWrites);  // the leader's timeout runs from the last tick
  c.add("w1");
  c.add("w2");
  for (auto uuid : {"a", "b"}) c.topology(uuid);
  c.rounds(3);
  ASSERT_TRUE(c.worker("w1").isLeader());
  // The leader goes silent; w2 is told to shut down in the same moment the
  // seat becomes free (the demo's worker-3).
  c.rounds(10, {"w2"});
  ASSERT_FALSE(c.worker("w2").isLeader());
  c.storage.shutDownWorker("w2");
  c.clock.advance(1s);
  EXPECT_FALSE(c.worker("w2").tick());
  EXPECT_FALSE(c.worker("w2").isLeader());
  EXPECT_EQ(c.workerRow("w2").lstatus, Leadership::normal);
  EXPECT_TRUE(c.worker("w2").shutdown());
  EXPECT_TRUE(c.runner("w2").running.empty());
  EXPECT_EQ(c.workerRow("w2").status, WorkerState::unloaded);
  for (auto uuid : {"a", "b"}) {
    if (c.info(uuid).worker == "w2") {
      EXPECT_EQ(c.info(uuid).status, ts::unassigned) << uuid;
    }
  }
}

TEST(TopologyWorker, ShutdownKillsWhatDoesNotStop) {
  Cluster c;
  c.add("w1");
  c.topology("a");
  c.rounds(3);
  c.runner("w1").exit_on_stop = false;
  EXPECT_TRUE(c.worker("w1").shutdown());
  EXPECT_EQ(c.runner("w1").kills, std::vector<std::string>{"a"});
  EXPECT_EQ(c.info("a").status, ts::unassigned);
}

TEST(TopologyWorker, DisabledWorkerStopsAllStaysDisabledAndComesBackWhenEnabled) {
  Cluster c;
  c.add("w1");
  c.add("w2");
  for (auto uuid : {"a", "b", "c", "d"}) c.topology(uuid);
  c.rounds(3);
  ASSERT_TRUE(c.worker("w1").isLeader());
  c.storage.sendMessageToWorker("w1", "set_disabled", Json::object(), 60s);
  c.round();
  EXPECT_FALSE(c.worker("w1").isLeader());
  EXPECT_TRUE(c.runner("w1").running.empty());
  // Long enough for w2 to take the seat and everything to move, and for w1
  // to try and re-register if it would.
  c.rounds(15);
  EXPECT_EQ(c.workerRow("w1").status, WorkerState::disabled);
  EXPECT_TRUE(c.runner("w1").running.empty());
  EXPECT_TRUE(c.worker("w2").isLeader());
  EXPECT_EQ(c.runner("w2").running.size(), 4u);
  c.storage.sendMessageToWorker("w1", "set_enabled", Json::object(), 60s);
  c.round();
  EXPECT_EQ(c.workerRow("w1").status, WorkerState::alive);
  c.topology("e");
  c.rounds(3);
  EXPECT_EQ(c.runningOn("e"), std::vector<std::string>{"w1"});  // the lighter one
}

TEST(TopologyWorker, RebalanceOnRequestMovesOnlyWhatIsNeeded) {
  Cluster c;
  c.add("w1");
  for (auto uuid : {"a", "b", "c", "d"}) c.topology(uuid);
  c.rounds(3);
  c.add("w2");
  c.rounds(3);
  EXPECT_TRUE(c.runner("w2").running.empty());  // no rebalance by itself yet
  c.storage.sendMessageToWorker("w1", "rebalance", Json::object(), 60s);
  c.rounds(4);
  EXPECT_EQ(c.runner("w1").running.size(), 2u);
  EXPECT_EQ(c.runner("w2").running.size(), 2u);
  EXPECT_EQ(c.runner("w1").stops.size(), 2u);
}

TEST(TopologyWorker, PeriodicRebalanceUsesTheStoragesInterval) {
  Cluster c(std::vector<StorageProperty>{{"rebalance_interval_s", "10"}});
  c.add("w1");
  for (auto uuid : {"a", "b", "c", "d"}) c.topology(uuid);
  c.rounds(3);
  c.add("w2");
  c.rounds(4);
  EXPECT_TRUE(c.runner("w2").running.empty());
  c.rounds(8);
  EXPECT_EQ(c.runner("w2").running.size(), 2u);
}

TEST(TopologyWorker, RunningTopologyWithoutWorkerIsRepaired) {
  Cluster c;
  c.add("w1");
  c.topology("a");
  c.storage.setTopologyStatus({"a", std::nullopt, TopologyState::running, std::nullopt});
  c.rounds(3);
  EXPECT_EQ(c.runningOn("a"), std::vector<std::string>{"w1"});
}

TEST(TopologyWorker, NonLeaderTicksNeverReadTheWorkerTable) {
  Cluster c({}, 30s, kEveryHeartbeatWrites);  // the leader's timeout runs from the last tick
  c.add("w1");
  c.add("w2");
  c.rounds(2);
  ASSERT_TRUE(c.worker("w1").isLeader());
  const int before = c.storage.worker_table_reads;
  c.rounds(10, {"w2"});
  EXPECT_EQ(c.storage.worker_table_reads, before);
}

TEST(TopologyWorker, ResumedOldLeaderAssignsNothing) {
  Cluster c;
  c.add("w1");
  c.add("w2");
  c.rounds(2);
  ASSERT_TRUE(c.worker("w1").isLeader());
  c.rounds(12, {"w2"});  // w1 paused past the leader timeout
  ASSERT_TRUE(c.worker("w2").isLeader());
  c.topology("x");
  c.round({"w1"});  // resumed, before w2 runs its next loop
  EXPECT_FALSE(c.worker("w1").isLeader());
  EXPECT_EQ(c.info("x").status, ts::unassigned);
  EXPECT_TRUE(c.storage.getMsgQueueContent().empty());
}

TEST(TopologyWorker, LeaderDemotedBetweenReadAndWriteWritesNothing) {
  Cluster c;
  c.add("w1");
  c.add("w2");
  c.rounds(2);
  ASSERT_TRUE(c.worker("w1").isLeader());
  c.topology("x");
  // Another worker takes the seat while w1's loop is between its reads and
  // its write.
  c.storage.after_refresh = [&] {
    c.storage.after_refresh = nullptr;
    c.storage.setWorkerLStatus("w1", Leadership::normal);
    c.storage.setWorkerLStatus("w2", Leadership::leader);
  };
  c.round({"w1"});
  EXPECT_FALSE(c.worker("w1").isLeader());
  EXPECT_EQ(c.info("x").status, ts::unassigned);
}

TEST(TopologyWorker, StartWhileStillStoppingWaitsForTheExit) {
  Cluster c;
  c.add("w1");
  c.topology("a");
  c.rounds(3);
  auto& runner = c.runner("w1");
  runner.exit_on_stop = false;
  c.storage.sendMessageToWorker("w1", "stop_topology", Json{{"uuid", "a"}}, 30s);
  c.round();
  ASSERT_EQ(runner.stops, std::vector<std::string>{"a"});
  c.storage.assignTopology("a", "w1");
  c.storage.sendMessageToWorker("w1", "start_topology", Json{{"uuid", "a"}}, 120s);
  c.round();
  EXPECT_EQ(count(runner.starts, "a"), 1);  // not twice at once
  runner.finish("a");
  c.round();
  EXPECT_EQ(count(runner.starts, "a"), 2);
  EXPECT_EQ(c.info("a").status, ts::running);
}

TEST(TopologyWorker, ExitReportedFromAnotherThreadIsHandledOnTheLoop) {
  Cluster c;
  c.add("w1");
  c.topology("a");
  c.rounds(3);
  auto& runner = c.runner("w1");
  std::thread reporter([&] { runner.crash("a", "signal 9"); });
  reporter.join();
  c.round();
  EXPECT_EQ(c.info("a").status, ts::error);
}

}  // namespace
}  // namespace qtopology::testing

namespace qtopology::testing {
namespace {

TEST(TopologyWorkerLog, AHostsLoggerReceivesTheWorkersAndTheWatchdogsLines) {
  // Whatever would still go to spdlog's default logger is caught here.
  const auto previous = spdlog::default_logger();
  const auto stray = std::make_shared<LineSink>();
  spdlog::set_default_logger(spdlogLineLogger(stray, "stray"));
  {
    const auto host = std::make_shared<LineSink>();
    Cluster c;
    c.logger = lineLogger(host);
    c.add("w1");
    c.topology("a");
    c.rounds(3);
    c.storage.offline.insert("w1");
    c.rounds(21);  // past the lease: the watchdog kills and says so
    ASSERT_TRUE(c.runner("w1").running.empty());
    EXPECT_EQ(host->count("worker w1: registered", LogLevel::info), 1);
    EXPECT_EQ(host->count("worker w1: became the leader", LogLevel::info), 1);
    EXPECT_EQ(host->count("worker w1: started topology a", LogLevel::info), 1);
    EXPECT_GE(host->count("worker w1: heartbeat failed", LogLevel::warn), 20);
    EXPECT_EQ(host->count("no successful heartbeat", LogLevel::error), 1);
  }
  spdlog::set_default_logger(previous);
  EXPECT_EQ(stray->lines(), std::vector<std::string>{});
}

TEST(TopologyWorkerLog, WithoutALoggerTheWorkerLogsToSpdlogsDefault) {
  const auto previous = spdlog::default_logger();
  const auto fallback = std::make_shared<LineSink>();
  spdlog::set_default_logger(spdlogLineLogger(fallback, "default"));
  {
    Cluster c;
    c.add("w1");
    c.round();
  }
  spdlog::set_default_logger(previous);
  EXPECT_EQ(fallback->count("worker w1: registered"), 1);
}

}  // namespace
}  // namespace qtopology::testing

namespace qtopology::testing {
namespace {

// A raw control character in a log line: C0, DEL, or C1 as UTF-8.
bool hasControl(const std::string& line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < line.size() && static_cast<unsigned char>(line[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(line[i + 1]) <= 0x9F) {
      return true;
    }
  }
  return false;
}

TEST(TopologyWorkerLog, TextsFromOutsideAreEscapedInEveryLine) {
  const auto host = std::make_shared<LineSink>();
  Cluster c;
  c.logger = lineLogger(host);
  // Names and uuids may hold C1 controls (NEL, CSI) that a terminal obeys.
  const std::string worker =
                        "w\xc2\x85"
                        "1",
                    uuid =
                        "a\xc2\x9b"
                        "31m";
  c.add(worker);
  c.topology(uuid);
  c.rounds(3);
  ASSERT_TRUE(c.runner(worker).runs(uuid));
  c.runner(worker).crash(uuid, "boom\n2026-01-01 [info] forged line\x1b[2K");
  c.storage.sendMessageToWorker(worker, "no_such_cmd", Json{{"x", "\x1b]0;title\x07"}}, 60s);
  c.rounds(2);
  const auto lines = host->lines();
  ASSERT_GT(lines.size(), 5u);
  for (const auto& line : lines) EXPECT_FALSE(hasControl(line)) << line;
  EXPECT_EQ(host->count("worker w\\u00851: topology a\\u009b31m failed: boom\\n2026-01-01 [info] "
                        "forged line\\x1b[2K",
                        LogLevel::error),
            1);
  EXPECT_EQ(host->count("ignoring message no_such_cmd"), 1);
  // The storage keeps the error text as it was given (cut to fit).
  EXPECT_NE(c.info(uuid).error->find("forged line"), std::string::npos);
}

}  // namespace
}  // namespace qtopology::testing

namespace qtopology::testing {
namespace {

// WorkerOptions::dormant (upstream's is_dormant_period): its answer turning
// true acts as set_disabled, turning false as set_enabled.
TEST(TopologyWorker, ADormantPeriodActsAsSetDisabledAndItsEndAsSetEnabled) {
  Cluster c;
  auto dormant = std::make_shared<bool>(false);
  c.adjust = [dormant](WorkerOptions& o) {
    if (o.name == "w1") o.dormant = [dormant] { return *dormant; };
  };
  c.add("w1");
  c.adjust = nullptr;
  c.add("w2");
  for (auto uuid : {"a", "b"}) c.topology(uuid, 1, {"w1"});
  c.rounds(3);
  ASSERT_TRUE(c.worker("w1").isLeader());
  ASSERT_EQ(c.runner("w1").running.size(), 2u);
  *dormant = true;
  c.round();
  EXPECT_FALSE(c.worker("w1").isLeader());
  EXPECT_TRUE(c.runner("w1").running.empty());
  EXPECT_EQ(c.workerRow("w1").status, WorkerState::disabled);
  c.rounds(15);
  EXPECT_EQ(c.workerRow("w1").status, WorkerState::disabled);
  EXPECT_EQ(c.runner("w2").running.size(), 2u);
  *dormant = false;
  c.round();
  EXPECT_EQ(c.workerRow("w1").status, WorkerState::alive);
}

}  // namespace
}  // namespace qtopology::testing
