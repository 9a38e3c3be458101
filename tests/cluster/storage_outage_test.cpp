// What a storage outage does to a cluster of qtopology-worker processes, as
// docs/guarantees.md states it: an outage shorter than the lease restarts no
// topology; a longer one stops every topology at the lease, never leaves two
// live instances of one, and every topology runs again soon after the
// server is back. The server is this test's own mariadbd (paused, then
// SIGKILLed and restarted), never the shared one. Figures are printed as
// "[figures]" lines.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "mixed_fixture.hpp"
#include "topology_processes.hpp"

namespace qtopology::testing {
namespace {

// The cluster's timeouts here: dead after 20 s, leader timeout 10 s, so the
// heartbeat write interval is floor(min(20, 10) / 2) = 5 s. The lease is
// 12 s; a worker's last written ping is at most the interval, a second of
// last_ping's resolution and a tick older than its last heartbeat, so a
// stall shorter than 12 - 5 - 1 - 0.25 s = 5.75 s must restart nothing.
constexpr int kDeadTimeoutS = 20;
constexpr int kLeaderTimeoutS = 10;
constexpr int kWaitingTimeoutS = 20;
constexpr milliseconds kOutageTick{250};
constexpr milliseconds kOutageLease{12000};
constexpr seconds kStall{4};
// Longer than the lease and than the dead-worker timeout: every worker has
// been silent for longer than the cluster allows when the server returns.
constexpr seconds kCrash{24};
// Every topology runs again within this of the server's return: a
// heartbeat, the leader's refresh and loop, a start (stated in
// docs/guarantees.md).
constexpr seconds kRecoveryBound{30};

// The test's own server, in the build tree; its URL replaces the shared
// server's for this process, so TestDatabase and the workers use it.
class OwnServer {
 public:
  static OwnServer& get() {
    static OwnServer server(QTOPOLOGY_OUTAGE_SCRATCH "/outage-server");
    return server;
  }
  void kill(int signal) {
    std::ifstream pidfile(dir_ + "/mysqld.pid");
    pid_t pid = 0;
    pidfile >> pid;
    ASSERT_GT(pid, 0);
    ASSERT_EQ(::kill(pid, signal), 0);
    if (signal == SIGKILL) {
      while (::kill(pid, 0) == 0) std::this_thread::sleep_for(milliseconds(10));
    }
  }
  void restart() { run("start"); }
  void stop() { run("stop"); }

 private:
  explicit OwnServer(std::string dir) : dir_(std::move(dir)) {
    std::filesystem::remove_all(dir_);
    const auto url = run("start");
    if (url.empty()) throw std::runtime_error("the test's own mariadbd did not start");
    ::setenv("QTOPOLOGY_TEST_MYSQL_URL", url.c_str(), 1);
  }
  std::string run(const std::string& action) {
    const std::string command = "env -u QTOPOLOGY_TEST_MYSQL_URL '" QTOPOLOGY_SOURCE_DIR
                                "/scripts/private-mariadb.sh' " +
                                action + " '" + dir_ + "'";
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
      char buffer[512];
      while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
      ::pclose(pipe);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }
  std::string dir_;
};

class ServerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { OwnServer::get(); }
  void TearDown() override { OwnServer::get().stop(); }
};

// Registered before main() runs (gtest_main's): the server starts before the
// first test's fixture makes its database.
::testing::Environment* const kServer = ::testing::AddGlobalTestEnvironment(new ServerEnvironment);

class StorageOutage : public MixedFixture {
 protected:
  void SetUp() override {
    MixedFixture::SetUp();
    db_.exec(
        "UPDATE qtopology_settings SET value = CASE name"
        " WHEN 'worker_dead_timeout_s' THEN '" +
        std::to_string(kDeadTimeoutS) + "' WHEN 'leader_timeout_s' THEN '" +
        std::to_string(kLeaderTimeoutS) + "' WHEN 'waiting_timeout_s' THEN '" +
        std::to_string(kWaitingTimeoutS) +
        "' END WHERE name IN ('worker_dead_timeout_s', 'leader_timeout_s', "
        "'waiting_timeout_s')");
  }

  // Three workers, six command topologies, all running.
  std::set<std::string> startCluster() {
    std::set<std::string> all;
    for (int i = 1; i <= 6; ++i) {
      all.insert(uuid("outage-" + std::to_string(i)));
      registerCommandTopology(*all.rbegin(), {});
    }
    for (const char* name : {"w1", "w2", "w3"}) {
      startWorker(name,
                  {"--tick-ms", std::to_string(kOutageTick.count()), "--leader-loop-ms", "500",
                   "--lease-ms", std::to_string(kOutageLease.count()), "--grace-ms", "2000"});
    }
    EXPECT_TRUE(eventually(seconds(30), [&] { return leaders().size() == 1; }));
    enableAll();
    EXPECT_TRUE(eventually(seconds(60), [&] { return allRunning(all); }));
    return all;
  }

  // The live process of each topology, as the operating system sees them.
  std::map<std::string, std::vector<pid_t>> processes(const std::set<std::string>& uuids) {
    return liveTopologyProcesses(uuids);
  }

  // Topologies whose processes are not the ones they had before.
  int restarted(const std::map<std::string, std::vector<pid_t>>& before,
                const std::set<std::string>& uuids) {
    const auto now = processes(uuids);
    int count = 0;
    for (const auto& uuid : uuids) {
      const auto b = before.find(uuid), n = now.find(uuid);
      if (b == before.end() || n == now.end() || b->second != n->second) ++count;
    }
    return count;
  }

  std::string report(const ProcessSampler::Report& r) {
    return std::to_string(r.samples) + " samples, " + std::to_string(r.double_samples) +
           " with two live processes of one topology";
  }
};

TEST_F(StorageOutage, AStallShorterThanTheLeaseRestartsNothing) {
  const auto all = startCluster();
  ASSERT_FALSE(HasFailure());
  // Settled: every worker's lease renewed at least once since placement.
  std::this_thread::sleep_for(seconds(6));
  const auto before = processes(all);
  ASSERT_EQ(before.size(), all.size());
  ProcessSampler sampler(all, milliseconds(20));

  const auto stalled = Clock::now();
  OwnServer::get().kill(SIGSTOP);
  std::this_thread::sleep_for(kStall);
  OwnServer::get().kill(SIGCONT);
  // Any lease the stall made lapse has lapsed by now (12 s after the stall
  // began), and its topologies have been killed.
  std::this_thread::sleep_for(kOutageLease - (Clock::now() - stalled) + seconds(2));

  const int count = restarted(before, all);
  figure("stall of " + std::to_string(kStall.count()) + " s (lease 12 s, write interval 5 s)",
         std::to_string(count) + " of " + std::to_string(all.size()) + " topologies restarted; " +
             report(sampler.report()));
  EXPECT_EQ(count, 0);
  EXPECT_EQ(sampler.report().double_samples, 0);
  EXPECT_TRUE(allRunning(all));
}

TEST_F(StorageOutage, ACrashLongerThanTheLeaseStopsEverythingAndRestartsItOnReturn) {
  const auto all = startCluster();
  ASSERT_FALSE(HasFailure());
  std::this_thread::sleep_for(seconds(3));
  ProcessSampler sampler(all, milliseconds(20));

  const auto crashed = Clock::now();
  OwnServer::get().kill(SIGKILL);
  // Every topology ends with its worker's lease, a kill's rounds after it.
  const bool stopped =
      eventually(kOutageLease + seconds(3), [&] { return processes(all).empty(); });
  const double stopped_after = secondsSince(crashed);
  EXPECT_TRUE(stopped) << "topologies still live " << stopped_after << " s into the outage";
  EXPECT_GE(stopped_after, 12.0 - 6.25) << "stopped before the lease could lapse";
  std::this_thread::sleep_for(kCrash - (Clock::now() - crashed));
  EXPECT_TRUE(processes(all).empty()) << "a topology started while the server was down";

  OwnServer::get().restart();
  const auto back = Clock::now();
  const bool recovered = eventually(seconds(90), [&] {
    try {
      return allRunning(all) && processes(all).size() == all.size();
    } catch (const StorageError&) {
      return false;  // the test's own session reconnects on its next call
    }
  });
  const double recovered_after = secondsSince(back);
  figure("server crash of " + std::to_string(kCrash.count()) + " s (lease 12 s, dead after 20 s)",
         "every topology stopped " + std::to_string(stopped_after) +
             " s into it; all running again " + std::to_string(recovered_after) +
             " s after the server's return; " + report(sampler.report()));
  EXPECT_TRUE(recovered);
  EXPECT_LE(recovered_after, std::chrono::duration<double>(kRecoveryBound).count());
  EXPECT_EQ(sampler.report().double_samples, 0);
  for (const auto& [uuid, t] : topologies()) {
    if (all.count(uuid)) {
      EXPECT_NE(t.status, TopologyState::error) << uuid << ": " << t.error.value_or("");
    }
  }
}

}  // namespace
}  // namespace qtopology::testing
