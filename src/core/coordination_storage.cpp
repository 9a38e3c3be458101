// The combined calls of the worker loop, built from the basic calls, for
// storages that have nothing better. MySqlCoordinator overrides all three.
#include <map>

#include <qtopology/coordination_storage.hpp>

#include "leader_messages.hpp"

namespace qtopology {
namespace {

// What the basic calls cannot tell: how long a leader may stay silent. The
// default matches the MySQL storage's leader_timeout_s setting.
constexpr std::chrono::seconds default_leader_timeout{10};

}  // namespace

WorkerHeartbeat CoordinationStorage::heartbeat(const std::string& name) {
  pingWorker(name);
  WorkerHeartbeat beat;
  beat.messages = getMessages(name);
  beat.now = std::chrono::system_clock::now();
  bool found = false;
  for (const auto& w : getWorkerStatus()) {
    if (w.name == name) {
      found = true;
      beat.status = w.status;
      beat.lstatus = w.lstatus;
    }
    if (w.lstatus == consts::worker_lstatus::leader) {
      beat.leader = w.name;
      beat.leader_alive = w.status == consts::worker_status::alive &&
                          beat.now - w.last_ping <= default_leader_timeout;
    }
  }
  if (!found) throw NotFoundError("heartbeat(name=" + name + "): worker not found: " + name);
  return beat;
}

bool CoordinationStorage::campaign(const std::string& name) {
  announceLeaderCandidacy(name);
  return checkLeaderCandidacy(name);
}

bool CoordinationStorage::applyLeaderActions(const std::string& leader,
                                             const LeaderActions& actions) {
  if (!checkLeaderCandidacy(leader)) return false;
  const std::string unassigned(consts::topology_status::unassigned);
  if (!actions.unload_workers.empty()) {
    // Only workers still dead: one that came back since the leader looked
    // keeps its status and its topologies.
    std::map<std::string, std::string> statuses;
    for (auto& w : getWorkerStatus()) statuses[w.name] = std::move(w.status);
    for (const auto& worker : actions.unload_workers) {
      if (statuses.count(worker) == 0) {
        throw NotFoundError("applyLeaderActions(leader=" + leader +
                            "): worker not found: " + worker);
      }
    }
    for (const auto& worker : actions.unload_workers) {
      if (statuses[worker] != consts::worker_status::dead) continue;
      for (const auto& t : getTopologiesForWorker(worker)) {
        if (t.status == consts::topology_status::error) continue;
        setTopologyStatus(t.uuid, worker, unassigned, std::nullopt);
      }
      setWorkerStatus(worker, std::string(consts::worker_status::unloaded));
    }
  }
  for (const auto& uuid : actions.unassign_topologies) {
    setTopologyStatus(uuid, std::nullopt, unassigned, std::nullopt);
  }
  for (const auto& a : actions.assignments) assignTopology(a.uuid, a.worker);
  for (const auto& m : detail::leaderMessages(actions)) {
    sendMessageToWorker(m.worker, m.cmd, m.content, m.valid_for);
  }
  return true;
}

}  // namespace qtopology
