// Clients for talking to the dashboard in tests: a small HTTP(S) client on
// Boost.Beast for ordinary requests, and a raw TCP connection for requests
// no well-behaved client would send (floods, trickles, oversized chunks).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::testing {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpReply {
  int status = 0;
  std::string body;
  HttpHeaders headers;
  Json json() const { return Json::parse(body); }
  // The first header of that name (case-insensitive); empty when absent.
  std::string header(const std::string& name) const;
};

struct HttpOptions {
  // Bounds connecting, sending and the whole answer.
  std::chrono::milliseconds timeout{30000};
  // Non-empty: HTTPS, the server's certificate verified against this CA
  // file for `server_name` (which is also sent as SNI).
  std::string ca_file;
  std::string server_name = "localhost";
};

// One request to 127.0.0.1:port on a connection of its own. A Host header is
// added ("127.0.0.1:PORT") unless `headers` has one; Content-Length is set
// from `body`. Throws std::runtime_error when there is no complete answer
// (refused, reset, timed out, TLS verification failed).
HttpReply httpRequest(int port, const std::string& method, const std::string& target,
                      const HttpHeaders& headers = {}, const std::string& body = "",
                      const HttpOptions& options = {});

// A TCP connection to 127.0.0.1:port, for bytes written by hand. Every call
// is bounded by its timeout.
class RawConnection {
 public:
  explicit RawConnection(int port);  // throws std::runtime_error
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Whether all of `bytes` was sent; false once the server closed or reset
  // the connection, or nothing could be sent for `timeout`.
  bool send(std::string_view bytes,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  // What arrives until the server closes the connection, `limit` bytes have
  // arrived or `timeout` passes. closed() then says whether it closed.
  std::string receive(std::chrono::milliseconds timeout, std::size_t limit = 1 << 20);
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
};

// The status code of the first HTTP answer in `bytes`, 0 when there is none.
int statusOf(const std::string& bytes);

// The resident memory of a process in KiB (VmRSS of /proc/PID/status), or
// with "VmHWM" its peak so far; -1 when it cannot be read.
long residentKiB(pid_t pid, const std::string& field = "VmRSS");

}  // namespace qtopology::testing
