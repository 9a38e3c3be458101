// How every session of both client libraries authenticates: the library's
// own client authentication plugins, registered with libmariadb (which both
// Connector/C++ 1.1 and our bulk-read sessions run on) in place of the ones
// libmariadb would load from its plugin folder.
//
// Why our own: libmariadb 3.3's caching_sha2_password and sha256_password
// judge a session "secure" from the TLS *request*, not from the session, and
// send the password in cleartext to a server that offered no TLS; its
// mysql_clear_password and dialog send it to any server that asks, and
// Connector/C++ 1.1 has no option that stops them. And libmariadb refuses a
// plaintext session with ssl_mode REQUIRED (no certificate check) only after
// the authentication response went out.
//
// So every session starts with the plugin kGatePlugin: its first packet (the
// handshake response, sent after the TLS negotiation) carries the user name
// and no credential at all. Then it refuses a session that must be encrypted
// and is not (error 2026), and limits the plugins the server may switch to;
// a real server, not knowing kGatePlugin, switches to the account's plugin.
// The wrapped plugins send the password in cleartext only over an encrypted
// session or a Unix socket (the cleartext ones only with
// allow_cleartext_password), and otherwise RSA-encrypted or not at all.
//
// What a connect runs under is set per thread (AuthPolicyScope): both
// libraries connect synchronously on the calling thread. Other code in the
// process that connects through libmariadb gets the same plugins under the
// strictest policy (default auth_plugins, no cleartext, no RSA key).
#pragma once

#include <string>
#include <vector>

#include <qtopology/mysql_options.hpp>

namespace qtopology::detail {

inline constexpr const char* kGatePlugin = "qtopology_tls_gate";

struct AuthPolicy {
  std::string server;                  // named in errors: host:port or the socket
  std::string ssl_mode;                // named in errors: REQUIRED, ...
  bool tls_mandatory = false;          // refuse a session that is not encrypted
  std::vector<std::string> plugins;    // auth_plugins; the cleartext two: allow_cleartext
  bool allow_cleartext = false;        // mysql_clear_password, dialog (TLS or socket only)
  std::string server_public_key;       // PEM file for the RSA exchange
  bool get_server_public_key = false;  // else: trust the key the server sends
};

// Connects on this thread to `server` (named in errors) follow `options`
// while this lives. Registers the plugins with libmariadb first (cheap after
// the first time), and throws ServerFailure when libmariadb already holds
// another plugin of one of their names, which would send passwords its own
// way.
class AuthPolicyScope {
 public:
  AuthPolicyScope(const MySqlOptions& options, std::string server);
  ~AuthPolicyScope();
  AuthPolicyScope(const AuthPolicyScope&) = delete;
  AuthPolicyScope& operator=(const AuthPolicyScope&) = delete;

 private:
  AuthPolicy policy_;
  const AuthPolicy* previous_;
};

}  // namespace qtopology::detail
