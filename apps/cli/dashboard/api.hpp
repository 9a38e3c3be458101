// qtopology's dashboard API (Node qtopology 2.3.2, dashboard_server.js): the
// same handler names, request bodies and response shapes, so the upstream page
// and tools written for it work against this server unchanged.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <qtopology/coordination_storage.hpp>

#include "tracked_storage.hpp"

namespace qtopology::cli::dashboard {

// A request the API refuses before touching the storage: bad JSON, a missing
// or mistyped field. Answered with `status` and {"error": what()}.
class RequestError : public std::runtime_error {
 public:
  RequestError(int http_status, const std::string& message)
      : std::runtime_error(message), status(http_status) {}
  int status;
};

struct ApiRoute {
  std::string_view name;  // the path without its leading '/'
  bool writes;            // changes the storage: subject to the write rules
  Json (*handle)(TrackedStorage& storage, const Json& body);
};

// The route called `name`, or nullptr.
const ApiRoute* findApiRoute(std::string_view name);

// Parses a request body: empty means {}; anything else must be a JSON
// object. Throws RequestError(400).
Json parseBody(const std::string& text);

}  // namespace qtopology::cli::dashboard
