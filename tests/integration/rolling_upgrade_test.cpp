// Rolling upgrades: while a cluster's workers are replaced one by one, a
// worker of the previous release runs on a database that a new worker has
// already migrated. So every procedure of the previous schema version keeps
// its parameters and its result columns (db/README.md states the rule). The
// previous version is taken from the embedded scripts themselves (latest - 1),
// so this test needs no update when a version is added.
#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <qtopology/mysql_coordinator.hpp>

#include "mysql/embedded_scripts.hpp"
#include "mysql/migrator.hpp"
#include "test_database.hpp"

namespace qtopology {
namespace {

using testing::TestDatabase;

// Every file up to `version` run in order, as that release left the database.
void arrangeVersion(TestDatabase& db, int version) {
  db.runScript(detail::namedScript("init.sql"));
  auto scripts = detail::upgradeScripts();
  std::sort(scripts.begin(), scripts.end(),
            [](const auto& a, const auto& b) { return a.version < b.version; });
  for (const auto& script : scripts) {
    if (script.version <= version) db.runScript(script);
  }
  db.exec("UPDATE qtopology_settings SET value = '" + std::to_string(version) +
          "' WHERE name = 'db_version'");
}

// Each procedure's parameters as the server describes them, in order.
std::map<std::string, std::string> signatures(const MySqlOptions& options) {
  auto connection = testing::connectRaw(options);
  std::unique_ptr<sql::Statement> s(connection->createStatement());
  std::unique_ptr<sql::ResultSet> rows(s->executeQuery(
      "SELECT r.routine_name AS name, COALESCE(GROUP_CONCAT(CONCAT(p.parameter_mode, ' ', "
      "p.parameter_name, ' ', p.dtd_identifier) ORDER BY p.ordinal_position SEPARATOR ', '), "
      "'') AS params FROM information_schema.routines r LEFT JOIN information_schema.parameters "
      "p ON p.specific_schema = r.routine_schema AND p.specific_name = r.routine_name WHERE "
      "r.routine_schema = DATABASE() AND r.routine_type = 'PROCEDURE' AND r.routine_name LIKE "
      "'qtopology\\_%' GROUP BY r.routine_name"));
  std::map<std::string, std::string> out;
  while (rows->next()) out[rows->getString("name")] = rows->getString("params");
  return out;
}

// What one CALL returned: the first result's column names and row count.
struct Outcome {
  std::vector<std::string> columns;
  std::size_t rows = 0;
};

Outcome call(sql::Connection& connection, const std::string& statement) {
  std::unique_ptr<sql::Statement> s(connection.createStatement());
  Outcome out;
  bool first = true;
  s->execute(statement);
  do {
    std::unique_ptr<sql::ResultSet> rs(s->getResultSet());
    if (rs && first) {
      auto* meta = rs->getMetaData();
      for (unsigned i = 1; i <= meta->getColumnCount(); ++i) {
        out.columns.emplace_back(meta->getColumnLabel(i));
      }
      while (rs->next()) ++out.rows;
      first = false;
    }
  } while (s->getMoreResults());
  return out;
}

// One CALL of each procedure of the previous version (v26), in an order that makes each one do its
// work (not only pass its checks). Names without the qtopology_sp_ prefix.
const std::vector<std::pair<std::string, std::string>> kPreviousReleaseCalls = {
    {"register_worker", "('w1')"},
    {"register_worker_process", "('w2', 42)"},
    {"worker_ping", "('w1')"},
    {"leader_ping", "('w1')"},
    {"announce_leader_candidacy", "('w1')"},
    {"check_leader_candidacy", "('w1')"},
    {"campaign", "('w1')"},
    {"register_topology", "('t1', '{\"general\":{}}', 1, NULL)"},
    {"register_topology", "('t2', '{}', 2, 'w2')"},
    {"assign_topology", "('t1', 'w2')"},
    {"set_topology_enabled", "('t1', 1)"},
    {"set_topology_status", "('t1', 'w2', 'running', NULL)"},
    {"set_topology_pid", "('t1', 7)"},
    {"report_topology_status", "('t1', 'w2', 'running', NULL, 1)"},
    {"report_topology_pid", "('t1', 8, 1)"},
    {"apply_leader_actions",
     "('w1', '{\"unload_workers\":[],\"unassign_topologies\":[],\"assignments\":[{\"uuid\":"
     "\"t2\",\"worker\":\"w2\"}],\"messages\":[{\"worker\":\"w2\",\"cmd\":\"rebalance\","
     "\"content\":\"{}\",\"valid_ms\":30000,\"msg_key\":\"k-1\"}]}')"},
    {"send_message", "('w2', 'rebalance', '{}', 30000, 'k-2')"},
    {"message_queue", "()"},
    {"messages_for_worker", "('w2')"},
    {"claim_messages", "('w2', 'c1', 1)"},
    {"take_messages", "('w2', 'c1', 0)"},
    {"send_message", "('w2', 'rebalance', '{}', 30000, 'k-3')"},
    {"worker_heartbeat", "('w2', 'c2')"},
    {"worker_heartbeat", "('w2', 'c3')"},
    {"worker_heartbeat_v26", "('w2', 'c4')"},
    {"stop_topology", "('t1', 'stop_topology', 'k-4')"},
    {"set_topology_status", "('t2', NULL, 'error', 'boom')"},
    {"clear_topology_error", "('t2')"},
    {"set_worker_status", "('w2', 'alive')"},
    {"set_worker_lstatus", "('w2', 'normal')"},
    {"add_worker_history", "('w1')"},
    {"add_topology_history", "('t1')"},
    {"workers", "()"},
    {"worker_statuses", "()"},
    {"topologies", "()"},
    {"topologies_for_worker", "('w2')"},
    {"topology_info", "('t1')"},
    {"topology_history", "('t1')"},
    {"worker_history", "('w1')"},
    {"storage_properties", "()"},
    {"refresh_statuses", "()"},
    {"disable_defunct_workers", "()"},
    {"disable_defunct_leaders", "()"},
    {"unassign_waiting_topologies", "()"},
    {"purge_messages", "()"},
    {"purge_stale_messages", "('w2')"},
    {"purge_stale_messages", "(NULL)"},
    {"require_worker", "('w1', 0, @s, @l)"},
    {"require_topology", "('t1', 0, @s, @w)"},
    {"snapshot_worker", "('w1', NOW())"},
    {"snapshot_topology", "('t1', NOW())"},
    {"setting_int", "('leader_timeout_s', @v)"},
    {"demote_other_leaders", "('w2', NOW())"},
    {"delete_topology", "('t2')"},
    {"set_worker_status", "('w2', 'unloaded')"},
    {"delete_worker", "('w2')"},
};

TEST(RollingUpgrade, EveryProcedureOfThePreviousVersionKeepsItsSignatureAndResult) {
  const int latest = MySqlCoordinator::latestSchemaVersion();
  const int previous = latest - 1;
  TestDatabase before;  // as the previous release left it
  arrangeVersion(before, previous);
  TestDatabase upgraded;  // the same, then migrated in place by this release
  arrangeVersion(upgraded, previous);
  {
    MySqlCoordinator migrating(upgraded.options());
    ASSERT_EQ(migrating.schemaVersion(), latest);
  }

  const auto old_signatures = signatures(before.options());
  const auto new_signatures = signatures(upgraded.options());
  ASSERT_GT(old_signatures.size(), 40u);
  for (const auto& [name, params] : old_signatures) {
    const auto found = new_signatures.find(name);
    if (found == new_signatures.end()) {
      ADD_FAILURE() << name << " of v" << previous << " is gone in v" << latest;
      continue;
    }
    EXPECT_EQ(found->second, params) << name << "'s parameters changed in v" << latest;
  }

  // The list above calls every procedure of the previous version.
  std::set<std::string> called;
  for (const auto& [name, args] : kPreviousReleaseCalls) called.insert("qtopology_sp_" + name);
  for (const auto& [name, params] : old_signatures) {
    EXPECT_EQ(called.count(name), 1u) << name << " of v" << previous << " is never called here";
  }

  // The same calls on both: each works on the upgraded database, and returns
  // the previous version's columns (new ones only after them) and as many rows.
  auto old_session = testing::connectRaw(before.options());
  auto new_session = testing::connectRaw(upgraded.options());
  for (const auto& [name, args] : kPreviousReleaseCalls) {
    const auto statement = "CALL qtopology_sp_" + name + args;
    Outcome was, is;
    ASSERT_NO_THROW(was = call(*old_session, statement)) << statement << " on v" << previous;
    try {
      is = call(*new_session, statement);
    } catch (const sql::SQLException& e) {
      ADD_FAILURE() << statement << " fails on v" << latest << ": " << e.what();
      continue;
    }
    ASSERT_LE(was.columns.size(), is.columns.size()) << statement;
    EXPECT_TRUE(std::equal(was.columns.begin(), was.columns.end(), is.columns.begin()))
        << statement << "'s result columns changed in v" << latest;
    EXPECT_EQ(was.rows, is.rows) << statement;
  }
  // Both databases went through the same changes (times aside).
  const auto state = [](TestDatabase& db) {
    return db.scalar(
               "SELECT GROUP_CONCAT(CONCAT_WS('/', name, status, lstatus, "
               "COALESCE(pid, '-')) ORDER BY name) FROM qtopology_worker") +
           " " +
           db.scalar(
               "SELECT GROUP_CONCAT(CONCAT_WS('/', uuid, status, COALESCE(worker, '-'), "
               "enabled, epoch, COALESCE(pid, '-'), COALESCE(error, '-')) ORDER BY uuid) "
               "FROM qtopology_topology") +
           " " + std::to_string(db.count("qtopology_message")) + " " +
           std::to_string(db.count("qtopology_worker_history")) + " " +
           std::to_string(db.count("qtopology_topology_history"));
  };
  EXPECT_EQ(state(before), state(upgraded));
}

}  // namespace
}  // namespace qtopology
