// The worker loop's combined calls as MySqlCoordinator makes them, beyond the
// contract that tests/conformance checks on them and on the interface's
// defaults: one CALL each, O(1) rows, no lock or write on an empty poll,
// fencing before any election, retries after a lost reply.
#include <gtest/gtest.h>

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>
#include <cppconn/statement.h>

#include <atomic>
#include <map>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

#include "test_database.hpp"
#include "test_thread.hpp"

namespace qtopology {
namespace {

using namespace std::chrono_literals;
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

  // The column names of the first result's rows, as the server sends them,
  // and its first row (empty when it has none).
  std::map<std::string, std::string> firstRow(const std::string& statement) {
    std::unique_ptr<sql::Statement> s(connection_->createStatement());
    std::map<std::string, std::string> row;
    bool first = true;
    s->execute(statement);
    do {
      std::unique_ptr<sql::ResultSet> rs(s->getResultSet());
      if (rs && first && rs->next()) {
        auto* meta = rs->getMetaData();
        for (unsigned i = 1; i <= meta->getColumnCount(); ++i) {
          row[std::string(meta->getColumnLabel(i))] =
              rs->isNull(i) ? "NULL" : std::string(rs->getString(i));
        }
      }
      while (rs && rs->next()) {
      }
      if (rs) first = false;
    } while (s->getMoreResults());
    return row;
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

// v25's heartbeat (kept for workers of that release) and v26's.
const char* const kHeartbeats[] = {"qtopology_sp_worker_heartbeat",
                                   "qtopology_sp_worker_heartbeat_v26"};

// The counters that show a write, a transaction or a scan.
const auto kWriteCounters = {"Com_commit", "Handler_write", "Handler_update", "Handler_delete"};

std::map<std::string, long long> delta(const std::map<std::string, long long>& before,
                                       const std::map<std::string, long long>& after) {
  std::map<std::string, long long> out;
  for (const auto& [name, value] : after) out[name] = value - before.at(name);
  return out;
}

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
  const auto call = [](const char* procedure, const char* key) {
    return std::string("CALL ") + procedure + "('w1', '" + key + "')";
  };
  std::map<std::string, long long> small;
  for (const char* procedure : kHeartbeats) {
    // The first call of a session also reads the procedures' definitions.
    rowsRead(call(procedure, "claim-0"));
    small[procedure] = rowsRead(call(procedure, "claim-1"));
  }

  std::string rows;
  for (int i = 2; i <= 1001; ++i) {
    rows +=
        (rows.empty() ? "" : ",") + ("('w" + std::to_string(i) + "', 'alive', 'normal', NOW())");
  }
  db.exec("INSERT INTO qtopology_worker (name, status, lstatus, last_ping) VALUES " + rows);
  for (const char* procedure : kHeartbeats) {
    const auto large = rowsRead(call(procedure, "claim-2"));
    std::printf("rows read: %s %lld with 2 workers, %lld with 1002\n", procedure, small[procedure],
                large);
    EXPECT_LE(large, small[procedure] + 2) << procedure;
  }
  const auto scan = rowsRead("CALL qtopology_sp_workers()");
  std::printf("rows read: workers() %lld\n", scan);
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
  for (const std::string procedure : kHeartbeats) {
    before = poller.counters({"Com_commit"});
    poller.run("CALL " + procedure + "('w1', 'claim-3')");
    EXPECT_EQ(delta(before, poller.counters({"Com_commit"}))["Com_commit"], 0)
        << "an empty heartbeat of " << procedure << " ran a transaction";
  }

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

  int round = 0;
  for (const std::string procedure : kHeartbeats) {
    const std::string key = "claim-2-" + std::to_string(++round);
    auto before = poller.counters(tmpTables);
    EXPECT_EQ(poller.run("CALL " + procedure + "('w1', 'claim-1')"), 1u);
    for (const auto& [name, value] : delta(before, poller.counters(tmpTables))) {
      EXPECT_EQ(value, 0) << name << " grew on an empty heartbeat of " << procedure;
    }

    storage.sendMessageToWorker("w1", "rebalance", Json::object(), 30s);
    storage.sendMessageToWorker("w1", "set_enabled", Json::object(), 30s);
    before = poller.counters(tmpTables);
    EXPECT_EQ(poller.run("CALL " + procedure + "('w1', '" + key + "')"), 2u);
    for (const auto& [name, value] : delta(before, poller.counters(tmpTables))) {
      EXPECT_EQ(value, 0) << name << " grew on a heartbeat of " << procedure
                          << " that took messages";
    }
  }
}

// --- v26: a heartbeat that writes only when it must -----------------------

// Steady state: the ping is younger than the interval (default: half of
// min(worker_dead_timeout_s, leader_timeout_s) = 5 s), so the call writes
// nothing and commits nothing; once it is that old, the call writes.
TEST_F(MySqlWorkerLoop, HeartbeatWritesThePingOnlyWhenDue) {
  storage.registerWorker("w1");
  const auto lastPing = [&] {
    return db.scalar("SELECT UNIX_TIMESTAMP(last_ping) FROM qtopology_worker WHERE name = 'w1'");
  };
  const auto ageOfPing = [&] {
    return std::stoll(db.scalar(
        "SELECT TIMESTAMPDIFF(SECOND, last_ping, NOW()) FROM qtopology_worker WHERE name = 'w1'"));
  };
  RawSession session(db.options());
  session.run("CALL qtopology_sp_worker_heartbeat_v26('w1', 'warm-up')");

  backdatePing("w1", 3);
  auto ping = lastPing();
  auto before = session.counters(kWriteCounters);
  const auto fresh = session.firstRow("CALL qtopology_sp_worker_heartbeat_v26('w1', 'k1')");
  EXPECT_EQ(fresh.at("wrote"), "0");
  EXPECT_EQ(lastPing(), ping);
  for (const auto& [name, value] : delta(before, session.counters(kWriteCounters))) {
    EXPECT_EQ(value, 0) << name << " changed on a heartbeat that was not due";
  }
  EXPECT_FALSE(storage.heartbeat("w1").wrote);
  EXPECT_EQ(lastPing(), ping);

  backdatePing("w1", 5);
  before = session.counters({"Handler_update"});
  EXPECT_EQ(session.firstRow("CALL qtopology_sp_worker_heartbeat_v26('w1', 'k2')").at("wrote"),
            "1");
  EXPECT_EQ(delta(before, session.counters({"Handler_update"})).at("Handler_update"), 1);
  EXPECT_LE(ageOfPing(), 1);
  backdatePing("w1", 5);
  EXPECT_TRUE(storage.heartbeat("w1").wrote);
  EXPECT_LE(ageOfPing(), 1);

  // A ping in the future (the server's clock stepped back) is rewritten.
  backdatePing("w1", -60);
  EXPECT_TRUE(storage.heartbeat("w1").wrote);
  EXPECT_LE(ageOfPing(), 1);
  EXPECT_GE(ageOfPing(), 0);
}

// heartbeat_write_interval_s: 0 writes every call (v25's behaviour); a value
// above half the shorter timeout is capped there; garbage writes every call.
TEST_F(MySqlWorkerLoop, HeartbeatWriteIntervalIsASettingWithACap) {
  storage.registerWorker("w1");
  db.exec(
      "INSERT INTO qtopology_settings (name, value) VALUES ('heartbeat_write_interval_s', '0')");
  EXPECT_TRUE(storage.heartbeat("w1").wrote);
  EXPECT_TRUE(storage.heartbeat("w1").wrote);

  // A ping that is not due is backdated at least 2 s less than the
  // interval: the server's clock may pass a whole second between the two
  // calls.
  db.exec("UPDATE qtopology_settings SET value = '3' WHERE name = 'heartbeat_write_interval_s'");
  backdatePing("w1", 1);
  EXPECT_FALSE(storage.heartbeat("w1").wrote);
  backdatePing("w1", 3);
  EXPECT_TRUE(storage.heartbeat("w1").wrote);

  // capped at floor(min(30, 10) / 2) = 5 s
  db.exec("UPDATE qtopology_settings SET value = '3600' WHERE name = 'heartbeat_write_interval_s'");
  backdatePing("w1", 3);
  EXPECT_FALSE(storage.heartbeat("w1").wrote);
  backdatePing("w1", 5);
  EXPECT_TRUE(storage.heartbeat("w1").wrote);
  // the cap follows the timeouts: min(30, 4) / 2 = 2 s
  db.exec("UPDATE qtopology_settings SET value = '4' WHERE name = 'leader_timeout_s'");
  backdatePing("w1", 2);
  EXPECT_TRUE(storage.heartbeat("w1").wrote);
  db.exec("UPDATE qtopology_settings SET value = '10' WHERE name = 'leader_timeout_s'");
  db.exec("UPDATE qtopology_settings SET value = '6' WHERE name = 'worker_dead_timeout_s'");
  backdatePing("w1", 3);
  EXPECT_TRUE(storage.heartbeat("w1").wrote);
  db.exec("UPDATE qtopology_settings SET value = '30' WHERE name = 'worker_dead_timeout_s'");

  db.exec("UPDATE qtopology_settings SET value = 'soon' WHERE name = 'heartbeat_write_interval_s'");
  EXPECT_TRUE(storage.heartbeat("w1").wrote);
  db.exec("DELETE FROM qtopology_settings WHERE name = 'heartbeat_write_interval_s'");
  backdatePing("w1", 3);
  EXPECT_FALSE(storage.heartbeat("w1").wrote);
}

// A candidate pings on every call while its election runs, and a waiting
// message writes at once (its claim commits). A leader writes when due like
// everyone: the interval is at most half of leader_timeout_s, so it stays
// the live leader for its peers.
TEST_F(MySqlWorkerLoop, CandidatesAndMessagesWriteAtOnceALeaderWhenDue) {
  storage.registerWorker("w1");
  storage.registerWorker("w2");
  ASSERT_TRUE(storage.campaign("w1"));
  backdatePing("w1", 1);
  EXPECT_FALSE(storage.heartbeat("w1").wrote);
  backdatePing("w1", 5);
  EXPECT_TRUE(storage.heartbeat("w1").wrote);
  EXPECT_EQ(storage.getWorkerStatus().at(0).lstatus, Leadership::leader);
  backdatePing("w1", 4);
  const auto peer = storage.heartbeat("w2");
  EXPECT_EQ(peer.leader, "w1");
  EXPECT_TRUE(peer.leader_alive);

  db.exec("UPDATE qtopology_worker SET lstatus = 'candidate' WHERE name = 'w2'");
  backdatePing("w2", 1);
  EXPECT_TRUE(storage.heartbeat("w2").wrote);
  db.exec("UPDATE qtopology_worker SET lstatus = 'normal' WHERE name = 'w2'");
  backdatePing("w2", 1);
  EXPECT_FALSE(storage.heartbeat("w2").wrote);

  storage.sendMessageToWorker("w2", "rebalance", Json::object(), 30s);
  backdatePing("w2", 1);
  const auto beat = storage.heartbeat("w2");
  EXPECT_TRUE(beat.wrote);
  EXPECT_EQ(beat.messages.size(), 1u);
}

// An idle leader loop: refresh_statuses finds nothing dead, late or expired
// and commits nothing, not even the epoch lock's update; each of its four
// steps still runs once something is due.
TEST_F(MySqlWorkerLoop, ARefreshWithNothingDueWritesNothing) {
  storage.registerWorker("w1");
  storage.registerWorker("w2");
  ASSERT_TRUE(storage.campaign("w1"));
  const auto epoch = [&] {
    return db.scalar("SELECT value FROM qtopology_settings WHERE name = 'leadership_epoch'");
  };
  RawSession session(db.options());
  session.run("CALL qtopology_sp_refresh_statuses()");
  const auto idle_epoch = epoch();
  const auto before = session.counters(kWriteCounters);
  session.run("CALL qtopology_sp_refresh_statuses()");
  for (const auto& [name, value] : delta(before, session.counters(kWriteCounters))) {
    EXPECT_EQ(value, 0) << name << " changed on a refresh with nothing due";
  }
  EXPECT_EQ(epoch(), idle_epoch);

  const auto status = [&](const std::string& query) { return db.scalar(query); };
  backdatePing("w2", 31);
  session.run("CALL qtopology_sp_refresh_statuses()");
  EXPECT_EQ(status("SELECT status FROM qtopology_worker WHERE name = 'w2'"), "dead");
  EXPECT_NE(epoch(), idle_epoch);

  backdatePing("w1", 11);
  session.run("CALL qtopology_sp_refresh_statuses()");
  EXPECT_EQ(status("SELECT lstatus FROM qtopology_worker WHERE name = 'w1'"), "normal");

  storage.registerTopology("t1", Json{{"general", {{"weight", 1}}}});
  db.exec(
      "UPDATE qtopology_topology SET status = 'waiting', worker = 'w1', "
      "last_ping = NOW() - INTERVAL 31 SECOND WHERE uuid = 't1'");
  session.run("CALL qtopology_sp_refresh_statuses()");
  EXPECT_EQ(status("SELECT status FROM qtopology_topology WHERE uuid = 't1'"), "unassigned");

  db.exec(
      "INSERT INTO qtopology_message (worker, cmd, content, created, valid_until) "
      "VALUES ('w1', 'rebalance', '{}', NOW() - INTERVAL 2 SECOND, "
      "NOW() - INTERVAL 1 SECOND)");
  session.run("CALL qtopology_sp_refresh_statuses()");
  EXPECT_EQ(status("SELECT COUNT(*) FROM qtopology_message"), "0");
}

// Both heartbeats take at most 1,000 messages a call, oldest first, as
// getMessages does; the rest come with the next call.
TEST_F(MySqlWorkerLoop, HeartbeatTakesAtMostOneThousandMessages) {
  storage.registerWorker("w1");
  const auto queue = [&](int count) {
    std::string rows;
    for (int i = 0; i < count; ++i) {
      rows += std::string(rows.empty() ? "" : ",") +
              "('w1', 'rebalance', '{}', NOW(), NOW() + INTERVAL 60 SECOND)";
    }
    db.exec("INSERT INTO qtopology_message (worker, cmd, content, created, valid_until) VALUES " +
            rows);
  };
  queue(1001);
  EXPECT_EQ(storage.heartbeat("w1").messages.size(), 1000u);
  EXPECT_EQ(storage.heartbeat("w1").messages.size(), 1u);
  EXPECT_TRUE(storage.heartbeat("w1").messages.empty());

  queue(1001);
  RawSession session(db.options());
  EXPECT_EQ(session.run("CALL qtopology_sp_worker_heartbeat('w1', 'old-1')"), 1000u);
  EXPECT_EQ(session.run("CALL qtopology_sp_worker_heartbeat('w1', 'old-1')"), 1000u);  // retry
  EXPECT_EQ(session.run("CALL qtopology_sp_worker_heartbeat('w1', 'old-2')"), 1u);
}

// v25's heartbeat, which workers of that release call during a rolling
// upgrade, still pings on every call and returns v25's columns.
TEST_F(MySqlWorkerLoop, PreviousReleasesHeartbeatStillPingsEveryCall) {
  storage.registerWorker("w1");
  backdatePing("w1", 1);
  RawSession session(db.options());
  const auto row = session.firstRow("CALL qtopology_sp_worker_heartbeat('w1', 'k')");
  EXPECT_EQ(row.count("wrote"), 0u);
  for (const char* column : {"status", "lstatus", "leader", "leader_alive", "now_unix", "id", "cmd",
                             "content", "created_unix"}) {
    EXPECT_EQ(row.count(column), 1u) << column;
  }
  EXPECT_EQ(db.scalar("SELECT TIMESTAMPDIFF(SECOND, last_ping, NOW()) <= 0 FROM qtopology_worker"),
            "1");
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
