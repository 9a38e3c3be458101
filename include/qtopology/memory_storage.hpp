// An in-memory coordination storage: the CoordinationStorage contract with
// its validation, errors, history rows, message expiry and once-only
// delivery, election rules and timeouts, as every storage keeps it. For
// single-process hosts, and for testing the worker protocol.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <qtopology/coordination_storage.hpp>
#include <qtopology/export.hpp>

namespace qtopology {

struct MemoryStorageOptions {
  // The storage's clock: every time point it records or compares comes from
  // here (the role a shared storage's own clock plays). Empty:
  // std::chrono::system_clock::now. Tests inject a clock they advance.
  std::function<TimePoint()> clock;
  // The cluster's timeouts, with the defaults every storage starts from.
  std::chrono::milliseconds worker_dead_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds leader_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds waiting_timeout{std::chrono::seconds(30)};
  // heartbeat() pings only when the last ping is this old (zero: every
  // call), as MySqlCoordinator does with heartbeat_write_interval_s. Empty,
  // or longer than half the shorter of the two timeouts above: that half.
  std::optional<std::chrono::milliseconds> heartbeat_write_interval;
  // Returned by getProperties() after the storage's own, e.g.
  // {"rebalance_interval_s", "3600"} for TopologyWorker.
  std::vector<StorageProperty> properties;
};

// Thread-safe: every call holds one mutex, so each is atomic, and
// applyLeaderActions() checks leadership and writes in one step (fenced);
// it unloads only workers that are still dead.
class QTOPOLOGY_EXPORT MemoryStorage : public CoordinationStorage {
 public:
  explicit MemoryStorage(MemoryStorageOptions options = {});
  ~MemoryStorage() override;
  MemoryStorage(const MemoryStorage&) = delete;
  MemoryStorage& operator=(const MemoryStorage&) = delete;

  std::vector<WorkerStatus> getWorkerStatus() override;
  std::vector<TopologyStatus> getTopologyStatus() override;
  std::vector<TopologyStatus> getTopologiesForWorker(const std::string& worker) override;
  TopologyInfo getTopologyInfo(const std::string& uuid) override;
  std::vector<TopologyStatusHistory> getTopologyHistory(const std::string& uuid) override;
  std::vector<WorkerStatusHistory> getWorkerHistory(const std::string& name) override;
  std::vector<MsgQueueItem> getMsgQueueContent() override;
  // type (MemoryStorage), the three timeouts in seconds, then
  // MemoryStorageOptions::properties.
  std::vector<StorageProperty> getProperties() override;

  std::vector<StorageMessage> getMessages(const std::string& worker) override;
  std::optional<StorageMessage> getMessage(const std::string& worker) override;
  void sendMessageToWorker(const std::string& worker, const std::string& cmd, const Json& content,
                           std::chrono::milliseconds valid_for) override;

  // Records the calling process's pid.
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
  // Checked and written under the one mutex.
  bool reportTopologyStatus(const TopologyReport& report) override;
  bool reportTopologyPid(const TopologyPidReport& report) override;
  void disableTopology(const std::string& uuid) override;
  void enableTopology(const std::string& uuid) override;
  void stopTopology(const std::string& uuid) override;
  void killTopology(const std::string& uuid) override;
  void deleteTopology(const std::string& uuid) override;
  void clearTopologyError(const std::string& uuid) override;
  std::optional<std::string> clearTopologyErrorToLastWorker(const std::string& uuid) override;

  void refreshStatuses() override;

  // The options above are the settings: worker_dead_timeout_s and the other
  // timeouts, heartbeat_write_interval_s, and rebalance_interval_s among the
  // properties; setSetting() changes them for every later call.
  // message_claim_retention_s is only kept (a claim here is never retried).
  std::vector<ClusterSetting> getSettings() override;
  void setSetting(const std::string& name, std::int64_t value) override;

  // Native, each under the one mutex: heartbeat() is O(1) in the number of
  // workers besides the lookup of the leader; applyLeaderActions() validates
  // every action first (NotFoundError, InvalidArgument: nothing written).
  WorkerHeartbeat heartbeat(const std::string& name) override;
  bool campaign(const std::string& name) override;
  bool applyLeaderActions(const std::string& leader, const LeaderActions& actions) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qtopology
