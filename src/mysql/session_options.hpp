// The one place that turns MySqlOptions into the settings of a server
// session, for both client libraries the library opens sessions with:
// Connector/C++ (the pool's sessions, every call with parameters) and
// libmariadb (the bulk reads, see bulk_read_session.hpp). Whatever one gets,
// the other gets: server, credentials, character set, timeouts, TLS, and the
// authentication gate (auth_guard.hpp) as the first plugin.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <cppconn/connection.h>

#include <qtopology/mysql_options.hpp>

#include "server_errors.hpp"

// libmariadb's handle (MYSQL), declared so that this header needs no
// libmariadb include path.
struct st_mysql;

namespace qtopology::detail {

// What a session asks of TLS, from MySqlOptions::effectiveSslMode().
struct TlsDemand {
  bool attempt = false;          // ask for TLS when the server offers it
  bool mandatory = false;        // refuse a session that ended up plaintext
  bool verify_identity = false;  // the certificate must name the host
};
TlsDemand tlsDemand(const MySqlOptions& options);

// As the URL spells it: "REQUIRED", ... (in mysql_options.cpp, from the
// table the URL is parsed with).
const char* sslModeName(MySqlOptions::SslMode mode);

// How errors and logs name the server of a session on `endpoint` (nullptr:
// the unix socket): host:port, or the socket's path.
std::string serverName(const MySqlOptions::Endpoint* endpoint, const MySqlOptions& options);

// Connector/C++'s options for a session on `endpoint` (nullptr: the unix
// socket).
sql::ConnectOptionsMap connectorOptions(const MySqlOptions& options,
                                        const MySqlOptions::Endpoint* endpoint,
                                        std::chrono::seconds read_timeout);

// The same settings on a libmariadb handle, before mysql_real_connect.
void configureNativeSession(st_mysql* mysql, const MySqlOptions& options,
                            std::chrono::seconds read_timeout);

// Stored procedures run with the sql_mode they were created under, and our
// own statements with the session's: every session of either library pins
// one strict mode that both MariaDB and MySQL 8 understand, so bad data fails
// instead of being truncated.
inline constexpr std::string_view kSessionSetup =
    "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
    "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";

// What a session that must be encrypted fails with when it is not (a connect
// failure, not retried). The authentication gate (auth_guard.hpp) refuses
// such a session before any credential leaves; the sessions check again once
// open, in case a plugin other than ours ran.
ServerFailure plaintextRefusal(const std::string& where, const MySqlOptions& options);

}  // namespace qtopology::detail
