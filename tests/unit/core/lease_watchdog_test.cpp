// The lease watchdog on the steady clock, as hosts run it: its thread sleeps
// until the lease could run out instead of polling, and renewals do not wake
// it (with thousands of workers in one process, the polling and the wake-ups
// were most of the client's CPU). The lease must hold all the same.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "worker/lease_watchdog.hpp"
#include "worker_cluster.hpp"

namespace qtopology::testing {
namespace {

using ts = TopologyState;

using namespace std::chrono_literals;

TEST(LeaseWatchdog, OnTheSteadyClockRenewalsHoldTheLeaseAndSilenceEndsIt) {
  RecordingRunner runner;
  runner.setExitCallback([](TopologyExit) {});
  runner.start({"a", Json::object()});
  // A lease long beside the renewals' period: a loaded machine may oversleep
  // a renewal by a few hundred milliseconds.
  detail::LeaseWatchdog watchdog("w1", runner, 1500ms, {});
  watchdog.start();
  ASSERT_TRUE(watchdog.track("a"));

  // Renewed well within the lease for four leases' time: nothing is killed.
  for (int i = 0; i < 60; ++i) {
    std::this_thread::sleep_for(100ms);
    watchdog.renew();
  }
  EXPECT_TRUE(runner.runs("a"));

  // Silent: the thread, not a caller, kills once the lease has run out.
  const auto silent_from = std::chrono::steady_clock::now();
  while (runner.runs("a") && std::chrono::steady_clock::now() - silent_from < 5s) {
    std::this_thread::sleep_for(5ms);
  }
  const auto waited = std::chrono::steady_clock::now() - silent_from;
  EXPECT_FALSE(runner.runs("a")) << "never killed";
  EXPECT_GE(waited, 1490ms) << "killed before the lease ran out";
  EXPECT_EQ(runner.killed(), std::vector<std::string>{"a"});

  // A renewal after the lapse re-arms it for what is tracked next.
  watchdog.renew();
  runner.start({"b", Json::object()});
  ASSERT_TRUE(watchdog.track("b"));
  const auto tracked_at = std::chrono::steady_clock::now();
  while (runner.runs("b") && std::chrono::steady_clock::now() - tracked_at < 5s) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_FALSE(runner.runs("b"));
  EXPECT_EQ(runner.killed(), (std::vector<std::string>{"a", "b"}));
  watchdog.stop();
}

// The lease holds whatever the storage call does: a heartbeat that hangs (a
// silent partition, client timeouts retried) past the lease still ends the
// worker's topologies in time, from the watchdog's thread, and only once.
TEST(TopologyWorker, LeaseWatchdogKillsWhileAHeartbeatHangs) {
  Cluster c({}, 30s, kEveryHeartbeatWrites);  // the lease runs from the last tick
  c.add("w1");
  c.topology("a");
  c.rounds(3);
  ASSERT_TRUE(c.runner("w1").runs("a"));
  std::atomic<bool> hang{true};
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  c.storage.before_heartbeat = [&, released](const std::string&) {
    if (!hang.exchange(false)) return;
    entered.set_value();
    released.wait();
  };
  auto in_heartbeat = entered.get_future();
  std::thread loop([&] { c.worker("w1").tick(); });
  in_heartbeat.wait();
  c.clock.advance(20s);
  std::this_thread::sleep_for(300ms);  // the watchdog looks at the clock every 100 ms
  EXPECT_TRUE(c.runner("w1").runs("a")) << "20 s: still within the lease";
  c.clock.advance(1s);
  bool killed = false;
  for (int i = 0; i < 500 && !killed; ++i) {
    std::this_thread::sleep_for(10ms);
    killed = !c.runner("w1").runs("a");
  }
  EXPECT_TRUE(killed) << "killed while the heartbeat still hangs";
  EXPECT_EQ(c.runner("w1").killed(), std::vector<std::string>{"a"});
  release.set_value();
  loop.join();
  EXPECT_EQ(c.runner("w1").kills, std::vector<std::string>{"a"}) << "the loop kills nothing again";
  // The heartbeat went through in the end: the kill is reported and the
  // topology runs again, once.
  c.rounds(3);
  EXPECT_EQ(c.runningOn("a"), std::vector<std::string>{"w1"});
  EXPECT_EQ(c.info("a").status, ts::running);
}

}  // namespace
}  // namespace qtopology::testing
