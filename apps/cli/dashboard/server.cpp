#include "server.hpp"

#include <spdlog/spdlog.h>

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <optional>
#include <stdexcept>
#include <utility>

#include <qtopology/text.hpp>
#include "request_handler.hpp"
#include "token_throttle.hpp"

namespace qtopology::cli::dashboard {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using beast::error_code;

using HttpResponse = http::response<http::string_body>;

// After an error answer the connection closes; what the client still sends
// is read and dropped for a moment, so that closing with unread data (which
// makes the kernel reset the connection) does not destroy the answer before
// the client reads it.
constexpr std::chrono::milliseconds kLingerTime{1000};
constexpr std::size_t kLingerBytes = 1024 * 1024;

// How often a request waiting to send a large body asks for a slot.
constexpr std::chrono::milliseconds kSlotPoll{50};

// A connection taken into a reserved slot must show within this time what
// it is (its header), and be a monitoring request or carry the token.
constexpr std::chrono::milliseconds kReservedHeaderTime{5000};

// TLS 1.2's suites: forward secrecy (ECDHE) and authenticated encryption
// (GCM, ChaCha20-Poly1305) only; no static RSA key exchange, no CBC. TLS
// 1.3's suites are all of that kind already.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The answer to a connection beyond the cap, written without any state.
constexpr std::string_view kTooManyConnections =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 44\r\n"
    "Connection: close\r\n"
    "\r\n"
    "{\"error\":\"too many connections, try again\"}\n";

// A session in a reserved slot, which a newer connection may push out while
// it has not sent its first header.
class Evictable {
 public:
  virtual ~Evictable() = default;
  // Closes the connection and gives up its slot, when it is still waiting
  // for its first header; false otherwise.
  virtual bool evictIfWaiting() = 0;
};

// What the sessions share: read-only after construction, but for the
// counters, which are atomic, the throttle, which locks, and the reserved
// sessions, which only the I/O thread touches.
struct Shared {
  RequestHandler handler;
  RequestLimits limits;
  std::shared_ptr<spdlog::logger> log;
  // Reset by the server before the I/O context goes: the handlers they
  // hold own sessions whose sockets belong to it.
  std::optional<asio::thread_pool> api_pool;
  std::optional<asio::thread_pool> monitoring_pool;
  std::atomic<std::size_t> connections{0};
  // Connections not (yet) known to carry the token or to ask for /health
  // or /metrics: they may hold all slots but the reserved ones.
  std::atomic<std::size_t> anonymous{0};
  std::size_t anonymous_limit;
  std::atomic<std::size_t> large_bodies{0};
  TokenThrottle throttle;
  std::deque<std::weak_ptr<Evictable>> reserved_sessions;

  Shared(CoordinationStorage& storage, const ServerSettings& settings,
         std::shared_ptr<spdlog::logger> logger)
      : handler(storage, AccessPolicy(accessRules(settings)), settings.expected_schema_version,
                logger),
        limits(settings.limits),
        log(std::move(logger)),
        anonymous_limit(limits.max_connections - reservedSlots(limits.max_connections)) {
    api_pool.emplace(settings.api_threads);
    monitoring_pool.emplace(1);
  }

  static AccessRules accessRules(const ServerSettings& settings) {
    AccessRules rules;
    rules.loopback = isLoopback(settings.listen.host);
    rules.token = settings.token;
    rules.read_only = settings.read_only;
    rules.open_reads = settings.open_reads;
    rules.public_hosts = settings.public_hosts;
    return rules;
  }
};

// Holds one unit of a counter while alive.
class CounterSlot {
 public:
  CounterSlot() = default;
  explicit CounterSlot(std::atomic<std::size_t>& counter) : counter_(&counter) {}
  CounterSlot(CounterSlot&& other) noexcept : counter_(std::exchange(other.counter_, nullptr)) {}
  CounterSlot& operator=(CounterSlot&& other) noexcept {
    release();
    counter_ = std::exchange(other.counter_, nullptr);
    return *this;
  }
  CounterSlot(const CounterSlot&) = delete;
  CounterSlot& operator=(const CounterSlot&) = delete;
  ~CounterSlot() { release(); }
  void release() {
    if (counter_) counter_->fetch_sub(1);
    counter_ = nullptr;
  }

  // A unit of `counter` if fewer than `limit` are taken, else an empty slot.
  static std::optional<CounterSlot> take(std::atomic<std::size_t>& counter, std::size_t limit) {
    if (counter.fetch_add(1) >= limit) {
      counter.fetch_sub(1);
      return std::nullopt;
    }
    return CounterSlot(counter);
  }

 private:
  std::atomic<std::size_t>* counter_ = nullptr;
};

std::string headerValue(const http::fields& fields, http::field name) {
  const auto it = fields.find(name);
  return it == fields.end() ? std::string() : std::string(it->value());
}

std::string headerValue(const http::fields& fields, std::string_view name) {
  const auto it = fields.find(beast::string_view(name.data(), name.size()));
  return it == fields.end() ? std::string() : std::string(it->value());
}

// One connection, plain (beast::tcp_stream) or TLS (ssl_stream over it). All
// its steps run on the I/O thread; only the handler runs in a pool.
//
// `anonymous_slot` empty: the connection holds a reserved slot, and is
// served only if its request turns out to be a monitoring one or to carry
// the token.
template <typename Stream>
class Session : public Evictable, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, Shared& shared, CounterSlot slot,
          std::optional<CounterSlot> anonymous_slot)
      : stream_(std::move(stream)),
        shared_(shared),
        slot_(std::move(slot)),
        anonymous_slot_(std::move(anonymous_slot)),
        reserved_(!anonymous_slot_),
        timer_(stream_.get_executor()) {
    error_code ec;
    const auto remote = lowest().socket().remote_endpoint(ec);
    client_ = ec ? std::string("unknown") : throttleKey(remote.address().to_string());
  }

  bool evictIfWaiting() override {
    if (!awaiting_first_header_ || evicted_) return false;
    evicted_ = true;
    slot_.release();
    close();
    return true;
  }

  void start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      readHeader();
    } else {
      lowest().expires_after(firstHeaderTime());
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                if (ec || self->evicted_) return self->close();
                                self->readHeader();
                              });
    }
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // A reserved slot is held only briefly by a client that says nothing.
  std::chrono::milliseconds firstHeaderTime() const {
    return reserved_ && awaiting_first_header_
               ? std::min(shared_.limits.request_deadline, kReservedHeaderTime)
               : shared_.limits.request_deadline;
  }

  void readHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_.limits.header_bytes));
    parser_->body_limit(shared_.limits.large_body_bytes);
    // One deadline for the whole request, headers and body: a client
    // trickling bytes cannot keep the connection past it.
    lowest().expires_after(firstHeaderTime());
    deadline_ = std::chrono::steady_clock::now() + shared_.limits.request_deadline;
    header_read_ = false;
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, std::size_t) { self->onHeader(ec); });
  }

  void onHeader(error_code ec) {
    if (evicted_) return close();
    if (ec) return onReadError(ec);
    header_read_ = true;
    awaiting_first_header_ = false;
    const auto& request = parser_->get();
    const auto fields = static_cast<std::size_t>(std::distance(request.begin(), request.end()));
    if (fields > shared_.limits.header_fields) {
      return refuse(431, "the request has more than " +
                             std::to_string(shared_.limits.header_fields) + " header fields");
    }
    // A token is checked only when this client's earlier wrong ones allow:
    // the wait runs on a timer, holding no thread and no other connection.
    if (!token(request).empty()) {
      const auto now = std::chrono::steady_clock::now();
      const auto at = shared_.throttle.admit(client_, now);
      if (!at) {
        return refuse(429, "too many wrong tokens from this address; try again later");
      }
      if (*at > now) {
        timer_.expires_at(*at);
        return timer_.async_wait([self = this->shared_from_this()](error_code e) {
          if (e || self->evicted_) return self->close();
          self->checkHeader();
        });
      }
    }
    checkHeader();
  }

  void checkHeader() {
    const auto& request = parser_->get();
    const std::string presented = token(request);
    const std::string target(request.target());
    bool proven = RequestHandler::isMonitoring(target);
    if (!presented.empty()) {
      if (shared_.handler.policy().tokenMatches(presented)) {
        shared_.throttle.succeeded(client_);
        proven = true;
      } else {
        shared_.throttle.failed(client_, std::chrono::steady_clock::now());
      }
    }
    // The rest of the request has what is left of the whole request's
    // deadline (a reserved slot's header had a shorter one).
    lowest().expires_at(deadline_);
    if (proven) {
      anonymous_slot_.reset();
    } else if (reserved_) {
      return refuse(503,
                    "too many connections: only requests with the token and /health and /metrics "
                    "are served now; try again");
    }
    const std::string method(request.method_string());
    if (shared_.handler.mayCarryLargeBody(method, target, presented)) {
      return waitForLargeSlot();
    }
    readBody(shared_.limits.small_body_bytes);
  }

  // Large bodies are read a few at a time; the others wait unread (the
  // client is held back by TCP) until a slot frees or the deadline passes.
  void waitForLargeSlot() {
    large_slot_ = CounterSlot::take(shared_.large_bodies, shared_.limits.large_bodies_at_once);
    if (large_slot_) return readBody(shared_.limits.large_body_bytes);
    if (std::chrono::steady_clock::now() >= deadline_) {
      return refuse(503, "other large requests are being read; try again");
    }
    timer_.expires_after(kSlotPoll);
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec) return self->close();
      self->waitForLargeSlot();
    });
  }

  void readBody(std::size_t limit) {
    // The header was read with the large limit, so that a declared length
    // is judged here, by the limit that applies to this request.
    if (const auto length = parser_->content_length(); length && *length > limit) {
      return onReadError(http::error::body_limit);
    }
    parser_->body_limit(limit);
    if (parser_->is_done()) return dispatch();
    // curl and others wait (a second) for leave to send a body; the body is
    // within its limit, so it is welcome.
    if (beast::iequals(headerValue(parser_->get(), http::field::expect), "100-continue")) {
      continue_ = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     parser_->get().version());
      return http::async_write(stream_, *continue_,
                               [self = this->shared_from_this()](error_code e, std::size_t) {
                                 self->continue_.reset();
                                 if (e) return self->close();
                                 self->readBodyNow();
                               });
    }
    readBodyNow();
  }

  void readBodyNow() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code e, std::size_t) { self->onBody(e); });
  }

  void onBody(error_code ec) {
    if (ec) return onReadError(ec);
    dispatch();
  }

  void onReadError(error_code ec) {
    if (evicted_ || ec == asio::error::operation_aborted) return close();
    if (ec == http::error::body_limit) {
      // Before the header was complete only the large limit applied.
      const bool large = large_slot_.has_value() || !header_read_;
      const auto limit = large ? shared_.limits.large_body_bytes : shared_.limits.small_body_bytes;
      return refuse(413,
                    "the request body is larger than " + std::to_string(limit) + " bytes" +
                        (large ? "" : " (only register-topology with the token may send more)"));
    }
    if (ec == http::error::header_limit) {
      return refuse(431, "the request's header is larger than " +
                             std::to_string(shared_.limits.header_bytes) + " bytes");
    }
    if (ec == beast::error::timeout) {
      // An idle kept-alive connection just goes; a request cut short is
      // worth a line.
      if (!parser_ || !parser_->got_some()) return close();
      shared_.log->info("closed a connection whose request was not complete within {} ms",
                        shared_.limits.request_deadline.count());
      return close();
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == ssl::error::stream_truncated) {
      return close();
    }
    // Anything else is a malformed request.
    refuse(400, "malformed HTTP request: " + ec.message());
  }

  static std::string token(const http::request<http::string_body>& request) {
    return presentedToken(headerValue(request, std::string_view(kTokenHeader)),
                          headerValue(request, http::field::authorization));
  }

  void dispatch() {
    // While the handler runs, the client has nothing to send: no deadline
    // (the storage's own timeouts bound the call).
    lowest().expires_never();
    auto raw = parser_->release();
    parser_.reset();
    large_slot_.reset();
    Request request;
    request.method = std::string(raw.method_string());
    request.target = std::string(raw.target());
    request.host = headerValue(raw, http::field::host);
    request.origin = headerValue(raw, http::field::origin);
    request.content_type = headerValue(raw, http::field::content_type);
    request.token = token(raw);
    request.body = std::move(raw.body());
    const bool keep_alive = raw.keep_alive();
    const unsigned version = raw.version();
    auto& pool =
        RequestHandler::isMonitoring(request.target) ? *shared_.monitoring_pool : *shared_.api_pool;
    asio::post(pool, [self = this->shared_from_this(), request = std::move(request), keep_alive,
                      version]() mutable {
      Reply reply = self->shared_.handler.handle(request);
      self->shared_.log->info("{} {} {}", escapeControl(request.method),
                              escapeControl(pathOf(request.target)), reply.status);
      auto response = self->toResponse(std::move(reply), version, request.method == "HEAD");
      response->keep_alive(keep_alive);
      auto executor = self->stream_.get_executor();
      asio::post(executor, [self = std::move(self), response = std::move(response)]() mutable {
        self->write(std::move(response), false);
      });
    });
  }

  std::shared_ptr<HttpResponse> toResponse(Reply reply, unsigned version, bool head) {
    auto response =
        std::make_shared<HttpResponse>(static_cast<http::status>(reply.status), version);
    for (const auto& [name, value] : securityHeaders()) response->set(name, value);
    for (const auto& [name, value] : reply.headers) response->set(name, value);
    response->set(http::field::content_type, reply.content_type);
    if (head) {
      // The length of the body a GET would have, and no body.
      response->content_length(reply.body.size());
    } else {
      response->body() = std::move(reply.body);
      response->prepare_payload();
    }
    return response;
  }

  // Answers a request the transport refused, and closes the connection.
  void refuse(int status, const std::string& message) {
    shared_.log->info("refused a request: {} {}", status, escapeControl(message));
    // What was read of the request goes now, not when the connection ends.
    parser_.reset();
    large_slot_.reset();
    buffer_ = beast::flat_buffer();
    auto reply = errorReply(status, message);
    if (status == 429) {
      reply.headers.emplace_back("Retry-After",
                                 std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                    ThrottleLimits{}.longest_delay)
                                                    .count()));
    }
    auto response = toResponse(std::move(reply), 11, false);
    response->keep_alive(false);
    write(std::move(response), true);
  }

  void write(std::shared_ptr<HttpResponse> response, bool linger) {
    lowest().expires_after(shared_.limits.request_deadline);
    response_ = std::move(response);
    http::async_write(stream_, *response_,
                      [self = this->shared_from_this(), linger](error_code ec, std::size_t) {
                        const bool keep = !ec && self->response_->keep_alive();
                        self->response_.reset();
                        if (keep) return self->readHeader();
                        if (!ec && linger) return self->lingerThenClose();
                        self->close();
                      });
  }

  void lingerThenClose() {
    error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest().expires_after(kLingerTime);
    drain();
  }

  void drain() {
    lowest().async_read_some(asio::buffer(scratch_),
                             [self = this->shared_from_this()](error_code ec, std::size_t n) {
                               self->drained_ += n;
                               if (ec || self->drained_ > kLingerBytes) return self->close();
                               self->drain();
                             });
  }

  void close() {
    error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  Stream stream_;
  Shared& shared_;
  CounterSlot slot_;
  std::optional<CounterSlot> anonymous_slot_;
  const bool reserved_;
  bool awaiting_first_header_ = true;
  bool evicted_ = false;
  std::string client_;  // throttleKey() of the peer's address
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<CounterSlot> large_slot_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
  bool header_read_ = false;
  std::shared_ptr<HttpResponse> response_;
  std::shared_ptr<http::response<http::empty_body>> continue_;
  std::array<char, 4096> scratch_{};
  std::size_t drained_ = 0;
};

}  // namespace

class Server::Impl {
 public:
  Impl(CoordinationStorage& storage, const ServerSettings& settings,
       std::shared_ptr<spdlog::logger> log)
      : shared_(storage, settings, std::move(log)), acceptor_(ioc_) {
    if (!settings.tls_cert_file.empty() || !settings.tls_key_file.empty()) {
      tls_.emplace(ssl::context::tls_server);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                        ssl::context::single_dh_use);
      SSL_CTX_set_options(tls_->native_handle(),
                          SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
      if (SSL_CTX_set_cipher_list(tls_->native_handle(), kTls12Ciphers) != 1) {
        throw std::runtime_error("this OpenSSL offers none of the dashboard's TLS 1.2 suites");
      }
      try {
        tls_->use_certificate_chain_file(settings.tls_cert_file);
      } catch (const std::exception& e) {
        throw std::runtime_error("cannot use the TLS certificate " +
                                 escapeControl(settings.tls_cert_file) + ": " + e.what());
      }
      try {
        tls_->use_private_key_file(settings.tls_key_file, ssl::context::pem);
      } catch (const std::exception& e) {
        throw std::runtime_error("cannot use the TLS key " + escapeControl(settings.tls_key_file) +
                                 ": " + e.what());
      }
    }
    const auto& host = settings.listen.host;
    error_code ec;
    const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec) {
      throw std::runtime_error("cannot listen on " + escapeControl(host) +
                               ": not an IP address of this machine");
    }
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(settings.listen.port));
    acceptor_.open(endpoint.protocol(), ec);
    // SO_REUSEADDR (not SO_REUSEPORT, which would let a second server of
    // this user share the port and take half of the requests).
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw std::runtime_error("cannot listen on " + escapeControl(host) + ":" +
                               std::to_string(settings.listen.port) + " (" + ec.message() + ")");
    }
    port_ = acceptor_.local_endpoint().port();
  }

  ~Impl() {
    ioc_.stop();
    // Running handlers finish (they may be inside a storage call); queued
    // ones are dropped with the sessions they hold.
    shared_.api_pool->stop();
    shared_.monitoring_pool->stop();
    shared_.api_pool->join();
    shared_.monitoring_pool->join();
    shared_.api_pool.reset();
    shared_.monitoring_pool.reset();
  }

  int port() const { return port_; }
  bool tls() const { return tls_.has_value(); }
  std::string writeMode() const { return shared_.handler.policy().writeMode(); }

  void run() {
    accept();
    ioc_.run();
  }
  void stop() { ioc_.stop(); }

 private:
  void accept() {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
      if (!ec) admit(std::move(socket));
      accept();
    });
  }

  void admit(tcp::socket socket) {
    auto slot = CounterSlot::take(shared_.connections, shared_.limits.max_connections);
    // Full: a connection in a reserved slot that has not said what it is
    // makes room (the oldest first), so that a monitoring request or one
    // with the token gets through while anonymous clients hold the rest.
    if (!slot && evictOldestReserved()) {
      slot = CounterSlot::take(shared_.connections, shared_.limits.max_connections);
    }
    if (!slot) {
      // Best effort, never blocking: a fresh socket's send buffer is empty.
      error_code ignored;
      socket.non_blocking(true, ignored);
      socket.write_some(asio::buffer(kTooManyConnections.data(), kTooManyConnections.size()),
                        ignored);
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
      warnFull();
      return;
    }
    auto anonymous = CounterSlot::take(shared_.anonymous, shared_.anonymous_limit);
    const bool reserved = !anonymous;
    if (reserved) {
      warnFull();
    } else {
      warned_full_ = false;
    }
    beast::tcp_stream stream(std::move(socket));
    std::shared_ptr<Evictable> session;
    if (tls_) {
      auto tls_session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          beast::ssl_stream<beast::tcp_stream>(std::move(stream), *tls_), shared_, std::move(*slot),
          std::move(anonymous));
      tls_session->start();
      session = std::move(tls_session);
    } else {
      auto plain_session = std::make_shared<Session<beast::tcp_stream>>(
          std::move(stream), shared_, std::move(*slot), std::move(anonymous));
      plain_session->start();
      session = std::move(plain_session);
    }
    if (reserved) remember(session);
  }

  void warnFull() {
    if (!warned_full_) {
      shared_.log->warn(
          "connection limit ({}) reached: anonymous connections are refused, {} slots are kept "
          "for requests with the token and for /health and /metrics",
          shared_.limits.max_connections, reservedSlots(shared_.limits.max_connections));
    }
    warned_full_ = true;
  }

  void remember(const std::shared_ptr<Evictable>& session) {
    auto& sessions = shared_.reserved_sessions;
    // Bounded: gone sessions are dropped once they outnumber the slots.
    if (sessions.size() >= 2 * shared_.limits.max_connections) {
      sessions.erase(std::remove_if(sessions.begin(), sessions.end(),
                                    [](const auto& weak) { return weak.expired(); }),
                     sessions.end());
    }
    sessions.push_back(session);
  }

  bool evictOldestReserved() {
    auto& sessions = shared_.reserved_sessions;
    for (auto it = sessions.begin(); it != sessions.end();) {
      const auto session = it->lock();
      if (!session) {
        it = sessions.erase(it);
        continue;
      }
      if (session->evictIfWaiting()) {
        sessions.erase(it);
        return true;
      }
      ++it;
    }
    return false;
  }

  // Destroyed after the I/O context: the sessions its handlers still hold
  // refer to both.
  Shared shared_;
  std::optional<ssl::context> tls_;
  asio::io_context ioc_{1};
  tcp::acceptor acceptor_;
  int port_ = -1;
  bool warned_full_ = false;
};

Server::Server(CoordinationStorage& storage, const ServerSettings& settings,
               std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>(storage, settings, std::move(log))) {}
Server::~Server() = default;
int Server::port() const { return impl_->port(); }
bool Server::tls() const { return impl_->tls(); }
std::string Server::writeMode() const { return impl_->writeMode(); }
void Server::run() { impl_->run(); }
void Server::stop() { impl_->stop(); }

}  // namespace qtopology::cli::dashboard
