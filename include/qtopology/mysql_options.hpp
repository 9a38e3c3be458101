// Connection settings of MySqlCoordinator.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <qtopology/export.hpp>
#include <qtopology/logger.hpp>

namespace qtopology {

struct QTOPOLOGY_EXPORT MySqlOptions {
  struct Endpoint {
    std::string host;
    unsigned port = 3306;
  };

  std::string host = "127.0.0.1";
  unsigned port = 3306;
  // The servers of a multi-primary cluster (Galera), or several routers in
  // front of one; when not empty, used instead of host and port. Every one
  // must accept writes to the same data. A new connection goes to the server
  // that took the last one, else to the next in this order (each try bounded
  // by connect_timeout); a server that breaks a connection loses its idle
  // ones and the preference, so the pool moves to the next.
  std::vector<Endpoint> hosts;
  std::string unix_socket;  // when set, used instead of host, port and hosts
  std::string database;     // must exist; the library creates tables, not databases
  std::string user;
  std::string password;

  // Calls in flight at most: the pool's slots, each serving one call at a
  // time. A slot holds up to two server sessions: its Connector/C++ session,
  // and a libmariadb session once it has served a read (the parameterless
  // reads run there), so a coordinator keeps at most 2 x pool_size sessions
  // open, plus one while its constructor migrates.
  std::size_t pool_size = 4;

  // Transient failures (connection lost or refused, deadlock, lock wait
  // timeout, Galera node not ready) are retried up to `retries` times, waiting
  // 50 ms, 100 ms, ... but never longer than `retry_timeout` between tries.
  // The defaults ride out a server restart of about ten seconds.
  int retries = 12;
  std::chrono::milliseconds retry_timeout{2000};

  std::chrono::seconds connect_timeout{5};
  // A reply slower than this counts as a lost connection (0 = wait forever).
  std::chrono::seconds read_timeout{30};

  // Only check that the schema is at the latest version; change nothing.
  bool db_check_only = false;

  // TLS, with the values and meaning of MySQL clients' --ssl-mode:
  // disabled: plaintext; preferred: TLS when the server offers it, else
  // plaintext; required: TLS or no session (the certificate is not checked
  // unless ssl_ca is given); verify_ca: also the certificate must be signed
  // by ssl_ca; verify_identity: also it must name the host connected to.
  // From required up there is never a plaintext fallback, on every session the
  // library opens. automatic: verify_ca when ssl_ca is given, else preferred.
  enum class SslMode { automatic, disabled, preferred, required, verify_ca, verify_identity };
  SslMode ssl_mode = SslMode::automatic;
  std::string ssl_ca;
  std::string ssl_cert;  // client certificate and key, for servers that ask for one
  std::string ssl_key;
  // Authentication. The plugins the server may ask for; any other is
  // refused. mysql_clear_password and dialog send the password itself: only
  // with allow_cleartext_password (which adds them to the list), and then only
  // over TLS or a Unix socket. caching_sha2_password (and sha256_password,
  // when listed) send it in cleartext only over TLS or a Unix socket; without
  // TLS they encrypt it with the server's RSA public key: the PEM file
  // server_public_key, else, with get_server_public_key, the key the server
  // sends (trusting it, as MySQL's --get-server-public-key); with neither the
  // login fails, naming both.
  std::vector<std::string> auth_plugins = {"mysql_native_password", "caching_sha2_password",
                                           "client_ed25519"};
  bool allow_cleartext_password = false;
  std::string server_public_key;
  bool get_server_public_key = false;

  // ssl_mode with `automatic` resolved. Throws InvalidArgument when the
  // settings contradict each other (verify_* without ssl_ca, disabled with it).
  SslMode effectiveSslMode() const;

  // Where to log (retries, migrations, failovers); nullptr means
  // defaultLogger(). Used from every thread that calls the coordinator.
  std::shared_ptr<Logger> logger;

  // `hosts`, or else host and port alone.
  std::vector<Endpoint> endpoints() const;

  // mysql://user:password@host:port/database?pool_size=8&socket=/path&check_only=1
  // Several servers: mysql://user:password@h1:3306,h2:3307,[::1]:3308/database
  // fills `hosts` (and host and port with the first); one server leaves
  // `hosts` empty. Parts are percent-decoded. Other query keys: retries, retry_timeout_ms,
  // connect_timeout_s, read_timeout_s, ssl_mode (DISABLED, PREFERRED, REQUIRED,
  // VERIFY_CA, VERIFY_IDENTITY), ssl_ca, ssl_cert, ssl_key, auth_plugins (a
  // comma-separated list), allow_cleartext_password, server_public_key,
  // get_server_public_key, and password_file:
  // the password is the file's first line, read now; the file must be a regular
  // file that neither group nor others may read (mode 0600 or 0400), or the URL
  // is refused. A password in the URL and a password_file are exclusive.
  // Throws InvalidArgument naming the bad part (never echoing the password).
  static MySqlOptions fromUrl(std::string_view url);

  // The password of a password_file (above), for hosts that take the file's
  // path elsewhere. Throws InvalidArgument naming the path, never the content.
  static std::string readPasswordFile(const std::string& path);
};

}  // namespace qtopology
