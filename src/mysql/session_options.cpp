#include "session_options.hpp"

#include <mysql.h>

#include "auth_guard.hpp"

namespace qtopology::detail {

TlsDemand tlsDemand(const MySqlOptions& options) {
  using Mode = MySqlOptions::SslMode;
  TlsDemand demand;
  switch (options.effectiveSslMode()) {
    case Mode::disabled:
      break;
    case Mode::automatic:  // resolved by effectiveSslMode()
    case Mode::preferred:
      demand.attempt = true;
      break;
    case Mode::required:
    case Mode::verify_ca:
      demand.attempt = demand.mandatory = true;
      break;
    case Mode::verify_identity:
      demand.attempt = demand.mandatory = demand.verify_identity = true;
      break;
  }
  return demand;
}

std::string serverName(const MySqlOptions::Endpoint* endpoint, const MySqlOptions& options) {
  if (!endpoint) return options.unix_socket;
  return endpoint->host + ":" + std::to_string(endpoint->port);
}

// Both client libraries verify the certificate's chain whenever a CA is set,
// and its host name only when told to; "enforce" makes them ask for TLS.
sql::ConnectOptionsMap connectorOptions(const MySqlOptions& options,
                                        const MySqlOptions::Endpoint* endpoint,
                                        std::chrono::seconds read_timeout) {
  sql::ConnectOptionsMap o;
  if (!endpoint) {
    o["socket"] = sql::SQLString(options.unix_socket);
    o["hostName"] = sql::SQLString("localhost");
  } else {
    o["hostName"] = sql::SQLString(endpoint->host);
    o["port"] = static_cast<int>(endpoint->port);
  }
  o["userName"] = sql::SQLString(options.user);
  o["password"] = sql::SQLString(options.password);
  if (!options.database.empty()) o["schema"] = sql::SQLString(options.database);
  o["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  o["OPT_RECONNECT"] = false;  // a silent reconnect would lose session state: we reconnect
  o["OPT_CONNECT_TIMEOUT"] = static_cast<int>(options.connect_timeout.count());
  if (read_timeout.count() > 0) {
    o["OPT_READ_TIMEOUT"] = static_cast<int>(read_timeout.count());
    o["OPT_WRITE_TIMEOUT"] = static_cast<int>(read_timeout.count());
  }
  o["defaultAuth"] = sql::SQLString(kGatePlugin);
  const TlsDemand tls = tlsDemand(options);
  if (tls.attempt) {
    o["sslEnforce"] = true;
    o["sslVerify"] = tls.verify_identity;
    if (!options.ssl_ca.empty()) o["sslCA"] = sql::SQLString(options.ssl_ca);
    if (!options.ssl_cert.empty()) o["sslCert"] = sql::SQLString(options.ssl_cert);
    if (!options.ssl_key.empty()) o["sslKey"] = sql::SQLString(options.ssl_key);
  }
  return o;
}

namespace {

void setText(MYSQL* mysql, mysql_option option, const std::string& value) {
  if (!value.empty()) mysql_optionsv(mysql, option, value.c_str());
}

void setSeconds(MYSQL* mysql, mysql_option option, std::chrono::seconds value) {
  const unsigned int seconds = static_cast<unsigned int>(value.count());
  mysql_optionsv(mysql, option, &seconds);
}

void setFlag(MYSQL* mysql, mysql_option option, bool value) {
  const my_bool flag = value ? 1 : 0;
  mysql_optionsv(mysql, option, &flag);
}

}  // namespace

void configureNativeSession(st_mysql* mysql, const MySqlOptions& options,
                            std::chrono::seconds read_timeout) {
  mysql_optionsv(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  setSeconds(mysql, MYSQL_OPT_CONNECT_TIMEOUT, options.connect_timeout);
  if (read_timeout.count() > 0) {
    setSeconds(mysql, MYSQL_OPT_READ_TIMEOUT, read_timeout);
    setSeconds(mysql, MYSQL_OPT_WRITE_TIMEOUT, read_timeout);
  }
  mysql_optionsv(mysql, MYSQL_DEFAULT_AUTH, kGatePlugin);
  const TlsDemand tls = tlsDemand(options);
  if (tls.attempt) {
    setFlag(mysql, MYSQL_OPT_SSL_ENFORCE, true);
    setFlag(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, tls.verify_identity);
    setText(mysql, MYSQL_OPT_SSL_CA, options.ssl_ca);
    setText(mysql, MYSQL_OPT_SSL_CERT, options.ssl_cert);
    setText(mysql, MYSQL_OPT_SSL_KEY, options.ssl_key);
  }
}

ServerFailure plaintextRefusal(const std::string& where, const MySqlOptions& options) {
  constexpr int kSslConnectionError = 2026;
  return ServerFailure(kSslConnectionError, "08004",
                       "server " + where + " did not encrypt the session, and ssl_mode " +
                           sslModeName(options.effectiveSslMode()) + " requires TLS",
                       true);
}

}  // namespace qtopology::detail
