// The lease watchdog on the steady clock, as hosts run it: its thread sleeps
// until the lease could run out instead of polling, and renewals do not wake
// it (with thousands of workers in one process, the polling and the wake-ups
// were most of the client's CPU). The lease must hold all the same.
#include <gtest/gtest.h>

#include <thread>

#include "worker/lease_watchdog.hpp"
#include "worker_cluster.hpp"

namespace qtopology::testing {
namespace {

using namespace std::chrono_literals;

TEST(LeaseWatchdog, OnTheSteadyClockRenewalsHoldTheLeaseAndSilenceEndsIt) {
  RecordingRunner runner;
  runner.setExitCallback([](TopologyExit) {});
  runner.start("a", Json::object());
  detail::LeaseWatchdog watchdog("w1", runner, 150ms, {});
  watchdog.start();
  ASSERT_TRUE(watchdog.track("a"));

  // Renewed well within the lease for four leases' time: nothing is killed.
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(30ms);
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
  EXPECT_GE(waited, 140ms) << "killed before the lease ran out";
  EXPECT_EQ(runner.killed(), std::vector<std::string>{"a"});

  // A renewal after the lapse re-arms it for what is tracked next.
  watchdog.renew();
  runner.start("b", Json::object());
  ASSERT_TRUE(watchdog.track("b"));
  std::this_thread::sleep_for(600ms);
  EXPECT_FALSE(runner.runs("b"));
  EXPECT_EQ(runner.killed(), (std::vector<std::string>{"a", "b"}));
  watchdog.stop();
}

}  // namespace
}  // namespace qtopology::testing
