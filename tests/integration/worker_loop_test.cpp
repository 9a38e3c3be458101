// The worker loop's combined calls: heartbeat, campaign, applyLeaderActions.
// Most scenarios run twice: on MySqlCoordinator's one-CALL overrides, and on
// the interface's defaults built from the basic calls (BasicCallsStorage), so
// the two must agree.
#include <gtest/gtest.h>

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <atomic>
#include <map>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

#include "basic_calls_storage.hpp"
#include "test_database.hpp"
#include "test_thread.hpp"

namespace qtopology {
namespace {

using namespace std::chrono_literals;
using testing::BasicCallsStorage;
using testing::TestDatabase;

// A session of its own, for calling procedures directly and reading its
// own status counters.
class RawSession {
 public:
  explicit RawSession(const MySqlOptions& options) : connection_(testing::connectRaw(options)) {}

  // Runs a statement and reads every result; returns the rows of the first.
  std::size_t run(const std::string& statement) {
    std::unique_ptr<sql::Statement> s(connection_->createStatement());
    std::size_t rows = 0;
    bool first = true;
    s->execute(statement);
    do {
      std::unique_ptr<sql::ResultSet> rs(s->getResultSet());
      while (rs && rs->next()) rows += first ? 1 : 0;
      if (rs) first = false;
    } while (s->getMoreResults());
    return rows;
  }

  long long counter(const std::string& name) {
    std::unique_ptr<sql::Statement> s(connection_->createStatement());
    std::unique_ptr<sql::ResultSet> rs(s->executeQuery("SHOW SESSION STATUS LIKE '" + name + "'"));
    return rs->next() ? std::stoll(std::string(rs->getString(2))) : -1;
  }

  std::map<std::string, long long> counters(std::initializer_list<const char*> names) {
    std::map<std::string, long long> out;
    for (const char* name : names) out[name] = counter(name);
    return out;
  }

 private:
  std::unique_ptr<sql::Connection> connection_;
};

// The counters that show a write, a transaction or a scan.
const auto kWriteCounters = {"Com_commit", "Handler_write", "Handler_update", "Handler_delete"};

std::map<std::string, long long> delta(const std::map<std::string, long long>& before,
                                       const std::map<std::string, long long>& after) {
  std::map<std::string, long long> out;
  for (const auto& [name, value] : after) out[name] = value - before.at(name);
  return out;
}

// --- scenarios on both implementations ---------------------------------------

class WorkerLoop : public ::testing::TestWithParam<bool> {
 protected:
  // true: MySqlCoordinator's overrides; false: the interface's defaults.
  CoordinationStorage& storage() {
    if (GetParam()) return mysql;
    return basic;
  }
  void backdatePing(const std::string& worker, int seconds) {
    db.exec("UPDATE qtopology_worker SET last_ping = NOW() - INTERVAL " + std::to_string(seconds) +
            " SECOND WHERE name = '" + worker + "'");
  }
  bool isLeader(const std::string& worker) {
    return db.scalar("SELECT lstatus FROM qtopology_worker WHERE name = '" + worker + "'") ==
           "leader";
  }

  TestDatabase db;
  MySqlCoordinator mysql{db.options()};
  BasicCallsStorage basic{mysql};
};

INSTANTIATE_TEST_SUITE_P(Storages, WorkerLoop, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& storage) {
                           return storage.param ? std::string("Override") : std::string("Default");
                         });

TEST_P(WorkerLoop, HeartbeatPingsButNeverChangesStatus) {
  storage().registerWorker("w1");
  for (const char* status : {"disabled", "dead", "alive"}) {
    storage().setWorkerStatus("w1", status);
    backdatePing("w1", 100);
    const auto beat = storage().heartbeat("w1");
    EXPECT_EQ(beat.status, status);
    EXPECT_EQ(beat.lstatus, "normal");
    EXPECT_EQ(db.scalar("SELECT status FROM qtopology_worker WHERE name = 'w1'"), status);
    EXPECT_EQ(db.scalar("SELECT TIMESTAMPDIFF(SECOND, last_ping, NOW()) < 3 FROM "
                        "qtopology_worker WHERE name = 'w1'"),
              "1")
        << status;
    const auto server_now = std::chrono::system_clock::time_point(
        std::chrono::seconds(std::stoll(db.scalar("SELECT UNIX_TIMESTAMP()"))));
    EXPECT_LE(std::chrono::abs(beat.now - server_now), 3s);
  }
  EXPECT_THROW(storage().heartbeat("ghost"), NotFoundError);
}

TEST_P(WorkerLoop, HeartbeatTakesMessagesOnceInSendOrder) {
  storage().registerWorker("w1");
  storage().registerWorker("w2");
  for (int i = 0; i < 3; ++i) storage().sendMessageToWorker("w1", "rebalance", {{"i", i}}, 30s);
  storage().sendMessageToWorker("w2", "shutdown", Json::object(), 30s);
  const auto beat = storage().heartbeat("w1");
  ASSERT_EQ(beat.messages.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(beat.messages[i].cmd, "rebalance");
    EXPECT_EQ(beat.messages[i].content, (Json{{"i", i}}));
  }
  EXPECT_TRUE(storage().heartbeat("w1").messages.empty());
  EXPECT_TRUE(storage().getMessages("w1").empty());
  // w2's message is still queued for w2 alone.
  const auto queue = storage().getMsgQueueContent();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0].name, "w2");
}

TEST_P(WorkerLoop, HeartbeatReportsLeaderAndItsLiveness) {
  storage().registerWorker("w1");
  storage().registerWorker("w2");
  auto beat = storage().heartbeat("w2");
  EXPECT_FALSE(beat.leader.has_value());
  EXPECT_FALSE(beat.leader_alive);

  ASSERT_TRUE(storage().campaign("w1"));
  beat = storage().heartbeat("w2");
  EXPECT_EQ(beat.leader, "w1");
  EXPECT_TRUE(beat.leader_alive);
  EXPECT_EQ(storage().heartbeat("w1").lstatus, "leader");

  backdatePing("w1", 11);  // past the default leader_timeout_s of 10
  beat = storage().heartbeat("w2");
  EXPECT_EQ(beat.leader, "w1");
  EXPECT_FALSE(beat.leader_alive);

  storage().setWorkerStatus("w1", "closing");  // no longer alive, no longer leader
  EXPECT_FALSE(storage().heartbeat("w2").leader_alive);
}

TEST_P(WorkerLoop, CampaignElectsOneLeaderAndKeepsIt) {
  storage().registerWorker("w1");
  storage().registerWorker("w2");
  EXPECT_TRUE(storage().campaign("w1"));
  EXPECT_FALSE(storage().campaign("w2"));
  EXPECT_TRUE(storage().campaign("w1"));  // the leader campaigning again keeps its seat
  EXPECT_TRUE(isLeader("w1"));
  EXPECT_EQ(db.count("qtopology_worker", "lstatus = 'leader'"), 1);

  storage().setWorkerStatus("w2", "disabled");
  backdatePing("w1", 11);
  EXPECT_FALSE(storage().campaign("w2"));  // only alive workers campaign
  storage().setWorkerStatus("w2", "alive");
  EXPECT_TRUE(storage().campaign("w2"));
  EXPECT_FALSE(isLeader("w1"));
  EXPECT_THROW(storage().campaign("ghost"), NotFoundError);
}

// A leader loop's writes: every kind of action at once.
TEST_P(WorkerLoop, LeaderActionsApplyInNodeFormat) {
  for (const char* w : {"leader", "w2", "w3"}) storage().registerWorker(w);
  ASSERT_TRUE(storage().campaign("leader"));
  for (const char* t : {"t1", "t2", "t3", "t4", "t5", "t6"})
    storage().registerTopology(t, Json::object());
  // w3 died running t1; t2 failed there.
  storage().assignTopology("t1", "w3");
  storage().setTopologyStatus("t1", "w3", "running", std::nullopt);
  storage().assignTopology("t2", "w3");
  storage().setTopologyStatus("t2", "w3", "error", "boom");
  storage().setWorkerStatus("w3", "dead");
  // t3 claims to run on nobody.
  storage().setTopologyStatus("t3", std::nullopt, "running", std::nullopt);
  // t6 runs on w2 and moves to the leader.
  storage().assignTopology("t6", "w2");
  storage().setTopologyStatus("t6", "w2", "running", std::nullopt);
  const auto history_before = db.count("qtopology_topology_history");

  LeaderActions actions;
  actions.unload_workers = {"w3", "w2"};  // w2 is alive: not unloaded
  actions.unassign_topologies = {"t3"};
  actions.assignments = {{"t4", "w2"}, {"t5", "w2"}, {"t1", "leader"}};
  actions.moves = {{"t6", "w2", "leader"}};
  actions.start_valid_for = 120s;
  actions.stop_valid_for = 30s;
  ASSERT_TRUE(storage().applyLeaderActions("leader", actions));

  std::map<std::string, std::pair<std::string, std::string>> topologies;
  for (const auto& t : storage().getTopologyStatus()) {
    topologies[t.uuid] = {t.status, t.worker.value_or("")};
  }
  // t1 was unassigned from dead w3, then assigned in the same loop.
  EXPECT_EQ(topologies["t1"], (std::pair<std::string, std::string>{"waiting", "leader"}));
  EXPECT_EQ(topologies["t2"], (std::pair<std::string, std::string>{"error", "w3"}));
  EXPECT_EQ(topologies["t3"].first, "unassigned");
  EXPECT_EQ(topologies["t4"], (std::pair<std::string, std::string>{"waiting", "w2"}));
  EXPECT_EQ(topologies["t5"], (std::pair<std::string, std::string>{"waiting", "w2"}));
  EXPECT_EQ(topologies["t6"], (std::pair<std::string, std::string>{"running", "w2"}));
  EXPECT_EQ(db.scalar("SELECT status FROM qtopology_worker WHERE name = 'w3'"), "unloaded");
  EXPECT_EQ(db.scalar("SELECT status FROM qtopology_worker WHERE name = 'w2'"), "alive");
  EXPECT_EQ(storage().getWorkerHistory("w3")[0].status, "unloaded");
  // t1 twice (unassigned, waiting), t3, t4, t5.
  EXPECT_GE(db.count("qtopology_topology_history") - history_before, 5);

  // One message per worker and kind, with the content Node's worker parses.
  std::map<std::pair<std::string, std::string>, MsgQueueItem> messages;
  for (auto& m : storage().getMsgQueueContent()) messages[{m.name, m.cmd}] = m;
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ((messages[{"w2", "start_topologies"}].data), (Json{{"uuids", {"t4", "t5"}}}));
  EXPECT_EQ((messages[{"leader", "start_topologies"}].data), (Json{{"uuids", {"t1"}}}));
  EXPECT_EQ((messages[{"w2", "stop_topologies"}].data),
            (Json{{"stop_topologies", {{{"uuid", "t6"}, {"worker_new", "leader"}}}}}));
  const auto lifetime = [&](const std::string& worker, const std::string& cmd) {
    const auto& m = messages[{worker, cmd}];
    return std::chrono::duration_cast<std::chrono::seconds>(m.valid_until - m.created).count();
  };
  EXPECT_EQ(lifetime("w2", "start_topologies"), 120);
  EXPECT_EQ(lifetime("w2", "stop_topologies"), 30);
  // The stored text is what the Node package's worker gets: plain JSON.
  EXPECT_EQ(Json::parse(db.scalar("SELECT content FROM qtopology_message WHERE worker = 'w2' "
                                  "AND cmd = 'stop_topologies'")),
            (Json{{"stop_topologies", {{{"uuid", "t6"}, {"worker_new", "leader"}}}}}));
}

// Fencing: leader A is silent past its timeout, B is elected; A resumes and
// tries to write its loop's actions. Nothing may change.
TEST_P(WorkerLoop, DemotedLeaderWritesNothing) {
  for (const char* w : {"a", "b"}) storage().registerWorker(w);
  storage().registerTopology("t1", Json::object());
  ASSERT_TRUE(storage().campaign("a"));
  backdatePing("a", 11);
  ASSERT_TRUE(storage().campaign("b"));
  storage().pingWorker("a");  // resumed: alive again, but not leader

  LeaderActions actions;
  actions.assignments = {{"t1", "a"}};
  actions.moves = {{"t1", "b", "a"}};
  const auto before = db.dataChecksum();
  EXPECT_FALSE(storage().applyLeaderActions("a", actions));
  EXPECT_EQ(db.dataChecksum(), before);
  EXPECT_TRUE(isLeader("b"));
  EXPECT_TRUE(storage().applyLeaderActions("b", actions));
  EXPECT_NE(db.dataChecksum(), before);
}

TEST_P(WorkerLoop, LeaderActionsNamingUnknownRowsFailWhole) {
  storage().registerWorker("leader");
  storage().registerTopology("t1", Json::object());
  ASSERT_TRUE(storage().campaign("leader"));
  // Not last_ping: the default implementation fences with
  // checkLeaderCandidacy, which refreshes a sitting leader's ping.
  const auto before = db.dataChecksumIgnoringPings();
  LeaderActions unknown_worker;
  unknown_worker.unload_workers = {"ghost"};
  EXPECT_THROW(storage().applyLeaderActions("leader", unknown_worker), NotFoundError);
  LeaderActions unknown_topology;
  unknown_topology.assignments = {{"no-such-topology", "leader"}};
  EXPECT_THROW(storage().applyLeaderActions("leader", unknown_topology), NotFoundError);
  LeaderActions bad_name;
  bad_name.assignments = {{"t1", ""}};
  EXPECT_THROW(storage().applyLeaderActions("leader", bad_name), InvalidArgument);
  EXPECT_EQ(db.dataChecksumIgnoringPings(), before);
}

// --- the overrides' own guarantees ---------------------------------------------

class MySqlWorkerLoop : public ::testing::Test {
 protected:
  void backdatePing(const std::string& worker, int seconds) {
    db.exec("UPDATE qtopology_worker SET last_ping = NOW() - INTERVAL " + std::to_string(seconds) +
            " SECOND WHERE name = '" + worker + "'");
  }
  TestDatabase db;
  MySqlCoordinator storage{db.options()};
};

// The default re-checks candidacy, which keeps a silent leader that nobody
// replaced yet; the override refuses it as soon as its timeout has passed,
// and writes not even the epoch row.
TEST_F(MySqlWorkerLoop, SilentLeaderIsFencedBeforeAnyElection) {
  storage.registerWorker("a");
  storage.registerTopology("t1", Json::object());
  ASSERT_TRUE(storage.campaign("a"));
  backdatePing("a", 11);
  LeaderActions actions;
  actions.assignments = {{"t1", "a"}};
  const auto before = db.dataChecksum();
  const auto epoch =
      db.scalar("SELECT value FROM qtopology_settings WHERE name = 'leadership_epoch'");
  EXPECT_FALSE(storage.applyLeaderActions("a", actions));
  EXPECT_EQ(db.dataChecksum(), before);
  EXPECT_EQ(db.scalar("SELECT value FROM qtopology_settings WHERE name = 'leadership_epoch'"),
            epoch);
}

// Liveness follows the cluster's leader_timeout_s setting, on the server's clock.
TEST_F(MySqlWorkerLoop, LeaderLivenessFollowsTheTimeoutSetting) {
  db.exec("UPDATE qtopology_settings SET value = '2' WHERE name = 'leader_timeout_s'");
  storage.registerWorker("leader");
  storage.registerWorker("w2");
  ASSERT_TRUE(storage.campaign("leader"));
  EXPECT_TRUE(storage.heartbeat("w2").leader_alive);
  // The leader stops pinging; w2 keeps beating.
  bool seen_dead = false;
  for (int i = 0; i < 60 && !seen_dead; ++i) {
    std::this_thread::sleep_for(100ms);
    seen_dead = !storage.heartbeat("w2").leader_alive;
  }
  EXPECT_TRUE(seen_dead);
  EXPECT_TRUE(storage.campaign("w2"));
  const auto beat = storage.heartbeat("leader");
  EXPECT_EQ(beat.leader, "w2");
  EXPECT_TRUE(beat.leader_alive);
  EXPECT_EQ(beat.lstatus, "normal");
}

TEST_F(MySqlWorkerLoop, RetriedHeartbeatReturnsWhatTheLostOneTook) {
  storage.registerWorker("w1");
  storage.sendMessageToWorker("w1", "rebalance", Json::object(), 30s);
  storage.sendMessageToWorker("w1", "shutdown", Json::object(), 30s);
  RawSession session(db.options());
  EXPECT_EQ(session.run("CALL qtopology_sp_worker_heartbeat('w1', 'claim-1')"), 2u);
  EXPECT_EQ(session.run("CALL qtopology_sp_worker_heartbeat('w1', 'claim-1')"), 2u);  // the retry
  EXPECT_EQ(session.run("CALL qtopology_sp_worker_heartbeat('w1', 'claim-2')"), 1u);  // none left
  EXPECT_EQ(db.count("qtopology_message", "claimed_by = 'claim-1'"), 2);
  EXPECT_TRUE(storage.getMessages("w1").empty());
}

// The heartbeat reads O(1) rows: with 1,000 more workers it reads as many
// rows as with two. workers() on the same session shows that the counters do
// see a scan.
TEST_F(MySqlWorkerLoop, HeartbeatReadsNoOtherWorkerRows) {
  storage.registerWorker("w0");
  ASSERT_TRUE(storage.campaign("w0"));
  storage.registerWorker("w1");
  RawSession session(db.options());
  const auto rowsRead = [&](const std::string& call) {
    const auto reads = {"Handler_read_rnd_next", "Handler_read_next", "Handler_read_key",
                        "Handler_read_first"};
    const auto before = session.counters(reads);
    session.run(call);
    long long rows = 0;
    for (const auto& [name, value] : delta(before, session.counters(reads))) rows += value;
    return rows;
  };
  // The first call of a session also reads the procedures' definitions.
  rowsRead("CALL qtopology_sp_worker_heartbeat('w1', 'claim-0')");
  const auto small = rowsRead("CALL qtopology_sp_worker_heartbeat('w1', 'claim-1')");

  std::string rows;
  for (int i = 2; i <= 1001; ++i) {
    rows +=
        (rows.empty() ? "" : ",") + ("('w" + std::to_string(i) + "', 'alive', 'normal', NOW())");
  }
  db.exec("INSERT INTO qtopology_worker (name, status, lstatus, last_ping) VALUES " + rows);
  const auto large = rowsRead("CALL qtopology_sp_worker_heartbeat('w1', 'claim-2')");
  const auto scan = rowsRead("CALL qtopology_sp_workers()");
  std::printf("rows read: heartbeat %lld with 2 workers, %lld with 1002; workers() %lld\n", small,
              large, scan);
  EXPECT_LE(large, small + 2);
  EXPECT_GE(scan, 1000);
}

// Most polls find nothing: such a poll commits nothing, writes nothing, and
// waits for no lock, even while another transaction holds the worker's row.
// With a message queued the poll takes the locking path again (once-only).
TEST_F(MySqlWorkerLoop, EmptyPollTakesNoLockAndWritesNothing) {
  storage.registerWorker("w1");
  RawSession poller(db.options());
  poller.run("SET SESSION innodb_lock_wait_timeout = 1");

  auto before = poller.counters(kWriteCounters);
  EXPECT_EQ(poller.run("CALL qtopology_sp_take_messages('w1', 'claim-1', 0)"), 0u);
  EXPECT_EQ(poller.run("CALL qtopology_sp_take_messages('w1', 'claim-2', 1)"), 0u);
  for (const auto& [name, value] : delta(before, poller.counters(kWriteCounters))) {
    EXPECT_EQ(value, 0) << name << " changed on an empty poll";
  }
  before = poller.counters({"Com_commit"});
  poller.run("CALL qtopology_sp_worker_heartbeat('w1', 'claim-3')");
  EXPECT_EQ(delta(before, poller.counters({"Com_commit"}))["Com_commit"], 0)
      << "an empty heartbeat ran a transaction";

  // The counters do see a taking poll.
  storage.sendMessageToWorker("w1", "rebalance", Json::object(), 30s);
  before = poller.counters(kWriteCounters);
  EXPECT_EQ(poller.run("CALL qtopology_sp_take_messages('w1', 'claim-4', 0)"), 1u);
  const auto taking = delta(before, poller.counters(kWriteCounters));
  EXPECT_GE(taking.at("Com_commit"), 1);
  EXPECT_GE(taking.at("Handler_update"), 1);

  // Another transaction holds w1's row.
  RawSession holder(db.options());
  holder.run("START TRANSACTION");
  holder.run("SELECT * FROM qtopology_worker WHERE name = 'w1' FOR UPDATE");
  EXPECT_EQ(poller.run("CALL qtopology_sp_take_messages('w1', 'claim-5', 0)"), 0u);
  storage.sendMessageToWorker("w1", "rebalance", Json::object(), 30s);
  try {
    poller.run("CALL qtopology_sp_take_messages('w1', 'claim-6', 0)");
    ADD_FAILURE() << "a poll with a message queued did not take the worker's row lock";
  } catch (const sql::SQLException& e) {
    EXPECT_EQ(e.getErrorCode(), 1205) << e.what();  // lock wait timeout
  }
  holder.run("ROLLBACK");
  EXPECT_EQ(storage.getMessages("w1").size(), 1u);
}

// v21's heartbeat joined the worker row to its messages and sorted: the
// message text (MEDIUMTEXT) sent that join through an internal temporary
// table, which MariaDB keeps on disk, on every call. No form of the
// heartbeat may build one, with or without messages to take.
TEST_F(MySqlWorkerLoop, HeartbeatBuildsNoTemporaryTable) {
  storage.registerWorker("w1");
  storage.registerWorker("w2");
  storage.campaign("w2");
  RawSession poller(db.options());
  const auto tmpTables = {"Created_tmp_tables", "Created_tmp_disk_tables"};

  auto before = poller.counters(tmpTables);
  EXPECT_EQ(poller.run("CALL qtopology_sp_worker_heartbeat('w1', 'claim-1')"), 1u);
  for (const auto& [name, value] : delta(before, poller.counters(tmpTables))) {
    EXPECT_EQ(value, 0) << name << " grew on an empty heartbeat";
  }

  storage.sendMessageToWorker("w1", "rebalance", Json::object(), 30s);
  storage.sendMessageToWorker("w1", "set_enabled", Json::object(), 30s);
  before = poller.counters(tmpTables);
  EXPECT_EQ(poller.run("CALL qtopology_sp_worker_heartbeat('w1', 'claim-2')"), 2u);
  for (const auto& [name, value] : delta(before, poller.counters(tmpTables))) {
    EXPECT_EQ(value, 0) << name << " grew on a heartbeat that took messages";
  }
}

TEST_F(MySqlWorkerLoop, PropertiesCarryTheRebalanceInterval) {
  const auto interval = [&] {
    for (const auto& p : storage.getProperties()) {
      if (p.key == "rebalance_interval_s") return p.value;
    }
    return std::string("missing");
  };
  EXPECT_EQ(interval(), "3600");
  db.exec("UPDATE qtopology_settings SET value = '600' WHERE name = 'rebalance_interval_s'");
  EXPECT_EQ(interval(), "600");
}

}  // namespace
}  // namespace qtopology
