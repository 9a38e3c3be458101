#include "script_runner.hpp"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include "core/logging.hpp"

#include <cctype>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <qtopology/coordination_storage.hpp>

#include "server_errors.hpp"
#include "sql_script.hpp"

namespace qtopology::detail {
namespace {

// The server's access-denied errors: to a database (1044), a table (1142), a
// column (1143), one privilege (1227), a routine (1370).
bool isPrivilegeError(int code) {
  return code == 1044 || code == 1142 || code == 1143 || code == 1227 || code == 1370;
}

// The privilege a migration statement needs, from its first words. 1044, the
// error of a CREATE PROCEDURE without CREATE ROUTINE, names none.
std::string_view privilegeFor(std::string_view statement) {
  std::string words;
  for (char ch : statement.substr(0, 40)) {
    const bool space = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
    if (space && (words.empty() || words.back() == ' ')) continue;
    words += space ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  static constexpr std::pair<std::string_view, std::string_view> kNeeds[] = {
      {"create procedure", "CREATE ROUTINE"},
      {"create function", "CREATE ROUTINE"},
      {"drop procedure", "ALTER ROUTINE"},
      {"drop function", "ALTER ROUTINE"},
      {"alter procedure", "ALTER ROUTINE"},
      {"create unique index", "INDEX"},
      {"create index", "INDEX"},
      {"drop index", "INDEX"},
      {"create table", "CREATE"},
      {"alter table", "ALTER"},
      {"drop table", "DROP"},
      {"insert", "INSERT"},
      {"update", "UPDATE"},
      {"delete", "DELETE"},
      {"select", "SELECT"},
      {"call", "EXECUTE"},
  };
  for (const auto& [start, privilege] : kNeeds) {
    if (words.rfind(start, 0) == 0) return privilege;
  }
  return {};
}

// What the operator does about it: the one GRANT of README.md.
std::string privilegeHint(std::string_view statement) {
  const auto privilege = privilegeFor(statement);
  return std::string("; the migration needs ") +
         (privilege.empty() ? std::string("more privileges")
                            : "the " + std::string(privilege) + " privilege") +
         " on the database: grant the user what README.md (\"The database\") lists: GRANT "
         "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, CREATE ROUTINE, ALTER "
         "ROUTINE, EXECUTE ON <database>.* TO <user>";
}

}  // namespace

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
      if (isPrivilegeError(failure.code)) {
        std::rethrow_exception(
            ServerFailure(failure.code, failure.sqlstate, failure.what() + privilegeHint(s.text))
                .toStorageError(where));
      }
      std::rethrow_exception(failure.toStorageError(where));
    }
    if (after_each) after_each();
  }
}

}  // namespace qtopology::detail
