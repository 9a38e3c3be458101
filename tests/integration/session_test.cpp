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
#include <thread>
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

}  // namespace
}  // namespace qtopology
