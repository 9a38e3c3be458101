#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include <qtopology/coordination_storage.hpp>
#include <qtopology/mysql_options.hpp>

namespace {

using qtopology::InvalidArgument;
using qtopology::MySqlOptions;
using namespace std::chrono_literals;

// what() of the InvalidArgument fromUrl throws, or a marker when it throws nothing.
std::string errorOf(std::string_view url) {
  try {
    MySqlOptions::fromUrl(url);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "<nothing thrown>";
}

TEST(MySqlOptionsFromUrl, ParsesFullUrl) {
  const auto o =
      MySqlOptions::fromUrl("mysql://alice:s3cret@db.example.com:3310/qtopo?pool_size=8");
  EXPECT_EQ(o.user, "alice");
  EXPECT_EQ(o.password, "s3cret");
  EXPECT_EQ(o.host, "db.example.com");
  EXPECT_EQ(o.port, 3310u);
  EXPECT_EQ(o.database, "qtopo");
  EXPECT_EQ(o.pool_size, 8u);
}

TEST(MySqlOptionsFromUrl, BareSchemeKeepsDefaults) {
  const auto o = MySqlOptions::fromUrl("mysql://");
  const MySqlOptions d;
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 3306u);
  EXPECT_EQ(o.pool_size, 4u);
  EXPECT_EQ(o.user, "");
  EXPECT_EQ(o.password, "");
  EXPECT_EQ(o.database, "");
  EXPECT_EQ(o.unix_socket, "");
  EXPECT_EQ(o.retries, d.retries);
  EXPECT_EQ(o.retry_timeout, d.retry_timeout);
  EXPECT_EQ(o.connect_timeout, d.connect_timeout);
  EXPECT_EQ(o.read_timeout, d.read_timeout);
  EXPECT_FALSE(o.db_check_only);
}

TEST(MySqlOptionsFromUrl, MissingHostAndPortUseDefaults) {
  const auto o = MySqlOptions::fromUrl("mysql://bob@/qtopo");
  EXPECT_EQ(o.user, "bob");
  EXPECT_EQ(o.password, "");
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 3306u);
  EXPECT_EQ(o.database, "qtopo");
}

TEST(MySqlOptionsFromUrl, PortWithoutHostKeepsDefaultHost) {
  const auto o = MySqlOptions::fromUrl("mysql://:3307/qtopo");
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 3307u);
}

TEST(MySqlOptionsFromUrl, PercentDecodesUserPasswordAndDatabase) {
  const auto o = MySqlOptions::fromUrl("mysql://a%40b%3Ac:p%2Fw%3F%25d@host/my%20db%2d1");
  EXPECT_EQ(o.user, "a@b:c");
  EXPECT_EQ(o.password, "p/w?%d");
  EXPECT_EQ(o.database, "my db-1");
}

TEST(MySqlOptionsFromUrl, PercentDecodesSocket) {
  const auto o = MySqlOptions::fromUrl("mysql://u@/db?socket=%2Fvar%2Frun%2Fmysqld%2Fmy%20sock");
  EXPECT_EQ(o.unix_socket, "/var/run/mysqld/my sock");
}

TEST(MySqlOptionsFromUrl, PasswordWithEncodedAt) {
  const auto o = MySqlOptions::fromUrl("mysql://u:p%40ss@host:3306/db");
  EXPECT_EQ(o.password, "p@ss");
  EXPECT_EQ(o.host, "host");
}

TEST(MySqlOptionsFromUrl, PasswordWithRawAtSplitsOnLastAt) {
  const auto o = MySqlOptions::fromUrl("mysql://u:p@s@s@host:3306/db");
  EXPECT_EQ(o.user, "u");
  EXPECT_EQ(o.password, "p@s@s");
  EXPECT_EQ(o.host, "host");
  EXPECT_EQ(o.port, 3306u);
}

TEST(MySqlOptionsFromUrl, PasswordMayContainColon) {
  const auto o = MySqlOptions::fromUrl("mysql://u:a:b@host/db");
  EXPECT_EQ(o.user, "u");
  EXPECT_EQ(o.password, "a:b");
}

TEST(MySqlOptionsFromUrl, Ipv6HostWithPort) {
  const auto o = MySqlOptions::fromUrl("mysql://u:p@[::1]:3307/db");
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 3307u);
  EXPECT_EQ(o.database, "db");
}

TEST(MySqlOptionsFromUrl, Ipv6HostWithoutPort) {
  const auto o = MySqlOptions::fromUrl("mysql://[fe80::1]/db");
  EXPECT_EQ(o.host, "fe80::1");
  EXPECT_EQ(o.port, 3306u);
}

TEST(MySqlOptionsFromUrl, QueryPoolSize) {
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h/db?pool_size=1").pool_size, 1u);
}

TEST(MySqlOptionsFromUrl, QuerySocket) {
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h/db?socket=/tmp/m.sock").unix_socket, "/tmp/m.sock");
}

TEST(MySqlOptionsFromUrl, QueryCheckOnly) {
  EXPECT_TRUE(MySqlOptions::fromUrl("mysql://h/db?check_only=1").db_check_only);
  EXPECT_TRUE(MySqlOptions::fromUrl("mysql://h/db?check_only=true").db_check_only);
  EXPECT_TRUE(MySqlOptions::fromUrl("mysql://h/db?check_only=yes").db_check_only);
  EXPECT_FALSE(MySqlOptions::fromUrl("mysql://h/db?check_only=0").db_check_only);
  EXPECT_FALSE(MySqlOptions::fromUrl("mysql://h/db?check_only=false").db_check_only);
  EXPECT_FALSE(MySqlOptions::fromUrl("mysql://h/db?check_only=no").db_check_only);
}

TEST(MySqlOptionsFromUrl, QueryCheckOnlyRejectsOtherValues) {
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h/db?check_only=2"), InvalidArgument);
}

TEST(MySqlOptionsFromUrl, QueryRetries) {
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h/db?retries=0").retries, 0);
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h/db?retries=30").retries, 30);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h/db?retries=-1"), InvalidArgument);
}

TEST(MySqlOptionsFromUrl, QueryRetryTimeoutMs) {
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h/db?retry_timeout_ms=250").retry_timeout, 250ms);
}

TEST(MySqlOptionsFromUrl, QueryConnectTimeoutS) {
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h/db?connect_timeout_s=9").connect_timeout, 9s);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h/db?connect_timeout_s=0"), InvalidArgument);
}

TEST(MySqlOptionsFromUrl, QueryReadTimeoutS) {
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h/db?read_timeout_s=0").read_timeout, 0s);
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h/db?read_timeout_s=45").read_timeout, 45s);
}

TEST(MySqlOptionsFromUrl, QuerySslFiles) {
  const auto o = MySqlOptions::fromUrl(
      "mysql://h/db?ssl_ca=%2Fetc%2Fca.pem&ssl_cert=/etc/c.pem&ssl_key=/etc/k.pem");
  EXPECT_EQ(o.ssl_ca, "/etc/ca.pem");
  EXPECT_EQ(o.ssl_cert, "/etc/c.pem");
  EXPECT_EQ(o.ssl_key, "/etc/k.pem");
}

TEST(MySqlOptionsFromUrl, SeveralQueryKeysAndEmptyPairs) {
  const auto o = MySqlOptions::fromUrl("mysql://h/db?&pool_size=2&&retries=3&");
  EXPECT_EQ(o.pool_size, 2u);
  EXPECT_EQ(o.retries, 3);
}

TEST(MySqlOptionsFromUrl, RejectsWrongScheme) {
  EXPECT_THROW(MySqlOptions::fromUrl("postgres://u:p@h/db"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql:/h/db"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl(""), InvalidArgument);
}

TEST(MySqlOptionsFromUrl, RejectsNonNumericPort) {
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h:abc/db"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h:/db"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h:33x/db"), InvalidArgument);
}

TEST(MySqlOptionsFromUrl, RejectsPortZero) {
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h:0/db"), InvalidArgument);
}

TEST(MySqlOptionsFromUrl, RejectsPortAbove65535) {
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h:70000/db"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://[::1]:70000/db"), InvalidArgument);
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h:65535/db").port, 65535u);
}

TEST(MySqlOptionsFromUrl, RejectsMalformedIpv6Host) {
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://[::1/db"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://[::1]x/db"), InvalidArgument);
}

TEST(MySqlOptionsFromUrl, RejectsPoolSizeZero) {
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h/db?pool_size=0"), InvalidArgument);
}

TEST(MySqlOptionsFromUrl, RejectsUnknownKey) {
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h/db?poolsize=3"), InvalidArgument);
}

TEST(MySqlOptionsFromUrl, RejectsKeyWithoutValue) {
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h/db?check_only"), InvalidArgument);
}

TEST(MySqlOptionsFromUrl, RejectsBadPercentEscape) {
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://u%zz@h/db"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://u:p%4@h/db"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h/db%"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h/db?socket=%g0"), InvalidArgument);
}

TEST(MySqlOptionsFromUrl, ErrorNamesTheBadPart) {
  EXPECT_NE(errorOf("mysql://h/db?poolsize=3").find("poolsize"), std::string::npos);
  EXPECT_NE(errorOf("mysql://h:70000/db").find("port"), std::string::npos);
}

constexpr std::string_view kPassword = "Zq7-UniquePassw0rd";

TEST(MySqlOptionsFromUrl, UnknownKeyErrorDoesNotContainPassword) {
  const std::string what = errorOf("mysql://u:Zq7-UniquePassw0rd@h/db?bogus=1");
  EXPECT_NE(what, "<nothing thrown>");
  EXPECT_EQ(what.find(kPassword), std::string::npos) << what;
}

TEST(MySqlOptionsFromUrl, BadPortErrorDoesNotContainPassword) {
  const std::string what = errorOf("mysql://u:Zq7-UniquePassw0rd@h:99999/db");
  EXPECT_NE(what, "<nothing thrown>");
  EXPECT_EQ(what.find(kPassword), std::string::npos) << what;
}

TEST(MySqlOptionsFromUrl, NonNumericPortErrorDoesNotContainPassword) {
  const std::string what = errorOf("mysql://u:Zq7-UniquePassw0rd@h:port/db");
  EXPECT_NE(what, "<nothing thrown>");
  EXPECT_EQ(what.find(kPassword), std::string::npos) << what;
}

TEST(MySqlOptionsFromUrl, KeyWithoutValueErrorDoesNotContainPassword) {
  const std::string what = errorOf("mysql://u:Zq7-UniquePassw0rd@h/db?check_only");
  EXPECT_NE(what, "<nothing thrown>");
  EXPECT_EQ(what.find(kPassword), std::string::npos) << what;
}

TEST(MySqlOptionsFromUrl, BadEscapeInPasswordErrorDoesNotContainPassword) {
  const std::string what = errorOf("mysql://u:Zq7-UniquePassw0rd%zz@h/db");
  EXPECT_NE(what, "<nothing thrown>");
  EXPECT_EQ(what.find(kPassword), std::string::npos) << what;
}

// A password with a raw '/' or '?' must not end up in the port or a query key,
// which errors quote.
TEST(MySqlOptionsFromUrl, RawSlashInPasswordErrorDoesNotContainPassword) {
  const std::string what = errorOf("mysql://u:Zq7-UniquePassw0rd/x@h/db");
  EXPECT_EQ(what.find(kPassword), std::string::npos) << what;
}

TEST(MySqlOptionsFromUrl, RawQuestionMarkInPasswordErrorDoesNotContainPassword) {
  const std::string what = errorOf("mysql://u:1234?Zq7-UniquePassw0rd@h/db");
  EXPECT_EQ(what.find(kPassword), std::string::npos) << what;
}

TEST(MySqlOptionsFromUrl, SingleHostLeavesHostListEmpty) {
  const auto o = MySqlOptions::fromUrl("mysql://u:p@db1:3307/db");
  EXPECT_TRUE(o.hosts.empty());
  ASSERT_EQ(o.endpoints().size(), 1u);
  EXPECT_EQ(o.endpoints()[0].host, "db1");
  EXPECT_EQ(o.endpoints()[0].port, 3307u);
}

TEST(MySqlOptionsFromUrl, SeveralHosts) {
  const auto o = MySqlOptions::fromUrl("mysql://u:p@h1:3306,h2:3307,h3:3308/db?pool_size=2");
  ASSERT_EQ(o.hosts.size(), 3u);
  EXPECT_EQ(o.hosts[0].host, "h1");
  EXPECT_EQ(o.hosts[0].port, 3306u);
  EXPECT_EQ(o.hosts[1].host, "h2");
  EXPECT_EQ(o.hosts[1].port, 3307u);
  EXPECT_EQ(o.hosts[2].host, "h3");
  EXPECT_EQ(o.hosts[2].port, 3308u);
  EXPECT_EQ(o.host, "h1");  // the single-host fields name the first
  EXPECT_EQ(o.port, 3306u);
  EXPECT_EQ(o.database, "db");
  EXPECT_EQ(o.user, "u");
  EXPECT_EQ(o.password, "p");
  EXPECT_EQ(o.pool_size, 2u);
  EXPECT_EQ(o.endpoints().size(), 3u);
}

TEST(MySqlOptionsFromUrl, SeveralHostsDefaultPortAndIpv6) {
  const auto o = MySqlOptions::fromUrl("mysql://h1,[::1]:3307,[fe80::2],h%2D4/db");
  ASSERT_EQ(o.hosts.size(), 4u);
  EXPECT_EQ(o.hosts[0].host, "h1");
  EXPECT_EQ(o.hosts[0].port, 3306u);
  EXPECT_EQ(o.hosts[1].host, "::1");
  EXPECT_EQ(o.hosts[1].port, 3307u);
  EXPECT_EQ(o.hosts[2].host, "fe80::2");
  EXPECT_EQ(o.hosts[2].port, 3306u);
  EXPECT_EQ(o.hosts[3].host, "h-4");
}

TEST(MySqlOptionsFromUrl, PasswordWithCommaIsNotAHostList) {
  const auto o = MySqlOptions::fromUrl("mysql://u:a,b@h1:3306/db");
  EXPECT_EQ(o.password, "a,b");
  EXPECT_TRUE(o.hosts.empty());
  EXPECT_EQ(o.host, "h1");
}

TEST(MySqlOptionsFromUrl, RejectsEmptyHostInList) {
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h1,,h2/db"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h1,:3307/db"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h1,/db"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://,h2/db"), InvalidArgument);
}

TEST(MySqlOptionsFromUrl, RejectsBadPortInList) {
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h1:3306,h2:x/db"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h1:3306,h2:70000/db"), InvalidArgument);
  EXPECT_THROW(MySqlOptions::fromUrl("mysql://h1,h2:0/db"), InvalidArgument);
}

TEST(MySqlOptionsFromUrl, HostListErrorDoesNotContainPassword) {
  const std::string what = errorOf("mysql://u:Zq7-UniquePassw0rd@h1,,h2/db");
  EXPECT_NE(what, "<nothing thrown>");
  EXPECT_EQ(what.find(kPassword), std::string::npos) << what;
}

TEST(MySqlOptions, EndpointsWithoutHostListIsHostAndPort) {
  MySqlOptions o;
  o.host = "db9";
  o.port = 3310;
  const auto endpoints = o.endpoints();
  ASSERT_EQ(endpoints.size(), 1u);
  EXPECT_EQ(endpoints[0].host, "db9");
  EXPECT_EQ(endpoints[0].port, 3310u);
}

TEST(MySqlOptions, HostListReplacesHostAndPort) {
  MySqlOptions o;
  o.host = "ignored";
  o.hosts = {{"a", 1}, {"b", 2}};
  const auto endpoints = o.endpoints();
  ASSERT_EQ(endpoints.size(), 2u);
  EXPECT_EQ(endpoints[0].host, "a");
  EXPECT_EQ(endpoints[1].port, 2u);
}

using Mode = MySqlOptions::SslMode;

TEST(MySqlOptionsSsl, ModesParseCaseInsensitively) {
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h/db?ssl_mode=disabled").effectiveSslMode(),
            Mode::disabled);
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h/db?ssl_mode=PREFERRED").effectiveSslMode(),
            Mode::preferred);
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h/db?ssl_mode=Required").effectiveSslMode(),
            Mode::required);
  EXPECT_EQ(
      MySqlOptions::fromUrl("mysql://h/db?ssl_mode=VERIFY_IDENTITY&ssl_ca=/ca").effectiveSslMode(),
      Mode::verify_identity);
  EXPECT_NE(errorOf("mysql://h/db?ssl_mode=ON").find("must be DISABLED, PREFERRED"),
            std::string::npos);
}

// As MySQL clients: nothing given tries TLS, a CA alone verifies against it.
TEST(MySqlOptionsSsl, DefaultsFollowMySqlClients) {
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h/db").effectiveSslMode(), Mode::preferred);
  EXPECT_EQ(MySqlOptions::fromUrl("mysql://h/db?ssl_ca=/ca").effectiveSslMode(), Mode::verify_ca);
}

TEST(MySqlOptionsSsl, ContradictionsAreRefused) {
  EXPECT_NE(errorOf("mysql://h/db?ssl_mode=VERIFY_CA").find("need ssl_ca"), std::string::npos);
  EXPECT_NE(errorOf("mysql://h/db?ssl_mode=VERIFY_IDENTITY").find("need ssl_ca"),
            std::string::npos);
  EXPECT_NE(errorOf("mysql://h/db?ssl_mode=DISABLED&ssl_ca=/ca").find("contradicts"),
            std::string::npos);
}

class PasswordFile : public ::testing::Test {
 protected:
  void write(const std::string& content, mode_t mode) {
    std::FILE* file = std::fopen(path_.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fputs(content.c_str(), file);
    std::fclose(file);
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string url() const { return "mysql://u@h/db?password_file=" + path_; }
  const std::string path_ =
      ::testing::TempDir() + "qtopology-password-" + std::to_string(::getpid());
};

TEST_F(PasswordFile, FirstLineIsThePassword) {
  write("s3cret:@/\nsecond line\n", 0600);
  EXPECT_EQ(MySqlOptions::fromUrl(url()).password, "s3cret:@/");
  write("no-newline", 0400);
  EXPECT_EQ(MySqlOptions::fromUrl(url()).password, "no-newline");
}

TEST_F(PasswordFile, ReadableByOthersIsRefusedWithoutShowingIt) {
  write("visible-secret\n", 0644);
  const auto error = errorOf(url());
  EXPECT_NE(error.find("group or others"), std::string::npos) << error;
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  EXPECT_EQ(error.find("visible-secret"), std::string::npos) << error;
  write("visible-secret\n", 0640);
  EXPECT_NE(errorOf(url()).find("group or others"), std::string::npos);
}

TEST_F(PasswordFile, MissingEmptyOrLinkedFilesAreRefused) {
  EXPECT_NE(errorOf(url()).find("cannot be opened"), std::string::npos);
  write("\n", 0600);
  EXPECT_NE(errorOf(url()).find("is empty"), std::string::npos);
  const std::string link = path_ + ".link";
  write("secret\n", 0600);
  ASSERT_EQ(::symlink(path_.c_str(), link.c_str()), 0);
  EXPECT_NE(errorOf("mysql://u@h/db?password_file=" + link).find("cannot be opened"),
            std::string::npos);
  std::remove(link.c_str());
}

TEST_F(PasswordFile, ExclusiveWithAPasswordInTheUrl) {
  write("secret\n", 0600);
  const auto error = errorOf("mysql://u:other@h/db?password_file=" + path_);
  EXPECT_NE(error.find("not both"), std::string::npos) << error;
  EXPECT_EQ(error.find("other"), std::string::npos) << error;
}

// Authentication keys (issue 26): what MySQL's client spells
// --enable-cleartext-plugin, --server-public-key-path, --get-server-public-key.
TEST(MySqlOptionsAuth, DefaultsAcceptTheHashingPluginsAndNoCleartext) {
  const auto o = MySqlOptions::fromUrl("mysql://u:p@h/db");
  EXPECT_EQ(o.auth_plugins, (std::vector<std::string>{"mysql_native_password",
                                                      "caching_sha2_password", "client_ed25519"}));
  EXPECT_FALSE(o.allow_cleartext_password);
  EXPECT_EQ(o.server_public_key, "");
  EXPECT_FALSE(o.get_server_public_key);
}

TEST(MySqlOptionsAuth, QueryKeysSetThem) {
  const auto o = MySqlOptions::fromUrl(
      "mysql://u:p@h/db?auth_plugins=caching_sha2_password,client_ed25519"
      "&allow_cleartext_password=1&server_public_key=/etc/mysql/public%20key.pem"
      "&get_server_public_key=true");
  EXPECT_EQ(o.auth_plugins, (std::vector<std::string>{"caching_sha2_password", "client_ed25519"}));
  EXPECT_TRUE(o.allow_cleartext_password);
  EXPECT_EQ(o.server_public_key, "/etc/mysql/public key.pem");
  EXPECT_TRUE(o.get_server_public_key);
}

TEST(MySqlOptionsAuth, BadValuesAreRefusedNamingTheKey) {
  EXPECT_NE(errorOf("mysql://u@h/db?auth_plugins=").find("auth_plugins"), std::string::npos);
  EXPECT_NE(errorOf("mysql://u@h/db?auth_plugins=a,,b").find("auth_plugins"), std::string::npos);
  EXPECT_NE(errorOf("mysql://u@h/db?auth_plugins=a%20b").find("auth_plugins"), std::string::npos);
  EXPECT_NE(
      errorOf("mysql://u@h/db?allow_cleartext_password=maybe").find("allow_cleartext_password"),
      std::string::npos);
  EXPECT_NE(errorOf("mysql://u@h/db?get_server_public_key=2").find("get_server_public_key"),
            std::string::npos);
  EXPECT_NE(errorOf("mysql://u@h/db?server_public_key=").find("server_public_key"),
            std::string::npos);
}

TEST(MySqlOptionsAuth, PluginListErrorEscapesControlCharacters) {
  const auto error = errorOf("mysql://u@h/db?auth_plugins=a%1Bb");
  EXPECT_EQ(error.find('\x1b'), std::string::npos) << error;
}

}  // namespace
