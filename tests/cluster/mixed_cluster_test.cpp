// Mixed clusters with the real Node worker, both ways: qtopology 2.3.2's
// TopologyWorker (leader loop, messages, forked topology processes) and
// qtopology-worker share one database. Command topologies run only on C++
// workers and Node-format ones only on Node workers, so each is steered by
// worker_affinity, as a user of a mixed cluster would.
#include <signal.h>

#include <algorithm>
#include <thread>

#include "mixed_fixture.hpp"
#include "topology_processes.hpp"

namespace qtopology::testing {
namespace {

class MixedCluster : public MixedFixture {
 protected:
  // Starts `name` and waits until it leads: the first worker of an empty
  // cluster wins the election.
  void startLeader(const std::string& name, bool node) {
    node ? startNodeWorker(name) : startCppWorker(name);
    ASSERT_TRUE(eventually(seconds(20), [&] { return leaders() == std::vector{name}; }))
        << name << " leads";
  }

  void waitAlive(const std::set<std::string>& names) {
    ASSERT_TRUE(eventually(seconds(20), [&] {
      const auto ws = workers();
      for (const auto& name : names) {
        if (!ws.count(name) || ws.at(name).status != WorkerState::alive) return false;
      }
      return true;
    })) << "workers alive";
    // Node qtopology 2.3.2 drops a message whose `created` (stored in whole
    // seconds) is earlier than its start (in milliseconds): what a leader
    // sends within a Node worker's first second is lost, and the topology
    // waits for waiting_timeout_s. Start the work past that second.
    std::this_thread::sleep_for(milliseconds(1100));
  }

  void expectPlacedOn(const std::set<std::string>& uuids, const std::set<std::string>& allowed) {
    for (const auto& [uuid, worker] : placement(uuids)) {
      EXPECT_TRUE(allowed.count(worker)) << uuid << " runs on " << worker;
    }
  }
};

// A Node leader hands out work as start_topologies {uuids}: the C++ workers
// run the command topologies, the Node worker its own.
TEST_F(MixedCluster, NodeLeaderWithTwoCppWorkersRunsEveryTopology) {
  const std::set<std::string> commands = {uuid("cmd-1"), uuid("cmd-2"), uuid("cmd-3"),
                                          uuid("cmd-4")};
  const std::set<std::string> nodes = {uuid("node-1"), uuid("node-2")};
  for (const auto& u : commands) registerCommandTopology(u, {"cpp-a", "cpp-b"});
  for (const auto& u : nodes) registerNodeTopology(u, {"node-n"});
  auto all = commands;
  all.insert(nodes.begin(), nodes.end());
  ProcessSampler sampler(all, milliseconds(50));

  startLeader("node-n", true);
  startCppWorker("cpp-a");
  startCppWorker("cpp-b");
  waitAlive({"cpp-a", "cpp-b"});
  const auto enabled_at = Clock::now();
  enableAll();
  ASSERT_TRUE(eventually(seconds(30), [&] { return allRunning(all); })) << "all six running";
  const double until_all_run = secondsSince(enabled_at);
  expectPlacedOn(commands, {"cpp-a", "cpp-b"});
  expectPlacedOn(nodes, {"node-n"});
  EXPECT_EQ(leaders(), std::vector<std::string>{"node-n"});

  // Running means a live process each, with the pid that was reported
  // (Node reports "running" first and the pid once its child is set up).
  ASSERT_TRUE(eventually(seconds(5), [&] {
    const auto ts = topologies();
    return sampler.last().size() == all.size() &&
           std::all_of(ts.begin(), ts.end(),
                       [](const auto& t) { return t.second.pid.has_value(); });
  }));
  const auto live = sampler.last();
  for (const auto& [uuid, t] : topologies()) {
    ASSERT_EQ(live.at(uuid).size(), 1u) << uuid;
    EXPECT_EQ(t.pid, live.at(uuid).front()) << uuid;
  }
  EXPECT_EQ(sampler.report().double_samples, 0);
  figure("node leader + 2 C++ workers: seconds from enable until all 6 run",
         std::to_string(until_all_run));
}

// A C++ leader places Node-format topologies on the Node worker, which
// starts them from the leader's start_topologies message.
TEST_F(MixedCluster, CppLeaderWithNodeWorker) {
  const std::set<std::string> commands = {uuid("cmd-1"), uuid("cmd-2")};
  const std::set<std::string> nodes = {uuid("node-1"), uuid("node-2")};
  for (const auto& u : commands) registerCommandTopology(u, {"cpp-a"});
  for (const auto& u : nodes) registerNodeTopology(u, {"node-n"});
  auto all = commands;
  all.insert(nodes.begin(), nodes.end());

  startLeader("cpp-a", false);
  startNodeWorker("node-n");
  waitAlive({"node-n"});
  const auto enabled_at = Clock::now();
  enableAll();
  ASSERT_TRUE(eventually(seconds(30), [&] { return allRunning(all); })) << "all four running";
  figure("C++ leader + Node worker: seconds from enable until all 4 run",
         std::to_string(secondsSince(enabled_at)));
  expectPlacedOn(commands, {"cpp-a"});
  expectPlacedOn(nodes, {"node-n"});
  const auto live = liveTopologyProcesses(all);
  for (const auto& u : all) EXPECT_EQ(live.count(u) ? live.at(u).size() : 0u, 1u) << u;
  EXPECT_EQ(leaders(), std::vector<std::string>{"cpp-a"});
}

// The Node leader rebalances on request: stop_topologies lists only the
// topologies that move, and the C++ worker stops exactly those.
TEST_F(MixedCluster, NodeRequestedRebalanceMovesOnlyTheListedTopologies) {
  std::set<std::string> commands;
  for (int i = 1; i <= 4; ++i) commands.insert(uuid("cmd-" + std::to_string(i)));
  const std::string node_topology = uuid("node-1");
  for (const auto& u : commands) registerCommandTopology(u, {"cpp-a", "cpp-b"});
  registerNodeTopology(node_topology, {"node-n"});
  auto all = commands;
  all.insert(node_topology);

  // Everything lands on cpp-a while it is the only C++ worker.
  startLeader("node-n", true);
  startCppWorker("cpp-a");
  waitAlive({"cpp-a"});
  enableAll();
  ASSERT_TRUE(eventually(seconds(30), [&] { return allRunning(commands, "cpp-a"); }));
  ASSERT_TRUE(eventually(seconds(30), [&] { return allRunning({node_topology}, "node-n"); }));
  ASSERT_TRUE(eventually(seconds(5), [&] { return liveTopologyProcesses(all).size() == 5; }));
  const auto pids_before = liveTopologyProcesses(all);

  startCppWorker("cpp-b");
  waitAlive({"cpp-b"});
  storage_->sendMessageToWorker("node-n", "rebalance", Json::object(), milliseconds(60000));
  ASSERT_TRUE(eventually(seconds(30), [&] {
    const auto p = placement(commands);
    return allRunning(all) && std::count_if(p.begin(), p.end(),
                                            [](const auto& e) { return e.second == "cpp-b"; }) == 2;
  })) << "two of four moved to cpp-b";

  // The stop_topologies message the Node leader sent to cpp-a.
  const std::string listed = db_.scalar(
      "SELECT content FROM qtopology_message WHERE cmd = 'stop_topologies' AND worker = 'cpp-a'"
      " ORDER BY id DESC LIMIT 1");
  ASSERT_FALSE(listed.empty()) << "the stop_topologies message is kept (claimed) in the queue";
  const auto content = Json::parse(listed);
  std::set<std::string> moved;
  for (const auto& entry : content.at("stop_topologies")) {
    EXPECT_EQ(entry.at("worker_new"), "cpp-b");
    moved.insert(entry.at("uuid").get<std::string>());
  }
  const auto live = liveTopologyProcesses(all);
  for (const auto& [uuid, worker] : placement(commands)) {
    if (moved.count(uuid)) {
      EXPECT_EQ(worker, "cpp-b") << uuid << " was listed";
      EXPECT_NE(live.at(uuid), pids_before.at(uuid)) << uuid << " restarted on cpp-b";
    } else {
      EXPECT_EQ(worker, "cpp-a") << uuid << " was not listed";
      EXPECT_EQ(live.at(uuid), pids_before.at(uuid)) << uuid << " never stopped";
    }
  }
  EXPECT_EQ(moved.size(), 2u);
  EXPECT_EQ(live.at(node_topology), pids_before.at(node_topology));
  figure("node-requested rebalance: topologies listed/moved/untouched",
         std::to_string(moved.size()) + "/2/" + std::to_string(commands.size() - moved.size()));
}

// The Node leader SIGKILLed: a C++ worker takes the lead, declares it dead
// and moves its Node-format topology to the other Node worker.
TEST_F(MixedCluster, NodeLeaderKilledCppTakesOver) {
  const std::string moving = uuid("node-1");
  const std::string staying = uuid("node-2");
  const std::string command = uuid("cmd-1");
  registerNodeTopology(moving, {"node-1"});
  registerNodeTopology(staying, {"node-2"});
  registerCommandTopology(command, {"cpp-a", "cpp-b"});
  // Affinity is a pull, not a fence: after the kill, node-2 is the only Node
  // worker and the pull towards it must win over the empty C++ workers.
  db_.exec(
      "UPDATE qtopology_topology SET worker_affinity = 'node-1,node-2', config ="
      " JSON_SET(config, '$.general.worker_affinity', JSON_ARRAY('node-1', 'node-2'))"
      " WHERE uuid = '" +
      moving + "'");
  const std::set<std::string> all = {moving, staying, command};
  ProcessSampler sampler(all, milliseconds(50));

  startLeader("node-1", true);
  startNodeWorker("node-2");
  startCppWorker("cpp-a");
  startCppWorker("cpp-b");
  waitAlive({"node-2", "cpp-a", "cpp-b"});
  enableAll();
  ASSERT_TRUE(eventually(seconds(30), [&] { return allRunning(all); }));
  ASSERT_EQ(placement({moving}).at(moving), "node-1");

  const auto killed_at = Clock::now();
  worker("node-1").signal(SIGKILL);
  double new_leader_s = -1;
  ASSERT_TRUE(eventually(seconds(45),
                         [&] {
                           const auto ls = leaders();
                           if (new_leader_s < 0 && ls.size() == 1 && ls[0] != "node-1") {
                             new_leader_s = secondsSince(killed_at);
                           }
                           return new_leader_s >= 0 && allRunning({moving}, "node-2") &&
                                  workers().at("node-1").status == WorkerState::unloaded;
                         }))
      << "a C++ leader moved " << moving << " to node-2";
  const double moved_s = secondsSince(killed_at);
  const auto ls = leaders();
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_TRUE(ls[0] == "cpp-a" || ls[0] == "cpp-b") << ls[0];
  EXPECT_TRUE(allRunning({staying, command}));
  EXPECT_EQ(sampler.report().double_samples, 0);
  figure("failover Node leader killed -> C++ leader (s)", std::to_string(new_leader_s));
  figure("failover Node leader killed -> its topology runs on node-2 (s)", std::to_string(moved_s));
}

// The C++ leader SIGKILLed with a Node worker left: the Node worker becomes
// leader. Node's leader loop campaigns only while no row says "leader", and
// by itself declares a silent worker dead only after 300 s (a constant in
// qtopology 2.3.2); the storage's housekeeping (refreshStatuses, which every
// C++ process may run) ends the dead leader's title after
// worker_dead_timeout_s. A C++ worker would run it too, but would then win
// the election itself, so here the test process plays that part.
TEST_F(MixedCluster, CppLeaderKilledNodeTakesOver) {
  const std::string node_topology = uuid("node-1");
  const std::string command = uuid("cmd-1");
  registerNodeTopology(node_topology, {"node-n"});
  registerCommandTopology(command, {"cpp-a", "cpp-c"});
  const std::set<std::string> all = {node_topology, command};
  ProcessSampler sampler(all, milliseconds(50));

  startLeader("cpp-a", false);
  startNodeWorker("node-n");
  waitAlive({"node-n"});
  enableAll();
  ASSERT_TRUE(eventually(seconds(30), [&] { return allRunning(all); }));
  const auto node_pid = liveTopologyProcesses(all).at(node_topology);

  const auto killed_at = Clock::now();
  worker("cpp-a").signal(SIGKILL);
  // No orphan: the killed worker's child dies with it.
  EXPECT_TRUE(eventually(seconds(5), [&] { return !liveTopologyProcesses(all).count(command); }))
      << "the command topology's process outlived its worker";
  double new_leader_s = -1;
  ASSERT_TRUE(eventually(seconds(45), [&] {
    storage_->refreshStatuses();
    if (new_leader_s < 0 && leaders() == std::vector<std::string>{"node-n"}) {
      new_leader_s = secondsSince(killed_at);
    }
    return new_leader_s >= 0 && workers().at("cpp-a").status == WorkerState::unloaded;
  })) << "node-n leads and unloaded cpp-a";
  figure("failover C++ leader killed -> Node leader (s)", std::to_string(new_leader_s));
  figure("failover C++ leader killed -> Node leader unloaded it (s)",
         std::to_string(secondsSince(killed_at)));
  // The Node topology never stopped.
  EXPECT_EQ(liveTopologyProcesses(all).at(node_topology), node_pid);
  EXPECT_EQ(sampler.report().double_samples, 0);

  // The command topology, unassigned with its dead worker, needs a C++
  // worker: one that starts now finds node-n leading and does not campaign.
  // The Node leader knows no formats, so it may have placed the topology on
  // node-n meanwhile, where it fails to compile and stays in "error" (never
  // reassigned); clearing the error lets the leader place it again.
  startCppWorker("cpp-c");
  waitAlive({"cpp-c"});
  ASSERT_TRUE(eventually(seconds(30), [&] {
    const auto t = topologies().at(command);
    return t.status == TopologyState::error || allRunning({command}, "cpp-c");
  }));
  const bool detour = topologies().at(command).status == TopologyState::error;
  if (detour) {
    EXPECT_EQ(topologies().at(command).worker, "node-n");
    storage_->clearTopologyError(command);
  }
  ASSERT_TRUE(eventually(seconds(30), [&] { return allRunning({command}, "cpp-c"); }))
      << topologies().at(command).status << " on " << topologies().at(command).worker.value_or("-")
      << ": " << topologies().at(command).error.value_or("");
  EXPECT_EQ(leaders(), std::vector<std::string>{"node-n"});
  figure("C++ leader killed: command topology went through error on the Node worker",
         detour ? "yes (cleared)" : "no");
}

}  // namespace
}  // namespace qtopology::testing
