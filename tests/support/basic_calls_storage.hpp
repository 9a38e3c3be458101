// A storage that forwards only the basic calls to another one, so that the
// reports, heartbeat, campaign and applyLeaderActions run
// ComposedCoordinationStorage's versions on top of it. Tests run one
// scenario through this and through the storage itself to check that both
// agree.
#pragma once

#include <qtopology/coordination_storage.hpp>

namespace qtopology::testing {

class BasicCallsStorage final : public ComposedCoordinationStorage {
 public:
  explicit BasicCallsStorage(CoordinationStorage& inner) : inner_(inner) {}

  std::vector<WorkerStatus> getWorkerStatus() override { return inner_.getWorkerStatus(); }
  std::vector<TopologyStatus> getTopologyStatus() override { return inner_.getTopologyStatus(); }
  std::vector<TopologyStatus> getTopologiesForWorker(const std::string& worker) override {
    return inner_.getTopologiesForWorker(worker);
  }
  TopologyInfo getTopologyInfo(const std::string& uuid) override {
    return inner_.getTopologyInfo(uuid);
  }
  std::vector<TopologyStatusHistory> getTopologyHistory(const std::string& uuid) override {
    return inner_.getTopologyHistory(uuid);
  }
  std::vector<WorkerStatusHistory> getWorkerHistory(const std::string& name) override {
    return inner_.getWorkerHistory(name);
  }
  std::vector<MsgQueueItem> getMsgQueueContent() override { return inner_.getMsgQueueContent(); }
  std::vector<StorageProperty> getProperties() override { return inner_.getProperties(); }
  std::vector<ClusterSetting> getSettings() override { return inner_.getSettings(); }
  void setSetting(const std::string& name, std::int64_t value) override {
    inner_.setSetting(name, value);
  }

  std::vector<StorageMessage> getMessages(const std::string& worker) override {
    return inner_.getMessages(worker);
  }
  std::optional<StorageMessage> getMessage(const std::string& worker) override {
    return inner_.getMessage(worker);
  }
  void sendMessageToWorker(const std::string& worker, const std::string& cmd, const Json& content,
                           std::chrono::milliseconds valid_for) override {
    inner_.sendMessageToWorker(worker, cmd, content, valid_for);
  }

  void registerWorker(const std::string& name) override { inner_.registerWorker(name); }
  void pingWorker(const std::string& name) override { inner_.pingWorker(name); }
  void announceLeaderCandidacy(const std::string& name) override {
    inner_.announceLeaderCandidacy(name);
  }
  bool checkLeaderCandidacy(const std::string& name) override {
    return inner_.checkLeaderCandidacy(name);
  }
  void setWorkerStatus(const std::string& name, WorkerState status) override {
    inner_.setWorkerStatus(name, status);
  }
  void setWorkerLStatus(const std::string& name, Leadership lstatus) override {
    inner_.setWorkerLStatus(name, lstatus);
  }
  void deleteWorker(const std::string& name) override { inner_.deleteWorker(name); }
  void shutDownWorker(const std::string& name) override { inner_.shutDownWorker(name); }

  void registerTopology(const std::string& uuid, const Json& config) override {
    inner_.registerTopology(uuid, config);
  }
  void assignTopology(const std::string& uuid, const std::string& worker) override {
    inner_.assignTopology(uuid, worker);
  }
  void setTopologyStatus(const TopologyStatusChange& change) override {
    inner_.setTopologyStatus(change);
  }
  void setTopologyPid(const std::string& uuid, std::optional<int> pid) override {
    inner_.setTopologyPid(uuid, pid);
  }
  void disableTopology(const std::string& uuid) override { inner_.disableTopology(uuid); }
  void enableTopology(const std::string& uuid) override { inner_.enableTopology(uuid); }
  void stopTopology(const std::string& uuid) override { inner_.stopTopology(uuid); }
  void killTopology(const std::string& uuid) override { inner_.killTopology(uuid); }
  void deleteTopology(const std::string& uuid) override { inner_.deleteTopology(uuid); }
  void clearTopologyError(const std::string& uuid) override { inner_.clearTopologyError(uuid); }
  std::optional<std::string> clearTopologyErrorToLastWorker(const std::string& uuid) override {
    return inner_.clearTopologyErrorToLastWorker(uuid);
  }

  void refreshStatuses() override { inner_.refreshStatuses(); }

 private:
  CoordinationStorage& inner_;
};

}  // namespace qtopology::testing
