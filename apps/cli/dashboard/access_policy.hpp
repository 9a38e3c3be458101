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

// How the server was started, as far as access goes.
struct AccessRules {
  // The server listens on loopback only.
  bool loopback = true;
  // Empty: writes need none (--open-writes; beyond loopback, writes are
  // refused instead), and neither do reads on loopback.
  std::string token;
  bool read_only = false;
  // --open-reads: on loopback, reads need no token.
  bool open_reads = false;
  // The names clients use beyond loopback or through a proxy; when given,
  // the server counts as exposed even on loopback: reads need the token
  // whatever --open-reads says.
  std::vector<std::string> public_hosts;
};

// What a request may do, given how the server was started. Immutable, so
// safe to share between threads.
class AccessPolicy {
 public:
  explicit AccessPolicy(AccessRules rules) : rules_(std::move(rules)) {}

  // nullopt when a write with this token (empty when none was sent) is
  // allowed; else why not (answered with 403).
  std::optional<std::string> refuseWrite(const std::string& presented_token) const;

  // The same for reads of the API, /health and /metrics (the page's own
  // files are free; answered with 401): they need the token unless the
  // server is on loopback with --open-reads or without any token.
  std::optional<std::string> refuseRead(const std::string& presented_token) const;

  // Guards against DNS rebinding: a page of another site whose name
  // resolves to this server sends its own name as Host. Loopback names are
  // always fine (no other site can use them); beyond that only the
  // --public-host names. nullopt when the Host header is acceptable.
  std::optional<std::string> refuseHost(const std::string& host_header) const;

  // Whether a token sent with a request is the one (compared in constant
  // time).
  bool tokenMatches(const std::string& presented_token) const;

  // Beyond loopback or with --public-host: reads need the token always.
  bool exposed() const { return !rules_.loopback || !rules_.public_hosts.empty(); }

  // Whether reads go without the token.
  bool readsOpen() const { return !exposed() && (rules_.open_reads || rules_.token.empty()); }

  // "open", "token" or "refused": what the page needs to know to offer its
  // buttons.
  std::string writeMode() const;

 private:
  AccessRules rules_;
};

// The token a request carries: the X-QTopology-Token header, else the
// credentials of "Authorization: Bearer ...", else empty.
std::string presentedToken(const std::string& token_header, const std::string& authorization);

// Whether an Origin header (empty when absent) names the same host:port as
// the Host header: browsers send Origin on every POST, so a cross-site form
// or script shows itself here.
bool sameOrigin(const std::string& origin, const std::string& host_header);

}  // namespace qtopology::cli::dashboard
