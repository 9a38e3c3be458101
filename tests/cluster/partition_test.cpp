// At most one live instance of a topology, under a network partition and a
// paused leader (0 samples with two, in both). The live processes are sampled from /proc
// throughout, every 20 ms; the figures are printed as "[figures]" lines.
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "mixed_fixture.hpp"
#include "tcp_proxy.hpp"
#include "topology_processes.hpp"

namespace qtopology::testing {
namespace {

class Partition : public MixedFixture {
 protected:
  std::set<std::string> registerCommands(int count) {
    std::set<std::string> out;
    for (int i = 1; i <= count; ++i) {
      out.insert(uuid("cmd-" + std::to_string(i)));
      registerCommandTopology(*out.rbegin(), {});
    }
    return out;
  }

  std::set<std::string> onWorker(const std::set<std::string>& uuids, const std::string& worker) {
    std::set<std::string> out;
    for (const auto& [uuid, w] : placement(uuids)) {
      if (w == worker) out.insert(uuid);
    }
    return out;
  }

  // The live processes of these topologies, now.
  std::set<pid_t> processesOf(const std::set<std::string>& uuids) {
    std::set<pid_t> out;
    for (const auto& [uuid, pids] : liveTopologyProcesses(uuids))
      out.insert(pids.begin(), pids.end());
    return out;
  }

  // Whether any of `pids` still runs one of the topologies.
  bool anyAlive(const std::set<pid_t>& pids, const std::set<std::string>& uuids) {
    for (const auto& [uuid, live] : liveTopologyProcesses(uuids)) {
      for (const pid_t pid : live) {
        if (pids.count(pid)) return true;
      }
    }
    return false;
  }

  std::string report(const ProcessSampler::Report& r) {
    milliseconds longest{0};
    for (const auto& [uuid, lasted] : r.longest_overlap) longest = std::max(longest, lasted);
    return std::to_string(r.samples) + " samples, " + std::to_string(r.double_samples) +
           " with two live processes of one topology, longest overlap " +
           std::to_string(longest.count()) + " ms";
  }
};

// One C++ worker loses its database (the proxy goes silent, as a partition
// does). Its lease runs out before the leader may declare it dead, so it stops
// its topologies first; the leader then moves them. Healed, it comes back.
TEST_F(Partition, CutWorkerStopsItsTopologiesBeforeTheyMove) {
  const auto all = registerCommands(4);
  const auto server = MySqlOptions::fromUrl(db_.url());
  TcpProxy proxy(server.host, static_cast<int>(server.port));
  // The client's default timeouts: the cut worker's heartbeat hangs far
  // longer (read_timeout_s 30, retried) than the lease and the dead-worker
  // timeout, and the lease must hold all the same.
  const std::string cut_url = urlThroughPort(db_.url(), proxy.port());
  ProcessSampler sampler(all, milliseconds(20));

  startCppWorker("cpp-a");
  ASSERT_TRUE(
      eventually(seconds(20), [&] { return leaders() == std::vector<std::string>{"cpp-a"}; }));
  startCppWorker("cpp-b", cut_url);
  ASSERT_TRUE(eventually(seconds(20), [&] {
    return workers().count("cpp-b") && workers().at("cpp-b").status == WorkerState::alive;
  }));
  enableAll();
  ASSERT_TRUE(eventually(seconds(30), [&] { return allRunning(all); }));
  const auto on_b = onWorker(all, "cpp-b");
  ASSERT_FALSE(on_b.empty()) << "the leader spread the topologies over both workers";

  ASSERT_TRUE(
      eventually(seconds(5), [&] { return liveTopologyProcesses(all).size() == all.size(); }));
  const auto b_processes = processesOf(on_b);

  const auto cut_at = Clock::now();
  proxy.cut();
  double stopped_s = -1;
  ASSERT_TRUE(eventually(seconds(40), [&] {
    if (stopped_s < 0 && !anyAlive(b_processes, all)) stopped_s = secondsSince(cut_at);
    return stopped_s >= 0 && allRunning(all, "cpp-a");
  })) << "cpp-a runs everything while cpp-b is cut off";
  const double moved_s = secondsSince(cut_at);
  EXPECT_EQ(sampler.report().double_samples, 0) << report(sampler.report());

  proxy.restore();
  ASSERT_TRUE(eventually(seconds(30), [&] {
    return workers().at("cpp-b").status == WorkerState::alive;
  })) << "cpp-b registers again once healed";
  std::this_thread::sleep_for(seconds(3));
  EXPECT_TRUE(allRunning(all));
  const auto r = sampler.report();
  EXPECT_EQ(r.double_samples, 0) << report(r);
  for (const auto& example : r.examples) ADD_FAILURE() << "two live: " << example;
  figure("partition: cut worker's topologies gone after (s)", std::to_string(stopped_s));
  figure("partition: its topologies running on cpp-a after (s)", std::to_string(moved_s));
  figure("partition: process samples", report(r));
}

// The leader is paused (SIGSTOP) past its timeouts: another worker takes the
// lead and its topologies. The paused worker can do nothing, but its
// topologies' supervisors hold its lease: they end its topologies' processes
// when the lease runs out, before the dead-worker timeout lets the new leader
// move them, so the two never overlap, however long the pause lasts.
// Resumed (SIGCONT), the old leader writes nothing as leader.
TEST_F(Partition, PausedLeaderIsFencedAndItsTopologiesEndBeforeTheyMove) {
  const auto all = registerCommands(4);
  ProcessSampler sampler(all, milliseconds(20));

  startCppWorker("cpp-a");
  ASSERT_TRUE(
      eventually(seconds(20), [&] { return leaders() == std::vector<std::string>{"cpp-a"}; }));
  startCppWorker("cpp-b");
  ASSERT_TRUE(eventually(seconds(20), [&] {
    return workers().count("cpp-b") && workers().at("cpp-b").status == WorkerState::alive;
  }));
  enableAll();
  ASSERT_TRUE(eventually(seconds(30), [&] { return allRunning(all); }));
  const auto on_a = onWorker(all, "cpp-a");
  ASSERT_FALSE(on_a.empty());
  ASSERT_TRUE(
      eventually(seconds(5), [&] { return liveTopologyProcesses(all).size() == all.size(); }));
  const auto a_processes = processesOf(on_a);

  const auto paused_at = Clock::now();
  worker("cpp-a").signal(SIGSTOP);
  double takeover_s = -1;
  double gone_s = -1;
  ASSERT_TRUE(eventually(seconds(40), [&] {
    if (gone_s < 0 && !anyAlive(a_processes, all)) gone_s = secondsSince(paused_at);
    if (takeover_s < 0 && leaders() == std::vector<std::string>{"cpp-b"}) {
      takeover_s = secondsSince(paused_at);
    }
    return takeover_s >= 0 && allRunning(on_a, "cpp-b");
  })) << "cpp-b leads and runs cpp-a's topologies";
  EXPECT_GE(gone_s, 0) << "the paused worker's topologies still ran when they moved";
  // When cpp-b took the lead, by the server's clock.
  const std::string took_over = db_.scalar(
      "SELECT MAX(ts) FROM qtopology_worker_history WHERE name = 'cpp-b' AND lstatus = 'leader'");
  ASSERT_NE(took_over, "NULL");
  // Stay paused well past the reassignment, as a long pause (GC, VM
  // migration, swapping) would.
  std::this_thread::sleep_for(seconds(5));
  const auto during_pause = sampler.report();
  const double paused_s = secondsSince(paused_at);

  worker("cpp-a").signal(SIGCONT);
  ASSERT_TRUE(eventually(seconds(20), [&] { return !anyAlive(a_processes, all); }));
  // Let the resumed process run a few ticks: a stale leader would act now.
  std::this_thread::sleep_for(seconds(4));

  // Fencing: after cpp-b took over (strictly later second), nothing was
  // assigned to cpp-a, cpp-b was never declared dead, and cpp-a never led.
  EXPECT_EQ(db_.count("qtopology_topology_history",
                      "status = 'waiting' AND worker = 'cpp-a' AND ts > '" + took_over + "'"),
            0);
  EXPECT_EQ(
      db_.count("qtopology_worker_history",
                "name = 'cpp-b' AND status IN ('dead', 'unloaded') AND ts > '" + took_over + "'"),
      0);
  EXPECT_EQ(db_.count("qtopology_worker_history",
                      "name = 'cpp-a' AND lstatus = 'leader' AND ts > '" + took_over + "'"),
            0);
  EXPECT_EQ(db_.count("qtopology_message", "worker = 'cpp-a' AND created > '" + took_over + "'"),
            0);
  EXPECT_EQ(leaders(), std::vector<std::string>{"cpp-b"});
  EXPECT_TRUE(allRunning(all));

  const auto r = sampler.report();
  EXPECT_EQ(during_pause.double_samples, 0) << report(during_pause);
  EXPECT_EQ(r.double_samples, 0) << report(r);
  for (const auto& example : r.examples) ADD_FAILURE() << "two live: " << example;
  figure("pause: C++ leader paused -> new C++ leader (s)", std::to_string(takeover_s));
  figure("pause: paused worker's topologies gone after (s), lease " +
             std::to_string(kLease.count()) + " ms, dead-worker timeout " +
             std::to_string(kMixedWorkerDeadTimeoutS) + " s",
         std::to_string(gone_s));
  figure("pause: paused for (s)", std::to_string(paused_s));
  figure("pause: process samples while paused", report(during_pause));
  figure("pause: process samples overall", report(r));
}

}  // namespace
}  // namespace qtopology::testing

namespace qtopology::testing {
namespace {

// The tools of the tests above, checked on their own.
TEST(ClusterTools, ProxyForwardsGoesSilentAndHeals) {
  TestDatabase db;
  const auto server = MySqlOptions::fromUrl(db.url());
  TcpProxy proxy(server.host, static_cast<int>(server.port));
  auto options = MySqlOptions::fromUrl(urlThroughPort(db.url(), proxy.port()) +
                                       "?read_timeout_s=1&connect_timeout_s=1&retries=1");
  MySqlCoordinator storage(options);
  storage.registerWorker("w");
  proxy.cut();
  const auto cut_at = Clock::now();
  EXPECT_THROW(storage.pingWorker("w"), StorageError);
  EXPECT_LT(secondsSince(cut_at), 10.0) << "a silent connection ends with the client's timeouts";
  proxy.restore();
  EXPECT_TRUE(eventually(std::chrono::seconds(10), [&] {
    try {
      storage.pingWorker("w");
      return true;
    } catch (const StorageError&) {
      return false;
    }
  }));
  EXPECT_GE(proxy.connectionsAccepted(), 2);
}

TEST(ClusterTools, ProcessScanFindsTopologyProcessesAndSkipsZombies) {
  const std::string uuid = "scan-" + std::to_string(::getpid());
  Child by_env("/bin/sleep", {"30"}, "/dev/null", Environment{{{"QTOPOLOGY_UUID", uuid}}, {}});
  // As Node forks it: the uuid as an argument (here the shell's $0).
  Child by_arg("/bin/sh", {"-c", "sleep 30; :", "uuid:" + uuid}, "/dev/null");
  ASSERT_TRUE(eventually(std::chrono::seconds(5), [&] {
    const auto live = liveTopologyProcesses({uuid});
    return live.count(uuid) && live.at(uuid).size() == 2;
  }));
  {
    ProcessSampler sampler({uuid}, std::chrono::milliseconds(10));
    ASSERT_TRUE(
        eventually(std::chrono::seconds(5), [&] { return sampler.report().double_samples > 0; }));
  }
  by_env.signal(SIGKILL);
  by_arg.signal(SIGKILL);
  // Not reaped yet: zombies, which run nothing.
  EXPECT_TRUE(
      eventually(std::chrono::seconds(5), [&] { return liveTopologyProcesses({uuid}).empty(); }));
}

}  // namespace
}  // namespace qtopology::testing
