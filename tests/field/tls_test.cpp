// ssl_mode on every session the library opens, through both client
// libraries: the pool's Connector/C++ sessions and the libmariadb bulk-read
// session. Servers (started by this tier's fixtures, QTOPOLOGY_FIELD_DIR):
// tls (certificate for IP:127.0.0.1 signed by the test's CA, plaintext
// refused), tls-other-host (the same CA, certificate for db.invalid), latin1
// (no TLS at all).
#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include <qtopology/mysql_options.hpp>

#include "mysql/bulk_read_session.hpp"
#include "mysql/connection_pool.hpp"
#include "mysql/server_errors.hpp"

namespace qtopology {
namespace {

std::string serverDir(const std::string& config) {
  const char* root = std::getenv("QTOPOLOGY_FIELD_DIR");
  if (!root) throw std::runtime_error("QTOPOLOGY_FIELD_DIR is not set: run through ctest");
  return std::string(root) + "/" + config;
}

// The server's admin URL without the query its fixture added.
MySqlOptions server(const std::string& config) {
  std::ifstream file(serverDir(config) + "/url");
  std::string url;
  std::getline(file, url);
  auto options = MySqlOptions::fromUrl(url.substr(0, url.find('?')));
  options.retries = 0;
  options.connect_timeout = std::chrono::seconds(5);
  return options;
}

// Each TLS server's fixture made its CA ("ca", which signed the server's
// certificate) and another ("other-ca", which signed nothing).
std::string caFile(const std::string& config = "tls", const std::string& which = "ca") {
  return serverDir(config) + "/certs/" + which + ".pem";
}

// What one session of each client library got: its cipher ("" for
// plaintext), or the error that refused it.
struct Outcome {
  std::optional<std::string> cipher;
  std::string error;
};

Outcome throughConnector(const MySqlOptions& options) {
  try {
    detail::ConnectionPool pool(options);
    auto connection = pool.connect(std::chrono::seconds(10));
    std::unique_ptr<sql::Statement> statement(connection->createStatement());
    std::unique_ptr<sql::ResultSet> rows(
        statement->executeQuery("SHOW SESSION STATUS LIKE 'Ssl_cipher'"));
    return {rows->next() ? std::string(rows->getString(2)) : std::string(), ""};
  } catch (const detail::ServerFailure& e) {
    return {std::nullopt, e.what()};
  }
}

Outcome throughLibmariadb(const MySqlOptions& options) {
  try {
    const MySqlOptions::Endpoint endpoint{options.host, options.port};
    detail::BulkReadSession session(options, &endpoint, false);
    auto table = session.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
    return {table.empty() ? std::string() : table.takeText(0, 1), ""};
  } catch (const detail::ServerFailure& e) {
    return {std::nullopt, e.what()};
  }
}

MySqlOptions with(MySqlOptions options, MySqlOptions::SslMode mode, const std::string& ca) {
  options.ssl_mode = mode;
  options.ssl_ca = ca;
  return options;
}

using Mode = MySqlOptions::SslMode;

void expectEncrypted(const MySqlOptions& options) {
  for (const auto& outcome : {throughConnector(options), throughLibmariadb(options)}) {
    ASSERT_TRUE(outcome.cipher.has_value()) << outcome.error;
    EXPECT_FALSE(outcome.cipher->empty());
  }
}

void expectRefused(const MySqlOptions& options, const std::string& because) {
  int library = 0;
  for (const auto& outcome : {throughConnector(options), throughLibmariadb(options)}) {
    EXPECT_FALSE(outcome.cipher.has_value())
        << (library == 0 ? "Connector/C++" : "libmariadb") << " connected, cipher '"
        << outcome.cipher.value_or("") << "'";
    EXPECT_NE(outcome.error.find(because), std::string::npos) << outcome.error;
    ++library;
  }
}

TEST(TlsModes, VerifyIdentityWithTheRightCaEncrypts) {
  expectEncrypted(with(server("tls"), Mode::verify_identity, caFile()));
}

TEST(TlsModes, AnotherCaIsRefused) {
  expectRefused(with(server("tls"), Mode::verify_ca, caFile("tls", "other-ca")), "certificate");
  expectRefused(with(server("tls"), Mode::verify_identity, caFile("tls", "other-ca")),
                "certificate");
}

TEST(TlsModes, AnotherHostNameIsRefusedOnlyByVerifyIdentity) {
  expectEncrypted(with(server("tls-other-host"), Mode::verify_ca, caFile("tls-other-host")));
  expectRefused(with(server("tls-other-host"), Mode::verify_identity, caFile("tls-other-host")),
                "certificate");
}

// The attack: a server (or someone in between) that does not offer TLS.
TEST(TlsModes, AServerWithoutTlsIsRefusedFromRequiredUp) {
  expectRefused(with(server("latin1"), Mode::required, ""), "TLS");
  expectRefused(with(server("latin1"), Mode::verify_ca, caFile()), "TLS");
  expectRefused(with(server("latin1"), Mode::verify_identity, caFile()), "SSL");
  // A CA alone means VERIFY_CA.
  expectRefused(with(server("latin1"), Mode::automatic, caFile()), "TLS");
}

TEST(TlsModes, PreferredAndDisabledTalkPlaintextToAServerWithoutTls) {
  for (auto mode : {Mode::preferred, Mode::disabled, Mode::automatic}) {
    for (const auto& outcome : {throughConnector(with(server("latin1"), mode, "")),
                                throughLibmariadb(with(server("latin1"), mode, ""))}) {
      ASSERT_TRUE(outcome.cipher.has_value()) << outcome.error;
      EXPECT_EQ(*outcome.cipher, "");
    }
  }
}

TEST(TlsModes, PreferredEncryptsWhenOffered) {
  expectEncrypted(with(server("tls"), Mode::preferred, ""));
  expectEncrypted(with(server("tls"), Mode::required, ""));
}

// The server refuses plaintext: DISABLED really sends none.
TEST(TlsModes, DisabledSendsNoTls) {
  // (require_secure_transport answers a plaintext login with "Access denied")
  expectRefused(with(server("tls"), Mode::disabled, ""), "Access denied");
}

}  // namespace
}  // namespace qtopology
