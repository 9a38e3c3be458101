// What a failed call leaves in the pool: no session may go back inside an
// open transaction, or the next call on it would run in that transaction and
// hold its locks.
#include <cppconn/connection.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>
#include <regex>
#include <thread>
#include <utility>
#include <vector>

#include <qtopology/mysql_coordinator.hpp>

#include "mysql/connection_pool.hpp"
#include "mysql/procedure_runner.hpp"
#include "test_database.hpp"

namespace qtopology {
namespace {

using testing::TestDatabase;

std::string scalarOn(detail::PooledConnection& session, const std::string& query) {
  std::unique_ptr<sql::Statement> statement(session.session().createStatement());
  std::unique_ptr<sql::ResultSet> rs(statement->executeQuery(query));
  return rs->next() ? std::string(rs->getString(1)) : std::string();
}

// Our procedures roll back in their exit handlers, but a failure can end a
// call inside its transaction all the same (a procedure without such a
// handler, as other peers create them): this one locks the epoch row and then
// fails as a lock wait timeout does, which rolls back only the statement.
constexpr const char* kFailsInsideItsTransaction = R"(
create procedure qtopology_sp_test_fails_in_transaction()
begin
    start transaction;
    update qtopology_settings set value = value where name = 'leadership_epoch';
    signal sqlstate 'HY000' set mysql_errno = 1205, message_text = 'Lock wait timeout exceeded';
end)";

TEST(Sessions, AFailedCallLeavesNoPooledSessionInATransaction) {
  TestDatabase db;
  { MySqlCoordinator migrate(db.options()); }
  db.exec(kFailsInsideItsTransaction);
  auto options = db.options();
  options.pool_size = 1;
  options.retries = 1;
  detail::ConnectionPool pool(options);
  detail::ProcedureRunner runner(pool, options);

  // Through either client library: the call's and the read's.
  for (const bool as_read : {false, true}) {
    SCOPED_TRACE(as_read ? "read" : "call");
    try {
      if (as_read) {
        runner.read("test_fails_in_transaction", "testFailsInTransaction()");
      } else {
        runner.call("test_fails_in_transaction", {}, "testFailsInTransaction()");
      }
      FAIL() << "the procedure did not fail";
    } catch (const StorageError& e) {
      EXPECT_EQ(e.code(), 1205) << e.what();
    }

    // The epoch row the call had locked is free again...
    EXPECT_NO_THROW(db.scalar(
        "SELECT value FROM qtopology_settings WHERE name = 'leadership_epoch' FOR UPDATE NOWAIT"));
    // ...and the session the pool hands out next is outside any transaction.
    auto lease = pool.acquire();
    // (information_schema.innodb_trx, not MariaDB's @@in_transaction: MySQL has both
    // this table and the row the call had locked in it.)
    EXPECT_EQ(scalarOn(*lease.operator->(),
                       "SELECT COUNT(*) FROM information_schema.innodb_trx "
                       "WHERE trx_mysql_thread_id = CONNECTION_ID()"),
              "0");
  }
}

// MySqlOptions::pool_size's contract: at most two server sessions per slot,
// whatever mix of calls and reads runs at once.
TEST(Sessions, PoolSizeBoundsTheServerSessions) {
  TestDatabase db;
  auto options = db.options();
  options.pool_size = 3;
  MySqlCoordinator coordinator(options);
  const std::string sessions =
      "SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE() AND id <> "
      "CONNECTION_ID()";
  std::atomic<bool> done{false};
  std::vector<std::thread> callers;
  for (int t = 0; t < 12; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        coordinator.registerWorker("w" + std::to_string(t));
        coordinator.getWorkerStatus();
        coordinator.getMsgQueueContent();
      }
    });
  }
  long long most = 0;
  std::thread sampler([&] {
    while (!done) {
      most = std::max(most, std::stoll(db.scalar(sessions)));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  for (auto& caller : callers) caller.join();
  done = true;
  sampler.join();
  most = std::max(most, std::stoll(db.scalar(sessions)));
  std::cout << "[ figures  ] pool_size 3: at most " << most << " server sessions seen\n";
  EXPECT_LE(most, 2 * 3);
  EXPECT_GT(most, 0);
}

// The lines a logger at `level` keeps, one CALL each.
class RecordingLogger final : public Logger {
 public:
  explicit RecordingLogger(LogLevel level) : level_(level) {}
  void log(LogLevel level, std::string_view message) noexcept override {
    std::lock_guard lock(mutex_);
    if (message.find("CALL ") != std::string_view::npos) lines_.emplace_back(message);
    static_cast<void>(level);
  }
  bool enabled(LogLevel level) const noexcept override { return level >= level_; }
  std::vector<std::string> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(lines_, {});
  }

 private:
  LogLevel level_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

bool holdsKey(const std::string& line) {
  return std::regex_search(line, std::regex("'[0-9a-f]{32}'|msg_key"));
}

// Debug logs what changes the storage, without the claim and message keys;
// the calls each tick repeats (heartbeat, ping, claims, campaign, the
// leader's refresh and reads) and the keys are trace's.
TEST(Sessions, DebugLogsLeaveOutTickCallsAndKeysTraceHasThem) {
  TestDatabase db;
  for (const auto level : {LogLevel::debug, LogLevel::trace}) {
    SCOPED_TRACE(std::string(toString(level)));
    auto logger = std::make_shared<RecordingLogger>(level);
    auto options = db.options();
    options.logger = logger;
    MySqlCoordinator storage(options);
    storage.registerWorker("w1");
    storage.registerTopology("t1", Json::object());
    storage.assignTopology("t1", "w1");
    logger->take();
    for (int tick = 0; tick < 3; ++tick) {
      storage.heartbeat("w1");
      storage.campaign("w1");
      storage.refreshStatuses();
      storage.getWorkerStatus();
      storage.getTopologyStatus();
      storage.getTopologiesForWorker("w1");
      storage.pingWorker("w1");
      storage.getMessages("w1");
    }
    const auto ticks = logger->take();
    storage.stopTopology("t1");
    storage.sendMessageToWorker("w1", "rebalance", Json::object(), std::chrono::seconds(60));
    LeaderActions actions;
    actions.assignments = {{"t1", "w1"}};
    ASSERT_TRUE(storage.applyLeaderActions("w1", actions));
    const auto writes = logger->take();

    ASSERT_EQ(writes.size(), 3u);
    if (level == LogLevel::debug) {
      EXPECT_TRUE(ticks.empty()) << ticks.front();
      for (const auto& line : writes) EXPECT_FALSE(holdsKey(line)) << line;
      EXPECT_NE(writes[0].find("'t1', 'stop_topology', <message key>"), std::string::npos)
          << writes[0];
      EXPECT_NE(writes[2].find("'w1', <actions with message keys>"), std::string::npos)
          << writes[2];
    } else {
      EXPECT_EQ(ticks.size(), 3u * 8u);
      EXPECT_TRUE(std::any_of(ticks.begin(), ticks.end(), [](const std::string& line) {
        return line.find("worker_heartbeat_v26") != std::string::npos && holdsKey(line);
      }));
      for (const auto& line : writes) EXPECT_TRUE(holdsKey(line)) << line;
    }
  }
}

}  // namespace
}  // namespace qtopology
