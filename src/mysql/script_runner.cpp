#include "script_runner.hpp"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include "core/logging.hpp"

#include <memory>
#include <stdexcept>
#include <string>

#include <qtopology/coordination_storage.hpp>

#include "server_errors.hpp"
#include "sql_script.hpp"

namespace qtopology::detail {

void runSqlScript(sql::Connection& connection, const EmbeddedScript& script,
                  const RetryPolicy& policy, detail::Log log,
                  const std::function<void()>& after_each) {
  std::vector<SqlStatement> statements;
  try {
    statements = splitSqlScript(script.text);
  } catch (const std::invalid_argument& e) {
    throw SchemaError(std::string(script.name) + ": " + e.what());
  }
  std::unique_ptr<sql::Statement> statement(connection.createStatement());
  for (const auto& s : statements) {
    const std::string where =
        std::string(script.name) + ", statement at line " + std::to_string(s.line);
    try {
      policy.run<ServerFailure>(
          [&] {
            try {
              if (statement->execute(s.text)) {
                std::unique_ptr<sql::ResultSet> ignored(statement->getResultSet());
              }
            } catch (const sql::SQLException& e) {
              throw ServerFailure::from(e);
            }
          },
          // e.g. init.sql's INSERT, run on two Galera nodes at once, fails
          // certification (1213) on one of them
          [](const ServerFailure& failure) { return failure.kind == ErrorClass::transient; },
          [&](const ServerFailure& failure, int retry, std::chrono::milliseconds wait) {
            log.warn("qtopology: {} failed with server error {} ({}); retry {}/{} in {} ms", where,
                     failure.code, failure.what(), retry, policy.retries(), wait.count());
          });
    } catch (const ServerFailure& failure) {
      std::rethrow_exception(failure.toStorageError(where));
    }
    if (after_each) after_each();
  }
}

}  // namespace qtopology::detail
