#include "leader_duties.hpp"

#include <spdlog/spdlog.h>

#include "placement.hpp"

namespace qtopology::worker {
namespace {

void unloadDeadWorkers(MySqlCoordinator& storage, const std::vector<WorkerStatus>& workers,
                       std::vector<TopologyStatus>& topologies) {
  for (const auto& w : workers) {
    if (w.status != consts::worker_status::dead) continue;
    for (auto& t : topologies) {
      // Topologies in error stay with the worker, where an operator can see
      // what failed; clear-error puts them back in the pool.
      if (t.worker != w.name || !isActive(t)) continue;
      storage.setTopologyStatus(t.uuid, w.name, std::string(consts::topology_status::unassigned),
                                std::nullopt);
      t.status = consts::topology_status::unassigned;
      spdlog::info("leader: took topology {} from dead worker {}", t.uuid, w.name);
    }
    storage.setWorkerStatus(w.name, std::string(consts::worker_status::unloaded));
    spdlog::info("leader: worker {} is dead; marked it unloaded", w.name);
  }
}

}  // namespace

void runLeaderDuties(MySqlCoordinator& storage, std::chrono::milliseconds start_ttl) {
  storage.refreshStatuses();
  const auto workers = storage.getWorkerStatus();
  auto topologies = storage.getTopologyStatus();
  unloadDeadWorkers(storage, workers, topologies);

  std::vector<std::string> alive;
  for (const auto& w : workers) {
    if (w.status == consts::worker_status::alive) alive.push_back(w.name);
  }
  for (const auto& p : placeTopologies(alive, topologies)) {
    storage.assignTopology(p.uuid, p.worker);
    storage.sendMessageToWorker(p.worker, std::string(consts::leader_messages::start_topology),
                                Json{{"uuid", p.uuid}}, start_ttl);
    spdlog::info("leader: assigned topology {} (weight {}) to {}", p.uuid, p.weight, p.worker);
  }
}

}  // namespace qtopology::worker
