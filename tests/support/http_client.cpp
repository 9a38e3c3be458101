#include "http_client.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <stdexcept>

namespace qtopology::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

bool equalNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Runs one request over `stream` (connected), with the io_context bounded by
// `timeout`.
template <typename Stream>
HttpReply exchange(asio::io_context& ioc, Stream& stream, http::request<http::string_body>& req,
                   std::chrono::milliseconds timeout, const std::string& what) {
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  beast::error_code result = asio::error::would_block;
  // Reads one answer; an interim "100 Continue" is passed over.
  std::function<void()> read = [&] {
    parser.emplace();
    parser->body_limit(64 * 1024 * 1024);
    // The answer to HEAD has a length but no body.
    parser->skip(req.method() == http::verb::head);
    http::async_read(stream, buffer, *parser, [&](beast::error_code e, std::size_t) {
      if (!e && parser->get().result() == http::status::continue_) return read();
      result = e ? e : beast::error_code();
    });
  };
  http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
    if (ec) {
      result = ec;
      return;
    }
    read();
  });
  ioc.run_for(timeout);
  if (result == asio::error::would_block) throw std::runtime_error(what + ": no answer in time");
  if (result) throw std::runtime_error(what + ": " + result.message());
  HttpReply reply;
  const auto& res = parser->get();
  reply.status = static_cast<int>(res.result_int());
  reply.body = res.body();
  for (const auto& field : res) {
    reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return reply;
}

}  // namespace

std::string HttpReply::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (equalNoCase(key, name)) return value;
  }
  return "";
}

HttpReply httpRequest(int port, const std::string& method, const std::string& target,
                      const HttpHeaders& headers, const std::string& body,
                      const HttpOptions& options) {
  const std::string what = method + " " + target;
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  bool host_given = false;
  for (const auto& [name, value] : headers) {
    host_given = host_given || equalNoCase(name, "Host");
    req.insert(name, value);
  }
  if (!host_given) req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  req.set(http::field::connection, "close");
  req.body() = body;
  if (method == "POST" || method == "PUT" || !body.empty()) req.prepare_payload();

  asio::io_context ioc;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                               static_cast<unsigned short>(port));
  beast::error_code ec;
  if (options.ca_file.empty()) {
    beast::tcp_stream stream(ioc);
    stream.expires_after(options.timeout);
    stream.connect(endpoint, ec);
    if (ec) throw std::runtime_error(what + ": cannot connect: " + ec.message());
    return exchange(ioc, stream, req, options.timeout, what);
  }
  ssl::context tls(ssl::context::tls_client);
  tls.load_verify_file(options.ca_file);
  tls.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, tls);
  // SSL_set_tlsext_host_name, without the macro's C cast.
  SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
           const_cast<char*>(options.server_name.c_str()));
  stream.set_verify_callback(ssl::host_name_verification(options.server_name));
  beast::get_lowest_layer(stream).expires_after(options.timeout);
  beast::get_lowest_layer(stream).connect(endpoint, ec);
  if (ec) throw std::runtime_error(what + ": cannot connect: " + ec.message());
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) throw std::runtime_error(what + ": TLS handshake failed: " + ec.message());
  return exchange(ioc, stream, req, options.timeout, what);
}

RawConnection::RawConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int saved = errno;
    ::close(fd_);
    throw std::runtime_error(std::string("connect: ") + std::strerror(saved));
  }
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(std::string_view bytes, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!bytes.empty()) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLOUT, 0};
    ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (p.revents & (POLLERR | POLLHUP)) return false;
  }
  return true;
}

std::string RawConnection::receive(std::chrono::milliseconds timeout, std::size_t limit) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[65536];
  while (got.size() < limit) {
    const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      got.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      closed_ = true;
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
  }
  return got;
}

int statusOf(const std::string& bytes) {
  if (bytes.rfind("HTTP/1.", 0) != 0 || bytes.size() < 12) return 0;
  try {
    return std::stoi(bytes.substr(9, 3));
  } catch (const std::exception&) {
    return 0;
  }
}

long residentKiB(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

}  // namespace qtopology::testing
