// The dashboard's access rules and Prometheus escaping, without a server.
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
  EXPECT_FALSE(AccessPolicy(false, "", false).refuseHost("dashboard.example.org"));
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
