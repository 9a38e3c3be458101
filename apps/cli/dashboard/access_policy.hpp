// Who may do what: the dashboard's security rules, apart from HTTP plumbing
// so they can be read (and tested) in one place.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace qtopology::cli::dashboard {

struct ListenAddress {
  std::string host;  // as given; IPv6 without brackets
  int port = 0;      // 0: any free port
};

// "HOST:PORT", "[V6]:PORT". Throws std::invalid_argument naming what is wrong.
ListenAddress parseListenAddress(const std::string& text);

// 127.0.0.0/8, ::1 and "localhost".
bool isLoopback(const std::string& host);

// The header that carries the token. "Authorization: Bearer TOKEN" is taken
// too, for scrapers that can send only that.
inline constexpr const char* kTokenHeader = "X-QTopology-Token";

// What a request may do, given how the server was started. Immutable, so
// safe to share between threads.
class AccessPolicy {
 public:
  // `loopback`: the server listens on loopback only. `token`: empty means
  // writes need none (--open-writes; beyond loopback, writes are refused
  // instead). `public_hosts`: the names clients use beyond loopback or
  // through a proxy; when given, the server counts as exposed even on
  // loopback, and reads need the token too.
  AccessPolicy(bool loopback, std::string token, bool read_only,
               std::vector<std::string> public_hosts = {})
      : loopback_(loopback),
        token_(std::move(token)),
        read_only_(read_only),
        public_hosts_(std::move(public_hosts)) {}

  // nullopt when a write with this token (empty when none was sent) is
  // allowed; else why not (answered with 403).
  std::optional<std::string> refuseWrite(const std::string& presented_token) const;

  // The same for reads of the API, /health and /metrics (the page's own
  // files are free): only an exposed server asks for the token.
  std::optional<std::string> refuseRead(const std::string& presented_token) const;

  // Guards against DNS rebinding: a page of another site whose name
  // resolves to this server sends its own name as Host. Loopback names are
  // always fine (no other site can use them); beyond that only the
  // --public-host names. nullopt when the Host header is acceptable.
  std::optional<std::string> refuseHost(const std::string& host_header) const;

  // Whether a token sent with a request is the one (compared in constant
  // time).
  bool tokenMatches(const std::string& presented_token) const;

  // Reads need the token: beyond loopback or with --public-host.
  bool exposed() const { return !loopback_ || !public_hosts_.empty(); }

  // "open", "token" or "refused": what the page needs to know to offer its
  // buttons.
  std::string writeMode() const;

 private:
  bool loopback_;
  std::string token_;
  bool read_only_;
  std::vector<std::string> public_hosts_;
};

// The token a request carries: the X-QTopology-Token header, else the
// credentials of "Authorization: Bearer ...", else empty.
std::string presentedToken(const std::string& token_header, const std::string& authorization);

// Whether an Origin header (empty when absent) names the same host:port as
// the Host header: browsers send Origin on every POST, so a cross-site form
// or script shows itself here.
bool sameOrigin(const std::string& origin, const std::string& host_header);

}  // namespace qtopology::cli::dashboard
