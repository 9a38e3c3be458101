#include <cppconn/exception.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/logging.hpp"

#include <algorithm>
#include <fstream>
#include <thread>
#include <typeinfo>

#include <cppconn/connection.h>

#include <qtopology/mysql_coordinator.hpp>

#include "mysql/embedded_scripts.hpp"
#include "mysql/migrator.hpp"
#include "test_database.hpp"

extern char** environ;

namespace qtopology {
namespace {

using testing::freshUpgradeCount;
using testing::TestDatabase;

const char* const kTables[] = {"qtopology_settings",       "qtopology_worker",
                               "qtopology_topology",       "qtopology_message",
                               "qtopology_worker_history", "qtopology_topology_history"};

long long tableCount(TestDatabase& db) {
  return std::stoll(
      db.scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
                "AND table_name LIKE 'qtopology\\_%'"));
}

long long procedureCount(TestDatabase& db) {
  return std::stoll(
      db.scalar("SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = "
                "DATABASE() AND routine_name LIKE 'qtopology\\_%'"));
}

void runNamedScript(TestDatabase& db, std::string_view name) {
  db.runScript(detail::namedScript(name));
}

TEST(Migration, FreshDatabaseReachesLatestVersionWithAllTables) {
  TestDatabase db;
  MySqlCoordinator coordinator(db.options());
  EXPECT_EQ(coordinator.schemaVersion(), MySqlCoordinator::latestSchemaVersion());
  EXPECT_GT(MySqlCoordinator::latestSchemaVersion(), detail::kBaselineVersion);
  for (const char* table : kTables) {
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
                        "DATABASE() AND table_name = '" +
                        std::string(table) + "'"),
              "1")
        << table;
  }
  EXPECT_EQ(db.scalar("SELECT value FROM qtopology_settings WHERE name = 'db_version'"),
            std::to_string(MySqlCoordinator::latestSchemaVersion()));
  // Every upgrade file from the baseline on ran exactly once.
  EXPECT_EQ(db.count("qtopology_settings", "name LIKE 'schema\\_file:%'"), freshUpgradeCount());
  EXPECT_EQ(db.count("qtopology_settings", "name = 'migration_lock'"), 0);
}

TEST(Migration, SecondConstructionChangesNothing) {
  TestDatabase db;
  { MySqlCoordinator first(db.options()); }
  const auto routines_before = db.scalar(
      "SELECT GROUP_CONCAT(CONCAT(routine_name, created) ORDER BY routine_name) FROM "
      "information_schema.routines WHERE routine_schema = DATABASE()");
  const auto settings_before = db.scalar(
      "SELECT GROUP_CONCAT(CONCAT(name, '=', value) ORDER BY name) FROM qtopology_settings");
  MySqlCoordinator second(db.options());
  EXPECT_EQ(db.scalar("SELECT GROUP_CONCAT(CONCAT(routine_name, created) ORDER BY routine_name) "
                      "FROM information_schema.routines WHERE routine_schema = DATABASE()"),
            routines_before);
  EXPECT_EQ(db.scalar("SELECT GROUP_CONCAT(CONCAT(name, '=', value) ORDER BY name) FROM "
                      "qtopology_settings"),
            settings_before);
}

TEST(Migration, EightProcessesStartingTogetherApplyEachFileOnce) {
  TestDatabase db;
  const std::string url = db.url();
  std::vector<pid_t> children;
  for (int i = 0; i < 8; ++i) {
    pid_t pid = 0;
    char* argv[] = {const_cast<char*>(QTOPOLOGY_CONSTRUCT_COORDINATOR),
                    const_cast<char*>(url.c_str()), nullptr};
    ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv, environ), 0);
    children.push_back(pid);
  }
  int succeeded = 0;
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++succeeded;
  }
  EXPECT_EQ(succeeded, 8);
  // A second application of a file would have failed on its audit row.
  EXPECT_EQ(db.count("qtopology_settings", "name LIKE 'schema\\_file:%'"), freshUpgradeCount());
  EXPECT_EQ(db.scalar("SELECT value FROM qtopology_settings WHERE name = 'db_version'"),
            std::to_string(MySqlCoordinator::latestSchemaVersion()));
}

TEST(Migration, CheckOnlyPassesAtLatestVersion) {
  TestDatabase db;
  { MySqlCoordinator migrating(db.options()); }
  auto options = db.options();
  options.db_check_only = true;
  MySqlCoordinator checking(options);
  EXPECT_EQ(checking.schemaVersion(), MySqlCoordinator::latestSchemaVersion());
}

TEST(Migration, CheckOnlyFailsBelowLatestAndChangesNothing) {
  TestDatabase db;
  auto options = db.options();
  options.db_check_only = true;
  EXPECT_THROW(MySqlCoordinator{options}, SchemaError);
  EXPECT_EQ(tableCount(db), 0);

  { MySqlCoordinator migrating(db.options()); }
  db.exec("UPDATE qtopology_settings SET value = '18' WHERE name = 'db_version'");
  EXPECT_THROW(MySqlCoordinator{options}, SchemaError);
  EXPECT_EQ(db.scalar("SELECT value FROM qtopology_settings WHERE name = 'db_version'"), "18");
}

TEST(Migration, LegacyVersionsAreRefused) {
  TestDatabase db;
  runNamedScript(db, "init.sql");
  db.exec("UPDATE qtopology_settings SET value = '12' WHERE name = 'db_version'");
  try {
    MySqlCoordinator coordinator(db.options());
    FAIL() << "a version-12 database was accepted";
  } catch (const SchemaError& e) {
    EXPECT_NE(std::string(e.what()).find("version 12"), std::string::npos) << e.what();
  }
  EXPECT_EQ(tableCount(db), 1);  // only the settings table
}

TEST(Migration, NewerDatabaseIsLeftAloneButFailsCheckOnly) {
  TestDatabase db;
  { MySqlCoordinator migrating(db.options()); }
  const int newer = MySqlCoordinator::latestSchemaVersion() + 5;
  db.exec("UPDATE qtopology_settings SET value = '" + std::to_string(newer) +
          "' WHERE name = 'db_version'");
  MySqlCoordinator coordinator(db.options());
  EXPECT_EQ(coordinator.schemaVersion(), newer);
  auto options = db.options();
  options.db_check_only = true;
  EXPECT_THROW(MySqlCoordinator{options}, SchemaError);
}

TEST(Migration, FailingScriptLeavesVersionAtLastGoodFile) {
  TestDatabase db;
  auto session = testing::connectRaw(db.options());
  auto scripts = detail::upgradeScripts();
  const int latest = MySqlCoordinator::latestSchemaVersion();
  scripts.push_back(
      {"v900.sql", 900, "create table qtopology_probe (id int);\nselect * from no_such_table;\n"});
  detail::Migrator migrator(*session, detail::loggerOr(nullptr),
                            detail::RetryPolicy::from(db.options()), "test-token", scripts);
  try {
    migrator.migrate();
    FAIL() << "a broken script was applied";
  } catch (const SchemaError& e) {
    const std::string text = e.what();
    EXPECT_NE(text.find("v900.sql"), std::string::npos) << text;
    EXPECT_NE(text.find("line 2"), std::string::npos) << text;
    EXPECT_NE(text.find("1146"), std::string::npos) << text;  // the server's error code
    EXPECT_EQ(e.code(), 1146);
    EXPECT_EQ(e.sqlstate(), "42S02");
  }
  EXPECT_EQ(db.scalar("SELECT value FROM qtopology_settings WHERE name = 'db_version'"),
            std::to_string(latest));
  EXPECT_EQ(db.count("qtopology_settings", "name = 'migration_lock'"), 0);
}

// A user given README's grant without CREATE ROUTINE: the server's 1044
// names no privilege, the library's error does, and points to the GRANT.
TEST(Migration, MissingPrivilegeIsNamedWithReadmesGrant) {
  TestDatabase db;
  const std::string user = "qt_nr" + std::to_string(::getpid() % 100000);
  const std::string password = "No-Routine-Pw1";
  db.exec("CREATE USER '" + user + "'@'%' IDENTIFIED BY '" + password + "'");
  db.exec(
      "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, ALTER ROUTINE, "
      "EXECUTE ON `" +
      db.name() + "`.* TO '" + user + "'@'%'");
  auto options = db.options();
  options.user = user;
  options.password = password;
  try {
    MySqlCoordinator coordinator(options);
    ADD_FAILURE() << "migrated without CREATE ROUTINE";
  } catch (const SchemaError& e) {
    const std::string text = e.what();
    EXPECT_NE(text.find("the CREATE ROUTINE privilege"), std::string::npos) << text;
    EXPECT_NE(text.find("README.md"), std::string::npos) << text;
    // README's own line, word for word.
    std::ifstream readme(std::string(QTOPOLOGY_SOURCE_DIR) + "/README.md");
    std::string grant;
    for (std::string line; std::getline(readme, line) && grant.empty();) {
      if (line.rfind("GRANT ", 0) == 0) grant = line.substr(0, line.find(" ON app.*"));
    }
    ASSERT_FALSE(grant.empty());
    EXPECT_NE(text.find(grant + " ON <database>.* TO <user>"), std::string::npos) << text;
    EXPECT_EQ(text.find(password), std::string::npos) << text;
    EXPECT_EQ(e.code(), 1044);
  }
  db.exec("DROP USER '" + user + "'@'%'");
}

TEST(Migration, ExpiredLockOfADeadProcessIsTakenOver) {
  TestDatabase db;
  runNamedScript(db, "init.sql");
  db.exec(
      "INSERT INTO qtopology_settings(name, value) "
      "VALUES ('migration_lock', CONCAT('deadbeef ', UNIX_TIMESTAMP() - 1))");
  MySqlCoordinator coordinator(db.options());
  EXPECT_EQ(coordinator.schemaVersion(), MySqlCoordinator::latestSchemaVersion());
}

TEST(Migration, ResetDropsEverythingAndClearKeepsSchema) {
  TestDatabase db;
  {
    MySqlCoordinator coordinator(db.options());
    coordinator.registerWorker("w1");
    coordinator.registerTopology("t1", Json::object());
    coordinator.sendMessageToWorker("w1", "rebalance", Json::object(), std::chrono::seconds(30));
  }
  runNamedScript(db, "clear.sql");
  EXPECT_EQ(tableCount(db), 6);
  EXPECT_GT(procedureCount(db), 14);
  for (const char* table : kTables) {
    if (std::string(table) != "qtopology_settings") {
      EXPECT_EQ(db.count(table), 0) << table;
    }
  }
  EXPECT_EQ(db.scalar("SELECT value FROM qtopology_settings WHERE name = 'db_version'"),
            std::to_string(MySqlCoordinator::latestSchemaVersion()));

  runNamedScript(db, "reset.sql");
  EXPECT_EQ(tableCount(db), 0);
  EXPECT_EQ(procedureCount(db), 0);
}

// A database as the Node package 2.2.x leaves it.
void arrangeBaseline(TestDatabase& db) {
  runNamedScript(db, "init.sql");
  for (const auto& script : detail::upgradeScripts()) {
    if (script.version == detail::kBaselineVersion) db.runScript(script);
  }
  db.exec("UPDATE qtopology_settings SET value = '" + std::to_string(detail::kBaselineVersion) +
          "' WHERE name = 'db_version'");
}

// A database as an earlier release of this library left it at `version`: every
// file up to it run in order, none replaced.
void arrangeVersion(TestDatabase& db, int version) {
  runNamedScript(db, "init.sql");
  auto scripts = detail::upgradeScripts();
  std::sort(scripts.begin(), scripts.end(),
            [](const auto& a, const auto& b) { return a.version < b.version; });
  for (const auto& script : scripts) {
    if (script.version <= version) db.runScript(script);
  }
  db.exec("UPDATE qtopology_settings SET value = '" + std::to_string(version) +
          "' WHERE name = 'db_version'");
}

// Constructs a coordinator on `db` (which migrates it from the baseline) and
// KILLs the migrating session in the middle: `db`'s own session holds a
// metadata lock on every table, so the migration's first ALTER waits, and is
// killed while it waits. Returns what the construction threw, if anything.
std::exception_ptr constructKillingTheMigration(TestDatabase& db, const MySqlOptions& options) {
  db.exec("START TRANSACTION");
  for (const char* table : kTables) db.scalar(std::string("SELECT COUNT(*) FROM ") + table);
  std::exception_ptr thrown;
  std::thread starter([&] {
    try {
      MySqlCoordinator coordinator(options);
    } catch (...) {
      thrown = std::current_exception();
    }
  });
  std::string migrating;
  for (int i = 0; i < 1500 && migrating.empty(); ++i) {
    migrating = db.scalar(
        "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> "
        "CONNECTION_ID() AND state LIKE 'Waiting for table metadata lock%'");
    if (migrating.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!migrating.empty()) db.exec("KILL CONNECTION " + migrating);
  db.exec("COMMIT");  // a restarted migration may go on
  starter.join();
  EXPECT_FALSE(migrating.empty()) << "the migration never waited on the held lock";
  return thrown;
}

std::string describe(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return std::string(typeid(e).name()) + ": " + e.what();
  }
  return "nothing";
}

TEST(Migration, KilledMigrationSessionReconnectsAndCompletes) {
  TestDatabase db;
  arrangeBaseline(db);
  const auto thrown = constructKillingTheMigration(db, db.options());
  EXPECT_FALSE(thrown) << describe(thrown);
  EXPECT_EQ(db.scalar("SELECT value FROM qtopology_settings WHERE name = 'db_version'"),
            std::to_string(MySqlCoordinator::latestSchemaVersion()));
  // The restarted migration took its own lock back, and released it.
  EXPECT_EQ(db.count("qtopology_settings", "name = 'migration_lock'"), 0);
  MySqlCoordinator after(db.options());
  EXPECT_EQ(after.schemaVersion(), MySqlCoordinator::latestSchemaVersion());
}

TEST(Migration, KilledMigrationSessionWithoutRetriesIsAConnectionError) {
  TestDatabase db;
  arrangeBaseline(db);
  auto options = db.options();
  options.retries = 0;
  const auto thrown = constructKillingTheMigration(db, options);
  try {
    if (thrown) std::rethrow_exception(thrown);
    FAIL() << "the construction survived its killed session without retrying";
  } catch (const ConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find("migration"), std::string::npos) << e.what();
  } catch (const std::exception&) {
    FAIL() << "expected a ConnectionError, got " << describe(thrown);
  }
  EXPECT_EQ(db.scalar("SELECT value FROM qtopology_settings WHERE name = 'db_version'"),
            std::to_string(detail::kBaselineVersion));
}

TEST(Migration, UnreachableServerIsAConnectionErrorWithoutPassword) {
  MySqlOptions options;
  options.host = "127.0.0.1";
  options.port = 1;  // nothing listens there
  options.database = "qtopology";
  options.user = "someone";
  options.password = "s3cret-Passw0rd";
  options.retries = 1;
  options.retry_timeout = std::chrono::milliseconds(10);
  try {
    MySqlCoordinator coordinator(options);
    FAIL() << "connected to port 1";
  } catch (const ConnectionError& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
  }
}

TEST(Migration, WrongPasswordIsAConnectionErrorWithoutPassword) {
  TestDatabase db;
  auto options = db.options();
  options.password = "Wr0ng-Passw0rd";
  try {
    MySqlCoordinator coordinator(options);
    FAIL() << "connected with a wrong password";
  } catch (const ConnectionError& e) {
    EXPECT_EQ(std::string(e.what()).find("Wr0ng"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qtopology

namespace qtopology {
namespace {

// Whatever version an earlier release left, the upgrade ends with the same
// routines and no stored function (which binary logging would refuse to
// create without SUPER), and the storage works.
TEST(Migration, EveryEarlierVersionUpgradesToTheSameRoutines) {
  std::string expected;
  for (int from : {-1, 17, 19, 20, 23}) {
    TestDatabase db;
    if (from > 0) arrangeVersion(db, from);
    MySqlCoordinator coordinator(db.options());
    EXPECT_EQ(coordinator.schemaVersion(), MySqlCoordinator::latestSchemaVersion()) << from;
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = "
                        "DATABASE() AND routine_type = 'FUNCTION'"),
              "0")
        << "from version " << from;
    const auto routines = db.scalar(
        "SELECT GROUP_CONCAT(routine_name ORDER BY routine_name) FROM information_schema.routines "
        "WHERE routine_schema = DATABASE()");
    if (expected.empty()) expected = routines;
    EXPECT_EQ(routines, expected) << "from version " << from;
    coordinator.registerWorker("w\u00e9");
    EXPECT_EQ(coordinator.getWorkerStatus().size(), 1u) << "from version " << from;
  }
}

}  // namespace
}  // namespace qtopology
