// qtopology-mysql, run as an operator runs it: every subcommand, its output,
// exit code (0 ok, 1 error, 2 usage) and one-line error messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <fstream>

#include <qtopology/mysql_coordinator.hpp>

#include "process.hpp"
#include "test_database.hpp"

namespace qtopology::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A command topology: the Node format has integer weights only.
const Json kConfig = {
    {"general",
     {{"command", {"sleep", "60"}}, {"weight", 2.5}, {"worker_affinity", {"w1", "w2"}}}}};

class CliTest : public ::testing::Test {
 protected:
  RunResult cli(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--url", db_.url()});
    return run(QTOPOLOGY_CLI, args, input);
  }
  // Runs a command that must succeed and returns its standard output.
  std::string ok(std::vector<std::string> args) {
    const auto r = cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (args[0] != "migrate") {
      EXPECT_EQ(r.err, "");  // migrate reports its steps there
    }
    return r.out;
  }
  Json json(std::vector<std::string> args) {
    args.push_back("--json");
    return Json::parse(ok(args));
  }
  MySqlCoordinator& storage() {
    if (!storage_) storage_ = std::make_unique<MySqlCoordinator>(db_.options());
    return *storage_;
  }
  std::string file(const std::string& name, const std::string& content) {
    const std::string path = ::testing::TempDir() + db_.name() + "-" + name;
    std::ofstream(path) << content;
    files_.push_back(path);
    return path;
  }
  void registerTopology(const std::string& uuid) {
    ok({"register", uuid, file(uuid + ".json", kConfig.dump())});
  }
  ~CliTest() override {
    for (const auto& path : files_) std::remove(path.c_str());
  }

  TestDatabase db_;
  std::unique_ptr<MySqlCoordinator> storage_;
  std::vector<std::string> files_;
};

// One line on stderr, prefixed with the program's name.
void expectOneLineError(const RunResult& r, int exit_code, const std::string& text) {
  EXPECT_EQ(r.exit_code, exit_code) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr(text));
  EXPECT_EQ(r.err.rfind("qtopology-mysql: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// After the confirmation prompt on stderr, the error is the last line.
void expectDeclined(const RunResult& r) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Type 'yes' to continue: \n"));
  EXPECT_THAT(r.err, ::testing::EndsWith(
                         "\nqtopology-mysql: aborted: not confirmed (pass --yes to skip the "
                         "question)\n"));
}

// --- command line -----------------------------------------------------------

TEST_F(CliTest, MissingUrlIsAUsageError) {
  const auto r = run(QTOPOLOGY_CLI, {"list"}, "", {{}, {"QTOPOLOGY_MYSQL_URL"}});
  expectOneLineError(r, 2, "no database URL: pass --url or set QTOPOLOGY_MYSQL_URL");
}

TEST_F(CliTest, UrlComesFromTheEnvironment) {
  ok({"migrate"});
  const auto r = run(QTOPOLOGY_CLI, {"list"}, "", {{{"QTOPOLOGY_MYSQL_URL", db_.url()}}, {}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("UUID"));
}

TEST_F(CliTest, BadUrlIsAUsageError) {
  expectOneLineError(run(QTOPOLOGY_CLI, {"--url", "postgres://x/y", "list"}), 2,
                     "bad database URL");
  expectOneLineError(run(QTOPOLOGY_CLI, {"--url", "mysql://u:p@127.0.0.1:1/", "list"}), 2,
                     "names no database");
}

TEST_F(CliTest, UnreachableServerIsAnErrorNotAHang) {
  const auto r = run(QTOPOLOGY_CLI, {"--url", "mysql://u:secret@127.0.0.1:1/db", "list"});
  expectOneLineError(r, 1, "qtopology-mysql: ");
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("secret")));
}

TEST_F(CliTest, UsageErrors) {
  expectOneLineError(cli({}), 2, "no command given");
  expectOneLineError(cli({"frobnicate"}), 2, "unknown command 'frobnicate'");
  expectOneLineError(cli({"list", "extra"}), 2, "usage: qtopology-mysql [options] list");
  expectOneLineError(cli({"register", "only-uuid"}), 2, "register <uuid> <file.json>");
  expectOneLineError(cli({"enable"}), 2, "enable <uuid>...");
  expectOneLineError(cli({"history", "planet", "x"}), 2, "history topology <uuid>");
  expectOneLineError(cli({"--frob", "list"}), 2, "unknown option '--frob'");
  expectOneLineError(run(QTOPOLOGY_CLI, {"list", "--url"}), 2, "--url needs a value");
}

TEST_F(CliTest, HelpEverywhere) {
  const auto general = run(QTOPOLOGY_CLI, {"--help"}, "", {{}, {"QTOPOLOGY_MYSQL_URL"}});
  EXPECT_EQ(general.exit_code, 0);
  for (const char* command :
       {"migrate",       "check",   "workers",     "list",      "details",
        "register",      "export",  "enable",      "disable",   "stop",
        "kill",          "delete",  "clear-error", "set-error", "shutdown-worker",
        "delete-worker", "history", "queue",       "clear",     "reset"}) {
    EXPECT_THAT(general.out, HasSubstr(std::string("\n  ") + command + " ")) << command;
    const auto one = run(QTOPOLOGY_CLI, {command, "--help"}, "", {{}, {"QTOPOLOGY_MYSQL_URL"}});
    EXPECT_EQ(one.exit_code, 0) << command;
    EXPECT_THAT(one.out, HasSubstr(std::string("usage: qtopology-mysql [options] ") + command));
  }
  EXPECT_EQ(run(QTOPOLOGY_CLI, {"help", "history"}).exit_code, 0);
  expectOneLineError(run(QTOPOLOGY_CLI, {"help", "nope"}), 2, "unknown command 'nope'");
}

// --- schema -------------------------------------------------------------------

TEST_F(CliTest, CommandsRefuseAnUnmigratedDatabaseAndMigrateFixesIt) {
  expectOneLineError(cli({"check"}), 1, "run 'qtopology-mysql migrate'");
  expectOneLineError(cli({"list"}), 1, "not initialised");
  const auto migrate = cli({"migrate"});
  EXPECT_EQ(migrate.exit_code, 0) << migrate.err;
  EXPECT_THAT(migrate.out, HasSubstr("is at version " +
                                     std::to_string(MySqlCoordinator::latestSchemaVersion())));
  EXPECT_THAT(migrate.err, HasSubstr("applying v24.sql"));  // progress goes to stderr
  EXPECT_THAT(ok({"check"}), HasSubstr("schema is up to date"));
  const auto properties = json({"check"});
  EXPECT_EQ(properties["schema_version"], std::to_string(MySqlCoordinator::latestSchemaVersion()));
  EXPECT_EQ(properties["database"], db_.name());
  EXPECT_EQ(json({"migrate"})["schema_version"], MySqlCoordinator::latestSchemaVersion());
}

// --- topologies ---------------------------------------------------------------

class CliTopologyTest : public CliTest {
 protected:
  void SetUp() override { ok({"migrate"}); }
};

TEST_F(CliTopologyTest, RegisterListDetailsExport) {
  const auto path =
      file("t1.json",
           "{\n  // comments are allowed\n  \"general\": " + kConfig["general"].dump() + "\n}\n");
  EXPECT_THAT(ok({"register", "t1", path}), HasSubstr("registered topology t1"));

  const auto table = ok({"list"});
  EXPECT_THAT(table, HasSubstr("UUID"));
  EXPECT_THAT(table, ::testing::ContainsRegex("t1 +unassigned +no +- +2.5 +w1,w2"));
  const auto list = json({"list"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["uuid"], "t1");
  EXPECT_EQ(list[0]["enabled"], false);
  EXPECT_EQ(list[0]["weight"], 2.5);
  EXPECT_EQ(list[0]["worker_affinity"], Json({"w1", "w2"}));
  EXPECT_TRUE(list[0]["worker"].is_null());

  EXPECT_THAT(ok({"details", "t1"}), HasSubstr("\"worker_affinity\""));
  EXPECT_EQ(json({"details", "t1"})["config"]["general"], kConfig["general"]);

  const auto exported = file("export.json", "");
  EXPECT_THAT(ok({"export", "t1", exported}), HasSubstr("exported topology t1"));
  EXPECT_EQ(Json::parse(readFile(exported))["general"], kConfig["general"]);
  EXPECT_EQ(Json::parse(ok({"export", "t1", "-"}))["general"], kConfig["general"]);

  // From stdin, and re-registering updates.
  EXPECT_EQ(
      cli({"register", "t1", "-"}, R"({"general": {"command": ["true"], "weight": 7}})").exit_code,
      0);
  EXPECT_EQ(json({"details", "t1"})["weight"], 7);
}

TEST_F(CliTopologyTest, BrokenJsonNamesLineAndColumn) {
  const auto path = file("broken.json", "{\n  \"general\": {\n    \"weight\": 2,,\n  }\n}\n");
  expectOneLineError(cli({"register", "t1", path}), 1, path + ":3:17: syntax error");
  // Multi-byte characters count as one column.
  const auto utf8 = file("utf8.json", "{\"name\": \"\xC3\xA9t\xC3\xA9\" x}");
  expectOneLineError(cli({"register", "t1", utf8}), 1, utf8 + ":1:16: syntax error");
  const auto empty = file("empty.json", "");
  expectOneLineError(cli({"register", "t1", empty}), 1, empty + ":1:1: syntax error");
  EXPECT_EQ(json({"list"}).size(), 0u);  // nothing was registered
}

TEST_F(CliTopologyTest, RegisterRejectsWhatIsNotATopology) {
  expectOneLineError(cli({"register", "t1", file("array.json", "[1, 2]")}), 1,
                     "a topology must be a JSON object, not an array");
  expectOneLineError(
      cli({"register", "t1", file("w.json", R"({"general":{"command":["true"],"weight":-1}})")}), 1,
      "weight");
  expectOneLineError(cli({"register", "t1", "/nonexistent/t.json"}), 1,
                     "cannot read /nonexistent/t.json");
  expectOneLineError(cli({"register", std::string(101, 'u'), file("ok.json", kConfig.dump())}), 1,
                     "registerTopology");
}

TEST_F(CliTopologyTest, RegisterTakesNodeTopologiesCheckedAgainstTheirSchema) {
  const Json node = {{"general", {{"heartbeat", 1000}, {"weight", 3}}},
                     {"spouts",
                      {{{"name", "s"},
                        {"type", "sys"},
                        {"working_dir", "."},
                        {"cmd", "timer"},
                        {"init", Json::object()}}}},
                     {"bolts", Json::array()},
                     {"variables", Json::object()}};
  ok({"register", "node", file("node.json", node.dump())});
  EXPECT_EQ(json({"details", "node"})["config"], node);

  auto bad = node;
  bad["general"].erase("heartbeat");
  bad["spouts"][0]["type"] = "python";
  const auto path = file("bad-node.json", bad.dump());
  expectOneLineError(cli({"register", "bad", path}), 1,
                     path +
                         ": not a valid Node qtopology topology (nor a command topology: no "
                         "general.command): general.heartbeat: is required; spouts[0].type: must "
                         "be one of \"module_class\", \"module_method\", \"inproc\", \"sys\", "
                         "not \"python\"");
  expectOneLineError(cli({"register", "bad", "-"}, R"({"general": {"command": []}})"), 1,
                     "<stdin>: general.command: must be a non-empty array of strings");
  EXPECT_EQ(json({"list"}).size(), 1u);  // nothing half-written
}

// A host's own format: any JSON object with --format raw; only the fields
// the storage reads are checked.
TEST_F(CliTopologyTest, RegisterRawTakesAHostsOwnFormat) {
  const Json own = {{"general", {{"weight", 2}, {"worker_affinity", {"cpp-host"}}}},
                    {"my_runner", {{"pipeline", {"parse", "score"}}, {"threads", 4}}}};
  const auto path = file("own.json", own.dump());
  expectOneLineError(cli({"register", "own", path}), 1,
                     "not a valid Node qtopology topology (nor a command topology");
  EXPECT_THAT(ok({"register", "--format", "raw", "own", path}),
              HasSubstr("registered topology own"));
  const auto t = json({"details", "own"});
  EXPECT_EQ(t["config"], own);
  EXPECT_EQ(t["weight"], 2);
  EXPECT_EQ(t["worker_affinity"], Json({"cpp-host"}));
  ok({"register", "--format", "raw", "bare",
      file("bare.json", R"({"anything": [1, {"x": null}]})")});
  EXPECT_EQ(json({"details", "bare"})["weight"], 1);

  for (const auto& [config, error] : std::vector<std::pair<std::string, std::string>>{
           {R"({"general": {"weight": -1}})", "general.weight: must be a positive number, not -1"},
           {R"({"general": {"weight": "2"}})",
            "general.weight: must be a positive number, not a string"},
           {R"({"general": []})", "general: must be an object, not an array"},
           {R"({"general": {"worker_affinity": "w1"}})",
            "general.worker_affinity: must be an array of worker names, not a string"},
           {R"({"general": {"worker_affinity": ["w1", 7]}})",
            "general.worker_affinity[1]: must be a non-empty worker name, not a number"},
           {R"({"general": {"worker_affinity": ["a,b"]}})",
            "general.worker_affinity[0]: a worker name cannot contain ','"}}) {
    expectOneLineError(cli({"register", "--format", "raw", "bad", "-"}, config), 1,
                       "<stdin>: " + error);
  }
  expectOneLineError(cli({"register", "--format", "raw", "bad", "-"}, "[1]"), 1,
                     "must be a JSON object, not an array");
  expectOneLineError(cli({"register", "--format", "yaml", "bad", path}), 2,
                     "--format must be auto (a command or a Node topology) or raw");
  EXPECT_EQ(json({"list"}).size(), 2u);  // nothing refused was written
}

// A validator of the host's: the config on stdin, exit 0 to accept, else its
// message is shown (one line, escaped, bounded) and nothing is written.
TEST_F(CliTopologyTest, RegisterRunsTheHostsValidator) {
  const std::string seen = ::testing::TempDir() + db_.name() + "-seen.json";
  const std::string env_seen = ::testing::TempDir() + db_.name() + "-env.txt";
  files_.push_back(seen);
  files_.push_back(env_seen);
  const auto validator = file("validator.sh",
                              "#!/bin/sh\n"
                              "cat > '" +
                                  seen +
                                  "'\n"
                                  "env > '" +
                                  env_seen +
                                  "'\n"
                                  "grep -q '\"my_runner\"' '" +
                                  seen +
                                  "' && exit 0\n"
                                  "printf 'no my_runner section\\n\\033[31mred\\n' >&2\n"
                                  "exit 3\n");
  ASSERT_EQ(::chmod(validator.c_str(), 0700), 0);
  const Json own = {{"general", {{"weight", 2}}}, {"my_runner", {{"threads", 4}}}};
  const Environment secrets{{{"QTOPOLOGY_MYSQL_PASSWORD_FILE", "/nonexistent/pw"},
                             {"MYSQL_PWD", "hunter2"},
                             {"HOST_TOKEN", "t0k3n"},
                             {"HOST_SETTING", "kept"}},
                            {}};
  const auto accept = run(QTOPOLOGY_CLI,
                          {"--url", db_.url(), "register", "--format", "raw", "--validator",
                           validator + " --strict", "own", "-"},
                          "// a comment\n" + own.dump(), secrets);
  ASSERT_EQ(accept.exit_code, 0) << accept.err;
  EXPECT_EQ(Json::parse(readFile(seen)), own);  // plain JSON, comments gone
  const auto env = readFile(env_seen);
  EXPECT_THAT(env, HasSubstr("HOST_SETTING=kept"));
  for (const std::string& secret :
       std::vector<std::string>{"QTOPOLOGY_MYSQL", "MYSQL_PWD", "hunter2", "t0k3n", db_.url()}) {
    EXPECT_THAT(env, Not(HasSubstr(secret))) << secret;
  }
  EXPECT_EQ(json({"details", "own"})["config"], own);

  const auto refused = cli({"register", "--format", "raw", "--validator", validator, "other", "-"},
                           R"({"general": {"weight": 1}})");
  expectOneLineError(refused, 1,
                     "<stdin>: refused by the validator (exit code 3: no my_runner "
                     "section\\n\\x1b[31mred); nothing registered");
  // The Node and command checks come first, the validator after them.
  expectOneLineError(
      cli({"register", "--validator", validator, "other", "-"}, R"({"my_runner": {}})"), 1,
      "not a valid Node qtopology topology");
  const auto flood =
      file("flood.sh", "#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\0' x >&2\nexit 1\n");
  ASSERT_EQ(::chmod(flood.c_str(), 0700), 0);
  const auto flooded =
      cli({"register", "--format", "raw", "--validator", flood, "other", "-"}, "{}");
  expectOneLineError(flooded, 1, "exit code 1: xxxx");
  EXPECT_LT(flooded.err.size(), 700u);
  expectOneLineError(
      cli({"register", "--format", "raw", "--validator", "/nonexistent/check", "other", "-"},
          own.dump()),
      1, "cannot run the validator /nonexistent/check: No such file");
  expectOneLineError(cli({"register", "--validator", " ", "other", "-"}, own.dump()), 1,
                     "--validator names no program");
  EXPECT_EQ(json({"list"}).size(), 1u);  // nothing refused was written
}

TEST_F(CliTopologyTest, UnknownUuidIsAnError) {
  for (std::vector<std::string> args : {std::vector<std::string>{"details", "nope"},
                                        {"export", "nope", "-"},
                                        {"enable", "nope"},
                                        {"disable", "nope"},
                                        {"stop", "nope"},
                                        {"kill", "nope"},
                                        {"delete", "nope"},
                                        {"clear-error", "nope"},
                                        {"set-error", "nope", "boom"}}) {
    SCOPED_TRACE(args[0]);
    expectOneLineError(cli(args), 1, "not found: nope");
  }
}

TEST_F(CliTopologyTest, EnableDisableDelete) {
  registerTopology("t1");
  registerTopology("t2");
  EXPECT_THAT(ok({"enable", "t1", "t2"}), HasSubstr("enabled t1 t2"));
  for (const auto& t : json({"list"})) EXPECT_EQ(t["enabled"], true);
  EXPECT_EQ(json({"disable", "t2"}), Json({{"ok", true}}));
  EXPECT_EQ(json({"details", "t2"})["enabled"], false);
  EXPECT_THAT(ok({"delete", "t1"}), HasSubstr("deleted t1"));
  const auto list = json({"list"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["uuid"], "t2");
}

TEST_F(CliTopologyTest, StopAndKillTellTheWorker) {
  registerTopology("t1");
  registerTopology("t2");
  storage().registerWorker("w1");
  storage().assignTopology("t1", "w1");
  storage().assignTopology("t2", "w1");
  ok({"enable", "t1", "t2"});
  EXPECT_THAT(ok({"stop", "t1"}), HasSubstr("stop: t1"));
  EXPECT_THAT(ok({"kill", "t2"}), HasSubstr("kill: t2"));
  EXPECT_EQ(json({"details", "t1"})["enabled"], false);
  EXPECT_EQ(json({"details", "t2"})["enabled"], false);

  const auto queue = json({"queue"});
  ASSERT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue[0]["worker"], "w1");
  EXPECT_EQ(queue[0]["cmd"], "stop_topology");
  EXPECT_EQ(queue[0]["data"], Json({{"uuid", "t1"}}));
  EXPECT_EQ(queue[1]["cmd"], "kill_topology");
  EXPECT_THAT(ok({"queue"}), ::testing::ContainsRegex("w1 +stop_topology +\\{\"uuid\":\"t1\"\\}"));
}

TEST_F(CliTopologyTest, SetErrorAndClearError) {
  registerTopology("t1");
  EXPECT_THAT(ok({"set-error", "t1", "disk full on /var"}), HasSubstr("in error"));
  auto t = json({"details", "t1"});
  EXPECT_EQ(t["status"], "error");
  EXPECT_EQ(t["error"], "disk full on /var");
  EXPECT_THAT(ok({"list"}), HasSubstr("disk full on /var"));
  // A text that looks like an option, after "--".
  EXPECT_EQ(cli({"set-error", "t1", "--", "-x failed"}).exit_code, 0);
  EXPECT_EQ(json({"details", "t1"})["error"], "-x failed");

  EXPECT_THAT(ok({"clear-error", "t1"}), HasSubstr("unassigned again"));
  t = json({"details", "t1"});
  EXPECT_EQ(t["status"], "unassigned");
  EXPECT_TRUE(t["error"].is_null());
  expectOneLineError(cli({"clear-error", "t1"}), 1, "t1");  // not in error any more
}

// As upstream's clear: back on the last worker when it is alive, with a
// start_topology for it; unassigned when that worker is gone.
TEST_F(CliTopologyTest, ClearErrorPutsATopologyBackOnItsLastWorkerWhenThatWorkerIsAlive) {
  registerTopology("t1");
  registerTopology("t2");
  storage().registerWorker("w1");
  storage().registerWorker("w2");
  for (const auto* uuid : {"t1", "t2"}) ok({"enable", uuid});
  storage().assignTopology("t1", "w1");
  storage().assignTopology("t2", "w2");
  ok({"set-error", "t1", "disk full"});
  ok({"set-error", "t2", "disk full"});
  storage().setWorkerStatus("w2", WorkerState::dead);

  EXPECT_THAT(ok({"clear-error", "t1"}), HasSubstr("starts again on its last worker w1"));
  auto t = json({"details", "t1"});
  EXPECT_EQ(t["status"], "waiting");
  EXPECT_EQ(t["worker"], "w1");
  EXPECT_TRUE(t["error"].is_null());
  const auto queue = json({"queue"});
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0]["worker"], "w1");
  EXPECT_EQ(queue[0]["cmd"], "start_topology");
  EXPECT_EQ(queue[0]["data"], Json({{"uuid", "t1"}}));

  EXPECT_THAT(ok({"clear-error", "t2"}), HasSubstr("unassigned again"));
  t = json({"details", "t2"});
  EXPECT_EQ(t["status"], "unassigned");
  EXPECT_EQ(json({"queue"}).size(), 1u);
}

TEST_F(CliTopologyTest, TopologyHistory) {
  registerTopology("t1");
  ok({"enable", "t1"});
  ok({"set-error", "t1", "boom"});
  const auto history = json({"history", "topology", "t1"});
  ASSERT_GE(history.size(), 3u);
  EXPECT_EQ(history[0]["status"], "error");  // newest first
  EXPECT_EQ(history[0]["error"], "boom");
  EXPECT_EQ(history.back()["enabled"], false);
  EXPECT_THAT(ok({"history", "topology", "t1"}), ::testing::ContainsRegex("TIME +STATUS"));
  EXPECT_EQ(json({"history", "topology", "never-existed"}).size(), 0u);
}

// --- workers --------------------------------------------------------------------

TEST_F(CliTopologyTest, WorkersShutdownDeleteHistory) {
  storage().registerWorker("w1");
  EXPECT_THAT(ok({"workers"}),
              ::testing::ContainsRegex("w1 +alive +normal +" + std::to_string(::getpid())));
  const auto workers = json({"workers"});
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0]["name"], "w1");
  EXPECT_EQ(workers[0]["pid"], ::getpid());

  EXPECT_THAT(ok({"shutdown-worker", "w1"}), HasSubstr("sent shutdown to worker w1"));
  EXPECT_EQ(json({"queue"})[0]["cmd"], "shutdown");
  expectOneLineError(cli({"shutdown-worker", "nope"}), 1, "nope");

  expectOneLineError(cli({"delete-worker", "w1"}), 1, "w1");  // alive: refused
  storage().setWorkerStatus("w1", WorkerState::unloaded);
  const auto history = json({"history", "worker", "w1"});
  ASSERT_GE(history.size(), 2u);
  EXPECT_EQ(history[0]["status"], "unloaded");
  EXPECT_THAT(ok({"history", "worker", "w1"}), HasSubstr("unloaded"));
  EXPECT_THAT(ok({"delete-worker", "w1"}), HasSubstr("deleted worker w1"));
  EXPECT_EQ(json({"workers"}).size(), 0u);
  expectOneLineError(cli({"delete-worker", "w1"}), 1, "not found: w1");
}

// LAST PING is the worker's last heartbeat, also once the leader unloaded
// it; the unload is in its history.
TEST_F(CliTopologyTest, WorkersShowTheLastHeartbeatNotTheUnload) {
  storage().registerWorker("leader");
  storage().registerWorker("gone");
  ASSERT_TRUE(storage().campaign("leader"));
  db_.exec("UPDATE qtopology_worker SET last_ping = '2024-05-01 12:00:00' WHERE name = 'gone'");
  storage().refreshStatuses();  // silent since 2024: dead
  LeaderActions unload;
  unload.unload_workers = {"gone"};
  ASSERT_TRUE(storage().applyLeaderActions("leader", unload));
  const std::time_t seconds =
      std::stoll(db_.scalar("SELECT UNIX_TIMESTAMP('2024-05-01 12:00:00')"));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char expected[32];
  std::strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%SZ", &utc);
  for (const auto& w : json({"workers"})) {
    if (w["name"] != "gone") continue;
    EXPECT_EQ(w["status"], "unloaded");
    EXPECT_EQ(w["last_ping"], std::string(expected));
  }
  EXPECT_THAT(ok({"workers"}),
              ::testing::ContainsRegex("gone +unloaded +normal +[0-9]+ +2024-0[45]-"));
  const auto history = json({"history", "worker", "gone"});
  ASSERT_GE(history.size(), 2u);
  EXPECT_EQ(history[0]["status"], "unloaded");
  EXPECT_GT(history[0]["ts"].get<std::string>(), "2025");  // when it was unloaded: now
}

// A topology shows a worker only while it is waiting or running there; one
// that stopped or failed says where it ran last in details.
TEST_F(CliTopologyTest, ATopologyThatIsNotRunningShowsNoWorker) {
  registerTopology("t1");
  registerTopology("t2");
  storage().registerWorker("w1");
  storage().assignTopology("t1", "w1");
  storage().assignTopology("t2", "w1");
  storage().setTopologyStatus({"t1", std::string("w1"), TopologyState::running, std::nullopt});
  storage().setTopologyStatus({"t2", std::string("w1"), TopologyState::error, std::string("boom")});
  const auto table = ok({"list"});
  EXPECT_THAT(table, ::testing::ContainsRegex("t1 +running +no +w1 +2.5"));
  EXPECT_THAT(table, ::testing::ContainsRegex("t2 +error +no +- +2.5"));
  EXPECT_THAT(ok({"details", "t2"}), ::testing::ContainsRegex("worker: +last on w1\n"));
  EXPECT_THAT(ok({"details", "t1"}), ::testing::ContainsRegex("worker: +w1\n"));
  storage().setTopologyStatus({"t1", std::string("w1"), TopologyState::unassigned, std::nullopt});
  EXPECT_THAT(ok({"list"}), ::testing::ContainsRegex("t1 +unassigned +no +- +2.5"));
  EXPECT_THAT(ok({"history", "topology", "t1"}),
              ::testing::ContainsRegex("unassigned +no +- +2.5"));
  EXPECT_EQ(json({"details", "t1"})["worker"], "w1");  // JSON: the stored column, as it is
}

// --- whole database ----------------------------------------------------------------

TEST_F(CliTopologyTest, ClearAsksFirst) {
  registerTopology("t1");
  storage().registerWorker("w1");
  expectDeclined(cli({"clear"}, "no\n"));
  EXPECT_EQ(json({"list"}).size(), 1u);
  expectDeclined(cli({"clear"}, ""));

  const auto confirmed = cli({"clear"}, "yes\n");
  EXPECT_EQ(confirmed.exit_code, 0) << confirmed.err;
  EXPECT_THAT(confirmed.err, HasSubstr("Type 'yes' to continue"));
  EXPECT_EQ(json({"list"}).size(), 0u);
  EXPECT_EQ(json({"workers"}).size(), 0u);
  EXPECT_EQ(db_.count("qtopology_topology_history"), 0);
  ok({"check"});  // schema and version kept

  registerTopology("t2");
  EXPECT_THAT(ok({"clear", "--yes"}), HasSubstr("cleared database '" + db_.name() + "'"));
  EXPECT_EQ(json({"list"}).size(), 0u);
}

TEST_F(CliTopologyTest, ResetDropsTheSchema) {
  registerTopology("t1");
  expectDeclined(cli({"reset"}, "n\n"));
  EXPECT_THAT(ok({"reset", "-y"}), HasSubstr("reset database"));
  EXPECT_EQ(db_.count("information_schema.tables", "table_schema = '" + db_.name() + "'"), 0);
  EXPECT_EQ(db_.count("information_schema.routines", "routine_schema = '" + db_.name() + "'"), 0);
  expectOneLineError(cli({"check"}), 1, "not initialised");
  ok({"migrate"});
  EXPECT_EQ(json({"list"}).size(), 0u);
  ok({"reset", "--yes"});  // twice is fine
  ok({"reset", "--yes"});
}

}  // namespace
}  // namespace qtopology::testing
