// Who may do what: the dashboard's security rules, apart from HTTP plumbing
// so they can be read (and tested) in one place.
#pragma once

#include <optional>
#include <string>

namespace qtopology::cli::dashboard {

struct ListenAddress {
  std::string host;  // as given; IPv6 without brackets
  int port = 0;      // 0: any free port
};

// "HOST:PORT", "[V6]:PORT". Throws std::invalid_argument naming what is wrong.
ListenAddress parseListenAddress(const std::string& text);

// 127.0.0.0/8, ::1 and "localhost".
bool isLoopback(const std::string& host);

// The name of the header that carries the write token.
inline constexpr const char* kTokenHeader = "X-QTopology-Token";

// What a request may do, given how the server was started.
class AccessPolicy {
 public:
  AccessPolicy(bool loopback, std::string token, bool read_only)
      : loopback_(loopback), token_(std::move(token)), read_only_(read_only) {}

  // nullopt when a write with this token header (empty when absent) is
  // allowed; else why not (answered with 403).
  std::optional<std::string> refuseWrite(const std::string& presented_token) const;

  // Guards a loopback server against DNS rebinding: a page of another site
  // whose name resolves to 127.0.0.1 sends its own name as Host. nullopt
  // when the Host header is acceptable.
  std::optional<std::string> refuseHost(const std::string& host_header) const;

  // "open", "token" or "refused": what the page needs to know to offer its
  // buttons.
  std::string writeMode() const;

 private:
  bool loopback_;
  std::string token_;
  bool read_only_;
};

// Whether an Origin header (empty when absent) names the same host:port as
// the Host header: browsers send Origin on every POST, so a cross-site form
// or script shows itself here.
bool sameOrigin(const std::string& origin, const std::string& host_header);

}  // namespace qtopology::cli::dashboard
