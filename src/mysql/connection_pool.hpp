// A fixed-size pool of server sessions, each with its prepared statements.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
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

class BulkReadSession;

// A session and the server (index into MySqlOptions::endpoints()) it is on.
struct ServerSession {
  std::unique_ptr<sql::Connection> connection;
  std::size_t endpoint = 0;
  bool causal_sync = false;  // a Galera node: see PooledConnection::syncWithCluster
};

// One server session. Statements are prepared once per session and reused;
// they die with it.
class PooledConnection {
 public:
  PooledConnection(ServerSession session, const MySqlOptions& options);
  ~PooledConnection();
  sql::PreparedStatement& prepared(const std::string& sql_text);
  // For calls without parameters: a libmariadb session on the same server,
  // opened on first use and again after it broke. Throws ServerFailure.
  BulkReadSession& bulk();
  sql::Connection& session() { return *connection_; }
  std::size_t endpoint() const { return endpoint_; }
  // On a Galera node: waits until the node applied every write the cluster
  // committed so far, so that the next call sees them. Elsewhere nothing.
  void syncWithCluster();
  // Ends whatever transaction a failed call left open, on both sessions.
  // False when the session could not even do that: it must not be reused.
  bool rollBack() noexcept;

 private:
  std::unique_ptr<sql::Connection> connection_;
  std::size_t endpoint_;
  bool causal_sync_;
  std::unordered_map<std::string, std::unique_ptr<sql::PreparedStatement>> statements_;
  const MySqlOptions& options_;
  std::unique_ptr<BulkReadSession> bulk_;
};

class ConnectionPool {
 public:
  // Opens one session on `endpoint` (nullptr: the unix socket) and says
  // whether it needs the causal sync. Throws sql::SQLException.
  using Opener = std::function<std::unique_ptr<sql::Connection>(
      const MySqlOptions::Endpoint* endpoint, std::chrono::seconds read_timeout,
      bool& causal_sync)>;

  // `opener` replaces Connector/C++ in tests of the pool's own logic.
  explicit ConnectionPool(const MySqlOptions& options, Opener opener = {});
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
    // The session broke: it is closed, and so are the idle sessions on the
    // same server, which most likely broke with it.
    void discard();

   private:
    ConnectionPool* pool_;
    std::unique_ptr<PooledConnection> connection_;
  };

  // Blocks while all pool_size connections are in use; opens one lazily.
  // On Galera, the connection has seen every write committed before.
  // Throws ServerFailure (while_connecting) when connecting fails, ConnectionError when no
  // connection is returned within the options' connect+read timeouts (with
  // read_timeout 0, a reply may take forever, and so may this wait).
  Lease acquire();

  // A session outside the pool (the migrator's). read_timeout 0 = none.
  // Tries the servers in turn, starting with the one that took the last
  // session; throws the last server's ServerFailure when none is usable.
  std::unique_ptr<sql::Connection> connect(std::chrono::seconds read_timeout) const;

 private:
  ServerSession open(std::chrono::seconds read_timeout) const;
  std::unique_ptr<sql::Connection> openOn(const MySqlOptions::Endpoint* endpoint,
                                          std::chrono::seconds read_timeout,
                                          bool& causal_sync) const;
  void giveBack(std::unique_ptr<PooledConnection> connection);
  void serverBroke(std::size_t endpoint);

  const MySqlOptions& options_;
  const std::vector<MySqlOptions::Endpoint> endpoints_;
  mutable std::atomic<std::size_t> preferred_{0};
  Opener opener_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<PooledConnection>> idle_;
  std::size_t open_ = 0;  // idle + leased
};

}  // namespace qtopology::detail
