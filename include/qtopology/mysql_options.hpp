// Connection settings of MySqlCoordinator.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace spdlog {
class logger;
}

namespace qtopology {

struct MySqlOptions {
  struct Endpoint {
    std::string host;
    unsigned port = 3306;
  };

  std::string host = "127.0.0.1";
  unsigned port = 3306;
  // The servers of a multi-primary cluster (Galera), or several routers in
  // front of one; when not empty, used instead of host and port. Every one
  // must accept writes to the same data. A new connection goes to the server
  // that took the last one, else to the next in this order (each try bounded
  // by connect_timeout); a server that breaks a connection loses its idle
  // ones and the preference, so the pool moves to the next.
  std::vector<Endpoint> hosts;
  std::string unix_socket;  // when set, used instead of host, port and hosts
  std::string database;     // must exist; the library creates tables, not databases
  std::string user;
  std::string password;

  // Connections opened at most; each serves one call at a time.
  std::size_t pool_size = 4;

  // Transient failures (connection lost or refused, deadlock, lock wait
  // timeout, Galera node not ready) are retried up to `retries` times, waiting
  // 50 ms, 100 ms, ... but never longer than `retry_timeout` between tries.
  // The defaults ride out a server restart of about ten seconds.
  int retries = 12;
  std::chrono::milliseconds retry_timeout{2000};

  std::chrono::seconds connect_timeout{5};
  // A reply slower than this counts as a lost connection (0 = wait forever).
  std::chrono::seconds read_timeout{30};

  // Only check that the schema is at the latest version; change nothing.
  bool db_check_only = false;

  // TLS: a CA file turns it on.
  std::string ssl_ca;
  std::string ssl_cert;
  std::string ssl_key;

  // Where to log; nullptr means spdlog's default logger. spdlog::logger is
  // only declared here: setting one needs <spdlog/spdlog.h> and spdlog on the
  // application's side, leaving it empty needs neither.
  std::shared_ptr<spdlog::logger> logger;

  // `hosts`, or else host and port alone.
  std::vector<Endpoint> endpoints() const;

  // mysql://user:password@host:port/database?pool_size=8&socket=/path&check_only=1
  // Several servers: mysql://user:password@h1:3306,h2:3307,[::1]:3308/database
  // fills `hosts` (and host and port with the first); one server leaves
  // `hosts` empty. Parts are percent-decoded. Other query keys: retries, retry_timeout_ms,
  // connect_timeout_s, read_timeout_s, ssl_ca, ssl_cert, ssl_key.
  // Throws InvalidArgument naming the bad part (never echoing the password).
  static MySqlOptions fromUrl(std::string_view url);
};

}  // namespace qtopology
