// The Node package qtopology-mysql 2.2.1 and this library on one database.
#include <gtest/gtest.h>

#include <cstdio>

#include <qtopology/mysql_coordinator.hpp>

#include "test_database.hpp"

namespace qtopology {
namespace {

using testing::TestDatabase;

struct PeerRun {
  int exit_code;
  std::string output;
};

// Runs tests/interop/node_peer.js; it prints one JSON line and exits 0 when
// everything it checks from the Node side holds.
PeerRun runNodePeer(const TestDatabase& db, const std::string& mode) {
  const std::string command = std::string("NODE_PATH='") + QTOPOLOGY_NODE_PEER_DIR +
                              "/node_modules' node '" + QTOPOLOGY_SOURCE_DIR +
                              "/tests/interop/node_peer.js' --url '" + db.url() + "' --mode " +
                              mode + " 2>&1";
  PeerRun run{-1, ""};
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return run;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) run.output += buffer;
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST(NodeInterop, DatabaseCreatedByNodeIsUpgradedWithItsRowsKept) {
  TestDatabase db;
  const auto created = runNodePeer(db, "create");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  ASSERT_EQ(db.scalar("SELECT value FROM qtopology_settings WHERE name = 'db_version'"), "17");
  const auto workers = db.count("qtopology_worker");
  const auto topologies = db.count("qtopology_topology");
  const auto worker_history = db.count("qtopology_worker_history");
  const auto topology_history = db.count("qtopology_topology_history");

  MySqlCoordinator storage(db.options());
  EXPECT_EQ(storage.schemaVersion(), MySqlCoordinator::latestSchemaVersion());
  EXPECT_EQ(db.count("qtopology_worker"), workers);
  EXPECT_EQ(db.count("qtopology_topology"), topologies);
  EXPECT_EQ(db.count("qtopology_worker_history"), worker_history);
  EXPECT_EQ(db.count("qtopology_topology_history"), topology_history);

  // What Node wrote reads back through the C++ API.
  const auto t1 = storage.getTopologyInfo("node-t1");
  EXPECT_EQ(t1.worker, "node-w1");
  EXPECT_EQ(t1.status, TopologyState::running);
  EXPECT_DOUBLE_EQ(t1.weight, 2);
  EXPECT_EQ(t1.worker_affinity, std::vector<std::string>{"node-w1"});
  EXPECT_EQ(storage.getTopologyInfo("node-t2").error, "sample error");
  EXPECT_EQ(storage.leadershipStatusCounts()[Leadership::leader], 1);
  const auto message = storage.getMessage("node-w2");
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->cmd, "rebalance");
  EXPECT_EQ(message->content, (Json{{"from", "node"}}));

  // And the Node package keeps working on the upgraded database.
  const auto used = runNodePeer(db, "use");
  EXPECT_EQ(used.exit_code, 0) << used.output;
}

TEST(NodeInterop, NodeWorksOnADatabaseThisLibraryCreated) {
  TestDatabase db;
  MySqlCoordinator storage(db.options());
  storage.registerWorker("cpp-w1");
  storage.registerTopology("cpp-t1", {{"general", {{"weight", 1.5}}}});

  const auto used = runNodePeer(db, "use");
  ASSERT_EQ(used.exit_code, 0) << used.output;
  EXPECT_EQ(storage.schemaVersion(), MySqlCoordinator::latestSchemaVersion());
  // The Node worker is visible to C++ workers, and both count as alive.
  const auto workers = storage.getWorkerStatus();
  ASSERT_EQ(workers.size(), 2u);
  for (const auto& w : workers) EXPECT_EQ(w.status, WorkerState::alive) << w.name;
  EXPECT_EQ(storage.getTopologyStatus().size(), 2u);
}

}  // namespace
}  // namespace qtopology
