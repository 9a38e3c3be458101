// Every method of the API against a real server: the happy path, its errors,
// and the history rows it writes.
#include <gtest/gtest.h>

#include <sstream>

#include <qtopology/mysql_coordinator.hpp>

#include "test_database.hpp"

namespace qtopology {
namespace {

using namespace std::chrono_literals;
using testing::TestDatabase;

class Coordinator : public ::testing::Test {
 protected:
  TestDatabase db;
  MySqlCoordinator storage{db.options()};

  long long workerHistory(const std::string& name) {
    return db.count("qtopology_worker_history", "name = '" + name + "'");
  }
  long long topologyHistory(const std::string& uuid) {
    return db.count("qtopology_topology_history", "uuid = '" + uuid + "'");
  }
  std::string column(const std::string& table, const std::string& key, const std::string& value,
                     const std::string& col) {
    return db.scalar("SELECT " + col + " FROM " + table + " WHERE " + key + " = '" + value + "'");
  }
  // Arranges time without waiting: moves a row's last ping into the past.
  void ageWorker(const std::string& name, int seconds) {
    db.exec("UPDATE qtopology_worker SET last_ping = NOW() - INTERVAL " + std::to_string(seconds) +
            " SECOND WHERE name = '" + name + "'");
  }
};

Json config(double weight = 1, std::vector<std::string> affinity = {}) {
  return {{"general", {{"weight", weight}, {"worker_affinity", affinity}}},
          {"spouts", Json::array()},
          {"bolts", Json::array()}};
}

// --- workers -------------------------------------------------------------------

TEST_F(Coordinator, RegisterWorkerInsertsAliveWorkerWithPidAndHistory) {
  storage.registerWorker("w1");
  const auto workers = storage.getWorkerStatus();
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0].name, "w1");
  EXPECT_EQ(workers[0].status, "alive");
  EXPECT_EQ(workers[0].lstatus, "normal");
  EXPECT_EQ(workers[0].pid, ::getpid());
  EXPECT_EQ(workerHistory("w1"), 1);
}

TEST_F(Coordinator, RegisterWorkerTwiceRevivesTheSameRow) {
  storage.registerWorker("w1");
  storage.setWorkerStatus("w1", "dead");
  storage.registerWorker("w1");
  ASSERT_EQ(storage.getWorkerStatus().size(), 1u);
  EXPECT_EQ(storage.getWorkerStatus()[0].status, "alive");
  EXPECT_EQ(workerHistory("w1"), 3);
}

TEST_F(Coordinator, TimePointsComeFromTheServerClock) {
  storage.registerWorker("w1");
  const auto server_now = std::stoll(db.scalar("SELECT UNIX_TIMESTAMP(NOW())"));
  const auto ping = std::chrono::duration_cast<std::chrono::seconds>(
                        storage.getWorkerStatus()[0].last_ping.time_since_epoch())
                        .count();
  EXPECT_LE(std::llabs(ping - server_now), 2);
  ageWorker("w1", 3600);
  const auto aged = std::chrono::duration_cast<std::chrono::seconds>(
                        storage.getWorkerStatus()[0].last_ping.time_since_epoch())
                        .count();
  EXPECT_NEAR(static_cast<double>(ping - aged), 3600.0, 2.0);
}

TEST_F(Coordinator, PingWorkerMovesLastPingAndRejectsUnknownWorker) {
  storage.registerWorker("w1");
  ageWorker("w1", 100);
  storage.pingWorker("w1");
  EXPECT_EQ(db.count("qtopology_worker", "last_ping >= NOW() - INTERVAL 2 SECOND"), 1);
  EXPECT_THROW(storage.pingWorker("nobody"), NotFoundError);
}

TEST_F(Coordinator, SetWorkerStatusWritesHistoryAndDropsLeadership) {
  storage.registerWorker("w1");
  storage.announceLeaderCandidacy("w1");
  ASSERT_TRUE(storage.checkLeaderCandidacy("w1"));
  const auto before = workerHistory("w1");
  storage.setWorkerStatus("w1", "closing");
  const auto w = storage.getWorkerStatus()[0];
  EXPECT_EQ(w.status, "closing");
  EXPECT_EQ(w.lstatus, "normal");  // only an alive worker may lead
  EXPECT_EQ(workerHistory("w1"), before + 1);
  EXPECT_THROW(storage.setWorkerStatus("w1", "sleeping"), InvalidArgument);
  EXPECT_THROW(storage.setWorkerStatus("nobody", "dead"), NotFoundError);
  EXPECT_EQ(workerHistory("w1"), before + 1);
}

TEST_F(Coordinator, SetWorkerLStatusGuardsLeadership) {
  storage.registerWorker("w1");
  storage.registerWorker("w2");
  storage.setWorkerLStatus("w1", "leader");
  EXPECT_EQ(storage.leadershipStatusCounts()["leader"], 1);
  EXPECT_THROW(storage.setWorkerLStatus("w2", "leader"), InvalidArgument);
  storage.setWorkerStatus("w2", "dead");
  EXPECT_THROW(storage.setWorkerLStatus("w2", "candidate"), InvalidArgument);
  storage.setWorkerLStatus("w1", "normal");
  EXPECT_EQ(storage.leadershipStatusCounts()["leader"], 0);
  EXPECT_THROW(storage.setWorkerLStatus("w1", "boss"), InvalidArgument);
  EXPECT_THROW(storage.setWorkerLStatus("nobody", "normal"), NotFoundError);
}

TEST_F(Coordinator, DeleteWorkerOnlyWhenUnloaded) {
  storage.registerWorker("w1");
  EXPECT_THROW(storage.deleteWorker("w1"), InvalidArgument);
  storage.setWorkerStatus("w1", "unloaded");
  storage.deleteWorker("w1");
  EXPECT_TRUE(storage.getWorkerStatus().empty());
  EXPECT_THROW(storage.deleteWorker("w1"), NotFoundError);
}

TEST_F(Coordinator, WorkerHistoryIsNewestFirstAndCappedAt100) {
  storage.registerWorker("w1");
  for (int i = 0; i < 110; ++i) storage.setWorkerStatus("w1", i % 2 ? "alive" : "closing");
  const auto history = storage.getWorkerHistory("w1");
  ASSERT_EQ(history.size(), 100u);
  EXPECT_EQ(history.front().status, "alive");  // the last change, i = 109
  EXPECT_EQ(history.front().pid, ::getpid());
  EXPECT_TRUE(storage.getWorkerHistory("nobody").empty());
}

TEST_F(Coordinator, LegacyEmptyLStatusReadsAsNormal) {
  storage.registerWorker("w1");
  db.exec("UPDATE qtopology_worker SET lstatus = '' WHERE name = 'w1'");
  EXPECT_EQ(storage.getWorkerStatus()[0].lstatus, "normal");
  EXPECT_EQ(storage.leadershipStatusCounts()["normal"], 1);
}

// --- topologies ------------------------------------------------------------------

TEST_F(Coordinator, RegisterTopologyInsertsUnassignedDisabledThenUpdates) {
  storage.registerTopology("t1", config(2.5, {"w1", "w2"}));
  auto info = storage.getTopologyInfo("t1");
  EXPECT_EQ(info.status, "unassigned");
  EXPECT_FALSE(info.enabled);
  EXPECT_DOUBLE_EQ(info.weight, 2.5);
  EXPECT_EQ(info.worker_affinity, (std::vector<std::string>{"w1", "w2"}));
  EXPECT_EQ(info.config, config(2.5, {"w1", "w2"}));
  EXPECT_FALSE(info.worker.has_value());

  storage.registerTopology("t1", config(4));
  info = storage.getTopologyInfo("t1");
  EXPECT_DOUBLE_EQ(info.weight, 4);
  EXPECT_TRUE(info.worker_affinity.empty());
  EXPECT_EQ(storage.getTopologyStatus().size(), 1u);
  EXPECT_EQ(topologyHistory("t1"), 2);
}

TEST_F(Coordinator, RegisterTopologyRejectsBadConfigBeforeWriting) {
  EXPECT_THROW(storage.registerTopology("t1", Json::array()), InvalidArgument);
  EXPECT_THROW(storage.registerTopology("t1", {{"general", {{"weight", -1}}}}), InvalidArgument);
  EXPECT_THROW(storage.registerTopology("t1", {{"general", {{"worker_affinity", "w1"}}}}),
               InvalidArgument);
  EXPECT_THROW(storage.registerTopology(std::string(101, 'u'), config()), InvalidArgument);
  EXPECT_EQ(db.count("qtopology_topology"), 0);
  EXPECT_EQ(db.count("qtopology_topology_history"), 0);
}

TEST_F(Coordinator, ConfigsRoundTripByteForByte) {
  Json tricky = config();
  tricky["text"] = "ünïcødé 😀 \"quotes\" 'single' back\\slash \t tab % _ ; DROP TABLE x; --";
  tricky["big"] = std::string(5 * 1024 * 1024, 'x');
  storage.registerTopology("t1", tricky);
  const auto info = storage.getTopologyInfo("t1");
  EXPECT_EQ(info.config.dump(), tricky.dump());
  EXPECT_EQ(db.scalar("SELECT LENGTH(config) FROM qtopology_topology"),
            std::to_string(tricky.dump().size()));  // stored as sent, in bytes
}

TEST_F(Coordinator, UnknownTopologyIsNotFoundEverywhere) {
  storage.registerWorker("w1");
  EXPECT_THROW(storage.getTopologyInfo("nope"), NotFoundError);
  EXPECT_THROW(storage.assignTopology("nope", "w1"), NotFoundError);
  EXPECT_THROW(storage.setTopologyStatus("nope", std::nullopt, "running", std::nullopt),
               NotFoundError);
  EXPECT_THROW(storage.setTopologyPid("nope", 12), NotFoundError);
  EXPECT_THROW(storage.enableTopology("nope"), NotFoundError);
  EXPECT_THROW(storage.disableTopology("nope"), NotFoundError);
  EXPECT_THROW(storage.stopTopology("nope"), NotFoundError);
  EXPECT_THROW(storage.killTopology("nope"), NotFoundError);
  EXPECT_THROW(storage.deleteTopology("nope"), NotFoundError);
  EXPECT_THROW(storage.clearTopologyError("nope"), NotFoundError);
  EXPECT_TRUE(storage.getTopologyHistory("nope").empty());
  EXPECT_EQ(db.count("qtopology_topology_history"), 0);
}

TEST_F(Coordinator, AssignTopologySetsWaitingWorkerAndHistory) {
  storage.registerWorker("w1");
  storage.registerTopology("t1", config());
  storage.assignTopology("t1", "w1");
  const auto t = storage.getTopologyInfo("t1");
  EXPECT_EQ(t.status, "waiting");
  EXPECT_EQ(t.worker, "w1");
  EXPECT_EQ(storage.getTopologiesForWorker("w1").size(), 1u);
  EXPECT_TRUE(storage.getTopologiesForWorker("w2").empty());
  EXPECT_EQ(topologyHistory("t1"), 2);
  EXPECT_THROW(storage.assignTopology("t1", "ghost"), NotFoundError);
  EXPECT_EQ(topologyHistory("t1"), 2);
}

TEST_F(Coordinator, SetTopologyStatusRespectsTheAssignedWorker) {
  storage.registerWorker("w1");
  storage.registerWorker("w2");
  storage.registerTopology("t1", config());
  storage.assignTopology("t1", "w1");
  storage.setTopologyStatus("t1", std::string("w1"), "running", std::nullopt);
  EXPECT_EQ(storage.getTopologyInfo("t1").status, "running");
  const auto history = topologyHistory("t1");
  // w2 is not the assignee: nothing changes, nothing is recorded.
  storage.setTopologyStatus("t1", std::string("w2"), "error", std::string("boom"));
  EXPECT_EQ(storage.getTopologyInfo("t1").status, "running");
  EXPECT_EQ(topologyHistory("t1"), history);
  storage.setTopologyStatus("t1", std::nullopt, "error", std::string("boom"));
  EXPECT_EQ(storage.getTopologyInfo("t1").error, "boom");
  EXPECT_THROW(storage.setTopologyStatus("t1", std::nullopt, "exploded", std::nullopt),
               InvalidArgument);
  EXPECT_THROW(storage.setTopologyStatus("t1", std::nullopt, "error", std::string(1001, 'e')),
               InvalidArgument);
}

TEST_F(Coordinator, SetTopologyPidWritesHistory) {
  storage.registerTopology("t1", config());
  storage.setTopologyPid("t1", 4242);
  EXPECT_EQ(storage.getTopologyInfo("t1").pid, 4242);
  storage.setTopologyPid("t1", std::nullopt);
  EXPECT_FALSE(storage.getTopologyInfo("t1").pid.has_value());
  const auto history = storage.getTopologyHistory("t1");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_FALSE(history[0].pid.has_value());  // newest first
  EXPECT_EQ(history[1].pid, 4242);
}

TEST_F(Coordinator, EnableAndDisableWriteHistory) {
  storage.registerTopology("t1", config());
  storage.enableTopology("t1");
  EXPECT_TRUE(storage.getTopologyInfo("t1").enabled);
  storage.disableTopology("t1");
  EXPECT_FALSE(storage.getTopologyInfo("t1").enabled);
  EXPECT_EQ(topologyHistory("t1"), 3);
}

TEST_F(Coordinator, StopAndKillDisableAndMessageTheAssignedWorker) {
  storage.registerWorker("w1");
  storage.registerTopology("t1", config());
  storage.registerTopology("t2", config());
  storage.enableTopology("t1");
  storage.assignTopology("t1", "w1");
  storage.stopTopology("t1");
  EXPECT_FALSE(storage.getTopologyInfo("t1").enabled);
  auto message = storage.getMessage("w1");
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->cmd, "stop_topology");
  EXPECT_EQ(message->content, (Json{{"uuid", "t1"}}));

  storage.assignTopology("t1", "w1");
  storage.killTopology("t1");
  message = storage.getMessage("w1");
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->cmd, "kill_topology");

  storage.killTopology("t2");  // not assigned: disabled, nobody to tell
  EXPECT_TRUE(storage.getMsgQueueContent().empty());
  const auto queue_row = db.scalar(
      "SELECT TIMESTAMPDIFF(SECOND, created, valid_until) FROM qtopology_message LIMIT 1");
  EXPECT_EQ(queue_row, "30");
}

TEST_F(Coordinator, ClearTopologyErrorOnlyFromError) {
  storage.registerTopology("t1", config());
  EXPECT_THROW(storage.clearTopologyError("t1"), InvalidArgument);
  storage.setTopologyStatus("t1", std::nullopt, "error", std::string("crashed"));
  storage.clearTopologyError("t1");
  const auto t = storage.getTopologyInfo("t1");
  EXPECT_EQ(t.status, "unassigned");
  EXPECT_FALSE(t.error.has_value());
}

TEST_F(Coordinator, DeleteTopologyRemovesIt) {
  storage.registerTopology("t1", config());
  storage.deleteTopology("t1");
  EXPECT_TRUE(storage.getTopologyStatus().empty());
  EXPECT_THROW(storage.getTopologyInfo("t1"), NotFoundError);
}

// --- housekeeping ----------------------------------------------------------------

TEST_F(Coordinator, RefreshStatusesMarksSilentWorkersDeadAndFreesTheirTopologies) {
  storage.registerWorker("w1");
  storage.registerWorker("w2");
  storage.registerTopology("t1", config());
  storage.registerTopology("t2", config());
  storage.assignTopology("t1", "w1");
  storage.setTopologyStatus("t1", std::string("w1"), "running", std::nullopt);
  storage.assignTopology("t2", "w2");
  ageWorker("w1", 31);
  db.exec(
      "UPDATE qtopology_topology SET last_ping = NOW() - INTERVAL 31 SECOND "
      "WHERE uuid = 't2'");
  storage.refreshStatuses();
  EXPECT_EQ(column("qtopology_worker", "name", "w1", "status"), "dead");
  EXPECT_EQ(column("qtopology_worker", "name", "w2", "status"), "alive");
  EXPECT_EQ(storage.getTopologyInfo("t1").status, "unassigned");  // was running on a dead worker
  EXPECT_EQ(storage.getTopologyInfo("t2").status, "unassigned");  // waited too long
  EXPECT_EQ(storage.getTopologyHistory("t1")[0].status, "unassigned");
  EXPECT_EQ(storage.getWorkerHistory("w1")[0].status, "dead");
}

TEST_F(Coordinator, TimeoutsComeFromTheSettingsTable) {
  storage.registerWorker("w1");
  ageWorker("w1", 20);
  storage.refreshStatuses();
  EXPECT_EQ(column("qtopology_worker", "name", "w1", "status"), "alive");
  db.exec("UPDATE qtopology_settings SET value = '15' WHERE name = 'worker_dead_timeout_s'");
  storage.refreshStatuses();
  EXPECT_EQ(column("qtopology_worker", "name", "w1", "status"), "dead");
}

TEST_F(Coordinator, PropertiesDescribeTheStorageWithoutPassword) {
  const std::string password = "Pr0perties-Secret";
  db.exec("CREATE USER IF NOT EXISTS 'qt_properties'@'%' IDENTIFIED BY '" + password + "'");
  db.exec("GRANT ALL ON `" + db.name() + "`.* TO 'qt_properties'@'%'");
  auto options = db.options();
  options.user = "qt_properties";
  options.password = password;
  const auto properties = MySqlCoordinator(options).getProperties();
  std::map<std::string, std::string> map;
  for (const auto& p : properties) map[p.key] = p.value;
  EXPECT_EQ(map["database"], db.name());
  EXPECT_EQ(map["schema_version"], std::to_string(MySqlCoordinator::latestSchemaVersion()));
  EXPECT_NE(map["server_version"], "");
  EXPECT_EQ(map["user"], "qt_properties");
  for (const auto& p : properties) {
    EXPECT_EQ(p.value.find(password), std::string::npos) << p.key;
  }
}

TEST_F(Coordinator, BadIdentifiersAreRejectedBeforeAnyWrite) {
  for (const std::string& bad :
       {std::string(), std::string(101, 'n'), std::string("a\0b", 3), std::string("\xff\xfe")}) {
    EXPECT_THROW(storage.registerWorker(bad), InvalidArgument);
    EXPECT_THROW(storage.registerTopology(bad, config()), InvalidArgument);
  }
  EXPECT_EQ(db.count("qtopology_worker"), 0);
  EXPECT_EQ(db.count("qtopology_topology"), 0);
  // Odd but valid names round-trip exactly.
  const std::string odd = "w'; DROP TABLE qtopology_worker; -- %_\\ 😀";
  storage.registerWorker(odd);
  EXPECT_EQ(storage.getWorkerStatus()[0].name, odd);
}

// --- reads without parameters: through libmariadb, beside Connector/C++ ---------

TEST_F(Coordinator, ReadsOfEveryRowAgreeWithTheSingleRowReads) {
  storage.registerWorker("w1");
  storage.registerTopology("t-plain", config());
  storage.registerTopology("t-full", config(2.5, {"w1", "w😀"}));
  storage.assignTopology("t-full", "w1");
  storage.setTopologyStatus("t-full", std::string("w1"), "error", std::string("it's \"broken\""));
  storage.setTopologyPid("t-full", 4242);
  storage.enableTopology("t-full");
  const auto all = storage.getTopologyStatus();  // libmariadb
  ASSERT_EQ(all.size(), 2u);
  for (const auto& t : all) {
    const auto one = storage.getTopologyInfo(t.uuid);  // Connector/C++
    EXPECT_EQ(t.status, one.status) << t.uuid;
    EXPECT_EQ(t.worker, one.worker) << t.uuid;  // NULL stays nullopt, not ""
    EXPECT_EQ(t.error, one.error) << t.uuid;
    EXPECT_EQ(t.pid, one.pid) << t.uuid;
    EXPECT_DOUBLE_EQ(t.weight, one.weight) << t.uuid;
    EXPECT_EQ(t.enabled, one.enabled) << t.uuid;
    EXPECT_EQ(t.last_ping, one.last_ping) << t.uuid;
    EXPECT_EQ(t.worker_affinity, one.worker_affinity) << t.uuid;
  }
  const auto full = all[0].uuid == "t-full" ? all[0] : all[1];
  EXPECT_EQ(full.error, std::optional<std::string>("it's \"broken\""));
  EXPECT_EQ(full.pid, 4242);
  EXPECT_EQ(full.worker_affinity, (std::vector<std::string>{"w1", "w😀"}));
  const auto plain = all[0].uuid == "t-plain" ? all[0] : all[1];
  EXPECT_FALSE(plain.worker.has_value());
  EXPECT_FALSE(plain.error.has_value());
  EXPECT_FALSE(plain.pid.has_value());
}

TEST_F(Coordinator, ReadsOfEveryRowRideOutAKilledSession) {
  auto options = db.options();
  options.pool_size = 1;
  MySqlCoordinator single(options);
  single.registerWorker("w1");
  ASSERT_EQ(single.getWorkerStatus().size(), 1u);  // opens the libmariadb session
  // Every session of the coordinator (its pool's and the libmariadb one) dies.
  const std::string ids = db.scalar(
      "SELECT GROUP_CONCAT(id) FROM information_schema.processlist "
      "WHERE db = '" +
      db.name() + "' AND id <> CONNECTION_ID()");
  ASSERT_NE(ids, "NULL");
  std::stringstream list(ids);
  for (std::string id; std::getline(list, id, ',');) db.exec("KILL " + id);
  EXPECT_EQ(single.getWorkerStatus().size(), 1u);
  EXPECT_EQ(single.getTopologyStatus().size(), 0u);
  single.pingWorker("w1");
}

TEST_F(Coordinator, ReadsOfEveryRowReportTheServersError) {
  db.exec("DROP PROCEDURE qtopology_sp_topologies");
  try {
    storage.getTopologyStatus();
    FAIL() << "no error";
  } catch (const StorageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("getTopologyStatus()"), std::string::npos) << what;
    EXPECT_NE(what.find("server error 1305"), std::string::npos) << what;  // no such procedure
  }
  EXPECT_EQ(storage.getWorkerStatus().size(), 0u);  // the session still serves
}

}  // namespace
}  // namespace qtopology
