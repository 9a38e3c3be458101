// A fixed-size pool of server sessions, each with its prepared statements.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include <qtopology/mysql_options.hpp>

namespace sql {
class Connection;
class Driver;
class PreparedStatement;
}  // namespace sql

namespace qtopology::detail {

// One server session. Statements are prepared once per session and reused;
// they die with it.
class PooledConnection {
 public:
  explicit PooledConnection(std::unique_ptr<sql::Connection> connection);
  ~PooledConnection();
  sql::PreparedStatement& prepared(const std::string& sql_text);
  sql::Connection& session() { return *connection_; }

 private:
  std::unique_ptr<sql::Connection> connection_;
  std::unordered_map<std::string, std::unique_ptr<sql::PreparedStatement>> statements_;
};

class ConnectionPool {
 public:
  explicit ConnectionPool(const MySqlOptions& options);
  ~ConnectionPool();

  // Exclusive use of one connection until destroyed; then it goes back to the
  // pool, unless discard() was called because the session broke.
  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<PooledConnection> connection);
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PooledConnection* operator->() { return connection_.get(); }
    void discard() { connection_.reset(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<PooledConnection> connection_;
  };

  // Blocks while all pool_size connections are in use; opens one lazily.
  // Throws sql::SQLException when connecting fails, ConnectionError when no
  // connection is returned within the options' connect+read timeouts.
  Lease acquire();

  // A session outside the pool (the migrator's). read_timeout 0 = none.
  std::unique_ptr<sql::Connection> connect(std::chrono::seconds read_timeout) const;

 private:
  void giveBack(std::unique_ptr<PooledConnection> connection);

  const MySqlOptions& options_;
  sql::Driver* driver_;
  mutable std::mutex connect_mutex_;  // the driver's connect is not documented thread-safe
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<PooledConnection>> idle_;
  std::size_t open_ = 0;  // idle + leased
};

}  // namespace qtopology::detail
