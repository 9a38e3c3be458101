#include "connection_pool.hpp"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <qtopology/coordination_storage.hpp>

#include <utility>

#include "auth_guard.hpp"
#include "bulk_read_session.hpp"
#include "core/logging.hpp"
#include "server_errors.hpp"
#include "session_options.hpp"

namespace qtopology::detail {

namespace {

std::string variable(sql::Statement& statement, const char* show) {
  std::unique_ptr<sql::ResultSet> rs(statement.executeQuery(show));
  return rs->next() ? std::string(rs->getString(2)) : std::string();
}

// The statement that makes a Galera node apply every write the cluster
// committed before it (a causal read); MariaDB syntax, one round trip.
constexpr const char* kCausalSync = "SET STATEMENT wsrep_sync_wait = 1 FOR SELECT 1";

// On a Galera node (wsrep_on; MySQL and plain MariaDB skip all this): refuse
// a node outside the primary component, where every call would fail with
// 1047 until it rejoins. Returns whether calls on this session need the
// causal sync first.
//
// Galera applies a commit on the other nodes after it returns, so a call on
// another node (another pooled connection, another process) may miss a write
// already acknowledged: a topology just registered is "not found". The
// session variable wsrep_sync_wait does not help: it covers SELECT
// statements, but not the `IF EXISTS (SELECT ...)` checks our procedures
// start with. Writes need nothing: conflicts are certified cluster-wide
// (error 1213, retried).
bool prepareGaleraSession(sql::Connection& connection, const std::string& where) {
  std::unique_ptr<sql::Statement> statement(connection.createStatement());
  if (variable(*statement, "SHOW VARIABLES LIKE 'wsrep_on'") != "ON") return false;
  if (variable(*statement, "SHOW STATUS LIKE 'wsrep_ready'") != "ON") {
    // What such a node answers to every statement (retried; the pool tries
    // the next server first).
    constexpr int kWsrepNotReady = 1047;
    throw ServerFailure(kWsrepNotReady, "08S01",
                        "Galera node " + where + " is not ready (wsrep_ready=OFF)", true);
  }
  try {
    std::unique_ptr<sql::ResultSet> ignored(statement->executeQuery(kCausalSync));
    return true;
  } catch (const sql::SQLException& e) {
    if (e.getErrorCode() != 1064) throw;
  }
  // A Galera build without SET STATEMENT (not MariaDB): synchronise the
  // procedures' plain SELECTs at least.
  statement->execute("SET SESSION wsrep_sync_wait = 1");
  return false;
}

// The client library initialises itself inside its first connect, and that
// is not thread-safe; once it is done, connects may run side by side. So only
// the connects that find the library not yet initialised queue up: after a
// failover every session reconnects at once, each bounded by connect_timeout,
// and none waits behind the others.
sql::Connection* connectDriver(sql::ConnectOptionsMap& options) {
  static std::mutex first_connect;
  static std::atomic<bool> initialised{false};
  sql::Driver* driver = sql::mysql::get_mysql_driver_instance();
  if (initialised.load(std::memory_order_acquire)) return driver->connect(options);
  std::lock_guard<std::mutex> lock(first_connect);
  // A failed connect has initialised the library as well: it does that
  // before it tries the server.
  struct MarkInitialised {
    ~MarkInitialised() { initialised.store(true, std::memory_order_release); }
  } mark;
  return driver->connect(options);
}

}  // namespace

PooledConnection::PooledConnection(ServerSession session, const MySqlOptions& options)
    : connection_(std::move(session.connection)),
      endpoint_(session.endpoint),
      causal_sync_(session.causal_sync),
      options_(options) {}

void PooledConnection::syncWithCluster() {
  if (!causal_sync_) return;
  std::unique_ptr<sql::ResultSet> ignored(prepared(kCausalSync).executeQuery());
}

BulkReadSession& PooledConnection::bulk() {
  if (!bulk_ || bulk_->broken()) {
    bulk_.reset();
    const auto endpoints = options_.endpoints();
    const bool on_socket = !options_.unix_socket.empty() || endpoints.empty();
    bulk_ = std::make_unique<BulkReadSession>(options_, on_socket ? nullptr : &endpoints[endpoint_],
                                              causal_sync_);
  }
  return *bulk_;
}

bool PooledConnection::rollBack() noexcept {
  // A call on the libmariadb session failed: it is reopened anyway, but the
  // transaction it may hold ends now, not whenever the server sees it close.
  if (bulk_ && bulk_->broken()) {
    bulk_->rollBack();
    bulk_.reset();
  }
  try {
    std::unique_ptr<sql::Statement>(connection_->createStatement())->execute("ROLLBACK");
    return true;
  } catch (...) {
    return false;
  }
}

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

void ConnectionPool::Lease::discard() {
  if (!connection_) return;
  const std::size_t endpoint = connection_->endpoint();
  connection_.reset();
  if (pool_) pool_->serverBroke(endpoint);
}

ConnectionPool::ConnectionPool(const MySqlOptions& options, Opener opener)
    : options_(options), endpoints_(options.endpoints()), opener_(std::move(opener)) {
  if (!opener_) {
    opener_ = [this](const MySqlOptions::Endpoint* endpoint, std::chrono::seconds read_timeout,
                     bool& causal_sync) { return openOn(endpoint, read_timeout, causal_sync); };
  }
}

ConnectionPool::~ConnectionPool() = default;

std::unique_ptr<sql::Connection> ConnectionPool::connect(std::chrono::seconds read_timeout) const {
  return open(read_timeout).connection;
}

ServerSession ConnectionPool::open(std::chrono::seconds read_timeout) const {
  const auto openSession = [&](const MySqlOptions::Endpoint* endpoint) {
    ServerSession session;
    try {
      session.connection = opener_(endpoint, read_timeout, session.causal_sync);
    } catch (const sql::SQLException& e) {
      throw ServerFailure::whileConnecting(e);
    }
    return session;
  };
  if (!options_.unix_socket.empty() || endpoints_.empty()) return openSession(nullptr);
  const std::size_t first = preferred_.load();
  for (std::size_t i = 0;; ++i) {
    const std::size_t index = (first + i) % endpoints_.size();
    try {
      ServerSession session = openSession(&endpoints_[index]);
      session.endpoint = index;
      preferred_.store(index);
      return session;
    } catch (const ServerFailure& e) {
      if (i + 1 >= endpoints_.size()) throw;
      loggerOr(options_.logger)
          .warn("qtopology: server {} unusable ({}); trying {}",
                serverName(&endpoints_[index], options_), e.what(),
                serverName(&endpoints_[(index + 1) % endpoints_.size()], options_));
    }
  }
}

std::unique_ptr<sql::Connection> ConnectionPool::openOn(const MySqlOptions::Endpoint* endpoint,
                                                        std::chrono::seconds read_timeout,
                                                        bool& causal_sync) const {
  sql::ConnectOptionsMap o = connectorOptions(options_, endpoint, read_timeout);
  const std::string server = serverName(endpoint, options_);
  std::unique_ptr<sql::Connection> connection;
  {
    AuthPolicyScope scope(options_, server);
    connection.reset(connectDriver(o));
  }
  std::unique_ptr<sql::Statement> setup(connection->createStatement());
  setup->execute(std::string(kSessionSetup));
  // Connector/C++ does not tell whether its session is encrypted, and the
  // client library under it may have fallen back to plaintext: ask the server.
  if (tlsDemand(options_).mandatory &&
      variable(*setup, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").empty()) {
    throw plaintextRefusal(server, options_);
  }
  causal_sync = prepareGaleraSession(*connection, server);
  return connection;
}

ConnectionPool::Lease ConnectionPool::acquire() {
  const auto wait_limit = options_.connect_timeout + options_.read_timeout;
  const auto slot_free = [this] { return !idle_.empty() || open_ < options_.pool_size; };
  std::unique_lock<std::mutex> lock(mutex_);
  if (options_.read_timeout.count() == 0) {
    returned_.wait(lock, slot_free);  // the holder's reply may take forever, and so may we
  } else if (!returned_.wait_for(lock, wait_limit, slot_free)) {
    throw ConnectionError("connection pool: all " + std::to_string(options_.pool_size) +
                          " connections stayed busy for " + std::to_string(wait_limit.count()) +
                          " s");
  }
  if (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    lock.unlock();
    Lease lease(*this, std::move(connection));
    try {
      lease->syncWithCluster();
    } catch (const sql::SQLException& e) {
      // The node died or left the primary component (1047): whatever the
      // error, a session that cannot run SELECT 1 is of no use.
      lease.discard();
      throw ServerFailure::whileConnecting(e);
    }
    return lease;
  }
  ++open_;
  lock.unlock();
  try {
    // A new session is in sync already: opening it ran the causal sync.
    return Lease(*this, std::make_unique<PooledConnection>(open(options_.read_timeout), options_));
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

void ConnectionPool::serverBroke(std::size_t endpoint) {
  std::vector<std::unique_ptr<PooledConnection>> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = idle_.begin(); it != idle_.end();) {
      if ((*it)->endpoint() == endpoint) {
        dropped.push_back(std::move(*it));
        it = idle_.erase(it);
        --open_;
      } else {
        ++it;
      }
    }
  }
  // The next session starts with the next server; the broken one is tried
  // again only after the others.
  if (!endpoints_.empty()) {
    std::size_t expected = endpoint;
    preferred_.compare_exchange_strong(expected, (endpoint + 1) % endpoints_.size());
  }
  if (!dropped.empty()) returned_.notify_all();
  // `dropped` closes its sessions here, outside the lock.
}

}  // namespace qtopology::detail
