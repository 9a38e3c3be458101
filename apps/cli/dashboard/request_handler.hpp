// What the dashboard answers to one request, apart from how requests arrive:
// the access rules in order (method, Host, token, origin, content type), the
// page's files, the API, /health and /metrics.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <qtopology/coordination_storage.hpp>

#include "access_policy.hpp"
#include "tracked_storage.hpp"

namespace spdlog {
class logger;
}

namespace qtopology::cli::dashboard {

// A request as the transport read it: the target as sent (not decoded:
// no route or file has a name that needs decoding), the headers the rules
// look at, the body whole.
struct Request {
  std::string method;
  std::string target;
  std::string host;
  std::string origin;
  std::string content_type;
  std::string token;  // presentedToken() of the request's headers
  std::string body;
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond the security headers
};

// The headers every answer carries: the page runs only its own files, no
// inline script, nothing from elsewhere, and is never framed or cached.
const std::vector<std::pair<std::string, std::string>>& securityHeaders();

// A JSON error answer, {"error": message}.
Reply errorReply(int status, const std::string& message);

class RequestHandler {
 public:
  RequestHandler(CoordinationStorage& storage, AccessPolicy policy, int expected_schema_version,
                 std::shared_ptr<spdlog::logger> log);

  // Thread-safe; never throws for anything a request holds (storage
  // failures become 4xx/5xx answers).
  Reply handle(const Request& request);

  // /health and /metrics: served by their own thread.
  static bool isMonitoring(const std::string& target);

  // Whether a request with these headers may send a large body: a
  // register-topology that holds the write credential.
  bool mayCarryLargeBody(const std::string& method, const std::string& target,
                         const std::string& token) const;

  const AccessPolicy& policy() const { return policy_; }

 private:
  Reply get(const std::string& path);
  Reply post(const Request& request, const std::string& path);

  TrackedStorage tracked_;
  AccessPolicy policy_;
  int expected_schema_version_;
  std::shared_ptr<spdlog::logger> log_;
};

// The path of a request target: up to '?' or '#'.
std::string pathOf(const std::string& target);

}  // namespace qtopology::cli::dashboard
