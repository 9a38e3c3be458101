#include "connection_pool.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <qtopology/coordination_storage.hpp>

#include <utility>

namespace qtopology::detail {

// Stored procedures run with the sql_mode they were created under, and our
// own statements with the session's: pin one strict mode that both MariaDB
// and MySQL 8 understand, so bad data fails instead of being truncated.
constexpr const char* kSessionSetup =
    "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
    "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";

PooledConnection::PooledConnection(std::unique_ptr<sql::Connection> connection)
    : connection_(std::move(connection)) {}

PooledConnection::~PooledConnection() {
  statements_.clear();  // statements before the session they belong to
}

sql::PreparedStatement& PooledConnection::prepared(const std::string& sql_text) {
  auto it = statements_.find(sql_text);
  if (it == statements_.end()) {
    std::unique_ptr<sql::PreparedStatement> statement(connection_->prepareStatement(sql_text));
    it = statements_.emplace(sql_text, std::move(statement)).first;
  }
  return *it->second;
}

ConnectionPool::Lease::Lease(ConnectionPool& pool, std::unique_ptr<PooledConnection> connection)
    : pool_(&pool), connection_(std::move(connection)) {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}

ConnectionPool::Lease::~Lease() {
  if (pool_) pool_->giveBack(std::move(connection_));
}

ConnectionPool::ConnectionPool(const MySqlOptions& options)
    : options_(options), driver_(sql::mysql::get_mysql_driver_instance()) {}

ConnectionPool::~ConnectionPool() = default;

std::unique_ptr<sql::Connection> ConnectionPool::connect(std::chrono::seconds read_timeout) const {
  sql::ConnectOptionsMap o;
  if (!options_.unix_socket.empty()) {
    o["socket"] = sql::SQLString(options_.unix_socket);
    o["hostName"] = sql::SQLString("localhost");
  } else {
    o["hostName"] = sql::SQLString(options_.host);
    o["port"] = static_cast<int>(options_.port);
  }
  o["userName"] = sql::SQLString(options_.user);
  o["password"] = sql::SQLString(options_.password);
  if (!options_.database.empty()) o["schema"] = sql::SQLString(options_.database);
  o["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  o["OPT_RECONNECT"] = false;  // a silent reconnect would lose session state: we reconnect
  o["OPT_CONNECT_TIMEOUT"] = static_cast<int>(options_.connect_timeout.count());
  if (read_timeout.count() > 0) {
    o["OPT_READ_TIMEOUT"] = static_cast<int>(read_timeout.count());
    o["OPT_WRITE_TIMEOUT"] = static_cast<int>(read_timeout.count());
  }
  if (!options_.ssl_ca.empty()) o["sslCA"] = sql::SQLString(options_.ssl_ca);
  if (!options_.ssl_cert.empty()) o["sslCert"] = sql::SQLString(options_.ssl_cert);
  if (!options_.ssl_key.empty()) o["sslKey"] = sql::SQLString(options_.ssl_key);

  std::unique_ptr<sql::Connection> connection;
  {
    std::lock_guard<std::mutex> lock(connect_mutex_);
    connection.reset(driver_->connect(o));
  }
  std::unique_ptr<sql::Statement> setup(connection->createStatement());
  setup->execute(kSessionSetup);
  return connection;
}

ConnectionPool::Lease ConnectionPool::acquire() {
  const auto wait_limit = options_.connect_timeout + options_.read_timeout;
  std::unique_lock<std::mutex> lock(mutex_);
  const bool got_slot = returned_.wait_for(
      lock, wait_limit, [this] { return !idle_.empty() || open_ < options_.pool_size; });
  if (!got_slot) {
    throw ConnectionError("connection pool: all " + std::to_string(options_.pool_size) +
                          " connections stayed busy for " + std::to_string(wait_limit.count()) +
                          " s");
  }
  if (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(connection));
  }
  ++open_;
  lock.unlock();
  try {
    return Lease(*this, std::make_unique<PooledConnection>(connect(options_.read_timeout)));
  } catch (...) {
    giveBack(nullptr);
    throw;
  }
}

void ConnectionPool::giveBack(std::unique_ptr<PooledConnection> connection) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (connection) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;
    }
  }
  returned_.notify_one();
}

}  // namespace qtopology::detail
