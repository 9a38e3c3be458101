// The dashboard's access rules and Prometheus escaping, without a server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "access_policy.hpp"
#include "monitoring.hpp"
#include "server.hpp"
#include "token_throttle.hpp"

namespace qtopology::cli::dashboard {
namespace {

using std::chrono::milliseconds;

AccessPolicy policy(bool loopback, std::string token, bool read_only,
                    std::vector<std::string> public_hosts = {}, bool open_reads = false) {
  AccessRules rules;
  rules.loopback = loopback;
  rules.token = std::move(token);
  rules.read_only = read_only;
  rules.public_hosts = std::move(public_hosts);
  rules.open_reads = open_reads;
  return AccessPolicy(std::move(rules));
}

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
  const auto open_loopback = policy(true, "", false);
  EXPECT_FALSE(open_loopback.refuseWrite(""));
  EXPECT_EQ(open_loopback.writeMode(), "open");

  const auto beyond_without_token = policy(false, "", false);
  EXPECT_TRUE(beyond_without_token.refuseWrite(""));
  EXPECT_TRUE(beyond_without_token.refuseWrite("anything"));
  EXPECT_EQ(beyond_without_token.writeMode(), "refused");

  const auto with_token = policy(false, "tok", false);
  EXPECT_TRUE(with_token.refuseWrite(""));
  EXPECT_TRUE(with_token.refuseWrite("to"));
  EXPECT_TRUE(with_token.refuseWrite("tok2"));
  EXPECT_FALSE(with_token.refuseWrite("tok"));
  EXPECT_EQ(with_token.writeMode(), "token");

  const auto read_only = policy(true, "tok", true);
  EXPECT_TRUE(read_only.refuseWrite("tok"));
  EXPECT_EQ(read_only.writeMode(), "refused");
}

TEST(DashboardAccess, LoopbackServerAnswersOnlyLocalNames) {
  const auto loopback = policy(true, "", false);
  for (const char* host : {"127.0.0.1:8080", "localhost", "localhost:1", "[::1]:8080"}) {
    EXPECT_FALSE(loopback.refuseHost(host)) << host;
  }
  for (const char* host : {"evil.example", "evil.example:8080", "", "10.1.1.1:8080"}) {
    EXPECT_TRUE(loopback.refuseHost(host)) << host;
  }
  // Beyond loopback: loopback names and the public names only.
  const auto beyond = policy(false, "tok", false, {"dashboard.example.org"});
  for (const char* host : {"dashboard.example.org", "Dashboard.Example.ORG:8443", "127.0.0.1:1"}) {
    EXPECT_FALSE(beyond.refuseHost(host)) << host;
  }
  for (const char* host : {"evil.example", "dashboard.example.org.evil.example", ""}) {
    EXPECT_TRUE(beyond.refuseHost(host)) << host;
  }
  EXPECT_TRUE(policy(false, "", false).refuseHost("dashboard.example.org"));
  // The refusal does not repeat the client's Host.
  EXPECT_THAT(*loopback.refuseHost("evil\n\x1b[2J"), ::testing::Not(::testing::HasSubstr("evil")));
}

TEST(DashboardAccess, ReadsNeedTheTokenOnLoopbackToo) {
  const auto loopback = policy(true, "tok", false);
  EXPECT_FALSE(loopback.exposed());
  EXPECT_FALSE(loopback.readsOpen());
  ASSERT_TRUE(loopback.refuseRead(""));
  EXPECT_THAT(*loopback.refuseRead(""), ::testing::HasSubstr("--open-reads"));
  EXPECT_THAT(*loopback.refuseRead("tok2"), ::testing::HasSubstr("wrong token"));
  EXPECT_FALSE(loopback.refuseRead("tok"));
  // The explicit opt-out, and a dashboard without any token (--open-writes).
  EXPECT_FALSE(policy(true, "tok", false, {}, true).refuseRead(""));
  EXPECT_FALSE(policy(true, "", false).refuseRead(""));
  // Exposed: the token always, --open-reads or not.
  const auto proxied = policy(true, "tok", false, {"ops.example"}, true);
  EXPECT_TRUE(proxied.exposed());
  EXPECT_TRUE(proxied.refuseRead(""));
  EXPECT_TRUE(proxied.refuseRead("tok2"));
  EXPECT_FALSE(proxied.refuseRead("tok"));
  const auto beyond = policy(false, "tok", false, {"ops.example"});
  EXPECT_TRUE(beyond.refuseRead(""));
  EXPECT_FALSE(beyond.refuseRead("tok"));
  EXPECT_TRUE(policy(false, "", false, {"ops.example"}).refuseRead(""));
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

// Each wrong token doubles the wait before the next one from that address
// is checked: 0, 100, 200, 400, ... ms, at most 10 s.
TEST(DashboardThrottle, DelayGrowsPerAddressAndResetsOnSuccess) {
  TokenThrottle throttle;
  auto now = TokenThrottle::Clock::time_point() + std::chrono::hours(1);
  std::vector<long> waits;
  for (int i = 0; i < 10; ++i) {
    const auto at = throttle.admit("10.0.0.1", now);
    ASSERT_TRUE(at.has_value());
    waits.push_back(static_cast<long>(std::chrono::duration_cast<milliseconds>(*at - now).count()));
    now = *at;
    throttle.failed("10.0.0.1", now);
  }
  EXPECT_EQ(waits, (std::vector<long>{0, 100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000}));
  // Another address is not held back.
  EXPECT_EQ(throttle.admit("10.0.0.2", now), now);
  // The right token: the address starts afresh.
  now = *throttle.admit("10.0.0.1", now);
  throttle.succeeded("10.0.0.1");
  EXPECT_EQ(throttle.admit("10.0.0.1", now), now);
  throttle.failed("10.0.0.1", now);
  EXPECT_EQ(throttle.admit("10.0.0.1", now), now + milliseconds(100));
}

TEST(DashboardThrottle, ParallelGuessesAreSpacedAndTheQueueIsBounded) {
  TokenThrottle throttle;
  const auto now = TokenThrottle::Clock::time_point() + std::chrono::hours(1);
  for (int i = 0; i < 4; ++i) throttle.failed("10.0.0.1", now);  // delay 800 ms
  std::vector<long> at;
  for (int i = 0; i < 14; ++i) {
    const auto when = throttle.admit("10.0.0.1", now);
    at.push_back(
        when ? static_cast<long>(std::chrono::duration_cast<milliseconds>(*when - now).count())
             : -1);
  }
  // Checked 800 ms apart, as one client guessing in sequence would be; past
  // 10 s of queue, refused unchecked.
  EXPECT_EQ(at, (std::vector<long>{800, 1600, 2400, 3200, 4000, 4800, 5600, 6400, 7200, 8000, 8800,
                                   9600, -1, -1}));
}

TEST(DashboardThrottle, MemoryIsBounded) {
  ThrottleLimits limits;
  limits.addresses = 4;
  TokenThrottle throttle(limits);
  auto now = TokenThrottle::Clock::time_point() + std::chrono::hours(1);
  for (int i = 0; i < 100; ++i) {
    throttle.failed("10.0.1." + std::to_string(i), now);
    now += milliseconds(1);
  }
  EXPECT_EQ(throttle.addressesHeld(), 4u);
  // The most recent ones are kept.
  EXPECT_EQ(throttle.admit("10.0.1.99", now), now + milliseconds(99));
  EXPECT_EQ(throttle.admit("10.0.1.0", now), now);
  // Forgotten after a quiet while.
  throttle.failed("10.0.2.1", now + std::chrono::hours(1));
  EXPECT_EQ(throttle.addressesHeld(), 1u);
}

TEST(DashboardThrottle, KeysOfAddresses) {
  EXPECT_EQ(throttleKey("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(throttleKey("::ffff:10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(throttleKey("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(throttleKey("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64");
}

TEST(DashboardConnections, AnEighthOfTheSlotsIsReserved) {
  EXPECT_EQ(reservedSlots(128), 16u);
  EXPECT_EQ(reservedSlots(8), 1u);
  EXPECT_EQ(reservedSlots(2), 1u);
  EXPECT_EQ(reservedSlots(1), 0u);
}

TEST(DashboardMetrics, EscapesLabelValues) {
  EXPECT_EQ(escapeLabelValue("plain"), "plain");
  EXPECT_EQ(escapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace qtopology::cli::dashboard
