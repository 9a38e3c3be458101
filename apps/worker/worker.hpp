// A QTopology worker process: heartbeat, leadership, and the commands the
// leader and operators send it.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <qtopology/mysql_coordinator.hpp>

#include "local_topologies.hpp"

namespace qtopology::worker {

struct WorkerSettings {
  std::string name;
  // How long a start_topology sent as leader stays valid. A late one is
  // harmless: the receiver checks the topology is still waiting for it.
  std::chrono::milliseconds start_ttl{30000};
  // A leader whose heartbeat has not moved for this long is worth challenging;
  // the server alone decides whether it really timed out.
  std::chrono::milliseconds leader_stale_after{3000};
};

// Driven by one loop: register() once, tick() every interval, then
// shutdown(). Not thread-safe. Storage failures inside a tick are logged and
// the tick's remaining steps still run; the next tick tries again.
class Worker {
 public:
  Worker(MySqlCoordinator& storage, WorkerSettings settings);

  void registerSelf();
  void tick();
  // Set by a `shutdown` message; the loop then calls shutdown().
  bool shutdownRequested() const { return shutdown_requested_; }
  // Gives up leadership, reports closing, stops every local topology (they go
  // back to unassigned for the leader to place elsewhere), reports unloaded.
  // Returns false when some report could not be written.
  bool shutdown();

 private:
  // Each returns normally after logging a StorageError.
  void heartbeat();
  void reconcile();
  void leadership();
  void handleMessages();

  void handle(const StorageMessage& message);
  void startTopology(const std::string& uuid);
  bool shouldCampaign();

  MySqlCoordinator& storage_;
  WorkerSettings settings_;
  LocalTopologies local_;
  std::vector<WorkerStatus> workers_;  // as read by this tick's heartbeat
  bool leader_ = false;
  bool shutdown_requested_ = false;
  // The last leader heartbeat seen, and since when it has not moved.
  std::optional<std::pair<std::string, TimePoint>> seen_leader_ping_;
  std::chrono::steady_clock::time_point seen_leader_since_;
};

}  // namespace qtopology::worker
