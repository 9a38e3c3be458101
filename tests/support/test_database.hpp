// A private database per test, on the harness's server or on
// QTOPOLOGY_TEST_MYSQL_URL. Created empty by a plain CREATE DATABASE,
// dropped when the test ends.
#pragma once

#include <memory>
#include <string>

#include <qtopology/mysql_options.hpp>

#include "mysql/embedded_scripts.hpp"

namespace sql {
class Connection;
}

namespace qtopology::testing {

// The server URL without a database (mysql://user:pass@host:port/).
std::string serverUrl();

// How many upgrade files a fresh database runs: every vN.sql compiled in but
// those a later file replaces.
long long freshUpgradeCount();

// A plain Connector/C++ session (utf8mb4) to the options' first server and
// database, for arranging and inspecting state behind the library's back.
std::unique_ptr<sql::Connection> connectRaw(const MySqlOptions& options);

// "convert(x'...' using utf8mb4)": a SQL text literal of any bytes, for rows
// written as another writer would (control characters, invalid UTF-8).
std::string sqlBytes(const std::string& value);

class TestDatabase {
 public:
  // The name is derived from the running gtest test, plus a random suffix.
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& name() const { return name_; }
  // Options pointing at this database, with a short retry budget so a broken
  // test fails fast.
  MySqlOptions options() const;
  // The URL of this database, for child processes.
  std::string url() const;

  // Direct SQL, for arranging and inspecting state behind the library's back.
  void exec(const std::string& statement);
  // A column (1-based) of the first row; "NULL" for NULL, "" when no row.
  std::string scalar(const std::string& query, unsigned column = 1);
  long long count(const std::string& table, const std::string& where = "1=1");
  // CHECKSUM TABLE of the five data tables (not the settings): equal before
  // and after a call means it wrote no row.
  std::string dataChecksum();
  // The same but for the workers' last_ping, which a sitting leader's
  // fencing check refreshes once a second has passed.
  std::string dataChecksumIgnoringPings();
  // One of the library's db/*.sql scripts, run the library's way, no retries.
  void runScript(const detail::EmbeddedScript& script);

 private:
  std::string checksumBesideWorkers();  // the four data tables but qtopology_worker
  std::string name_;
  // With QTOPOLOGY_TEST_LEAST_PRIVILEGE=1: a user of this database alone,
  // with README's grants, which options() and url() then name; the test's
  // own session keeps the server URL's user.
  std::string app_user_;
  std::string app_password_;
  std::unique_ptr<sql::Connection> connection_;
};

}  // namespace qtopology::testing
