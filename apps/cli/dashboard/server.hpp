// The dashboard's HTTP server: the page, qtopology's API, /health and
// /metrics, behind the access rules.
#pragma once

#include <memory>
#include <string>

#include <qtopology/coordination_storage.hpp>

#include "access_policy.hpp"

namespace spdlog {
class logger;
}

namespace qtopology::cli::dashboard {

struct ServerSettings {
  ListenAddress listen;
  std::string token;  // empty: none
  bool read_only = false;
  // The schema version this build works with: /health compares the storage's
  // "schema_version" property with it.
  int expected_schema_version = 0;
};

class Server {
 public:
  // Binds at once; throws std::runtime_error when the address is taken or
  // cannot be bound.
  Server(CoordinationStorage& storage, const ServerSettings& settings,
         std::shared_ptr<spdlog::logger> log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  // "open", "token" or "refused" (see AccessPolicy::writeMode).
  std::string writeMode() const;
  // Serves until stop() (from another thread).
  void run();
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qtopology::cli::dashboard
