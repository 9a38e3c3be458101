// qtopology-worker running real topology processes, one worker on a private
// database: a crash and its error text, clear-error, stop by SIGTERM, the
// restart policy, a topology without a command; and the worker's own exit
// codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cluster_fixture.hpp"

namespace qtopology::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

class TopologyProcessTest : public ClusterFixture {
 protected:
  void SetUp() override {
    ClusterFixture::SetUp();
    dir_ = ::testing::TempDir() + db_.name() + "-files";
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    ClusterFixture::TearDown();
    std::filesystem::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // Registers and enables a command topology running `script` in /bin/sh.
  void runScript(const std::string& uuid, const std::string& script, Json general = {}) {
    general["command"] = {"/bin/sh", "-c", script};
    registerAndEnable(uuid, {{"general", general}});
  }

  // Registers and enables the smallest valid Node qtopology topology.
  void runNodeTopology(const std::string& uuid) {
    const Json node = {{"general", {{"heartbeat", 1000}}},
                       {"spouts", Json::array()},
                       {"bolts", Json::array()},
                       {"variables", Json::object()}};
    registerAndEnable(uuid, node);
  }

  void registerAndEnable(const std::string& uuid, const Json& config) {
    const auto r = cli({"register", uuid, "-"}, config.dump());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto e = cli({"enable", uuid});
    ASSERT_EQ(e.exit_code, 0) << e.err;
  }

  TopologyStatus topology(const std::string& uuid) { return topologies().at(uuid); }
  bool hasStatus(const std::string& uuid, TopologyState status) {
    return topology(uuid).status == status;
  }
  bool runs(const std::string& uuid) { return runsAsChildOfItsWorker(topology(uuid)); }

  std::string dir_;
};

TEST_F(TopologyProcessTest, CrashIsAnErrorWithExitCodeAndStderrAndClearErrorRunsItAgain) {
  std::ofstream(path("broken")) << "";
  startWorker("w1");
  runScript("t1", "echo starting; if [ -e " + path("broken") +
                      " ]; then echo 'reading config' >&2; echo 'fatal: config broken' >&2; "
                      "exit 4; fi; exec sleep 60");
  ASSERT_TRUE(eventually(seconds(20), [&] { return hasStatus("t1", TopologyState::error); }));
  EXPECT_EQ(topology("t1").error,
            "exited with code 4; stderr: reading config | fatal: config broken");

  // Fixed, cleared: the leader places it again and it runs.
  std::filesystem::remove(path("broken"));
  const auto r = cli({"clear-error", "t1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(eventually(seconds(20), [&] { return runs("t1"); }));
  const auto t = topology("t1");
  ASSERT_TRUE(t.pid.has_value());
  EXPECT_TRUE(processAlive(*t.pid));
  EXPECT_EQ(processesOfThisTestWith("QTOPOLOGY_UUID=t1"), std::vector<pid_t>{*t.pid});
}

TEST_F(TopologyProcessTest, DeathBySignalNamesTheSignal) {
  startWorker("w1");
  runScript("t1", "echo 'out of memory, giving up' >&2; kill -ABRT $$");
  ASSERT_TRUE(eventually(seconds(20), [&] { return hasStatus("t1", TopologyState::error); }));
  EXPECT_EQ(topology("t1").error, "killed by SIGABRT; stderr: out of memory, giving up");
}

TEST_F(TopologyProcessTest, StopSendsSigtermToTheProcess) {
  startWorker("w1");
  runScript("t1", "trap 'echo TERM >> " + path("signals") + "; exit 0' TERM; echo up > " +
                      path("up") + "; while :; do sleep 0.1; done");
  ASSERT_TRUE(eventually(seconds(20), [&] { return runs("t1"); }));
  ASSERT_TRUE(eventually(seconds(5), [&] { return !readFile(path("up")).empty(); }));
  const int pid = topology("t1").pid.value();
  const auto r = cli({"stop", "t1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(eventually(seconds(10), [&] { return hasStatus("t1", TopologyState::unassigned); }));
  EXPECT_EQ(readFile(path("signals")), "TERM\n");
  EXPECT_FALSE(processAlive(pid));
  EXPECT_TRUE(processesOfThisTestWith("QTOPOLOGY_UUID=t1").empty());
  EXPECT_EQ(topology("t1").error, std::nullopt);
}

TEST_F(TopologyProcessTest, KillNeedsNoCooperation) {
  startWorker("w1");
  runScript("t1", "trap '' TERM; while :; do sleep 0.1; done");
  ASSERT_TRUE(eventually(seconds(20), [&] { return runs("t1"); }));
  const int pid = topology("t1").pid.value();
  const auto r = cli({"kill", "t1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(eventually(seconds(10), [&] { return hasStatus("t1", TopologyState::unassigned); }));
  EXPECT_FALSE(processAlive(pid));
  EXPECT_TRUE(processesOfThisTestWith("QTOPOLOGY_UUID=t1").empty());
}

TEST_F(TopologyProcessTest, RestartPolicyRestartsUpToMaxThenReportsTheError) {
  startWorker("w1");
  runScript("t1", "echo start >> " + path("starts") + "; echo 'attempt failed' >&2; exit 5",
            {{"restart", {{"max", 2}, {"window_s", 60}}}});
  ASSERT_TRUE(eventually(seconds(20), [&] { return hasStatus("t1", TopologyState::error); }));
  EXPECT_EQ(readFile(path("starts")), "start\nstart\nstart\n");  // the first run and 2 restarts
  const auto error = topology("t1").error.value_or("");
  EXPECT_THAT(error, HasSubstr("exited with code 5; stderr: attempt failed"));
  EXPECT_THAT(error, HasSubstr("2 restarts"));
}

// Without qtopology where the worker looks (the source tree has none), a
// Node topology is refused with what to do about it.
TEST_F(TopologyProcessTest, NodeTopologyWithoutQtopologyIsAnErrorSayingSo) {
  startWorker("w1");
  runNodeTopology("node");
  ASSERT_TRUE(eventually(seconds(20), [&] { return hasStatus("node", TopologyState::error); }));
  EXPECT_THAT(topology("node").error.value_or(""), HasSubstr("cannot run Node topologies"));
  EXPECT_THAT(topology("node").error.value_or(""), HasSubstr("npm install qtopology@2.3.2"));
}

TEST_F(TopologyProcessTest, SimulateRunsAnyTopologyInsideTheWorker) {
  startWorker("w1", {"--simulate"});
  runNodeTopology("node");
  ASSERT_TRUE(eventually(seconds(20), [&] { return topology("node").pid.has_value(); }));
  EXPECT_EQ(topology("node").status, TopologyState::running);
  EXPECT_EQ(topology("node").pid, workers_.at("w1")->pid());
  ASSERT_EQ(cli({"stop", "node"}).exit_code, 0);
  EXPECT_TRUE(
      eventually(seconds(10), [&] { return hasStatus("node", TopologyState::unassigned); }));
}

TEST(WorkerCommandLine, BadOptionsExitWithTwo) {
  const auto expectUsageError = [](const std::vector<std::string>& args, const std::string& text) {
    const auto r = run(QTOPOLOGY_WORKER, args);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("qtopology-worker: " + text));
  };
  expectUsageError({"--url", "postgres://u@h/db"}, "MySqlOptions::fromUrl: ");
  expectUsageError({"--url", "mysql://u@h:notaport/db"},
                   "MySqlOptions::fromUrl: 'port' must be a whole number");
  expectUsageError({"--url", "mysql://u@h/db", "--tick-ms", "0"},
                   "--tick-ms needs a positive number of milliseconds, not '0'");
  expectUsageError({"--url", "mysql://u@h/db", "--grace-ms", "x"}, "--grace-ms needs");
  expectUsageError({"--url", "mysql://u@h/db", "--frobnicate"}, "unknown option '--frobnicate'");
  expectUsageError({"--url", "mysql://u@h/db", "--pass-env", "QTOPOLOGY_MYSQL_URL"},
                   "--pass-env QTOPOLOGY_MYSQL_URL: the storage's and the dashboard's variables "
                   "never reach topologies");
  expectUsageError({"--url", "mysql://u@h/db", "--pass-env", "A=B"},
                   "--pass-env needs a variable name, not 'A=B'");
  expectUsageError(
      {"--url", "mysql://u@h/db", "--env-allow", "APP_*,A=B"},
      "--env-allow wants variable names (letters, digits, '_', a final '*'), not 'A=B'");
  expectUsageError({"--url", "mysql://u@h/db", "--env-allow", "APP,"},
                   "--env-allow wants variable names");
  expectUsageError({"--url", "mysql://u@h/db", "--env-allow", "QTOPOLOGY_DASHBOARD_*"},
                   "--env-allow QTOPOLOGY_DASHBOARD_*: the storage's and the dashboard's");
  expectUsageError({"--url", "mysql://u@h/db", "--env-allow", "STRIPE_API_KEY"},
                   "--env-allow STRIPE_API_KEY: the name looks like a credential, which the "
                   "allow-list does not pass; name it with --pass-env instead");
  const Environment no_url{{}, {"QTOPOLOGY_MYSQL_URL"}};
  const auto r = run(QTOPOLOGY_WORKER, {}, "", no_url);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("no database"));
  const auto help = run(QTOPOLOGY_WORKER, {"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--simulate"));
}

TEST(WorkerCommandLine, NoSupervisorBesideTheWorkerExitsWithOneSayingSo) {
  // The worker alone in a directory of its own (its libraries are found by
  // the build tree's RPATH).
  const std::string dir = ::testing::TempDir() + "lonely-worker-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string lonely = dir + "/qtopology-worker";
  std::filesystem::copy_file(QTOPOLOGY_WORKER, lonely);
  const auto r = run(lonely, {"--url", "mysql://u@127.0.0.1:1/db?retries=0"});
  std::filesystem::remove_all(dir);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out + r.err,
              HasSubstr("cannot run the topology supervisor " + dir + "/qtopology-supervisor"));
}

TEST(WorkerCommandLine, StorageFailureExitsWithOne) {
  // Nothing listens on port 1.
  const auto r = run(QTOPOLOGY_WORKER, {"--url", "mysql://u@127.0.0.1:1/db?retries=0"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
}

}  // namespace
}  // namespace qtopology::testing
