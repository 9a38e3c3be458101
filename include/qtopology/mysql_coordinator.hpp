// MySQL / MariaDB implementation of the QTopology coordination storage.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <qtopology/coordination_storage.hpp>
#include <qtopology/export.hpp>
#include <qtopology/mysql_options.hpp>

namespace qtopology {

// Every call is one CALL of one stored procedure: one round trip, one
// transaction, on a connection of an internal pool. Thread-safe.
//
// Transient failures are retried with backoff (see MySqlOptions::retries).
// Every method is safe to retry after a lost reply: writes are idempotent,
// sends carry a client-generated key, and message reads carry a claim key
// that makes the retry return what the lost attempt took.
class QTOPOLOGY_EXPORT MySqlCoordinator final : public CoordinationStorage {
 public:
  // Connects, then brings the schema to the latest version (or, with
  // db_check_only, only checks it). Throws ConnectionError or SchemaError.
  explicit MySqlCoordinator(MySqlOptions options);
  ~MySqlCoordinator() override;
  MySqlCoordinator(const MySqlCoordinator&) = delete;
  MySqlCoordinator& operator=(const MySqlCoordinator&) = delete;

  std::vector<WorkerStatus> getWorkerStatus() override;
  std::vector<TopologyStatus> getTopologyStatus() override;
  std::vector<TopologyStatus> getTopologiesForWorker(const std::string& worker) override;
  TopologyInfo getTopologyInfo(const std::string& uuid) override;
  std::vector<TopologyStatusHistory> getTopologyHistory(const std::string& uuid) override;
  std::vector<WorkerStatusHistory> getWorkerHistory(const std::string& name) override;
  std::vector<MsgQueueItem> getMsgQueueContent() override;
  // type, host, port (the first server), servers (all), database, user,
  // pool_size, schema_version, server_version, and the cluster-wide settings
  // of qtopology_settings that workers follow: rebalance_interval_s,
  // worker_dead_timeout_s, leader_timeout_s, waiting_timeout_s (seconds,
  // defaults filled in). Never the password.
  std::vector<StorageProperty> getProperties() override;

  std::vector<StorageMessage> getMessages(const std::string& worker) override;
  std::optional<StorageMessage> getMessage(const std::string& worker) override;
  void sendMessageToWorker(const std::string& worker, const std::string& cmd, const Json& content,
                           std::chrono::milliseconds valid_for) override;

  void registerWorker(const std::string& name) override;
  void pingWorker(const std::string& name) override;
  void announceLeaderCandidacy(const std::string& name) override;
  bool checkLeaderCandidacy(const std::string& name) override;
  void setWorkerStatus(const std::string& name, WorkerState status) override;
  void setWorkerLStatus(const std::string& name, Leadership lstatus) override;
  void deleteWorker(const std::string& name) override;
  void shutDownWorker(const std::string& name) override;

  void registerTopology(const std::string& uuid, const Json& config) override;
  void assignTopology(const std::string& uuid, const std::string& worker) override;
  void setTopologyStatus(const TopologyStatusChange& change) override;
  void setTopologyPid(const std::string& uuid, std::optional<int> pid) override;
  // One CALL each: the epoch is checked and the report written in one
  // transaction, under the topology's row lock.
  bool reportTopologyStatus(const TopologyReport& report) override;
  bool reportTopologyPid(const TopologyPidReport& report) override;
  void disableTopology(const std::string& uuid) override;
  void enableTopology(const std::string& uuid) override;
  void stopTopology(const std::string& uuid) override;
  void killTopology(const std::string& uuid) override;
  void deleteTopology(const std::string& uuid) override;
  void clearTopologyError(const std::string& uuid) override;
  std::optional<std::string> clearTopologyErrorToLastWorker(const std::string& uuid) override;

  // The worker loop's combined calls, each one CALL. heartbeat reads the
  // worker's row, takes its messages (at most 1,000) and finds the leader
  // through unique keys and an index: O(1) rows whatever the cluster's size;
  // it writes the ping only when heartbeat_write_interval_s has passed (or
  // for a leader, a candidate, a message), else it commits nothing. campaign runs
  // announceLeaderCandidacy and checkLeaderCandidacy on the server.
  // applyLeaderActions checks leadership and writes in one transaction that
  // first writes the leadership epoch: a leader demoted meanwhile (also on
  // another Galera node) writes nothing and gets false. Only workers still
  // dead are unloaded; an unknown worker or topology throws NotFoundError and
  // writes nothing.
  WorkerHeartbeat heartbeat(const std::string& name) override;
  bool campaign(const std::string& name) override;
  bool applyLeaderActions(const std::string& leader, const LeaderActions& actions) override;

  // Timeouts come from the qtopology_settings table, so the whole cluster
  // agrees on them.
  void refreshStatuses() override;
  // The rows of qtopology_settings (qtopology_sp_settings_v27), with the
  // values the procedures read from them; setSetting writes one row
  // (qtopology_sp_set_setting_v27). Workers follow a change from their next
  // getProperties(), the procedures from their next call.
  std::vector<ClusterSetting> getSettings() override;
  void setSetting(const std::string& name, std::int64_t value) override;
  // Leadership status -> number of workers.
  std::map<Leadership, int> leadershipStatusCounts();

  // Version of the connected database's schema, read now.
  int schemaVersion();
  // The newest schema version compiled into this library.
  static int latestSchemaVersion();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qtopology
