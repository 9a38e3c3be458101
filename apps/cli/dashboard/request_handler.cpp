#include "request_handler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include <qtopology/bounded_json.hpp>
#include <qtopology/text.hpp>
#include "api.hpp"
#include "assets.hpp"
#include "monitoring.hpp"

namespace qtopology::cli::dashboard {
namespace {

Reply jsonReply(int status, const Json& body) {
  Reply reply;
  reply.status = status;
  // Replace, not throw, should a stored value hold invalid UTF-8.
  reply.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return reply;
}

bool startsWithNoCase(const std::string& text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

int statusFor(const std::exception& e) {
  if (const auto* request = dynamic_cast<const RequestError*>(&e)) return request->status;
  const auto kind = errorKind(e);
  if (kind == "NotFoundError") return 404;
  if (kind == "InvalidArgument") return 400;
  if (kind == "ConnectionError" || kind == "SchemaError") return 503;
  return 500;
}

// A client's text in a log line: cut and escaped.
std::string shown(const std::string& text) {
  constexpr std::size_t kShown = 200;
  return escapeControl(text.substr(0, kShown)) + (text.size() > kShown ? "..." : "");
}

// Replaces each occurrence of `value` in `message`, or of a part of it that
// starts as it does (the storage cuts long texts), with `placeholder`.
void redact(std::string& message, const std::string& value, const std::string& placeholder) {
  constexpr std::size_t kRecognised = 16;  // a cut value still starts so
  const auto head = value.substr(0, kRecognised);
  if (head.empty()) return;
  std::size_t at = message.find(head);
  while (at != std::string::npos) {
    // Inside a word of the message's own ("o" in "topology"): not the value.
    if (at > 0 && std::isalnum(static_cast<unsigned char>(message[at - 1]))) {
      at = message.find(head, at + 1);
      continue;
    }
    std::size_t length = head.size();
    while (length < value.size() && at + length < message.size() &&
           message[at + length] == value[length]) {
      ++length;
    }
    message.replace(at, length, placeholder);
    at = message.find(head, at + placeholder.size());
  }
}

// An error of the storage names its subject (a uuid, a worker's name) as
// it was sent; the answer names the field instead ("topology not found:
// <uuid>"), as docs/dashboard.md promises.
std::string withoutSentValues(std::string message, const std::string& body) {
  Json fields;
  try {
    fields = parseBoundedJson(body, JsonLimits{64, 100000});
  } catch (const std::exception&) {
    return message;
  }
  if (!fields.is_object()) return message;
  for (const auto& [name, value] : fields.items()) {
    if (!value.is_string()) continue;
    const auto& text = value.get_ref<const std::string&>();
    const std::string placeholder = "<" + escapeControl(name.substr(0, 40)) + ">";
    redact(message, text, placeholder);
    redact(message, escapeControl(text), placeholder);
  }
  return message;
}

bool isAsset(const std::string& path) {
  const std::string file = path == "/" ? "/index.html" : path;
  return std::any_of(assets().begin(), assets().end(),
                     [&](const Asset& a) { return a.path == file; });
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& securityHeaders() {
  static const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cache-Control", "no-store"},
  };
  return headers;
}

Reply errorReply(int status, const std::string& message) {
  return jsonReply(status, {{"error", message}});
}

std::string pathOf(const std::string& target) {
  return target.substr(0, target.find_first_of("?#"));
}

RequestHandler::RequestHandler(CoordinationStorage& storage, AccessPolicy policy,
                               int expected_schema_version, std::shared_ptr<spdlog::logger> log)
    : tracked_(storage),
      policy_(std::move(policy)),
      expected_schema_version_(expected_schema_version),
      log_(std::move(log)) {}

bool RequestHandler::isMonitoring(const std::string& target) {
  const auto path = pathOf(target);
  return path == "/health" || path == "/metrics";
}

bool RequestHandler::mayCarryLargeBody(const std::string& method, const std::string& target,
                                       const std::string& token) const {
  return method == "POST" && pathOf(target) == "/register-topology" && !policy_.refuseWrite(token);
}

Reply RequestHandler::handle(const Request& request) {
  if (request.method != "GET" && request.method != "HEAD" && request.method != "POST") {
    auto reply = errorReply(405, "this method is not used here: GET, HEAD or POST");
    reply.headers.emplace_back("Allow", "GET, HEAD, POST");
    return reply;
  }
  if (auto why = policy_.refuseHost(request.host)) return errorReply(403, *why);
  const auto path = pathOf(request.target);
  // The page's files hold nothing of the cluster: a browser gets them
  // before it can send the token it finds in the page's URL.
  if (!isAsset(path)) {
    if (auto why = policy_.refuseRead(request.token)) {
      auto reply = errorReply(401, *why);
      reply.headers.emplace_back("WWW-Authenticate", "Bearer");
      return reply;
    }
  }
  try {
    return request.method == "POST" ? post(request, path) : get(path);
  } catch (const std::exception& e) {
    const int status = statusFor(e);
    if (status >= 500) log_->warn("{} failed: {}", shown(path), escapeControl(e.what()));
    // The texts of RequestError never hold what was sent; the storage's do.
    if (dynamic_cast<const RequestError*>(&e)) return errorReply(status, e.what());
    return errorReply(status, withoutSentValues(e.what(), request.body));
  }
}

Reply RequestHandler::get(const std::string& path) {
  const std::string file = path == "/" ? "/index.html" : path;
  for (const auto& asset : assets()) {
    if (asset.path == file) {
      Reply reply;
      reply.content_type = std::string(asset.content_type);
      reply.body = std::string(asset.content);
      return reply;
    }
  }
  if (path == "/health") {
    auto health = checkHealth(tracked_, expected_schema_version_);
    health.body["writes"] = policy_.writeMode();
    return jsonReply(health.http_status, health.body);
  }
  if (path == "/metrics") {
    Reply reply;
    reply.content_type = "text/plain; version=0.0.4";
    reply.body = prometheusMetrics(tracked_);
    return reply;
  }
  if (path.size() > 1 && findApiRoute(std::string_view(path).substr(1))) {
    auto reply = errorReply(405, "this path is an API call: POST a JSON body");
    reply.headers.emplace_back("Allow", "POST");
    return reply;
  }
  return errorReply(404, "no such page");
}

Reply RequestHandler::post(const Request& request, const std::string& path) {
  const auto* route = path.empty() ? nullptr : findApiRoute(std::string_view(path).substr(1));
  if (!route) return errorReply(404, "no such API call");
  if (route->writes) {
    if (auto why = policy_.refuseWrite(request.token)) return errorReply(403, *why);
    if (!sameOrigin(request.origin, request.host)) {
      return errorReply(403, "cross-origin write refused");
    }
    // HTML forms cannot send this type across sites without a CORS
    // preflight, which this server never grants.
    if (!startsWithNoCase(request.content_type, "application/json")) {
      return errorReply(415, "write actions take a JSON body (Content-Type: application/json)");
    }
  }
  return jsonReply(200, route->handle(tracked_, parseBody(request.body)));
}

}  // namespace qtopology::cli::dashboard
