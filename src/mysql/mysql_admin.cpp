#include <qtopology/mysql_admin.hpp>

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/statement.h>

#include <memory>
#include <string>

#include <qtopology/coordination_storage.hpp>

#include "connection_pool.hpp"
#include "core/logging.hpp"
#include "script_runner.hpp"
#include "server_errors.hpp"

namespace qtopology {
namespace {

// Both scripts are plain statements; running them outside the pool and the
// migrator keeps a reset from being undone by a migration on connect.
// clear.sql is one transaction, so a failure leaves nothing half-deleted; its
// statements cannot be retried one by one then, while reset.sql's can.
void runScript(const MySqlOptions& options, std::string_view script_name, bool transactional) {
  const std::string operation =
      std::string(script_name) + " on database '" + options.database + "'";
  if (options.database.empty()) throw InvalidArgument(operation + ": no database given");
  auto log = detail::loggerOr(options.logger);
  std::unique_ptr<sql::Connection> connection;
  try {
    detail::ConnectionPool pool(options);
    connection = pool.connect(options.read_timeout);
  } catch (const detail::ServerFailure& failure) {
    std::rethrow_exception(failure.toStorageError(operation));
  }
  const auto policy = transactional ? detail::RetryPolicy(0, options.retry_timeout)
                                    : detail::RetryPolicy::from(options);
  const auto inTransaction = [&](const char* statement) {
    if (!transactional) return;
    try {
      std::unique_ptr<sql::Statement>(connection->createStatement())->execute(statement);
    } catch (const sql::SQLException& e) {
      std::rethrow_exception(detail::ServerFailure::from(e).toStorageError(operation));
    }
  };
  inTransaction("START TRANSACTION");
  detail::runSqlScript(*connection, detail::namedScript(script_name), policy, log);
  inTransaction("COMMIT");
}

}  // namespace

void clearStorage(const MySqlOptions& options) { runScript(options, "clear.sql", true); }

void resetStorage(const MySqlOptions& options) { runScript(options, "reset.sql", false); }

}  // namespace qtopology
