// The worker's lease against the cluster: shortened to end before the
// dead-worker timeout, following that timeout when it changes, running from
// when the heartbeat was sent; and tick() surviving every storage failure,
// a first registration included.
#include <gtest/gtest.h>

#include "worker_cluster.hpp"

namespace qtopology::testing {
namespace {

using ts = TopologyState;

constexpr const char* kShortened = "lease shortened";

// One worker running "a", its log kept. Every heartbeat writes, so the lease
// runs from the last tick (RunsFromTheLastHeartbeatThatWrote covers the
// write interval).
struct LeaseCluster : Cluster {
  explicit LeaseCluster(std::chrono::milliseconds worker_dead_timeout = 30s)
      : Cluster({}, worker_dead_timeout, kEveryHeartbeatWrites) {
    logger = lineLogger(lines);
    add("w1");
    topology("a");
    rounds(3);
    EXPECT_EQ(runningOn("a"), std::vector<std::string>{"w1"});
  }
  // Cut off, then `n` rounds: does it still run "a"?
  bool runsAfterCutOff(int n) {
    rounds(n);
    return runner("w1").runs("a");
  }

  std::shared_ptr<LineSink> lines = std::make_shared<LineSink>();
};

TEST(WorkerLease, EndsTwoTicksBeforeTheClustersDeadTimeout) {
  LeaseCluster c(10s);  // lease option 20 s, tick 1 s: the lease is 8 s
  c.storage.offline.insert("w1");
  EXPECT_TRUE(c.runsAfterCutOff(8));
  EXPECT_FALSE(c.runsAfterCutOff(1));
  EXPECT_EQ(c.runner("w1").killed(), std::vector<std::string>{"a"});
  // Killed before the leader could see the worker dead and move "a".
  EXPECT_EQ(c.workerRow("w1").status, WorkerState::alive);
  EXPECT_EQ(c.lines->count("worker w1: lease shortened from 20000 ms to 8000 ms", LogLevel::warn),
            1);
}

TEST(WorkerLease, WarnsOnceHoweverOftenTheSettingsAreRead) {
  LeaseCluster c(10s);
  c.rounds(45);  // at least two re-reads of the settings
  EXPECT_EQ(c.lines->count(kShortened), 1);
  EXPECT_EQ(c.runningOn("a"), std::vector<std::string>{"w1"});
}

TEST(WorkerLease, TheOptionStandsWhenTheClusterAllowsIt) {
  LeaseCluster c;  // dead after 30 s: a 20 s lease ends well before
  c.storage.offline.insert("w1");
  EXPECT_TRUE(c.runsAfterCutOff(20));
  EXPECT_FALSE(c.runsAfterCutOff(1));
  EXPECT_EQ(c.lines->count(kShortened), 0);
}

TEST(WorkerLease, FollowsTheDeadTimeoutWhenItChanges) {
  LeaseCluster c;
  // An operator lowers the timeout to 6 s: within 20 ticks the worker
  // re-reads it (with its assigned topologies) and keeps a 4 s lease.
  c.storage.dead_timeout_property = "6";
  c.rounds(20);
  EXPECT_EQ(c.lines->count("lease shortened from 20000 ms to 4000 ms"), 1);
  c.storage.offline.insert("w1");
  EXPECT_TRUE(c.runsAfterCutOff(4));
  EXPECT_FALSE(c.runsAfterCutOff(1));
}

TEST(WorkerLease, ABadTimeoutIsIgnoredWithAWarning) {
  LeaseCluster c;
  c.storage.dead_timeout_property = "soon\n";
  c.rounds(20);
  EXPECT_EQ(c.lines->count("ignoring worker_dead_timeout_s = 'soon\\n'"), 1);
  c.storage.offline.insert("w1");
  EXPECT_TRUE(c.runsAfterCutOff(20));  // the option's 20 s
}

TEST(WorkerLease, RunsFromWhenTheHeartbeatWasSentNotFromItsReply) {
  LeaseCluster c;
  auto& runner = c.runner("w1");
  const auto renewals = runner.lease_deadlines.size();
  ASSERT_GE(renewals, 3u);  // one per successful heartbeat
  // The next heartbeat is stamped by the storage at once, and its reply
  // comes 5 s later.
  const auto sent = c.clock.steady() + 1s;  // the round's tick
  c.storage.after_heartbeat = [&](const std::string&) {
    c.storage.after_heartbeat = nullptr;
    c.clock.advance(5s);
  };
  c.round();
  ASSERT_EQ(runner.lease_deadlines.size(), renewals + 1);
  EXPECT_EQ(runner.lease_deadlines.back(), sent + 20s);
  // Cut off from then on: 20 s after the send, not after the reply.
  c.storage.offline.insert("w1");
  EXPECT_TRUE(c.runsAfterCutOff(15));  // 20 s since the send
  EXPECT_FALSE(c.runsAfterCutOff(1));
  EXPECT_EQ(runner.lease_deadlines.size(), renewals + 1);  // none while cut off
}

// w1 leads; w2 runs "a", and the storage writes its ping only every 5 s
// (half of min(30 s, 10 s)).
struct TwoWorkerCluster : Cluster {
  explicit TwoWorkerCluster(std::function<void(WorkerOptions&)> adjust_w2 = nullptr) {
    add("w1");
    rounds(1);
    adjust = std::move(adjust_w2);
    add("w2");
    adjust = nullptr;
    topology("a", 1, {"w2"});
    rounds(3);
    EXPECT_EQ(runningOn("a"), std::vector<std::string>{"w2"});
  }
};

TEST(WorkerLease, RunsFromTheLastHeartbeatThatWrote) {
  TwoWorkerCluster c;
  auto& runner = c.runner("w2");
  const auto renewals = runner.lease_deadlines.size();
  c.rounds(10);
  // Ten heartbeats, two or three of them written: only those renew.
  const auto written = runner.lease_deadlines.size() - renewals;
  EXPECT_GE(written, 2u);
  EXPECT_LE(written, 3u);
  // The storage's last ping of w2 is that of the last renewal.
  const auto last_renewal_sent = runner.lease_deadlines.back() - 20s;
  const auto since = c.clock.steady() - last_renewal_sent;
  EXPECT_EQ(c.clock.system() - c.workerRow("w2").last_ping, since);
  EXPECT_LT(since, 5s);
  // Cut off: it runs until 20 s after that send, not after the last
  // heartbeat, and the cluster has not judged it dead.
  c.storage.offline.insert("w2");
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(20s - since);
  c.rounds(static_cast<int>(left.count()));
  EXPECT_TRUE(runner.runs("a"));
  c.rounds(1);
  EXPECT_FALSE(runner.runs("a"));
  EXPECT_EQ(runner.killed(), std::vector<std::string>{"a"});
  EXPECT_EQ(c.workerRow("w2").status, WorkerState::alive);
}

// A lease of 4 s against a write interval of 5 s: the worker pings on its
// own once half of it has passed, so the lease never lapses in steady state.
TEST(WorkerLease, PingsOnItsOwnWhenHalfTheLeasePassedWithoutAWrite) {
  TwoWorkerCluster c([](WorkerOptions& o) { o.lease = 4s; });
  auto& runner = c.runner("w2");
  const auto renewals = runner.lease_deadlines.size();
  c.rounds(20);
  EXPECT_TRUE(runner.runs("a"));
  EXPECT_TRUE(runner.killed().empty());
  EXPECT_GE(runner.lease_deadlines.size() - renewals, 9u);  // every 2 s
  EXPECT_LE(c.clock.system() - c.workerRow("w2").last_ping, 2s);
}

TEST(WorkerLease, TickNeverThrowsWhenTheFirstRegistrationFails) {
  Cluster c;
  c.storage.offline.insert("w1");
  RecordingRunner runner;
  WorkerOptions o;
  o.name = "w1";
  o.clock = [&] { return c.clock.steady(); };
  TopologyWorker w1(c.storage, runner, o);
  for (int i = 0; i < 3; ++i) {
    c.clock.advance(1s);
    bool keep_running = false;
    EXPECT_NO_THROW(keep_running = w1.tick());
    EXPECT_TRUE(keep_running);
  }
  EXPECT_TRUE(c.storage.getWorkerStatus().empty());
  EXPECT_THROW(w1.start(), ConnectionError);  // start() itself still says so
  c.storage.offline.clear();
  c.topology("a");
  c.clock.advance(1s);
  EXPECT_TRUE(w1.tick());  // registers, then ticks
  EXPECT_EQ(c.workerRow("w1").status, WorkerState::alive);
  c.clock.advance(1s);
  w1.tick();
  c.clock.advance(1s);
  w1.tick();
  EXPECT_TRUE(runner.runs("a"));
  EXPECT_TRUE(w1.shutdown());
}

TEST(WorkerLease, TickNeverThrowsWhateverTheStorageThrows) {
  LeaseCluster c;
  c.storage.before_heartbeat = [](const std::string& name) {
    throw InvalidArgument("heartbeat(name=" + name + "): refused");
  };
  for (int i = 0; i < 3; ++i) EXPECT_NO_THROW(c.round());
  EXPECT_EQ(c.lines->count("heartbeat failed: heartbeat(name=w1): refused"), 3);
}

}  // namespace
}  // namespace qtopology::testing
