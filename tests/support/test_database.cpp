#include "test_database.hpp"

#include <cppconn/connection.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>
#include <mysql_driver.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>

#include "mysql/script_runner.hpp"

namespace qtopology::testing {
std::unique_ptr<sql::Connection> connectRaw(const MySqlOptions& o) {
  sql::ConnectOptionsMap map;
  if (!o.unix_socket.empty()) {
    map["socket"] = sql::SQLString(o.unix_socket);
    map["hostName"] = sql::SQLString("localhost");
  } else {
    map["hostName"] = sql::SQLString(o.host);
    map["port"] = static_cast<int>(o.port);
  }
  map["userName"] = sql::SQLString(o.user);
  map["password"] = sql::SQLString(o.password);
  map["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  if (!o.database.empty()) map["schema"] = sql::SQLString(o.database);
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

TestDatabase::TestDatabase() : name_(databaseNameForCurrentTest()) {
  connection_ = connectRaw(MySqlOptions::fromUrl(serverUrl()));
  exec("CREATE DATABASE `" + name_ + "` CHARACTER SET utf8mb4");
  connection_->setSchema(name_);
}

TestDatabase::~TestDatabase() {
  try {
    exec("DROP DATABASE IF EXISTS `" + name_ + "`");
  } catch (const std::exception&) {
    // The server may be down on purpose; the harness removes its data dir.
  }
}

MySqlOptions TestDatabase::options() const {
  auto o = MySqlOptions::fromUrl(serverUrl());
  o.database = name_;
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
                       *spdlog::default_logger());
}

}  // namespace qtopology::testing
