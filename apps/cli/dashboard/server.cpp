#include "server.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "api.hpp"
#include "assets.hpp"
#include "monitoring.hpp"
#include "tracked_storage.hpp"

namespace qtopology::cli::dashboard {
namespace {

// A topology's config may be large (the column is a mediumtext).
constexpr std::size_t kMaxBody = 16 * 1024 * 1024;

void sendJson(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  // Replace, not throw, should a stored value hold invalid UTF-8.
  res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

void sendError(httplib::Response& res, int status, const std::string& message) {
  sendJson(res, status, {{"error", message}});
}

bool startsWithNoCase(const std::string& text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

// Why httplib itself refused a request.
std::string refusalText(int status) {
  if (status == 413) return "the request body is too large";
  if (status == 414) return "the request URI is too long";
  if (status == 400) return "malformed HTTP request";
  return "HTTP error " + std::to_string(status);
}

int statusFor(const std::exception& e) {
  if (const auto* request = dynamic_cast<const RequestError*>(&e)) return request->status;
  const auto kind = errorKind(e);
  if (kind == "NotFoundError") return 404;
  if (kind == "InvalidArgument") return 400;
  if (kind == "ConnectionError" || kind == "SchemaError") return 503;
  return 500;
}

// The page runs only its own files: no inline script, nothing from elsewhere.
const httplib::Headers kSecurityHeaders = {
    {"Content-Security-Policy",
     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-store"},
};

}  // namespace

class Server::Impl {
 public:
  Impl(CoordinationStorage& storage, const ServerSettings& settings,
       std::shared_ptr<spdlog::logger> log)
      : tracked_(storage),
        policy_(isLoopback(settings.listen.host), settings.token, settings.read_only),
        expected_schema_version_(settings.expected_schema_version),
        log_(std::move(log)) {
    // httplib's default, SO_REUSEPORT, would let a second server (anyone's
    // of this user) share the port and take half of the requests.
    http_.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    http_.set_default_headers(kSecurityHeaders);
    http_.set_payload_max_length(kMaxBody);
    http_.set_pre_routing_handler([this](const auto& req, auto& res) { return screen(req, res); });
    http_.Get(".*", [this](const auto& req, auto& res) { get(req, res); });
    http_.Post(".*", [this](const auto& req, auto& res) { post(req, res); });
    http_.set_error_handler([](const auto&, auto& res) {
      // httplib's own refusals (malformed request, body too large) come
      // with an empty body; ours already carry JSON.
      if (res.body.empty()) sendError(res, res.status, refusalText(res.status));
    });
    http_.set_logger([this](const auto& req, const auto& res) {
      // Method, path and status only: bodies and headers may hold tokens.
      log_->info("{} {} {}", req.method, req.path, res.status);
    });
    const auto& host = settings.listen.host;
    if (settings.listen.port == 0) {
      port_ = http_.bind_to_any_port(host);
    } else if (http_.bind_to_port(host, settings.listen.port)) {
      port_ = settings.listen.port;
    }
    if (port_ <= 0) {
      throw std::runtime_error("cannot listen on " + host + ":" +
                               std::to_string(settings.listen.port) +
                               " (address in use, or not one of this machine's)");
    }
  }

  int port() const { return port_; }
  std::string writeMode() const { return policy_.writeMode(); }
  void run() { http_.listen_after_bind(); }
  void stop() { http_.stop(); }

 private:
  using Handled = httplib::Server::HandlerResponse;

  Handled screen(const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET" && req.method != "HEAD" && req.method != "POST") {
      res.set_header("Allow", "GET, HEAD, POST");
      sendError(res, 405, "method " + req.method + " is not used here");
      return Handled::Handled;
    }
    if (auto why = policy_.refuseHost(req.get_header_value("Host"))) {
      sendError(res, 403, *why);
      return Handled::Handled;
    }
    return Handled::Unhandled;
  }

  void get(const httplib::Request& req, httplib::Response& res) {
    const std::string path = req.path == "/" ? "/index.html" : req.path;
    for (const auto& asset : assets()) {
      if (asset.path == path) {
        res.set_content(std::string(asset.content), std::string(asset.content_type).c_str());
        return;
      }
    }
    if (path == "/health") {
      auto health = checkHealth(tracked_, expected_schema_version_);
      health.body["writes"] = policy_.writeMode();
      return sendJson(res, health.http_status, health.body);
    }
    if (path == "/metrics") {
      return res.set_content(prometheusMetrics(tracked_), "text/plain; version=0.0.4");
    }
    if (findApiRoute(std::string_view(path).substr(1))) {
      res.set_header("Allow", "POST");
      return sendError(res, 405, path + " is an API call: POST a JSON body");
    }
    sendError(res, 404, "no such page: " + req.path);
  }

  void post(const httplib::Request& req, httplib::Response& res) {
    const auto* route = findApiRoute(std::string_view(req.path).substr(1));
    if (!route) return sendError(res, 404, "no such API call: " + req.path);
    if (route->writes) {
      if (auto why = refuseWrite(req)) return sendError(res, why->first, why->second);
    }
    try {
      sendJson(res, 200, route->handle(tracked_, parseBody(req.body)));
    } catch (const std::exception& e) {
      const int status = statusFor(e);
      if (status >= 500) log_->warn("{} failed: {}", req.path, e.what());
      sendError(res, status, e.what());
    }
  }

  // Status and reason when a write must not happen.
  std::optional<std::pair<int, std::string>> refuseWrite(const httplib::Request& req) const {
    if (auto why = policy_.refuseWrite(req.get_header_value(kTokenHeader))) {
      return std::make_pair(403, *why);
    }
    if (!sameOrigin(req.get_header_value("Origin"), req.get_header_value("Host"))) {
      return std::make_pair(403, std::string("cross-origin write refused"));
    }
    // HTML forms cannot send this type across sites without a CORS
    // preflight, which this server never grants.
    if (!startsWithNoCase(req.get_header_value("Content-Type"), "application/json")) {
      return std::make_pair(415, std::string("write actions take a JSON body "
                                             "(Content-Type: application/json)"));
    }
    return std::nullopt;
  }

  TrackedStorage tracked_;
  AccessPolicy policy_;
  int expected_schema_version_;
  std::shared_ptr<spdlog::logger> log_;
  httplib::Server http_;
  int port_ = -1;
};

Server::Server(CoordinationStorage& storage, const ServerSettings& settings,
               std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>(storage, settings, std::move(log))) {}
Server::~Server() = default;
int Server::port() const { return impl_->port(); }
std::string Server::writeMode() const { return impl_->writeMode(); }
void Server::run() { impl_->run(); }
void Server::stop() { impl_->stop(); }

}  // namespace qtopology::cli::dashboard
