#include "cluster.hpp"

#include <cppconn/connection.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>
#include <mysql_driver.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

namespace qtopology::galera {
namespace {

std::string clusterDir() {
  const char* dir = std::getenv("QTOPOLOGY_GALERA_DIR");
  if (!dir || !*dir) {
    throw std::runtime_error("QTOPOLOGY_GALERA_DIR is not set: run the galera tests through ctest");
  }
  return dir;
}

std::string databaseNameForCurrentTest() {
  std::string base = "qg";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    base += std::string("_") + info->test_suite_name() + "_" + info->name();
  }
  for (char& c : base) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  std::random_device random;
  return base.substr(0, 48) + "_" + std::to_string(random() % 1000000);
}

}  // namespace

std::vector<std::string> nodeUrls() {
  std::ifstream file(clusterDir() + "/urls");
  std::vector<std::string> urls;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty()) urls.push_back(line);
  }
  if (urls.size() != kNodes) throw std::runtime_error("the cluster dir lists no three URLs");
  return urls;
}

void clusterScript(const std::string& action, int node) {
  const std::string command = std::string(QTOPOLOGY_GALERA_SCRIPT) + " " + action + " '" +
                              clusterDir() + "' " + std::to_string(node + 1);
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

ClusterDatabase::ClusterDatabase()
    : name_(databaseNameForCurrentTest()), urls_(nodeUrls()), sessions_(kNodes) {
  exec(0, "CREATE DATABASE `" + name_ + "`");  // the servers' default character set, as users do
  // The originator returns from DDL before the other nodes ran it.
  for (int node = 1; node < kNodes; ++node) {
    for (int attempt = 0;; ++attempt) {
      std::unique_ptr<sql::Statement> s(session(node).createStatement());
      std::unique_ptr<sql::ResultSet> rs(s->executeQuery(
          "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '" + name_ + "'"));
      if (rs->next() && rs->getInt(1) == 1) break;
      if (attempt == 100) {
        throw std::runtime_error("database " + name_ + " did not reach node " +
                                 std::to_string(node));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

ClusterDatabase::~ClusterDatabase() {
  for (int node = 0; node < kNodes; ++node) {
    try {
      exec(node, "DROP DATABASE IF EXISTS `" + name_ + "`");
      return;
    } catch (const std::exception&) {
      // That node may be down; the next one drops it for all.
    }
  }
}

MySqlOptions ClusterDatabase::nodeOptions(int node) const {
  auto o = MySqlOptions::fromUrl(urls_.at(node));
  o.database = name_;
  // Elections on different nodes conflict at commit (1213) and retry: a
  // budget for heavy contention, with short waits.
  o.retries = 40;
  o.retry_timeout = std::chrono::milliseconds(300);
  o.connect_timeout = std::chrono::seconds(2);
  return o;
}

MySqlOptions ClusterDatabase::clusterOptions(int first) const {
  auto o = nodeOptions(first);
  for (int i = 0; i < kNodes; ++i) {
    const auto node = MySqlOptions::fromUrl(urls_.at((first + i) % kNodes));
    o.hosts.push_back({node.host, node.port});
  }
  return o;
}

std::string ClusterDatabase::url(int node) const { return urls_.at(node) + name_; }

sql::Connection& ClusterDatabase::session(int node) {
  auto& s = sessions_.at(node);
  if (!s) {
    const auto o = MySqlOptions::fromUrl(urls_.at(node));
    sql::ConnectOptionsMap map;
    map["hostName"] = sql::SQLString(o.host);
    map["port"] = static_cast<int>(o.port);
    map["userName"] = sql::SQLString(o.user);
    map["password"] = sql::SQLString(o.password);
    map["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
    map["OPT_CONNECT_TIMEOUT"] = 5;
    map["OPT_READ_TIMEOUT"] = 60;
    s.reset(sql::mysql::get_mysql_driver_instance()->connect(map));
    std::unique_ptr<sql::Statement> statement(s->createStatement());
    statement->execute("SET SESSION wsrep_sync_wait = 1");
  }
  return *s;
}

void ClusterDatabase::reconnect(int node) { sessions_.at(node).reset(); }

void ClusterDatabase::exec(int node, const std::string& statement) {
  std::unique_ptr<sql::Statement> s(session(node).createStatement());
  s->execute(statement);
  do {
    std::unique_ptr<sql::ResultSet> ignored(s->getResultSet());
  } while (s->getMoreResults());
}

std::vector<std::string> ClusterDatabase::column(int node, const std::string& query) {
  auto& connection = session(node);
  if (connection.getSchema() != name_) connection.setSchema(name_);
  std::unique_ptr<sql::Statement> s(connection.createStatement());
  std::unique_ptr<sql::ResultSet> rs(s->executeQuery(query));
  std::vector<std::string> out;
  while (rs->next()) out.push_back(rs->isNull(1) ? "NULL" : std::string(rs->getString(1)));
  return out;
}

std::string ClusterDatabase::scalar(int node, const std::string& query) {
  const auto values = column(node, query);
  return values.empty() ? std::string() : values.front();
}

}  // namespace qtopology::galera
