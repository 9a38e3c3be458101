// The pool's own logic, with a scripted opener instead of a server: which
// server a new session goes to, what a broken session takes with it, and how
// long acquire() waits for a busy pool.
#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <set>
#include <thread>
#include <vector>

#include <qtopology/coordination_storage.hpp>

#include "mysql/connection_pool.hpp"
#include "mysql/server_errors.hpp"

namespace {

using qtopology::ConnectionError;
using qtopology::MySqlOptions;
using qtopology::detail::ConnectionPool;

MySqlOptions threeServers() {
  MySqlOptions options;
  options.database = "db";
  options.hosts = {{"a", 1}, {"b", 2}, {"c", 3}};
  return options;
}

// Opens "sessions" (no real connection) on the servers not listed as down,
// and records every server it was asked for.
struct ScriptedServers {
  std::set<std::string> down;
  std::vector<std::string> asked;

  ConnectionPool::Opener opener() {
    return [this](const MySqlOptions::Endpoint* endpoint, std::chrono::seconds, bool& causal) {
      causal = false;
      const std::string host = endpoint ? endpoint->host : "socket";
      asked.push_back(host);
      if (down.count(host)) throw sql::SQLException("refused by " + host, "HY000", 2003);
      return std::unique_ptr<sql::Connection>();
    };
  }
};

TEST(ConnectionPool, NewSessionsGoToTheFirstServerThatAnswers) {
  const auto options = threeServers();
  ScriptedServers servers;
  servers.down = {"a"};
  ConnectionPool pool(options, servers.opener());
  {
    auto lease = pool.acquire();
    EXPECT_EQ(lease->endpoint(), 1u);
  }
  EXPECT_EQ(servers.asked, (std::vector<std::string>{"a", "b"}));
  // The server that took the last session is asked first from now on.
  auto first = pool.acquire();   // the idle one, on b
  auto second = pool.acquire();  // a new one
  EXPECT_EQ(second->endpoint(), 1u);
  EXPECT_EQ(servers.asked.back(), "b");
}

TEST(ConnectionPool, WhenEveryServerRefusesTheLastErrorPropagates) {
  const auto options = threeServers();
  ScriptedServers servers;
  servers.down = {"a", "b", "c"};
  ConnectionPool pool(options, servers.opener());
  try {
    pool.acquire();
    FAIL() << "a session was opened with every server down";
  } catch (const qtopology::detail::ServerFailure& e) {
    EXPECT_NE(std::string(e.what()).find("refused by c"), std::string::npos) << e.what();
    EXPECT_EQ(e.code, 2003);
    EXPECT_TRUE(e.while_connecting);
  }
  EXPECT_EQ(servers.asked, (std::vector<std::string>{"a", "b", "c"}));
  // The failed open gave its slot back: the pool is not leaking capacity.
  servers.down.clear();
  for (std::size_t i = 0; i < options.pool_size; ++i) EXPECT_NO_THROW(pool.acquire());
}

TEST(ConnectionPool, ABrokenSessionDropsItsServersIdleSessionsAndPreference) {
  auto options = threeServers();
  options.pool_size = 3;
  ScriptedServers servers;
  ConnectionPool pool(options, servers.opener());
  {
    auto one = pool.acquire();
    auto two = pool.acquire();
    auto three = pool.acquire();
    EXPECT_EQ(servers.asked, (std::vector<std::string>{"a", "a", "a"}));
  }  // three idle sessions on a
  servers.asked.clear();
  {
    auto broken = pool.acquire();
    broken.discard();
  }
  // The idle sessions on a are gone with it: new ones open, on b.
  auto one = pool.acquire();
  auto two = pool.acquire();
  auto three = pool.acquire();
  EXPECT_EQ(one->endpoint(), 1u);
  EXPECT_EQ(two->endpoint(), 1u);
  EXPECT_EQ(three->endpoint(), 1u);
  EXPECT_EQ(servers.asked, (std::vector<std::string>{"b", "b", "b"}));
}

TEST(ConnectionPool, ABusyPoolTimesOutAfterConnectPlusReadTimeout) {
  auto options = threeServers();
  options.pool_size = 1;
  options.connect_timeout = std::chrono::seconds(0);
  options.read_timeout = std::chrono::seconds(1);
  ScriptedServers servers;
  ConnectionPool pool(options, servers.opener());
  auto held = pool.acquire();
  EXPECT_THROW(pool.acquire(), ConnectionError);
}

TEST(ConnectionPool, ReadTimeoutZeroWaitsForABusyPoolBeyondTheConnectTimeout) {
  auto options = threeServers();
  options.pool_size = 1;
  options.connect_timeout = std::chrono::seconds(1);
  options.read_timeout = std::chrono::seconds(0);  // documented: wait forever
  ScriptedServers servers;
  ConnectionPool pool(options, servers.opener());
  auto held = std::make_unique<ConnectionPool::Lease>(pool.acquire());
  auto waiting = std::async(std::launch::async, [&] { return pool.acquire()->endpoint(); });
  // Longer than connect_timeout + read_timeout, the limit before the fix.
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(1500)), std::future_status::timeout);
  held.reset();
  EXPECT_EQ(waiting.get(), 0u);
}

}  // namespace
