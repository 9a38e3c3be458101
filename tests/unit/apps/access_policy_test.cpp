// The dashboard's access rules and Prometheus escaping, without a server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "access_policy.hpp"
#include "monitoring.hpp"

namespace qtopology::cli::dashboard {
namespace {

TEST(DashboardListen, ParsesHostAndPort) {
  const auto v4 = parseListenAddress("127.0.0.1:8080");
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.port, 8080);
  const auto v6 = parseListenAddress("[::1]:0");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 0);
  for (const char* bad : {"8080", "host:", ":80", "host:http", "host:70000", "[::1:80"}) {
    EXPECT_THROW(parseListenAddress(bad), std::invalid_argument) << bad;
  }
}

TEST(DashboardListen, KnowsLoopback) {
  for (const char* host : {"127.0.0.1", "127.8.9.10", "::1", "localhost"}) {
    EXPECT_TRUE(isLoopback(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "example.org", ""}) {
    EXPECT_FALSE(isLoopback(host)) << host;
  }
}

TEST(DashboardAccess, WriteRules) {
  const AccessPolicy open_loopback(true, "", false);
  EXPECT_FALSE(open_loopback.refuseWrite(""));
  EXPECT_EQ(open_loopback.writeMode(), "open");

  const AccessPolicy beyond_without_token(false, "", false);
  EXPECT_TRUE(beyond_without_token.refuseWrite(""));
  EXPECT_TRUE(beyond_without_token.refuseWrite("anything"));
  EXPECT_EQ(beyond_without_token.writeMode(), "refused");

  const AccessPolicy with_token(false, "tok", false);
  EXPECT_TRUE(with_token.refuseWrite(""));
  EXPECT_TRUE(with_token.refuseWrite("to"));
  EXPECT_TRUE(with_token.refuseWrite("tok2"));
  EXPECT_FALSE(with_token.refuseWrite("tok"));
  EXPECT_EQ(with_token.writeMode(), "token");

  const AccessPolicy read_only(true, "tok", true);
  EXPECT_TRUE(read_only.refuseWrite("tok"));
  EXPECT_EQ(read_only.writeMode(), "refused");
}

TEST(DashboardAccess, LoopbackServerAnswersOnlyLocalNames) {
  const AccessPolicy loopback(true, "", false);
  for (const char* host : {"127.0.0.1:8080", "localhost", "localhost:1", "[::1]:8080"}) {
    EXPECT_FALSE(loopback.refuseHost(host)) << host;
  }
  for (const char* host : {"evil.example", "evil.example:8080", "", "10.1.1.1:8080"}) {
    EXPECT_TRUE(loopback.refuseHost(host)) << host;
  }
  // Beyond loopback: loopback names and the public names only.
  const AccessPolicy beyond(false, "tok", false, {"dashboard.example.org"});
  for (const char* host : {"dashboard.example.org", "Dashboard.Example.ORG:8443", "127.0.0.1:1"}) {
    EXPECT_FALSE(beyond.refuseHost(host)) << host;
  }
  for (const char* host : {"evil.example", "dashboard.example.org.evil.example", ""}) {
    EXPECT_TRUE(beyond.refuseHost(host)) << host;
  }
  EXPECT_TRUE(AccessPolicy(false, "", false).refuseHost("dashboard.example.org"));
  // The refusal shows the client's Host escaped.
  EXPECT_THAT(*loopback.refuseHost("evil\n\x1b[2J"), ::testing::HasSubstr("evil\\n\\x1b[2J"));
}

TEST(DashboardAccess, ReadsNeedTheTokenWhenExposed) {
  const AccessPolicy loopback(true, "tok", false);
  EXPECT_FALSE(loopback.exposed());
  EXPECT_FALSE(loopback.refuseRead(""));
  const AccessPolicy proxied(true, "tok", false, {"ops.example"});
  EXPECT_TRUE(proxied.exposed());
  EXPECT_TRUE(proxied.refuseRead(""));
  EXPECT_TRUE(proxied.refuseRead("tok2"));
  EXPECT_FALSE(proxied.refuseRead("tok"));
  const AccessPolicy beyond(false, "tok", false, {"ops.example"});
  EXPECT_TRUE(beyond.refuseRead(""));
  EXPECT_FALSE(beyond.refuseRead("tok"));
}

TEST(DashboardAccess, TokenFromEitherHeader) {
  EXPECT_EQ(presentedToken("a", "Bearer b"), "a");
  EXPECT_EQ(presentedToken("", "Bearer b"), "b");
  EXPECT_EQ(presentedToken("", "bearer b"), "b");
  EXPECT_EQ(presentedToken("", "Basic b"), "");
  EXPECT_EQ(presentedToken("", "Bearer "), "");
}

TEST(DashboardAccess, SameOrigin) {
  EXPECT_TRUE(sameOrigin("", "127.0.0.1:8080"));
  EXPECT_TRUE(sameOrigin("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(sameOrigin("http://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(sameOrigin("http://127.0.0.1:9999", "127.0.0.1:8080"));
  EXPECT_FALSE(sameOrigin("null", "127.0.0.1:8080"));
}

TEST(DashboardMetrics, EscapesLabelValues) {
  EXPECT_EQ(escapeLabelValue("plain"), "plain");
  EXPECT_EQ(escapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace qtopology::cli::dashboard
