#include <qtopology/admin.hpp>

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/statement.h>

#include <memory>
#include <string>

#include <qtopology/coordination_storage.hpp>

#include "connection_pool.hpp"
#include "embedded_scripts.hpp"
#include "server_errors.hpp"
#include "sql_script.hpp"

namespace qtopology {
namespace {

// Both scripts are plain statements; running them outside the pool and the
// migrator keeps a reset from being undone by a migration on connect.
void runScript(const MySqlOptions& options, std::string_view script_name, bool transactional) {
  const std::string operation =
      std::string(script_name) + " on database '" + options.database + "'";
  if (options.database.empty()) throw InvalidArgument(operation + ": no database given");
  const auto& script = detail::namedScript(script_name);
  int line = 0;
  try {
    detail::ConnectionPool pool(options);
    auto connection = pool.connect(options.read_timeout);
    std::unique_ptr<sql::Statement> statement(connection->createStatement());
    if (transactional) statement->execute("START TRANSACTION");
    for (const auto& s : detail::splitSqlScript(script.text)) {
      line = s.line;
      statement->execute(s.text);
    }
    line = 0;
    if (transactional) statement->execute("COMMIT");
  } catch (const sql::SQLException& e) {
    const auto error_class = detail::classifyServerError(e.getErrorCode(), e.getSQLState());
    const std::string where =
        line > 0 ? operation + ", statement at line " + std::to_string(line) : operation;
    std::rethrow_exception(
        detail::makeStorageError(error_class, where, e.getErrorCode(), e.getSQLState(), e.what()));
  }
}

}  // namespace

void clearStorage(const MySqlOptions& options) { runScript(options, "clear.sql", true); }

void resetStorage(const MySqlOptions& options) { runScript(options, "reset.sql", false); }

}  // namespace qtopology
