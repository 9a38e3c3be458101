// Node topologies on qtopology-worker: qtopology's own child wrapper runs
// their spouts and bolts under the worker's supervisor, which holds the
// lease beside it. Real topologies of qtopology's sys nodes (a timer spout
// into a file_append bolt) and an inproc bolt of this tier's own
// (modules/refusing_bolt.js); a private database; figures printed as
// "[figures]" lines.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <ctime>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "cluster_fixture.hpp"

namespace qtopology::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

void figure(const std::string& name, const std::string& value) {
  std::cout << "[figures] " << name << ": " << value << std::endl;
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class NodeTopologyTest : public ClusterFixture {
 protected:
  void SetUp() override {
    ClusterFixture::SetUp();
    dir_ = ::testing::TempDir() + db_.name() + "-files";
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    for (auto& [name, child] : workers_) child->signal(SIGCONT);
    ClusterFixture::TearDown();
    std::filesystem::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // A worker that finds qtopology where the npm fixture installed it.
  void startNodeWorker(const std::string& name, std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--node-modules", QTOPOLOGY_TEST_NODE_MODULES});
    startWorker(name, extra);
  }

  // A timer spout (every 100 ms) into a file_append bolt writing `output`;
  // each line carries the variable MARKER. `bolt` replaces the file_append
  // bolt when given.
  static Json timerTopology(const std::string& output, const Json& bolt = nullptr,
                            const Json& general_extra = Json::object()) {
    Json general = {{"heartbeat", 100}};
    general.update(general_extra);
    return {{"general", general},
            {"spouts",
             {{{"name", "ticks"},
               {"type", "sys"},
               {"working_dir", "."},
               {"cmd", "timer"},
               {"init", {{"title", "tick"}, {"extra_fields", {{"marker", "${MARKER}"}}}}}}}},
            {"bolts",
             {bolt.is_null() ? Json{{"name", "out"},
                                    {"type", "sys"},
                                    {"working_dir", "."},
                                    {"cmd", "file_append"},
                                    {"inputs", {{{"source", "ticks"}}}},
                                    {"init", {{"file_name_template", output}}}}
                             : bolt}},
            {"variables", {{"MARKER", "from-config"}}}};
  }

  void runTopology(const std::string& uuid, const Json& config) {
    const auto r = cli({"register", uuid, "-"}, config.dump());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto e = cli({"enable", uuid});
    ASSERT_EQ(e.exit_code, 0) << e.err;
  }

  std::vector<pid_t> processesOf(const std::string& uuid) {
    return processesOfThisTestWith("QTOPOLOGY_UUID=" + uuid);
  }

  TopologyStatus topology(const std::string& uuid) { return topologies().at(uuid); }

  bool runsOn(const std::string& uuid, const std::string& worker) {
    const auto t = topology(uuid);
    return runsAsChildOfItsWorker(t) && t.worker == worker;
  }

  std::size_t sizeOf(const std::string& file) {
    std::error_code error;
    const auto size = std::filesystem::file_size(file, error);
    return error ? 0 : static_cast<std::size_t>(size);
  }

  std::string dir_;
};

// The node process runs qtopology's wrapper under the worker's supervisor,
// and the topology's output grows while it runs.
TEST_F(NodeTopologyTest, RunsUnderItsSupervisorAndItsOutputGrows) {
  startNodeWorker("w1");
  const std::string output = path("ticks.txt");
  const auto enabled_at = Clock::now();
  runTopology("t1", timerTopology(output));
  double running_s = -1, first_output_s = -1;
  ASSERT_TRUE(eventually(seconds(30), [&] {
    if (running_s < 0 && runsAsChildOfItsWorker(topology("t1")))
      running_s = secondsSince(enabled_at);
    if (sizeOf(output) == 0) return false;
    first_output_s = secondsSince(enabled_at);
    return true;
  }));
  const auto t = topology("t1");
  ASSERT_TRUE(t.pid.has_value());
  const std::string cmdline = readFile("/proc/" + std::to_string(*t.pid) + "/cmdline");
  EXPECT_THAT(cmdline, HasSubstr("topology_local_wrapper_main.js"));
  EXPECT_THAT(cmdline, HasSubstr(std::string("uuid:t1")));
  const auto first = sizeOf(output);
  std::this_thread::sleep_for(seconds(2));
  const auto second = sizeOf(output);
  figure("node topology: enable to running (s)", std::to_string(running_s));
  figure("node topology: enable to first output (s)", std::to_string(first_output_s));
  figure("node topology: output bytes after 2 s more",
         std::to_string(first) + " -> " + std::to_string(second));
  EXPECT_GT(second, first) << "the timer spout's tuples stopped reaching the file";
  EXPECT_THAT(readFile(output), HasSubstr("\"marker\":\"from-config\""));
  EXPECT_EQ(topology("t1").status, TopologyState::running);
}

// --override replaces the topology's variable before qtopology compiles it.
TEST_F(NodeTopologyTest, AnOverrideReachesTheConfig) {
  startNodeWorker("w1", {"--override", "MARKER=from-override"});
  const std::string output = path("ticks.txt");
  runTopology("t1", timerTopology(output));
  ASSERT_TRUE(eventually(seconds(30), [&] { return sizeOf(output) > 0; }));
  const std::string text = readFile(output);
  EXPECT_THAT(text, HasSubstr("\"marker\":\"from-override\""));
  EXPECT_EQ(text.find("from-config"), std::string::npos);
}

// stop, kill and the worker's shutdown each end every node process.
TEST_F(NodeTopologyTest, StopKillAndShutdownEndEveryNodeProcess) {
  startNodeWorker("w1", {"--grace-ms", "3000"});
  for (const std::string uuid : {"t-stop", "t-kill", "t-shutdown"}) {
    runTopology(uuid, timerTopology(path(uuid + ".txt")));
  }
  for (const std::string uuid : {"t-stop", "t-kill", "t-shutdown"}) {
    ASSERT_TRUE(eventually(seconds(30), [&] {
      return runsAsChildOfItsWorker(topology(uuid)) && sizeOf(path(uuid + ".txt")) > 0;
    })) << uuid;
  }
  auto stopped_at = Clock::now();
  // Node qtopology's verbs, aliases of stop and shutdown-worker.
  ASSERT_EQ(cli({"stop-topology", "t-stop"}).exit_code, 0);
  double stop_s = -1;
  EXPECT_TRUE(eventually(seconds(15), [&] {
    if (topology("t-stop").status != TopologyState::unassigned || !processesOf("t-stop").empty())
      return false;
    stop_s = secondsSince(stopped_at);
    return true;
  }));
  EXPECT_EQ(topology("t-stop").error, std::nullopt);

  stopped_at = Clock::now();
  ASSERT_EQ(cli({"kill", "t-kill"}).exit_code, 0);
  double kill_s = -1;
  EXPECT_TRUE(eventually(seconds(15), [&] {
    if (topology("t-kill").status != TopologyState::unassigned || !processesOf("t-kill").empty())
      return false;
    kill_s = secondsSince(stopped_at);
    return true;
  }));

  stopped_at = Clock::now();
  ASSERT_EQ(cli({"shut-down-worker", "w1"}).exit_code, 0);
  const auto code = workers_.at("w1")->wait(seconds(20));
  const double shutdown_s = secondsSince(stopped_at);
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(processesOf("t-shutdown").empty());
  EXPECT_NE(topology("t-shutdown").status, TopologyState::running);
  figure("node topology: stop to gone (s), shutdown message first, grace 3 s",
         std::to_string(stop_s));
  figure("node topology: kill to gone (s)", std::to_string(kill_s));
  figure("node topology: shutdown-worker to worker exit (s)", std::to_string(shutdown_s));
  EXPECT_TRUE(processesOfThisTestWith("NODE_CHANNEL_FD=3").empty());
}

// A bolt's error ends the topology in error with the bolt's own message;
// the relative working_dir of the inproc bolt resolves against the worker's
// working directory (the source tree, as the fixture runs it).
TEST_F(NodeTopologyTest, ABoltsErrorPutsTheTopologyInErrorWithItsMessage) {
  startNodeWorker("w1");
  const Json bolt = {{"name", "refuser"},
                     {"type", "inproc"},
                     {"working_dir", "tests/node/modules"},
                     {"cmd", "refusing_bolt.js"},
                     {"inputs", {{{"source", "ticks"}}}},
                     {"init", {{"message", "refusing-bolt says no to tuple"}}}};
  runTopology("t1", timerTopology(path("unused.txt"), bolt));
  ASSERT_TRUE(eventually(seconds(30), [&] {
    return topology("t1").status == TopologyState::error;
  })) << topology("t1").status;
  const auto t = topology("t1");
  ASSERT_TRUE(t.error.has_value());
  figure("node topology: the bolt's error as reported", *t.error);
  EXPECT_THAT(*t.error, HasSubstr("refusing-bolt says no to tuple"));
  EXPECT_TRUE(eventually(seconds(5), [&] { return processesOf("t1").empty(); }));
}

// A worker that cannot run Node topologies says why, with the fix, and
// refuses each of them with that text.
TEST_F(NodeTopologyTest, AWorkerWithoutNodeRefusesNodeTopologiesWithTheFix) {
  startWorker("w1", {"--node", path("no-such-node")});
  runTopology("t1", timerTopology(path("ticks.txt")));
  ASSERT_TRUE(
      eventually(seconds(30), [&] { return topology("t1").status == TopologyState::error; }));
  const auto t = topology("t1");
  ASSERT_TRUE(t.error.has_value());
  EXPECT_THAT(*t.error, HasSubstr("cannot run Node topologies"));
  EXPECT_THAT(*t.error, HasSubstr("--node PATH"));
  EXPECT_THAT(readFile(logOf("w1")), HasSubstr("cannot run Node topologies"));
}

// The worker is SIGKILLed: its node process goes with the supervisor's
// whole-tree kill.
TEST_F(NodeTopologyTest, WorkerSigkillLeavesNoNodeProcess) {
  startNodeWorker("w1");
  runTopology("t1", timerTopology(path("ticks.txt")));
  ASSERT_TRUE(eventually(seconds(30), [&] { return runsAsChildOfItsWorker(topology("t1")); }));
  ASSERT_FALSE(processesOf("t1").empty());
  const auto killed_at = Clock::now();
  workers_.at("w1")->signal(SIGKILL);
  workers_.at("w1")->wait();
  double gone_s = -1;
  const bool gone = eventually(seconds(10), [&] {
    if (!processesOf("t1").empty()) return false;
    gone_s = secondsSince(killed_at);
    return true;
  });
  figure("node topology: worker SIGKILL to no node process (s)", std::to_string(gone_s));
  EXPECT_TRUE(gone) << processesOf("t1").size() << " processes left";
}

// The worker is paused past the dead-worker timeout: the lease kills its node
// child before the leader moves the topology to the other worker, so no
// sample ever sees two instances.
TEST_F(NodeTopologyTest, PausedWorkersNodeChildEndsByTheLeaseBeforeTheTopologyMoves) {
  startNodeWorker("w1");
  runTopology("t1", timerTopology(path("ticks.txt")));
  ASSERT_TRUE(eventually(seconds(30), [&] { return runsOn("t1", "w1"); }));
  startNodeWorker("w2");
  ASSERT_TRUE(eventually(seconds(10), [&] {
    const auto all = workers();
    return all.count("w2") && all.at("w2").status == WorkerState::alive;
  }));
  const auto paused_at = Clock::now();
  workers_.at("w1")->signal(SIGSTOP);
  long samples = 0, two_instances = 0;
  double first_gone_s = -1, moved_s = -1;
  while (secondsSince(paused_at) < 40) {
    const auto count = processesOf("t1").size();
    ++samples;
    if (count >= 2) ++two_instances;
    if (count == 0 && first_gone_s < 0) first_gone_s = secondsSince(paused_at);
    if (count == 1 && first_gone_s >= 0 && runsOn("t1", "w2")) {
      moved_s = secondsSince(paused_at);
      break;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  workers_.at("w1")->signal(SIGCONT);
  figure("paused worker: samples / samples with two node instances",
         std::to_string(samples) + " / " + std::to_string(two_instances));
  figure("paused worker: its node child gone after (s), lease 3.5 s", std::to_string(first_gone_s));
  figure("paused worker: running on w2 after (s), dead-worker timeout " +
             std::to_string(kWorkerDeadTimeoutS) + " s",
         std::to_string(moved_s));
  EXPECT_EQ(two_instances, 0);
  EXPECT_GE(first_gone_s, 0) << "the paused worker's node child outlived its lease";
  EXPECT_GT(moved_s, first_gone_s) << "the topology did not move to w2";
}

// The local time `from_now` seconds ahead.
std::tm localIn(int from_now) {
  const std::time_t at = std::time(nullptr) + from_now;
  std::tm local{};
  ::localtime_r(&at, &local);
  return local;
}

// A dormancy window of w1's: its topology goes to w2 while it lasts and
// comes back once w1 is enabled again and w2 is gone.
TEST_F(NodeTopologyTest, ADormancyWindowMovesTheWorkersTopologiesAwayAndBack) {
  // 15 s to 30 s from now, within one minute of the clock.
  int lead = 15;
  std::tm start = localIn(lead);
  if (start.tm_sec > 44) {
    lead += 60 - start.tm_sec + 1;
    start = localIn(lead);
  }
  const std::string schedule =
      std::to_string(start.tm_sec) + "-" + std::to_string(start.tm_sec + 14) + " " +
      std::to_string(start.tm_min) + " " + std::to_string(start.tm_hour) + " * * *";
  const auto began = Clock::now();
  startNodeWorker("w1", {"--dormant", schedule});
  Json config = timerTopology(path("ticks.txt"));
  config["general"]["worker_affinity"] = {"w1"};
  runTopology("t1", config);
  ASSERT_TRUE(eventually(seconds(lead - 2), [&] { return runsOn("t1", "w1"); }));
  startNodeWorker("w2");
  double disabled_s = -1, away_s = -1, enabled_s = -1, back_s = -1;
  ASSERT_TRUE(eventually(seconds(lead + 15),
                         [&] {
                           if (disabled_s < 0 && workers().at("w1").status == WorkerState::disabled)
                             disabled_s = secondsSince(began);
                           if (!runsOn("t1", "w2")) return false;
                           away_s = secondsSince(began);
                           return true;
                         }))
      << "w1 " << workers().at("w1").status;
  EXPECT_GE(disabled_s, 0);
  ASSERT_TRUE(eventually(seconds(lead + 30), [&] {
    if (workers().at("w1").status != WorkerState::alive) return false;
    enabled_s = secondsSince(began);
    return true;
  }));
  // With w2 gone, the enabled w1 takes it back.
  workers_.at("w2")->signal(SIGTERM);
  workers_.at("w2")->wait(seconds(15));
  EXPECT_TRUE(eventually(seconds(30), [&] {
    if (!runsOn("t1", "w1")) return false;
    back_s = secondsSince(began);
    return true;
  }));
  figure("dormancy: schedule", schedule + ", window opens " + std::to_string(lead) + " s in");
  figure("dormancy: w1 disabled / topology on w2 / w1 alive again / back on w1 (s)",
         std::to_string(disabled_s) + " / " + std::to_string(away_s) + " / " +
             std::to_string(enabled_s) + " / " + std::to_string(back_s));
  EXPECT_GE(back_s, 0);
}

}  // namespace
}  // namespace qtopology::testing
