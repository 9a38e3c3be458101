// The three-node Galera cluster that scripts/galera-cluster.sh started for
// this ctest run, and a private database on it per test.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <qtopology/mysql_options.hpp>

namespace sql {
class Connection;
}

namespace qtopology::galera {

inline constexpr int kNodes = 3;

// mysql://qtopology:qtopology@127.0.0.1:PORT/ of node 0, 1, 2.
std::vector<std::string> nodeUrls();

// The cluster script: "kill DIR N" or "rejoin DIR N" with N counted from 0
// here. Fails the test when the script fails.
void clusterScript(const std::string& action, int node);

class ClusterDatabase {
 public:
  // Created once, on node 0 (DDL replicates), and seen on every node.
  ClusterDatabase();
  ~ClusterDatabase();
  ClusterDatabase(const ClusterDatabase&) = delete;
  ClusterDatabase& operator=(const ClusterDatabase&) = delete;

  const std::string& name() const { return name_; }
  // Options on one node only.
  MySqlOptions nodeOptions(int node) const;
  // Options listing all three nodes, starting with `first`.
  MySqlOptions clusterOptions(int first) const;
  // The URL of this database on one node, for child processes.
  std::string url(int node) const;

  // Direct SQL on one node, reading what the cluster committed before it
  // (wsrep_sync_wait). First column of the first row; "" when none.
  std::string scalar(int node, const std::string& query);
  std::vector<std::string> column(int node, const std::string& query);
  void exec(int node, const std::string& statement);
  // Forgets the sessions (after a node was killed).
  void reconnect(int node);

 private:
  sql::Connection& session(int node);

  std::string name_;
  std::vector<std::string> urls_;
  std::vector<std::unique_ptr<sql::Connection>> sessions_;
};

}  // namespace qtopology::galera
