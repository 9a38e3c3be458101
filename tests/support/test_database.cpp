#include "test_database.hpp"

#include <cppconn/connection.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>
#include <mysql_driver.h>
#include "core/logging.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>

#include "mysql/migrator.hpp"
#include "mysql/script_runner.hpp"
#include "mysql/session_options.hpp"

namespace qtopology::testing {
std::unique_ptr<sql::Connection> connectRaw(const MySqlOptions& o) {
  // As the library's sessions are opened, TLS included.
  const MySqlOptions::Endpoint endpoint{o.host, o.port};
  auto map = detail::connectorOptions(o, o.unix_socket.empty() ? &endpoint : nullptr,
                                      std::chrono::seconds(0));
  return std::unique_ptr<sql::Connection>(sql::mysql::get_mysql_driver_instance()->connect(map));
}

namespace {

std::string databaseNameForCurrentTest() {
  std::string base = "qt";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    base += std::string("_") + info->test_suite_name() + "_" + info->name();
  }
  for (char& c : base) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  base = base.substr(0, 48);
  std::random_device random;
  return base + "_" + std::to_string(random() % 1000000);
}

// The GRANT statement README.md documents for the application user, so that
// the least-privilege tier runs with exactly what users are told to grant.
std::string documentedGrant(const std::string& database, const std::string& user) {
  std::ifstream readme(std::string(QTOPOLOGY_SOURCE_DIR) + "/README.md");
  const std::string marker = " ON app.* TO 'qtopology'@'%';";
  for (std::string line; std::getline(readme, line);) {
    const auto at = line.find(marker);
    if (line.rfind("GRANT ", 0) != 0 || at == std::string::npos) continue;
    return line.substr(0, at) + " ON `" + database + "`.* TO '" + user + "'@'%'";
  }
  throw std::runtime_error("README.md documents no GRANT ... ON app.* TO 'qtopology'@'%';");
}

}  // namespace

std::string serverUrl() {
  if (const char* url = std::getenv("QTOPOLOGY_TEST_MYSQL_URL"); url && *url) return url;
  if (const char* dir = std::getenv("QTOPOLOGY_TEST_SERVER_DIR"); dir && *dir) {
    std::ifstream file(std::string(dir) + "/url");
    std::string url;
    if (std::getline(file, url) && !url.empty()) return url;
  }
  throw std::runtime_error(
      "no test server: set QTOPOLOGY_TEST_MYSQL_URL or run the tests through ctest, whose "
      "fixture starts a private mariadbd");
}

long long freshUpgradeCount() {
  const auto& upgrades = detail::upgradeScripts();
  return std::count_if(upgrades.begin(), upgrades.end(), [&](const auto& script) {
    return !detail::skipsScript(upgrades, 0, script);
  });
}

TestDatabase::TestDatabase() : name_(databaseNameForCurrentTest()) {
  connection_ = connectRaw(MySqlOptions::fromUrl(serverUrl()));
  // A plain CREATE DATABASE, as users make theirs: the server's default
  // character set, latin1 on a stock MariaDB.
  exec("CREATE DATABASE `" + name_ + "`");
  connection_->setSchema(name_);
  if (const char* least = std::getenv("QTOPOLOGY_TEST_LEAST_PRIVILEGE"); least && *least == '1') {
    std::random_device random;
    app_user_ = "app" + std::to_string(random() % 100000000);
    app_password_ = "pw" + std::to_string(random()) + std::to_string(random());
    exec("CREATE USER '" + app_user_ + "'@'%' IDENTIFIED BY '" + app_password_ + "'" +
         (MySqlOptions::fromUrl(serverUrl()).ssl_ca.empty() ? "" : " REQUIRE SSL"));
    exec(documentedGrant(name_, app_user_));
  }
}

TestDatabase::~TestDatabase() {
  try {
    if (!app_user_.empty()) exec("DROP USER IF EXISTS '" + app_user_ + "'@'%'");
    exec("DROP DATABASE IF EXISTS `" + name_ + "`");
  } catch (const std::exception&) {
    // The server may be down on purpose; the harness removes its data dir.
  }
}

MySqlOptions TestDatabase::options() const {
  auto o = MySqlOptions::fromUrl(serverUrl());
  o.database = name_;
  if (!app_user_.empty()) {
    o.user = app_user_;
    o.password = app_password_;
  }
  o.retries = 3;
  o.retry_timeout = std::chrono::milliseconds(200);
  return o;
}

std::string TestDatabase::url() const {
  std::string base = serverUrl();
  const auto query = base.find('?');
  std::string tail = query == std::string::npos ? "" : base.substr(query);
  base = base.substr(0, query);
  if (base.empty() || base.back() != '/') base += '/';
  if (!app_user_.empty()) {  // the generated names need no percent-encoding
    const auto credentials = base.find("://") + 3;
    base = base.substr(0, credentials) + app_user_ + ":" + app_password_ +
           base.substr(base.rfind('@'));
  }
  return base + name_ + tail;
}

void TestDatabase::exec(const std::string& statement) {
  std::unique_ptr<sql::Statement> s(connection_->createStatement());
  s->execute(statement);
  // A CALL answers with result sets and a status: all must be read before
  // the session can run anything else.
  do {
    std::unique_ptr<sql::ResultSet> ignored(s->getResultSet());
  } while (s->getMoreResults());
}

std::string TestDatabase::scalar(const std::string& query, unsigned column) {
  std::unique_ptr<sql::Statement> s(connection_->createStatement());
  std::unique_ptr<sql::ResultSet> rs(s->executeQuery(query));
  if (!rs->next()) return "";
  return rs->isNull(column) ? "NULL" : std::string(rs->getString(column));
}

long long TestDatabase::count(const std::string& table, const std::string& where) {
  return std::stoll(scalar("SELECT COUNT(*) FROM " + table + " WHERE " + where));
}

std::string TestDatabase::dataChecksum() {
  return scalar("CHECKSUM TABLE qtopology_worker", 2) + " " + checksumBesideWorkers();
}

std::string TestDatabase::dataChecksumIgnoringPings() {
  return scalar(
             "SELECT GROUP_CONCAT(CONCAT_WS('/', name, status, lstatus, COALESCE(pid, '-')) "
             "ORDER BY name) FROM qtopology_worker") +
         " " + checksumBesideWorkers();
}

std::string TestDatabase::checksumBesideWorkers() {
  std::string out;
  for (const char* table : {"qtopology_topology", "qtopology_message", "qtopology_worker_history",
                            "qtopology_topology_history"}) {
    out += scalar(std::string("CHECKSUM TABLE ") + table, 2) + " ";
  }
  return out;
}

void TestDatabase::runScript(const detail::EmbeddedScript& script) {
  detail::runSqlScript(*connection_, script, detail::RetryPolicy(0, std::chrono::milliseconds(0)),
                       detail::loggerOr(nullptr));
}

std::string sqlBytes(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string hex;
  for (unsigned char c : value) {
    hex += kHex[c >> 4];
    hex += kHex[c & 0xF];
  }
  return "convert(x'" + hex + "' using utf8mb4)";
}

}  // namespace qtopology::testing
