// What MySqlCoordinator promises beyond the storage contract, whose every
// call tests/conformance runs against it: the server's clock, rows written
// by the Node package, configs byte for byte, its properties, and the reads
// of every row through the libmariadb session.
#include <cppconn/exception.h>
#include <gtest/gtest.h>

#include <sstream>

#include <qtopology/mysql_coordinator.hpp>

#include "test_database.hpp"

namespace qtopology {
namespace {

using namespace std::chrono_literals;
using testing::TestDatabase;

class Coordinator : public ::testing::Test {
 protected:
  TestDatabase db;
  MySqlCoordinator storage{db.options()};

  // Arranges time without waiting: moves a row's last ping into the past.
  void ageWorker(const std::string& name, int seconds) {
    db.exec("UPDATE qtopology_worker SET last_ping = NOW() - INTERVAL " + std::to_string(seconds) +
            " SECOND WHERE name = '" + name + "'");
  }
};

Json config(double weight = 1, std::vector<std::string> affinity = {}) {
  return {{"general", {{"weight", weight}, {"worker_affinity", affinity}}},
          {"spouts", Json::array()},
          {"bolts", Json::array()}};
}

TEST_F(Coordinator, TimePointsComeFromTheServerClock) {
  storage.registerWorker("w1");
  const auto server_now = std::stoll(db.scalar("SELECT UNIX_TIMESTAMP(NOW())"));
  const auto ping = std::chrono::duration_cast<std::chrono::seconds>(
                        storage.getWorkerStatus()[0].last_ping.time_since_epoch())
                        .count();
  EXPECT_LE(std::llabs(ping - server_now), 2);
  ageWorker("w1", 3600);
  const auto aged = std::chrono::duration_cast<std::chrono::seconds>(
                        storage.getWorkerStatus()[0].last_ping.time_since_epoch())
                        .count();
  EXPECT_NEAR(static_cast<double>(ping - aged), 3600.0, 2.0);
}

TEST_F(Coordinator, LegacyEmptyLStatusReadsAsNormal) {
  storage.registerWorker("w1");
  db.exec("UPDATE qtopology_worker SET lstatus = '' WHERE name = 'w1'");
  EXPECT_EQ(storage.getWorkerStatus()[0].lstatus, Leadership::normal);
  EXPECT_EQ(storage.leadershipStatusCounts()[Leadership::normal], 1);
}

TEST_F(Coordinator, ConfigsRoundTripByteForByte) {
  Json tricky = config();
  tricky["text"] = "ünïcødé 😀 \"quotes\" 'single' back\\slash \t tab % _ ; DROP TABLE x; --";
  tricky["big"] = std::string(5 * 1024 * 1024, 'x');
  storage.registerTopology("t1", tricky);
  const auto info = storage.getTopologyInfo("t1");
  EXPECT_EQ(info.config.dump(), tricky.dump());
  EXPECT_EQ(db.scalar("SELECT LENGTH(config) FROM qtopology_topology"),
            std::to_string(tricky.dump().size()));  // stored as sent, in bytes
}

TEST_F(Coordinator, PropertiesDescribeTheStorageWithoutPassword) {
  const std::string password = "Pr0perties-Secret";
  db.exec("CREATE USER IF NOT EXISTS 'qt_properties'@'%' IDENTIFIED BY '" + password + "'");
  db.exec("GRANT ALL ON `" + db.name() + "`.* TO 'qt_properties'@'%'");
  auto options = db.options();
  options.user = "qt_properties";
  options.password = password;
  const auto properties = MySqlCoordinator(options).getProperties();
  std::map<std::string, std::string> map;
  for (const auto& p : properties) map[p.key] = p.value;
  EXPECT_EQ(map["database"], db.name());
  EXPECT_EQ(map["schema_version"], std::to_string(MySqlCoordinator::latestSchemaVersion()));
  EXPECT_NE(map["server_version"], "");
  EXPECT_EQ(map["user"], "qt_properties");
  for (const auto& p : properties) {
    EXPECT_EQ(p.value.find(password), std::string::npos) << p.key;
  }
}

// --- cluster settings -------------------------------------------------------------

// The procedures' defaults for missing rows (qtopology_sp_setting_int, the
// heartbeat's cap) are the library's table of settings.
TEST_F(Coordinator, SettingsWithoutRowsReadAsTheLibrarysDefaults) {
  db.exec("DELETE FROM qtopology_settings WHERE name NOT IN ('db_version', 'leadership_epoch')");
  const auto settings = storage.getSettings();
  ASSERT_EQ(settings.size(), clusterSettingSpecs().size());
  for (std::size_t i = 0; i < settings.size(); ++i) {
    EXPECT_EQ(settings[i].name, clusterSettingSpecs()[i].name);
    EXPECT_EQ(settings[i].value, clusterSettingSpecs()[i].default_value) << settings[i].name;
    EXPECT_FALSE(settings[i].stored.has_value()) << settings[i].name;
  }
  // Written as text rows, as the Node package's procedures and ours read them.
  storage.setSetting("heartbeat_write_interval_s", 0);
  storage.setSetting("waiting_timeout_s", 12);
  EXPECT_EQ(db.scalar("SELECT value FROM qtopology_settings WHERE name = 'waiting_timeout_s'"),
            "12");
  EXPECT_EQ(storage.getSettings()[3].value, 0);
  EXPECT_EQ(storage.getSettings()[3].stored, "0");
}

TEST_F(Coordinator, SettingsShowWhatIsStoredBesideWhatIsUsed) {
  db.exec("UPDATE qtopology_settings SET value = 'soon' WHERE name = 'waiting_timeout_s'");
  db.exec("INSERT INTO qtopology_settings VALUES ('heartbeat_write_interval_s', '9')");
  const auto settings = storage.getSettings();
  EXPECT_EQ(settings[2].stored, "soon");
  EXPECT_EQ(settings[2].value, 0);  // what the procedures' CAST makes of it
  EXPECT_EQ(settings[3].stored, "9");
  EXPECT_EQ(settings[3].value, 5);  // capped at half the leader timeout
}

TEST_F(Coordinator, TheSetProcedureRefusesWhatIsNoSetting) {
  const auto version = db.scalar("SELECT value FROM qtopology_settings WHERE name = 'db_version'");
  for (const char* call : {"CALL qtopology_sp_set_setting_v27('db_version', 3)",
                           "CALL qtopology_sp_set_setting_v27('leadership_epoch', 0)",
                           "CALL qtopology_sp_set_setting_v27('leader_timeout_s', -1)",
                           "CALL qtopology_sp_set_setting_v27(NULL, 5)"}) {
    EXPECT_THROW(db.exec(call), sql::SQLException) << call;
  }
  EXPECT_EQ(db.scalar("SELECT value FROM qtopology_settings WHERE name = 'db_version'"), version);
  EXPECT_EQ(db.scalar("SELECT value FROM qtopology_settings WHERE name = 'leader_timeout_s'"),
            "10");
}

// --- reads without parameters: through libmariadb, beside Connector/C++ ---------

TEST_F(Coordinator, ReadsOfEveryRowAgreeWithTheSingleRowReads) {
  storage.registerWorker("w1");
  storage.registerTopology("t-plain", config());
  storage.registerTopology("t-full", config(2.5, {"w1", "w😀"}));
  storage.assignTopology("t-full", "w1");
  storage.setTopologyStatus(
      {"t-full", std::string("w1"), TopologyState::error, std::string("it's \"broken\"")});
  storage.setTopologyPid("t-full", 4242);
  storage.enableTopology("t-full");
  const auto all = storage.getTopologyStatus();  // libmariadb
  ASSERT_EQ(all.size(), 2u);
  for (const auto& t : all) {
    const auto one = storage.getTopologyInfo(t.uuid);  // Connector/C++
    EXPECT_EQ(t.status, one.status) << t.uuid;
    EXPECT_EQ(t.worker, one.worker) << t.uuid;  // NULL stays nullopt, not ""
    EXPECT_EQ(t.error, one.error) << t.uuid;
    EXPECT_EQ(t.pid, one.pid) << t.uuid;
    EXPECT_DOUBLE_EQ(t.weight, one.weight) << t.uuid;
    EXPECT_EQ(t.enabled, one.enabled) << t.uuid;
    EXPECT_EQ(t.last_ping, one.last_ping) << t.uuid;
    EXPECT_EQ(t.worker_affinity, one.worker_affinity) << t.uuid;
  }
  const auto full = all[0].uuid == "t-full" ? all[0] : all[1];
  EXPECT_EQ(full.error, std::optional<std::string>("it's \"broken\""));
  EXPECT_EQ(full.pid, 4242);
  EXPECT_EQ(full.worker_affinity, (std::vector<std::string>{"w1", "w😀"}));
  const auto plain = all[0].uuid == "t-plain" ? all[0] : all[1];
  EXPECT_FALSE(plain.worker.has_value());
  EXPECT_FALSE(plain.error.has_value());
  EXPECT_FALSE(plain.pid.has_value());
}

TEST_F(Coordinator, ReadsOfEveryRowRideOutAKilledSession) {
  auto options = db.options();
  options.pool_size = 1;
  MySqlCoordinator single(options);
  single.registerWorker("w1");
  ASSERT_EQ(single.getWorkerStatus().size(), 1u);  // opens the libmariadb session
  // Every session of the coordinator (its pool's and the libmariadb one) dies.
  const std::string ids = db.scalar(
      "SELECT GROUP_CONCAT(id) FROM information_schema.processlist "
      "WHERE db = '" +
      db.name() + "' AND id <> CONNECTION_ID()");
  ASSERT_NE(ids, "NULL");
  std::stringstream list(ids);
  for (std::string id; std::getline(list, id, ',');) {
    try {
      db.exec("KILL " + id);
    } catch (const sql::SQLException& e) {
      // A session that was closing when listed (the migrator's) is gone already.
      constexpr int kUnknownThread = 1094;
      if (e.getErrorCode() != kUnknownThread) throw;
    }
  }
  EXPECT_EQ(single.getWorkerStatus().size(), 1u);
  EXPECT_EQ(single.getTopologyStatus().size(), 0u);
  single.pingWorker("w1");
}

TEST_F(Coordinator, ReadsOfEveryRowReportTheServersError) {
  db.exec("DROP PROCEDURE qtopology_sp_topologies");
  try {
    storage.getTopologyStatus();
    FAIL() << "no error";
  } catch (const StorageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("getTopologyStatus()"), std::string::npos) << what;
    EXPECT_NE(what.find("server error 1305"), std::string::npos) << what;  // no such procedure
  }
  EXPECT_EQ(storage.getWorkerStatus().size(), 0u);  // the session still serves
}

}  // namespace
}  // namespace qtopology
