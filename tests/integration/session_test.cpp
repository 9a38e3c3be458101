// What a failed call leaves in the pool: no session may go back inside an
// open transaction, or the next call on it would run in that transaction and
// hold its locks.
#include <cppconn/connection.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>

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

  try {
    runner.call("test_fails_in_transaction", {}, "testFailsInTransaction()");
    FAIL() << "the procedure did not fail";
  } catch (const StorageError& e) {
    EXPECT_EQ(e.code(), 1205) << e.what();
  }

  // The epoch row the call had locked is free again...
  EXPECT_NO_THROW(db.scalar(
      "SELECT value FROM qtopology_settings WHERE name = 'leadership_epoch' FOR UPDATE NOWAIT"));
  // ...and the session the pool hands out next is outside any transaction.
  auto lease = pool.acquire();
  EXPECT_EQ(scalarOn(*lease.operator->(), "SELECT @@in_transaction"), "0");
}

}  // namespace
}  // namespace qtopology
