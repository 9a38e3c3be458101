// `qtopology-mysql dashboard` over HTTP, on a private MariaDB: qtopology's
// API route by route, the errors, the write rules, /health and /metrics.
#include <cppconn/connection.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

#include "dashboard_process.hpp"
#include "http_client.hpp"
#include "test_database.hpp"

namespace qtopology::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using Reply = HttpReply;

// Tokens an operator chose: long enough (128 bits and more).
const std::string kFixedToken = "fixed-token-0123456789-abcdefghij";
const std::string kEnvToken = "env-token-0123456789-abcdefghijkl";

class DashboardHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = std::make_unique<MySqlCoordinator>(db_.options());
    populateCluster(*storage_);
  }

  DashboardProcess& dashboard(const std::vector<std::string>& args = {},
                              const Environment& env = {}) {
    dashboard_ = std::make_unique<DashboardProcess>(db_.url(), args, env);
    return *dashboard_;
  }

  // The dashboard's token (generated, or fixed_token_) goes with every
  // request unless `headers` carry one or send_token_ is off.
  Reply send(const std::string& method, const std::string& path, const std::string& body = "",
             HttpHeaders headers = {}, const std::string& content_type = "application/json") {
    bool token_given = false;
    for (const auto& h : headers) token_given = token_given || h.first == "X-QTopology-Token";
    const std::string token = fixed_token_.empty() ? dashboard_->token() : fixed_token_;
    if (send_token_ && !token_given && !token.empty()) {
      headers.emplace_back("X-QTopology-Token", token);
    }
    if (method != "GET") headers.emplace_back("Content-Type", content_type);
    return httpRequest(dashboard_->port(), method, path, headers, body);
  }
  Reply post(const std::string& path, const Json& body = Json::object(), HttpHeaders headers = {}) {
    return send("POST", path, body.dump(), std::move(headers));
  }
  // A call that must succeed; its JSON answer.
  Json ok(const std::string& path, const Json& body = Json::object()) {
    const auto r = post(path, body);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.json();
  }
  void expectError(const Reply& r, int status, const std::string& text) {
    EXPECT_EQ(r.status, status) << r.body;
    ASSERT_EQ(r.header("Content-Type"), "application/json") << r.body;
    EXPECT_THAT(r.json().at("error").get<std::string>(), HasSubstr(text));
  }
  std::vector<MsgQueueItem> queueFor(const std::string& worker) {
    std::vector<MsgQueueItem> found;
    for (auto& m : storage_->getMsgQueueContent()) {
      if (m.name == worker) found.push_back(m);
    }
    return found;
  }
  // Everything a topology's row holds, to show that a refused call changed
  // nothing.
  std::string topologyRows() {
    std::string all;
    for (const auto& t : storage_->getTopologyStatus()) {
      all += t.uuid + "|" + std::string(toString(t.status)) + "|" + std::to_string(t.enabled) +
             "|" + t.worker.value_or("-") + "|" + t.error.value_or("-") + "\n";
    }
    return all + std::to_string(storage_->getMsgQueueContent().size());
  }

  TestDatabase db_;
  std::unique_ptr<MySqlCoordinator> storage_;
  std::unique_ptr<DashboardProcess> dashboard_;
  bool send_token_ = true;
  std::string fixed_token_;  // sent instead of the generated one when set
};

// --- reads --------------------------------------------------------------------

TEST_F(DashboardHttpTest, ReadRoutesAnswerInQtopologysShapes) {
  dashboard();
  const auto workers = ok("/worker-status");
  ASSERT_EQ(workers.size(), 4u);
  std::map<std::string, Json> by_name;
  for (const auto& w : workers) by_name[w.at("name")] = w;
  EXPECT_EQ(by_name.at("worker-alpha").at("status"), "alive");
  EXPECT_EQ(by_name.at("worker-alpha").at("lstatus"), "leader");
  EXPECT_EQ(by_name.at("worker-gone").at("status"), "dead");
  EXPECT_EQ(by_name.at("worker-old").at("status"), "unloaded");
  // Upstream's page does new Date(last_ping): epoch milliseconds.
  const auto ping = by_name.at("worker-alpha").at("last_ping").get<long long>();
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  EXPECT_LT(std::llabs(now_ms - ping), 120000);
  EXPECT_TRUE(by_name.at("worker-alpha").at("last_ping_d").is_string());

  const auto topologies = ok("/topology-status");
  ASSERT_EQ(topologies.size(), 4u);
  std::map<std::string, Json> by_uuid;
  for (const auto& t : topologies) by_uuid[t.at("uuid")] = t;
  const auto& orders = by_uuid.at("orders-pipeline");
  EXPECT_EQ(orders.at("status"), "running");
  EXPECT_EQ(orders.at("worker"), "worker-alpha");
  EXPECT_EQ(orders.at("enabled"), true);
  EXPECT_EQ(orders.at("pid"), 4242);
  EXPECT_EQ(orders.at("weight"), 2);
  EXPECT_EQ(orders.at("worker_affinity"), Json({"worker-alpha"}));
  EXPECT_EQ(by_uuid.at("billing-sync").at("error"), "spout crashed: connection refused");
  EXPECT_EQ(by_uuid.at(kHostileUuid).at("enabled"), false);  // verbatim, not escaped

  const auto info = ok("/topology-info", {{"uuid", "orders-pipeline"}});
  EXPECT_EQ(info.at("uuid"), "orders-pipeline");
  EXPECT_EQ(info.at("config").at("spouts").at(0).at("name"), "pump");
  EXPECT_EQ(info.at("status"), "running");

  const auto history = ok("/topology-history", {{"uuid", "orders-pipeline"}});
  ASSERT_GE(history.size(), 2u);
  EXPECT_EQ(history.at(0).at("status"), "running");  // newest first
  EXPECT_TRUE(history.at(0).at("ts").is_string());

  const auto worker_history = ok("/worker-history", {{"name", "worker-gone"}});
  ASSERT_GE(worker_history.size(), 2u);
  EXPECT_EQ(worker_history.at(0).at("status"), "dead");
  EXPECT_EQ(worker_history.at(0).at("name"), "worker-gone");

  const auto queue = ok("/msg-queue-content");
  ASSERT_EQ(queue.at("data").size(), 1u);
  const auto& message = queue.at("data").at(0);
  EXPECT_EQ(message.at("worker"), "worker-beta");
  EXPECT_EQ(message.at("cmd"), "start_topologies");
  EXPECT_EQ(message.at("content"), Json({{"uuids", {"reports-nightly"}}}));
  EXPECT_GT(message.at("valid_until").get<long long>(), message.at("ts").get<long long>());

  const auto storage = ok("/storage-info");
  EXPECT_EQ(storage.at("custom"), Json::array());
  std::map<std::string, std::string> properties;
  for (const auto& p : storage.at("storage")) properties[p.at("key")] = p.at("value");
  EXPECT_EQ(properties.at("database"), db_.name());
  EXPECT_EQ(properties.at("schema_version"),
            std::to_string(MySqlCoordinator::latestSchemaVersion()));

  EXPECT_EQ(ok("/display-data"),
            Json({{"back_title", nullptr}, {"back_url", nullptr}, {"title", nullptr}}));
  // Reads take an empty body too (curl -X POST).
  EXPECT_EQ(send("POST", "/worker-status", "").status, 200);
}

// --- writes -------------------------------------------------------------------

TEST_F(DashboardHttpTest, TopologyActionsChangeTheStorage) {
  dashboard();
  const Json config = {{"general", {{"weight", 3}, {"command", {"/bin/true"}}}}};
  EXPECT_EQ(ok("/register-topology", {{"uuid", "fresh"}, {"config", config}}), Json::object());
  EXPECT_EQ(storage_->getTopologyInfo("fresh").weight, 3);
  EXPECT_FALSE(storage_->getTopologyInfo("fresh").enabled);

  ok("/enable-topology", {{"uuid", "fresh"}});
  EXPECT_TRUE(storage_->getTopologyInfo("fresh").enabled);
  ok("/disable-topology", {{"uuid", "fresh"}});
  EXPECT_FALSE(storage_->getTopologyInfo("fresh").enabled);

  ok("/clear-topology-error", {{"uuid", "billing-sync"}});
  EXPECT_EQ(storage_->getTopologyInfo("billing-sync").status, TopologyState::unassigned);

  ok("/kill-topology", {{"uuid", "orders-pipeline"}});
  EXPECT_FALSE(storage_->getTopologyInfo("orders-pipeline").enabled);
  auto alpha = queueFor("worker-alpha");
  ASSERT_EQ(alpha.size(), 1u);
  EXPECT_EQ(alpha[0].cmd, "kill_topology");
  EXPECT_EQ(alpha[0].data, Json({{"uuid", "orders-pipeline"}}));

  ok("/enable-topology", {{"uuid", "orders-pipeline"}});
  ok("/stop-topology", {{"uuid", "orders-pipeline"}});
  EXPECT_FALSE(storage_->getTopologyInfo("orders-pipeline").enabled);
  alpha = queueFor("worker-alpha");
  ASSERT_EQ(alpha.size(), 2u);
  EXPECT_EQ(alpha[1].cmd, "stop_topology");
}

TEST_F(DashboardHttpTest, WorkerActionsQueueTheirMessages) {
  dashboard();
  ok("/shut-down-worker", {{"name", "worker-beta"}});
  ok("/enable-worker", {{"name", "worker-beta"}});
  ok("/disable-worker", {{"name", "worker-beta"}, {"valid_msec", 5000}});
  ok("/rebalance-leader", {{"name", "worker-alpha"}});
  const auto beta = queueFor("worker-beta");
  ASSERT_EQ(beta.size(), 4u);  // the populated one first
  EXPECT_EQ(beta[1].cmd, "shutdown");
  EXPECT_EQ(beta[2].cmd, "set_enabled");
  EXPECT_EQ(beta[3].cmd, "set_disabled");
  EXPECT_EQ(beta[3].data, Json::object());
  // valid_msec is honoured (whole seconds, rounded up); 60 s by default.
  const auto valid_for = [](const MsgQueueItem& m) {
    return std::chrono::duration_cast<std::chrono::seconds>(m.valid_until - m.created).count();
  };
  EXPECT_EQ(valid_for(beta[1]), 60);
  EXPECT_EQ(valid_for(beta[3]), 5);
  ASSERT_EQ(queueFor("worker-alpha").size(), 1u);
  EXPECT_EQ(queueFor("worker-alpha")[0].cmd, "rebalance");

  ok("/delete-worker", {{"name", "worker-old"}});
  for (const auto& w : storage_->getWorkerStatus()) EXPECT_NE(w.name, "worker-old");
}

// The cluster's settings: a read, and a set that is a write like the others.
TEST_F(DashboardHttpTest, SettingsAreReadAndSetAsATokenedWrite) {
  dashboard();
  const auto settings = ok("/settings");
  ASSERT_EQ(settings.size(), clusterSettingSpecs().size());
  EXPECT_EQ(settings[1].at("name"), "leader_timeout_s");
  EXPECT_EQ(settings[1].at("value"), 10);
  EXPECT_EQ(settings[1].at("default"), 10);
  EXPECT_EQ(settings[1].at("min"), 2);
  EXPECT_EQ(settings[1].at("meaning"), std::string(clusterSettingSpecs()[1].meaning));

  EXPECT_EQ(ok("/set-setting", {{"name", "leader_timeout_s"}, {"value", 4}}), Json::object());
  EXPECT_EQ(storage_->getSettings()[1].value, 4);

  const auto rows = [&] {
    std::string all;
    for (const auto& s : storage_->getSettings())
      all += s.name + "=" + s.stored.value_or("-") + ";";
    return all;
  };
  const auto before = rows();
  expectError(post("/set-setting", {{"name", "leader_timeout_s"}, {"value", 1}}), 400,
              "1 is out of range: 2 to 3600 seconds");
  expectError(post("/set-setting", {{"name", "leader_timeout_s"}, {"value", "5"}}), 400,
              "field 'value' must be a whole number of seconds");
  expectError(post("/set-setting", {{"name", "leader_timeout_s"}, {"value", 2.5}}), 400,
              "whole number");
  expectError(
      post("/set-setting", {{"name", "leader_timeout_s"}, {"value", 18446744073709551615u}}), 400,
      "out of range");
  const auto unknown = post("/set-setting", {{"name", "db_version"}, {"value", 3}});
  expectError(unknown, 400, "unknown setting '<name>'");
  EXPECT_THAT(unknown.body, Not(HasSubstr("db_version")));  // not echoed
  expectError(post("/set-setting", {{"value", 3}}), 400, "missing field 'name'");
  send_token_ = false;
  expectError(post("/set-setting", {{"name", "leader_timeout_s"}, {"value", 5}}), 401,
              "X-QTopology-Token");
  EXPECT_EQ(post("/settings").status, 401);  // reads need it too, on loopback as well
  EXPECT_EQ(rows(), before);
}

TEST_F(DashboardHttpTest, ReadOnlyRefusesToSetASetting) {
  const std::string token = "0123456789abcdef0123456789abcdef";
  dashboard({"--read-only", "--token", token});
  expectError(post("/set-setting", {{"name", "leader_timeout_s"}, {"value", 5}},
                   {{"X-QTopology-Token", token}}),
              403, "--read-only");
  EXPECT_EQ(storage_->getSettings()[1].value, 10);
}

// --- errors -------------------------------------------------------------------

TEST_F(DashboardHttpTest, BadRequestsGet400AndChangeNothing) {
  dashboard();
  const auto before = topologyRows();
  expectError(send("POST", "/enable-topology", "{\"uuid\": "), 400, "not valid JSON");
  expectError(send("POST", "/enable-topology", "[\"orders-pipeline\"]"), 400,
              "must be a JSON object, not an array");
  expectError(post("/enable-topology"), 400, "missing field 'uuid'");
  expectError(post("/kill-topology", {{"uuid", 7}}), 400,
              "field 'uuid' must be a non-empty string");
  expectError(post("/stop-topology", {{"uuid", ""}}), 400, "field 'uuid' must be a non-empty");
  expectError(post("/register-topology", {{"uuid", "x"}}), 400, "field 'config'");
  expectError(post("/register-topology", {{"uuid", "x"}, {"config", "text"}}), 400,
              "field 'config'");
  // The storage's own checks: a weight of -1 is refused as a whole.
  expectError(
      post("/register-topology",
           {{"uuid", "x"}, {"config", {{"general", {{"weight", -1}, {"command", {"ls"}}}}}}}),
      400, "weight");
  // The CLI's rules, by the CLI's function: what it refuses, this refuses.
  for (const auto& [command, why] : std::vector<std::pair<Json, std::string>>{
           {Json::array({1}), "general.command[0]: must be a string, not a number"},
           {Json::array(), "must be a non-empty array of strings"},
           {Json::array({""}), "general.command[0]: must be a non-empty string"}}) {
    expectError(post("/register-topology",
                     {{"uuid", "x"}, {"config", {{"general", {{"command", command}}}}}}),
                400, why);
  }
  Json restart = {{"general", {{"command", {"ls"}}}}};
  restart["general"]["restart"] = {{"max", -5}, {"window_s", 10}};
  expectError(post("/register-topology", {{"uuid", "x"}, {"config", restart}}), 400,
              "general.restart.max: must be 0 or more");
  expectError(post("/register-topology", {{"uuid", "x"}, {"config", {{"spouts", 1}}}}), 400,
              "not a valid Node qtopology topology");
  expectError(post("/shut-down-worker", {{"name", "worker-beta"}, {"valid_msec", -5}}), 400,
              "valid_msec");
  // The storage's refusals name the field, not the value sent.
  expectError(post("/delete-worker", {{"name", "worker-alpha"}}), 400, "<name>");
  expectError(post("/clear-topology-error", {{"uuid", "orders-pipeline"}}), 400, "<uuid>");
  EXPECT_EQ(topologyRows(), before);
  EXPECT_EQ(storage_->getWorkerStatus().size(), 4u);
}

TEST_F(DashboardHttpTest, UnknownNamesGet404) {
  dashboard();
  const auto before = topologyRows();
  for (const char* route : {"/topology-info", "/enable-topology", "/disable-topology",
                            "/stop-topology", "/kill-topology", "/clear-topology-error"}) {
    expectError(post(route, {{"uuid", "no-such-topology"}}), 404, "not found: <uuid>");
  }
  for (const char* route : {"/shut-down-worker", "/enable-worker", "/disable-worker",
                            "/rebalance-leader", "/delete-worker"}) {
    expectError(post(route, {{"name", "no-such-worker"}}), 404, "not found: <name>");
  }
  EXPECT_EQ(topologyRows(), before);
  expectError(post("/no-such-call"), 404, "no such API call");
  expectError(send("GET", "/no-such-page"), 404, "no such page");
  // State never changes on GET; PUT and friends are not used.
  expectError(send("GET", "/kill-topology"), 405, "POST");
  expectError(send("GET", "/worker-status"), 405, "POST");
  expectError(send("PUT", "/kill-topology", "{}"), 405, "GET, HEAD or POST");
}

// --- the write rules ------------------------------------------------------------

TEST_F(DashboardHttpTest, TokenGuardsWrites) {
  dashboard({"--token", kFixedToken});
  const Json body = {{"uuid", "reports-nightly"}};
  // Without the right one, reads and writes alike get 401.
  expectError(post("/enable-topology", body), 401, "X-QTopology-Token");
  expectError(post("/enable-topology", body, {{"X-QTopology-Token", "guess"}}), 401, "wrong token");
  EXPECT_FALSE(storage_->getTopologyInfo("reports-nightly").enabled);
  EXPECT_EQ(post("/enable-topology", body, {{"X-QTopology-Token", kFixedToken}}).status, 200);
  EXPECT_TRUE(storage_->getTopologyInfo("reports-nightly").enabled);
  EXPECT_EQ(post("/worker-status").status, 401);
  fixed_token_ = kFixedToken;
  EXPECT_EQ(post("/worker-status").status, 200);
  EXPECT_EQ(send("GET", "/health").json().at("writes"), "token");  // the page shows its field
  // The token never shows in the log.
  EXPECT_THAT(dashboard_->log(), Not(HasSubstr(kFixedToken)));
}

TEST_F(DashboardHttpTest, TokenFromTheEnvironment) {
  dashboard({}, {{{"QTOPOLOGY_DASHBOARD_TOKEN", kEnvToken}}, {}});
  expectError(post("/enable-topology", {{"uuid", "reports-nightly"}}), 401, "X-QTopology-Token");
  EXPECT_EQ(
      post("/enable-topology", {{"uuid", "reports-nightly"}}, {{"X-QTopology-Token", kEnvToken}})
          .status,
      200);
}

TEST_F(DashboardHttpTest, ReadOnlyRefusesEveryWrite) {
  dashboard({"--read-only", "--token", kFixedToken});
  fixed_token_ = kFixedToken;
  const auto before = topologyRows();
  for (const char* route :
       {"/register-topology", "/enable-topology", "/disable-topology", "/stop-topology",
        "/kill-topology", "/clear-topology-error", "/delete-worker", "/shut-down-worker",
        "/enable-worker", "/disable-worker", "/rebalance-leader"}) {
    expectError(post(route, {{"uuid", "orders-pipeline"}, {"name", "worker-old"}}), 403,
                "--read-only");
  }
  EXPECT_EQ(topologyRows(), before);
  EXPECT_EQ(storage_->getWorkerStatus().size(), 4u);
  EXPECT_EQ(post("/topology-status").status, 200);
  EXPECT_EQ(send("GET", "/health").json().at("writes"), "refused");
}

TEST_F(DashboardHttpTest, ByDefaultWritesNeedTheGeneratedToken) {
  dashboard();
  ASSERT_EQ(dashboard_->token().size(), 64u) << dashboard_->log();
  send_token_ = false;
  const Json body = {{"uuid", "reports-nightly"}};
  expectError(post("/enable-topology", body), 401, "X-QTopology-Token");
  expectError(post("/enable-topology", body, {{"X-QTopology-Token", std::string(64, '0')}}), 401,
              "wrong token");
  EXPECT_FALSE(storage_->getTopologyInfo("reports-nightly").enabled);
  EXPECT_EQ(post("/worker-status").status, 401);  // loopback reads need it too
  EXPECT_EQ(post("/worker-status", Json::object(), {{"X-QTopology-Token", dashboard_->token()}})
                .json()
                .size(),
            4u);
  EXPECT_EQ(
      send("GET", "/health", "", {{"X-QTopology-Token", dashboard_->token()}}).json().at("writes"),
      "token");
  // The bearer form, for tools that send only that.
  EXPECT_EQ(
      post("/enable-topology", body, {{"Authorization", "Bearer " + dashboard_->token()}}).status,
      200);
  EXPECT_TRUE(storage_->getTopologyInfo("reports-nightly").enabled);
  // Only the URL line shows it: no log line of a request does.
  const auto log = dashboard_->log();
  EXPECT_EQ(log.find(dashboard_->token()), log.rfind(dashboard_->token())) << log;
}

TEST_F(DashboardHttpTest, TokenFileIsPrivateAndGoesAwayAtTheEnd) {
  dashboard();
  const auto path = dashboard_->tokenFile();
  ASSERT_EQ(path, dashboard_->runtimeDir() + "/qtopology-dashboard-" +
                      std::to_string(dashboard_->port()) + ".token")
      << dashboard_->log();
  struct stat info {};
  ASSERT_EQ(::lstat(path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISREG(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(readFile(path), dashboard_->token() + "\n");
  dashboard_->child().signal(SIGTERM);
  ASSERT_EQ(dashboard_->child().wait(std::chrono::seconds(10)), 0) << dashboard_->log();
  EXPECT_NE(::lstat(path.c_str(), &info), 0) << "the token file outlived the dashboard";
}

TEST_F(DashboardHttpTest, TokenFileIsNeverWrittenThroughALink) {
  char dir[] = "/tmp/qtopology-token-link-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string victim = std::string(dir) + "/victim";
  std::ofstream(victim) << "keep me\n";
  const std::string link = std::string(dir) + "/token";
  ASSERT_EQ(::symlink(victim.c_str(), link.c_str()), 0);
  const auto r = run(QTOPOLOGY_CLI, {"--url", db_.url(), "dashboard", "--listen", "127.0.0.1:0",
                                     "--token-file", link});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("symbolic link"));
  EXPECT_EQ(readFile(victim), "keep me\n");
  std::remove(link.c_str());
  std::remove(victim.c_str());
  ::rmdir(dir);
}

// Any local user can reach a loopback port: reads need the token there too,
// unless --open-reads says otherwise. The page's own files do not.
TEST_F(DashboardHttpTest, LoopbackReadsNeedTheTokenUnlessOpenReads) {
  dashboard();
  send_token_ = false;
  const auto untokened = post("/topology-info", {{"uuid", "orders-pipeline"}});
  std::cout << "[figures] untokened loopback read: " << untokened.status << std::endl;
  expectError(untokened, 401, "reads need the token in the X-QTopology-Token header");
  EXPECT_THAT(untokened.body, Not(HasSubstr("spouts")));
  EXPECT_EQ(untokened.header("WWW-Authenticate"), "Bearer");
  for (const char* path : {"/health", "/metrics"}) {
    expectError(send("GET", path), 401, "--open-reads");
  }
  for (const char* route : {"/worker-status", "/topology-status", "/msg-queue-content",
                            "/storage-info", "/topology-history", "/worker-history"}) {
    EXPECT_EQ(post(route, {{"uuid", "orders-pipeline"}, {"name", "worker-alpha"}}).status, 401)
        << route;
  }
  for (const char* file : {"/", "/dashboard.js", "/dashboard.css"}) {
    EXPECT_EQ(send("GET", file).status, 200) << file;
  }
  send_token_ = true;
  EXPECT_EQ(ok("/topology-info", {{"uuid", "orders-pipeline"}}).at("config").at("spouts").size(),
            1u);

  // The explicit opt-out: reads without the token, writes still with it.
  dashboard({"--open-reads"});
  send_token_ = false;
  EXPECT_EQ(post("/topology-info", {{"uuid", "orders-pipeline"}}).status, 200);
  EXPECT_EQ(send("GET", "/health").status, 200);
  expectError(post("/enable-topology", {{"uuid", "reports-nightly"}}), 403, "X-QTopology-Token");
  EXPECT_TRUE(eventually(std::chrono::seconds(10), [&] {
    return dashboard_->log().find("--open-reads: every local user") != std::string::npos;
  })) << dashboard_->log();
  // Beyond loopback it would mean nothing: refused.
  const auto beyond =
      run(QTOPOLOGY_CLI, {"--url", db_.url(), "dashboard", "--listen", "127.0.0.1:0",
                          "--open-reads", "--public-host", "ops.example"});
  EXPECT_EQ(beyond.exit_code, 2) << beyond.err;
  EXPECT_THAT(beyond.err, HasSubstr("--open-reads is for a dashboard on loopback only"));
}

TEST_F(DashboardHttpTest, TokensOfFewerThan128BitsAreRefused) {
  const std::vector<std::string> base = {"--url", db_.url(), "dashboard", "--listen",
                                         "127.0.0.1:0"};
  auto with = [&](std::vector<std::string> more) {
    auto args = base;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  const auto one = run(QTOPOLOGY_CLI, with({"--token", "a"}));
  std::cout << "[figures] --token a: exit " << one.exit_code << ", " << one.err;
  EXPECT_EQ(one.exit_code, 2) << one.err;
  EXPECT_THAT(one.err, HasSubstr("the dashboard token from --token is refused: it has 1 character, "
                                 "fewer than the 32 needed when all are hex digits"));
  EXPECT_THAT(one.err, HasSubstr("at least 128 random bits"));
  const auto hex = run(QTOPOLOGY_CLI, with({"--token", std::string(kFixedToken.size(), '0')}));
  EXPECT_EQ(hex.exit_code, 2) << hex.err;
  const auto short_hex = run(QTOPOLOGY_CLI, with({"--token", "0123456789abcdef0123456789abcde"}));
  EXPECT_EQ(short_hex.exit_code, 2) << short_hex.err;
  EXPECT_THAT(short_hex.err, HasSubstr("fewer than the 32 needed when all are hex digits"));
  EXPECT_THAT(short_hex.err, Not(HasSubstr("0123456789abcdef")));  // never the token
  const auto from_env =
      run(QTOPOLOGY_CLI, base, "", {{{"QTOPOLOGY_DASHBOARD_TOKEN", "s3cret"}}, {}});
  EXPECT_EQ(from_env.exit_code, 2) << from_env.err;
  EXPECT_THAT(from_env.err, HasSubstr("from QTOPOLOGY_DASHBOARD_TOKEN is refused"));
  // Exactly 32 hex digits and 22 base64url characters are enough.
  dashboard({"--token", "0123456789abcdef0123456789abcdef"});
  dashboard({"--token", "abcdefghij-klmnopqrs_t"});
  fixed_token_ = "abcdefghij-klmnopqrs_t";
  EXPECT_EQ(send("GET", "/health").status, 200);
}

// /proc/PID/cmdline is readable by every local user.
TEST_F(DashboardHttpTest, TokenIsMaskedInTheCommandLine) {
  dashboard({"--token", kFixedToken});
  std::string seen = readFile("/proc/" + std::to_string(dashboard_->child().pid()) + "/cmdline");
  for (char& c : seen) {
    if (c == '\0') c = ' ';
  }
  EXPECT_THAT(seen, Not(HasSubstr(kFixedToken)));
  EXPECT_THAT(seen, HasSubstr("--token " + std::string(kFixedToken.size(), '*')));
  fixed_token_ = kFixedToken;
  EXPECT_EQ(send("GET", "/health").status, 200);  // what it parsed is intact
  EXPECT_THAT(dashboard_->log(), HasSubstr("--token-file or QTOPOLOGY_DASHBOARD_TOKEN"));
}

TEST_F(DashboardHttpTest, TokenFromAnExistingFileIsReadAndKept) {
  char dir[] = "/tmp/qtopology-token-in-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/token";
  std::ofstream(path) << kFixedToken << "\n";
  ::chmod(path.c_str(), 0644);
  const auto open_file = run(QTOPOLOGY_CLI, {"--url", db_.url(), "dashboard", "--listen",
                                             "127.0.0.1:0", "--token-file", path});
  EXPECT_EQ(open_file.exit_code, 1) << open_file.err;
  EXPECT_THAT(open_file.err, HasSubstr("may be read or written by group or others: chmod 600 it"));
  ::chmod(path.c_str(), 0600);
  const auto both = run(QTOPOLOGY_CLI, {"--url", db_.url(), "dashboard", "--listen", "127.0.0.1:0",
                                        "--token-file", path, "--token", kEnvToken});
  EXPECT_EQ(both.exit_code, 2) << both.err;
  EXPECT_THAT(both.err, HasSubstr("give one of them"));

  dashboard({"--token-file", path});
  EXPECT_TRUE(dashboard_->token().empty()) << "a token read from a file is not printed";
  send_token_ = false;
  EXPECT_EQ(send("GET", "/health").status, 401);
  EXPECT_EQ(send("GET", "/health", "", {{"X-QTopology-Token", kFixedToken}}).status, 200);
  dashboard_->child().signal(SIGTERM);
  ASSERT_EQ(dashboard_->child().wait(std::chrono::seconds(10)), 0) << dashboard_->log();
  EXPECT_EQ(readFile(path), kFixedToken + "\n") << "the operator's file stays as it was";
  std::remove(path.c_str());
  ::rmdir(dir);
}

// A wrong token makes the next one from that address wait before it is
// checked: 100 ms, then twice as long each time. Other requests from the
// same address are not held back meanwhile.
TEST_F(DashboardHttpTest, WrongTokensWaitLongerEachTime) {
  dashboard();
  send_token_ = false;
  const auto timed = [&](const std::string& token) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = send("GET", "/health", "", {{"X-QTopology-Token", token}});
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    return std::make_pair(r.status, static_cast<long>(ms));
  };
  const std::string wrong(64, 'f');
  std::vector<long> waits;
  for (int i = 0; i < 6; ++i) {
    const auto [status, ms] = timed(wrong);
    EXPECT_EQ(status, 401);
    waits.push_back(ms);
  }
  std::string shown;
  for (long w : waits) shown += std::to_string(w) + " ";
  std::cout << "[figures] answers to 6 wrong tokens in a row, ms: " << shown << std::endl;
  const std::vector<long> at_least = {0, 100, 200, 400, 800, 1600};
  // The server counts from its answer to the previous one, the test from
  // its request: a few ms apart.
  for (std::size_t i = 0; i < waits.size(); ++i) {
    EXPECT_GE(waits[i], at_least[i] - 25) << i;
    EXPECT_LT(waits[i], at_least[i] + 1500) << i;
  }
  // While a wrong token waits its 3.2 s, the same address gets the page's
  // files at once (no token, nothing to check), and nothing else stalls.
  std::thread waiting([&] { EXPECT_EQ(timed(wrong).first, 401); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(send("GET", "/dashboard.js").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  waiting.join();
  // The right token waits its turn too, then clears the address's record.
  const auto right = timed(dashboard_->token());
  EXPECT_EQ(right.first, 200);
  EXPECT_GE(right.second, 6400 - 100);
  const auto after = timed(wrong);
  EXPECT_EQ(after.first, 401);
  EXPECT_LT(after.second, 1000) << "a success resets the delay";
  std::cout << "[figures] right token after 7 wrong: " << right.second
            << " ms; the next wrong one: " << after.second << " ms" << std::endl;
}

// docs/dashboard.md: an error names the field and its type, never the
// value sent.
TEST_F(DashboardHttpTest, ErrorsNeverRepeatWhatWasSent) {
  dashboard();
  const std::string marker = "echo-me-4711";
  Json node_config = {{"general", {{"heartbeat", 1000}}}, {"bolts", Json::array()}};
  node_config["spouts"] = Json::array({{{"name", "s"}, {"type", marker}, {"working_dir", "."}}});
  std::string seen;
  for (const auto& r : {post("/topology-info", {{"uuid", marker + "<b>"}}),
                        post("/delete-worker", {{"name", marker}}),
                        post("/clear-topology-error", {{"uuid", marker + std::string(200, 'x')}}),
                        post("/kill-topology", {{"uuid", Json::array({marker})}}),
                        post("/register-topology", {{"uuid", "n"}, {"config", node_config}}),
                        send("GET", "/" + marker), post("/" + marker), send("PUT", "/" + marker),
                        send("GET", "/worker-status", "", {{"Host", marker + ".example"}}),
                        send("POST", "/kill-topology", "{\"uuid\": \"" + marker)}) {
    EXPECT_GE(r.status, 400) << r.body;
    seen += r.body + "\n";
  }
  EXPECT_THAT(seen, Not(HasSubstr(marker))) << seen;
  EXPECT_THAT(seen, HasSubstr("not found: <uuid>"));
  // A short value is taken out where it stands, not out of the message's
  // own words.
  expectError(post("/topology-info", {{"uuid", "o"}}), 404, "topology not found: <uuid>");
}

TEST_F(DashboardHttpTest, OpenWritesIsExplicitAndLogged) {
  dashboard({"--open-writes"});
  EXPECT_TRUE(dashboard_->token().empty());
  EXPECT_EQ(post("/enable-topology", {{"uuid", "reports-nightly"}}).status, 200);
  EXPECT_EQ(send("GET", "/health").json().at("writes"), "open");
  EXPECT_TRUE(eventually(std::chrono::seconds(10), [&] {
    return dashboard_->log().find("--open-writes: every local user") != std::string::npos;
  })) << dashboard_->log();
  const auto beyond =
      run(QTOPOLOGY_CLI, {"--url", db_.url(), "dashboard", "--listen", "0.0.0.0:0", "--open-writes",
                          "--public-host", "x", "--allow-plain-http"});
  EXPECT_EQ(beyond.exit_code, 2) << beyond.err;
  EXPECT_THAT(beyond.err, HasSubstr("--open-writes is for a dashboard on loopback"));
}

// 0.0.0.0 is beyond loopback; the test reaches it through 127.0.0.1.
TEST_F(DashboardHttpTest, BeyondLoopbackReadsNeedTheTokenAndTheHostIsChecked) {
  dashboard({"--listen", "0.0.0.0:0", "--public-host", "dashboard.test", "--allow-plain-http"});
  ASSERT_FALSE(dashboard_->token().empty());
  send_token_ = false;
  const HttpHeaders named = {{"Host", "dashboard.test:" + std::to_string(dashboard_->port())}};
  expectError(post("/worker-status", Json::object(), named), 401, "reads need the token");
  expectError(send("GET", "/health", "", named), 401, "reads need the token");
  expectError(send("GET", "/metrics", "", named), 401, "reads need the token");
  auto with_token = named;
  with_token.emplace_back("X-QTopology-Token", dashboard_->token());
  EXPECT_EQ(post("/worker-status", Json::object(), with_token).status, 200);
  EXPECT_EQ(send("GET", "/health", "", with_token).status, 200);
  // The page's files are free: the page needs them to find its token.
  EXPECT_EQ(send("GET", "/", "", named).status, 200);
  // Writes: refused without the token, done with it.
  expectError(post("/enable-topology", {{"uuid", "reports-nightly"}}, named), 401, "token");
  EXPECT_FALSE(storage_->getTopologyInfo("reports-nightly").enabled);
  EXPECT_EQ(post("/enable-topology", {{"uuid", "reports-nightly"}}, with_token).status, 200);
  // DNS rebinding: a name that is not --public-host, token or not.
  auto forged = with_token;
  forged[0] = {"Host", "evil.example:" + std::to_string(dashboard_->port())};
  expectError(post("/worker-status", Json::object(), forged), 403, "--public-host");
  expectError(send("GET", "/", "", forged), 403, "--public-host");
}

TEST_F(DashboardHttpTest, BeyondLoopbackNeedsAPublicHostAndHttps) {
  const auto plain = run(QTOPOLOGY_CLI, {"--url", db_.url(), "dashboard", "--listen", "0.0.0.0:0",
                                         "--public-host", "dashboard.test"});
  EXPECT_EQ(plain.exit_code, 2) << plain.err;
  EXPECT_THAT(plain.err, HasSubstr("needs HTTPS"));
  const auto nameless = run(QTOPOLOGY_CLI, {"--url", db_.url(), "dashboard", "--listen",
                                            "0.0.0.0:0", "--allow-plain-http"});
  EXPECT_EQ(nameless.exit_code, 2) << nameless.err;
  EXPECT_THAT(nameless.err, HasSubstr("--public-host"));
  const auto half = run(QTOPOLOGY_CLI, {"--url", db_.url(), "dashboard", "--tls-cert", "c.pem"});
  EXPECT_EQ(half.exit_code, 2) << half.err;
  EXPECT_THAT(half.err, HasSubstr("both --tls-cert and --tls-key"));
}

TEST_F(DashboardHttpTest, CrossSiteRequestsAreRefused) {
  dashboard();
  const auto before = topologyRows();
  const std::string body = R"({"uuid": "orders-pipeline"})";
  // What an HTML form of another site can send.
  expectError(send("POST", "/kill-topology", body, {}, "text/plain"), 415, "application/json");
  expectError(send("POST", "/kill-topology", "uuid=orders-pipeline", {},
                   "application/x-www-form-urlencoded"),
              415, "application/json");
  expectError(send("POST", "/kill-topology", body, {{"Origin", "http://evil.example"}}), 403,
              "cross-origin");
  // DNS rebinding: another site's name resolved to 127.0.0.1.
  expectError(send("POST", "/kill-topology", body, {{"Host", "evil.example:8080"}}), 403,
              "localhost");
  expectError(send("GET", "/worker-status", "", {{"Host", "evil.example"}}), 403, "localhost");
  EXPECT_EQ(topologyRows(), before);
  // The page's own origin is fine.
  const auto own = "http://127.0.0.1:" + std::to_string(dashboard_->port());
  EXPECT_EQ(send("POST", "/kill-topology", body, {{"Origin", own}}).status, 200);
}

// --- the page -------------------------------------------------------------------

TEST_F(DashboardHttpTest, PageIsSelfContainedAndRendersValuesAsText) {
  dashboard();
  const auto page = send("GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.header("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(page.header("Content-Security-Policy"), HasSubstr("script-src 'self'"));
  EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff");
  EXPECT_THAT(page.body, HasSubstr("<script src=\"dashboard.js\"></script>"));
  std::string everything = page.body;
  for (const char* asset : {"/dashboard.js", "/dashboard.css"}) {
    const auto r = send("GET", asset);
    EXPECT_EQ(r.status, 200) << asset;
    everything += r.body;
  }
  // Works offline: nothing is loaded from elsewhere.
  EXPECT_THAT(everything, Not(HasSubstr("http://")));
  EXPECT_THAT(everything, Not(HasSubstr("https://")));
  EXPECT_THAT(everything, Not(HasSubstr("//cdn")));
  // Database values reach the DOM as text only.
  const auto js = send("GET", "/dashboard.js").body;
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"}) {
    EXPECT_THAT(js, Not(HasSubstr(sink))) << sink;
  }
  // HEAD: the length a GET would have, no body.
  const auto head = send("HEAD", "/");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), std::to_string(page.body.size()));
  EXPECT_EQ(head.body, "");
  // curl's way with larger bodies: leave is given, the call goes through.
  const auto expecting = httpRequest(dashboard_->port(), "POST", "/topology-status",
                                     {{"Expect", "100-continue"},
                                      {"Content-Type", "application/json"},
                                      {"X-QTopology-Token", dashboard_->token()}},
                                     "{\"padding\": \"" + std::string(4096, 'x') + "\"}");
  EXPECT_EQ(expecting.status, 200) << expecting.body;
  // The API answers JSON that no browser will sniff as HTML.
  const auto list = post("/topology-status");
  EXPECT_EQ(list.header("Content-Type"), "application/json");
  EXPECT_EQ(list.header("X-Content-Type-Options"), "nosniff");
  EXPECT_THAT(list.body, HasSubstr(kHostileUuid));
}

// Rows another writer left that fail validation: listed, marked invalid with
// the reason, every text escaped; the rest of the answer as always. The CLI's
// listing shows them too, in both forms.
TEST_F(DashboardHttpTest, InvalidRowsAreListedEscapedAndMarked) {
  db_.exec(
      "INSERT INTO qtopology_topology (uuid, config, status, worker, weight, worker_affinity, "
      "last_ping, error, enabled, pid) VALUES "
      "(CONCAT('evil', CHAR(27), ']0;owned', CHAR(7), CHAR(1)), '{}', 'unassigned', NULL, 1, '', "
      "NOW(), NULL, 1, NULL), "
      "('bad-status', '{}', CONCAT('x', CHAR(27), '[2J'), CONCAT('w', CHAR(10), 'x'), 1, '', "
      "NOW(), CONCAT('e', CHAR(13)), 1, NULL)");
  dashboard();
  const auto r = post("/topology-status");
  ASSERT_EQ(r.status, 200) << r.body;
  for (unsigned char c : r.body) ASSERT_TRUE(c >= 0x20 || c == '\n') << r.body;
  EXPECT_THAT(r.body, Not(HasSubstr("\\u001b")));  // no control character even JSON-escaped
  std::map<std::string, Json> by_uuid;
  for (const auto& t : r.json()) by_uuid[t.at("uuid")] = t;
  ASSERT_EQ(by_uuid.size(), 6u);
  const auto& evil = by_uuid.at("evil\\x1b]0;owned\\x07\\x01");
  EXPECT_THAT(evil.at("invalid").get<std::string>(), HasSubstr("contains a control character"));
  const auto& status = by_uuid.at("bad-status");
  EXPECT_EQ(status.at("invalid"), "status 'x?[2J' is not a topology status");
  EXPECT_EQ(status.at("worker"), "w\\nx");
  EXPECT_EQ(status.at("error"), "e\\r");
  EXPECT_TRUE(by_uuid.at("orders-pipeline").at("invalid").is_null());
  EXPECT_EQ(by_uuid.at(kHostileUuid).at("enabled"), false);  // a valid row: verbatim
  const auto metrics = send("GET", "/metrics");
  EXPECT_THAT(metrics.body, HasSubstr("qtopology_topologies_invalid 2"));

  const auto listed = run(QTOPOLOGY_CLI, {"--url", db_.url(), "list"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr("evil\\x1b]0;owned\\x07\\x01"));
  EXPECT_THAT(listed.out, HasSubstr("invalid row: status 'x?[2J' is not a topology status"));
  const auto json = run(QTOPOLOGY_CLI, {"--url", db_.url(), "list", "--json"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  for (const auto* out : {&listed.out, &json.out}) {
    for (unsigned char c : *out) ASSERT_TRUE(c >= 0x20 || c == '\n') << *out;
  }
  EXPECT_THAT(json.out, HasSubstr("\"invalid\": \"status 'x?[2J' is not a topology status\""));
}

// --- health and metrics -----------------------------------------------------------

TEST_F(DashboardHttpTest, HealthReportsStorageSchemaAndLeader) {
  dashboard();
  const auto health = send("GET", "/health");
  EXPECT_EQ(health.status, 200) << health.body;
  const auto j = health.json();
  EXPECT_EQ(j.at("status"), "ok");
  EXPECT_EQ(j.at("storage"), "reachable");
  EXPECT_EQ(j.at("schema_version"), MySqlCoordinator::latestSchemaVersion());
  EXPECT_EQ(j.at("leader"), "worker-alpha");
  EXPECT_EQ(j.at("writes"), "token");

  storage_->setWorkerLStatus("worker-alpha", Leadership::normal);
  const auto leaderless = send("GET", "/health");
  EXPECT_EQ(leaderless.status, 200);
  EXPECT_EQ(leaderless.json().at("status"), "no leader");
  EXPECT_EQ(leaderless.json().at("leader_present"), false);
}

TEST_F(DashboardHttpTest, MetricsInPrometheusText) {
  dashboard();
  expectError(post("/topology-info", {{"uuid", "missing"}}), 404, "<uuid>");
  const auto metrics = send("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.header("Content-Type"), HasSubstr("text/plain; version=0.0.4"));
  const auto& m = metrics.body;
  for (const char* line : {
           "# TYPE qtopology_workers gauge\n",
           "qtopology_workers{status=\"alive\"} 2\n",
           "qtopology_workers{status=\"dead\"} 1\n",
           "qtopology_workers{status=\"unloaded\"} 1\n",
           "qtopology_workers{status=\"closing\"} 0\n",
           "qtopology_topologies{status=\"running\"} 1\n",
           "qtopology_topologies{status=\"error\"} 1\n",
           "qtopology_topologies{status=\"unassigned\"} 2\n",
           "qtopology_topologies_enabled 2\n",
           "qtopology_leader_present 1\n",
           "qtopology_queued_messages 1\n",
           "qtopology_storage_up 1\n",
           "qtopology_dashboard_storage_errors_total{call=\"getTopologyInfo\",kind="
           "\"NotFoundError\"} 1\n",
           "qtopology_dashboard_storage_calls_total{call=\"getTopologyInfo\"} 1\n",
       }) {
    EXPECT_THAT(m, HasSubstr(line));
  }
  EXPECT_THAT(
      m, ::testing::ContainsRegex(
             "qtopology_leader_heartbeat_age_seconds\\{worker=\"worker-alpha\"\\} [0-9.e-]+\n"));
}

// --- the password -----------------------------------------------------------------

// A user of its own, with a password found nowhere else, so that its absence
// from every answer and log line means something.
class DashboardPasswordTest : public DashboardHttpTest {
 protected:
  void SetUp() override {
    DashboardHttpTest::SetUp();
    std::random_device random;
    user_ = "dash" + std::to_string(random() % 1000000);
    password_ = "Pw-" + std::to_string(random()) + "-unique";
    db_.exec("CREATE USER '" + user_ + "'@'%' IDENTIFIED BY '" + password_ + "'");
    db_.exec("GRANT ALL ON `" + db_.name() + "`.* TO '" + user_ + "'@'%'");
  }
  void TearDown() override { db_.exec("DROP USER IF EXISTS '" + user_ + "'@'%'"); }

  std::string url() const {
    auto o = db_.options();
    return "mysql://" + user_ + ":" + password_ + "@" + o.host + ":" + std::to_string(o.port) +
           "/" + db_.name();
  }
  // Ends the user's sessions and drops it: the storage becomes unreachable
  // for the dashboard.
  void cutTheDashboardOff() {
    db_.exec("DROP USER '" + user_ + "'@'%'");
    auto raw = connectRaw(db_.options());
    std::unique_ptr<sql::Statement> st(raw->createStatement());
    std::unique_ptr<sql::ResultSet> ids(st->executeQuery(
        "SELECT id FROM information_schema.processlist WHERE user = '" + user_ + "'"));
    std::vector<std::string> sessions;
    while (ids->next()) sessions.push_back(ids->getString(1));
    for (const auto& id : sessions) st->execute("KILL " + id);
  }

  std::string user_;
  std::string password_;
};

TEST_F(DashboardPasswordTest, NeverInAnyAnswerOrLogLine) {
  dashboard_ =
      std::make_unique<DashboardProcess>(url(), std::vector<std::string>{"--token", kFixedToken});
  fixed_token_ = kFixedToken;
  std::string seen;
  const auto call_everything = [&] {
    for (const char* page : {"/", "/dashboard.js", "/health", "/metrics", "/nope"}) {
      seen += send("GET", page).body;
    }
    for (const char* route :
         {"/worker-status", "/topology-status", "/topology-info", "/topology-history",
          "/worker-history", "/msg-queue-content", "/storage-info", "/display-data",
          "/register-topology", "/enable-topology", "/disable-topology", "/stop-topology",
          "/kill-topology", "/clear-topology-error", "/delete-worker", "/shut-down-worker",
          "/enable-worker", "/disable-worker", "/rebalance-leader"}) {
      seen += post(route, {{"uuid", "no-such"}, {"name", "no-such"}}).body;
      seen += send("POST", route, "{broken").body;
    }
  };
  call_everything();
  EXPECT_THAT(seen, HasSubstr(user_));  // storage-info names the user...

  // ...and the failures of an unreachable storage do not name the password.
  cutTheDashboardOff();
  seen.clear();
  call_everything();
  EXPECT_THAT(seen, Not(HasSubstr(password_)));
  const auto health = send("GET", "/health");
  EXPECT_EQ(health.status, 503) << health.body;
  EXPECT_EQ(health.json().at("status"), "unavailable");
  const auto reads = post("/worker-status");
  EXPECT_GE(reads.status, 500) << reads.body;
  const auto metrics = send("GET", "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("qtopology_storage_up 0\n"));
  EXPECT_THAT(metrics,
              HasSubstr("qtopology_dashboard_storage_errors_total{call=\"getWorkerStatus\""));
  EXPECT_THAT(dashboard_->log(), Not(HasSubstr(password_)));
  EXPECT_THAT(dashboard_->log(), HasSubstr("failed"));  // the failures were logged
}

// --- the command line ---------------------------------------------------------------

TEST_F(DashboardHttpTest, BadListenAddressIsAUsageError) {
  const auto r = run(QTOPOLOGY_CLI, {"--url", db_.url(), "dashboard", "--listen", "nowhere"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--listen wants HOST:PORT"));
  dashboard();
  const auto taken = run(QTOPOLOGY_CLI, {"--url", db_.url(), "dashboard", "--listen",
                                         "127.0.0.1:" + std::to_string(dashboard_->port())});
  EXPECT_EQ(taken.exit_code, 1) << taken.err;
  EXPECT_THAT(taken.err, HasSubstr("cannot listen on 127.0.0.1:"));
}

TEST_F(DashboardHttpTest, StopsCleanlyOnSigterm) {
  dashboard();
  dashboard_->child().signal(SIGTERM);
  EXPECT_EQ(dashboard_->child().wait(std::chrono::seconds(10)), 0) << dashboard_->log();
}

}  // namespace
}  // namespace qtopology::testing
