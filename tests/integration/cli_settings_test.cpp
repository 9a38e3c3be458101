// qtopology-mysql settings, as an operator uses it: the list with values,
// defaults and meanings; a set; a bad name or value refused with nothing
// written. And every command's --help shows that command's options only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include <qtopology/mysql_coordinator.hpp>

#include "process.hpp"
#include "test_database.hpp"

namespace qtopology::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class CliSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override { storage_ = std::make_unique<MySqlCoordinator>(db_.options()); }
  RunResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--url", db_.url()});
    return run(QTOPOLOGY_CLI, args);
  }
  std::string settingsRows() {
    return db_.scalar(
        "SELECT GROUP_CONCAT(name, '=', value ORDER BY name) FROM qtopology_settings WHERE name "
        "LIKE '%\\_s'");
  }

  TestDatabase db_;
  std::unique_ptr<MySqlCoordinator> storage_;
};

TEST_F(CliSettingsTest, ListsEverySettingWithValueDefaultRangeAndMeaning) {
  const auto r = cli({"settings"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, HasSubstr("NAME"));
  EXPECT_THAT(r.out, HasSubstr("MEANING"));
  for (const auto& spec : clusterSettingSpecs()) {
    EXPECT_THAT(r.out, HasSubstr(std::string(spec.name))) << r.out;
    EXPECT_THAT(r.out, HasSubstr(std::string(spec.meaning))) << r.out;
  }
  // worker_dead_timeout_s: value 30, stored 30, default 30, 3-86400.
  EXPECT_THAT(r.out, ::testing::ContainsRegex("worker_dead_timeout_s +30 +30 +30 +3-86400 "));
  // No row for the write interval: the cap, nothing stored.
  EXPECT_THAT(r.out, ::testing::ContainsRegex("heartbeat_write_interval_s +5 +- +5 +0-3600 "));

  const auto j = cli({"settings", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto all = Json::parse(j.out);
  ASSERT_EQ(all.size(), clusterSettingSpecs().size());
  EXPECT_EQ(all[0], Json({{"name", "worker_dead_timeout_s"},
                          {"value", 30},
                          {"stored", "30"},
                          {"default", 30},
                          {"min", 3},
                          {"max", 86400},
                          {"meaning", std::string(clusterSettingSpecs()[0].meaning)}}));
  EXPECT_EQ(all[3].at("stored"), nullptr);
}

TEST_F(CliSettingsTest, SetsOneSettingThatTheStorageThenGoesBy) {
  const auto r = cli({"settings", "leader_timeout_s", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("leader_timeout_s = 4 (was 10)"));
  EXPECT_EQ(db_.scalar("SELECT value FROM qtopology_settings WHERE name = 'leader_timeout_s'"),
            "4");
  const auto set = cli({"settings", "heartbeat_write_interval_s", "1", "--json"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(Json::parse(set.out), Json({{"ok", true}}));
  const auto list = cli({"settings"});
  EXPECT_THAT(list.out, ::testing::ContainsRegex("leader_timeout_s +4 +4 +10 "));
  EXPECT_THAT(list.out, ::testing::ContainsRegex("heartbeat_write_interval_s +1 +1 +5 "));
  // The procedures read it: a leader silent for 6 s is no longer one.
  storage_->registerWorker("w1");
  ASSERT_TRUE(storage_->campaign("w1"));
  db_.exec("UPDATE qtopology_worker SET last_ping = NOW() - INTERVAL 6 SECOND");
  storage_->refreshStatuses();
  EXPECT_EQ(storage_->getWorkerStatus().at(0).lstatus, Leadership::normal);
}

TEST_F(CliSettingsTest, BadNameOrValueIsRefusedAndNothingIsWritten) {
  const auto before = settingsRows();
  const auto expectRefused = [&](const std::vector<std::string>& args, int code,
                                 const std::string& text) {
    const auto r = cli(args);
    EXPECT_EQ(r.exit_code, code) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(text));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "");
  };
  expectRefused({"settings", "leader_timeout_s", "1"}, 1,
                "setSetting(leader_timeout_s): 1 is out of range: 2 to 3600 seconds");
  expectRefused({"settings", "worker_dead_timeout_s", "100000"}, 1, "3 to 86400 seconds");
  expectRefused({"settings", "--", "waiting_timeout_s", "-5"}, 1, "out of range");
  expectRefused({"settings", "waiting_timeout_s", "ten"}, 1,
                "the value of waiting_timeout_s must be a whole number of seconds");
  expectRefused({"settings", "waiting_timeout_s", "10.5"}, 1, "whole number");
  expectRefused({"settings", "waiting_timeout_s", "99999999999999999999"}, 1, "whole number");
  expectRefused({"settings", "db_version", "3"}, 1,
                "unknown setting 'db_version' (known: worker_dead_timeout_s, ");
  expectRefused({"settings", "nope", "x"}, 1, "unknown setting 'nope'");
  expectRefused({"settings", "leader_timeout_s"}, 2, "usage: qtopology-mysql settings");
  // A hostile name is cut and escaped, never echoed raw.
  const auto hostile = cli({"settings", "a\x1b[31m" + std::string(300, 'n'), "5"});
  EXPECT_EQ(hostile.exit_code, 1);
  EXPECT_THAT(hostile.err, Not(HasSubstr("\x1b")));
  EXPECT_THAT(hostile.err, Not(HasSubstr(std::string(101, 'n'))));
  EXPECT_EQ(settingsRows(), before);
}

// --- help -------------------------------------------------------------------------

RunResult help(const std::vector<std::string>& args) { return run(QTOPOLOGY_CLI, args); }

TEST(CliHelp, EveryCommandShowsItsOwnUsageAndOnlyItsOptions) {
  for (const char* command :
       {"migrate",     "check",     "workers",         "list",          "details", "register",
        "export",      "enable",    "disable",         "stop",          "kill",    "delete",
        "clear-error", "set-error", "shutdown-worker", "delete-worker", "history", "queue",
        "clear",       "reset",     "settings"}) {
    const auto r = help({command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command << r.err;
    EXPECT_THAT(r.out, HasSubstr(std::string("usage: qtopology-mysql [options] ") + command))
        << command;
    EXPECT_THAT(r.out, HasSubstr("--url URL")) << command;
    EXPECT_THAT(r.out, Not(HasSubstr("--listen"))) << command << ": the dashboard's options";
  }
  const auto dashboard = help({"dashboard", "--help"});
  EXPECT_THAT(dashboard.out, HasSubstr("--listen HOST:PORT"));
  EXPECT_THAT(dashboard.out, HasSubstr("docs/dashboard.md"));
  const auto all = help({"--help"});
  EXPECT_THAT(all.out, HasSubstr("settings [<name> <value>]"));
  EXPECT_THAT(all.out, HasSubstr("--listen HOST:PORT"));
  EXPECT_THAT(help({"help", "register"}).out, Not(HasSubstr("--listen")));
}

}  // namespace
}  // namespace qtopology::testing
