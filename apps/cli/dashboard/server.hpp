// The dashboard's HTTP(S) server: the page, qtopology's API, /health and
// /metrics, behind the access rules, with every request bounded in size and
// time whatever the client does.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <qtopology/coordination_storage.hpp>

#include "access_policy.hpp"

namespace spdlog {
class logger;
}

namespace qtopology::cli::dashboard {

// What one client may make the server hold. A request past a limit is
// answered with an error (413, 431, 503) or its connection closed.
struct RequestLimits {
  // The request line and all header lines together, and their count.
  std::size_t header_bytes = 32 * 1024;
  std::size_t header_fields = 100;
  // A body, whatever its transfer encoding. Only register-topology, sent
  // with the right token (or to a server with open writes), may carry a
  // large one: a topology's config (a mediumtext column); every other call
  // takes a few fields.
  std::size_t small_body_bytes = 64 * 1024;
  std::size_t large_body_bytes = 16 * 1024 * 1024;
  // Large bodies being read at once; one more is answered with 503.
  std::size_t large_bodies_at_once = 2;
  // From the first byte of a request (or the end of the previous answer on
  // a kept-alive connection) to its last: headers and body. Also bounds
  // writing the answer and a TLS handshake.
  std::chrono::milliseconds request_deadline{30000};
  // Connections beyond this are answered 503 and closed at once. Of these,
  // reservedSlots() are kept for requests with the token and for /health
  // and /metrics.
  std::size_t max_connections = 128;
};

// The connection slots anonymous clients cannot take: an eighth of
// `max_connections`, at least one (none when there is only one).
constexpr std::size_t reservedSlots(std::size_t max_connections) {
  return max_connections <= 1 ? 0 : std::max<std::size_t>(1, max_connections / 8);
}

struct ServerSettings {
  ListenAddress listen;
  // Empty: writes need no token (--open-writes, loopback only).
  std::string token;
  bool read_only = false;
  // --open-reads: reads on loopback need no token (see AccessRules).
  bool open_reads = false;
  // --public-host names (see AccessPolicy).
  std::vector<std::string> public_hosts;
  // PEM files; both empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // The schema version this build works with: /health compares the storage's
  // "schema_version" property with it.
  int expected_schema_version = 0;
  RequestLimits limits;
  // Threads that call the storage for API requests; /health and /metrics
  // have a thread of their own, so they answer while API calls wait.
  std::size_t api_threads = 4;
};

class Server {
 public:
  // Loads the TLS files and binds at once; throws std::runtime_error when a
  // file cannot be used or the address is taken or cannot be bound.
  Server(CoordinationStorage& storage, const ServerSettings& settings,
         std::shared_ptr<spdlog::logger> log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  bool tls() const;
  // "open", "token" or "refused" (see AccessPolicy::writeMode).
  std::string writeMode() const;
  // Serves until stop() (from another thread, or a signal handler thread).
  void run();
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qtopology::cli::dashboard
