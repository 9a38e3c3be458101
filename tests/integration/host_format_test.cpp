// A C++ host with a topology format of its own, as README's hosting example
// has it: its configs registered with `qtopology-mysql register --format
// raw` and through the dashboard's register-topology with "format": "raw",
// run by a TopologyWorker with the host's own TopologyRunner, on the
// harness's server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>
#include <qtopology/worker.hpp>

#include "dashboard_process.hpp"
#include "http_client.hpp"
#include "process.hpp"
#include "recording_runner.hpp"
#include "test_database.hpp"

namespace qtopology::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Neither a command topology nor a Node one.
Json hostConfig(const std::string& stage) {
  return {{"general", {{"weight", 2}, {"worker_affinity", {"cpp-host"}}}},
          {"my_runner", {{"pipeline", {"parse", stage}}, {"threads", 4}}}};
}

TEST(HostFormat, RawTopologiesFromTheCliAndTheDashboardReachTheHostsRunner) {
  TestDatabase db;
  MySqlCoordinator storage(db.options());

  const auto cli = [&](std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--url", db.url()});
    return run(QTOPOLOGY_CLI, args, input);
  };
  auto r = cli({"register", "--format", "raw", "from-cli", "-"}, hostConfig("cli").dump());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli({"enable", "from-cli"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  DashboardProcess dashboard(db.url());
  const auto post = [&](const std::string& path, const Json& body) {
    return httpRequest(
        dashboard.port(), "POST", path,
        {{"X-QTopology-Token", dashboard.token()}, {"Content-Type", "application/json"}},
        body.dump());
  };
  // Without the format, the dashboard checks it as a Node topology, as the
  // CLI does.
  auto reply =
      post("/register-topology", {{"uuid", "from-dashboard"}, {"config", hostConfig("x")}});
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_THAT(reply.body, HasSubstr("not a valid Node qtopology topology"));
  reply = post("/register-topology",
               {{"uuid", "from-dashboard"}, {"config", hostConfig("x")}, {"format", "yaml"}});
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_THAT(reply.json().at("error").get<std::string>(),
              HasSubstr("field 'format' must be \"auto\" (a command or a Node topology) or "
                        "\"raw\" (any JSON object), not a string"));
  EXPECT_THAT(reply.body, Not(HasSubstr("yaml")));  // what was sent is not echoed
  reply = post(
      "/register-topology",
      {{"uuid", "from-dashboard"}, {"config", {{"general", {{"weight", 0}}}}}, {"format", "raw"}});
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_THAT(reply.body, HasSubstr("general.weight: must be a positive number, not 0"));
  ASSERT_EQ(storage.getTopologyStatus().size(), 1u);  // nothing refused was written

  reply =
      post("/register-topology",
           {{"uuid", "from-dashboard"}, {"config", hostConfig("dashboard")}, {"format", "raw"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  reply = post("/enable-topology", {{"uuid", "from-dashboard"}});
  ASSERT_EQ(reply.status, 200) << reply.body;

  // The host: its own runner, the library's worker loop.
  RecordingRunner runner;
  WorkerOptions options;
  options.name = "cpp-host";
  options.tick = std::chrono::milliseconds(100);
  options.leader_loop = std::chrono::milliseconds(200);
  TopologyWorker worker(storage, runner, options);
  worker.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (runner.runningCount() < 2 && std::chrono::steady_clock::now() < deadline) {
    worker.tick();
    std::this_thread::sleep_for(options.tick);
  }
  ASSERT_EQ(runner.runningCount(), 2u);
  EXPECT_EQ(runner.configs["from-cli"], hostConfig("cli"));
  EXPECT_EQ(runner.configs["from-dashboard"], hostConfig("dashboard"));
  EXPECT_TRUE(runner.started_twice.empty());
  EXPECT_TRUE(worker.shutdown());
}

}  // namespace
}  // namespace qtopology::testing
