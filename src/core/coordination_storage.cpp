// The combined calls of the worker loop, built from the basic calls, for
// storages that have nothing better. MySqlCoordinator overrides all three.
#include <qtopology/coordination_storage.hpp>

#include <set>

#include "leader_messages.hpp"
#include "leadership.hpp"
#include "validation.hpp"

namespace qtopology {

WorkerHeartbeat CoordinationStorage::heartbeat(const std::string& name) {
  const auto op = detail::checkedOperation("heartbeat", "worker", name);
  const auto notFound = [&] { return NotFoundError(op + ": worker not found: " + name); };
  try {
    pingWorker(name);
  } catch (const NotFoundError&) {
    throw notFound();
  }
  WorkerHeartbeat beat;
  beat.wrote = true;  // pingWorker() always writes
  beat.messages = getMessages(name);
  const auto workers = getWorkerStatus();
  const WorkerStatus* self = nullptr;
  for (const auto& w : workers) {
    if (w.name == name) self = &w;
  }
  if (!self) throw notFound();
  beat.status = self->status;
  beat.lstatus = self->lstatus;
  // The ping just written is the storage's now; the client's clock may
  // disagree with the storage's by any amount.
  beat.now = self->last_ping;
  detail::LeaderFinder finder(beat.now, detail::leaderTimeoutOf(getProperties()));
  for (const auto& w : workers) finder.consider(w);
  beat.leader = finder.leader();
  beat.leader_alive = finder.alive();
  return beat;
}

bool CoordinationStorage::reportTopologyStatus(const std::string& uuid,
                                               const std::optional<std::string>& worker,
                                               const std::string& status,
                                               const std::optional<std::string>& error,
                                               std::int64_t epoch) {
  const auto current = getTopologyInfo(uuid);
  if (current.epoch > epoch || (worker && current.worker != worker)) return false;
  setTopologyStatus(uuid, worker, status, error);
  return true;
}

bool CoordinationStorage::reportTopologyPid(const std::string& uuid, std::optional<int> pid,
                                            std::int64_t epoch) {
  if (getTopologyInfo(uuid).epoch > epoch) return false;
  setTopologyPid(uuid, pid);
  return true;
}

bool CoordinationStorage::campaign(const std::string& name) {
  const auto op = detail::checkedOperation("campaign", "worker", name);
  try {
    announceLeaderCandidacy(name);
    return checkLeaderCandidacy(name);
  } catch (const NotFoundError&) {
    throw NotFoundError(op + ": worker not found: " + name);  // named as every storage names it
  }
}

bool CoordinationStorage::applyLeaderActions(const std::string& leader,
                                             const LeaderActions& actions) {
  const auto op = detail::checkedOperation("applyLeaderActions", "leader", leader);
  detail::checkLeaderActions(op, actions);
  try {
    if (!checkLeaderCandidacy(leader)) return false;
  } catch (const NotFoundError&) {
    return false;  // deleted: no longer a leader, as for every storage
  }
  // Everything named must exist before the first write.
  std::set<std::string> dead, workers, topologies;
  for (auto& w : getWorkerStatus()) {
    if (w.status == consts::worker_status::dead) dead.insert(w.name);
    workers.insert(std::move(w.name));
  }
  for (auto& t : getTopologyStatus()) topologies.insert(std::move(t.uuid));
  detail::checkLeaderActionsExist(
      op, actions, [&](const std::string& w) { return workers.count(w) > 0; },
      [&](const std::string& t) { return topologies.count(t) > 0; });

  const std::string unassigned(consts::topology_status::unassigned);
  for (const auto& worker : actions.unload_workers) {
    // Only workers still dead: one that came back since the leader looked
    // keeps its status (its running topologies were unassigned when it was
    // declared dead).
    if (dead.count(worker) == 0) continue;
    for (const auto& t : getTopologiesForWorker(worker)) {
      if (t.status == consts::topology_status::error) continue;
      setTopologyStatus(t.uuid, worker, unassigned, std::nullopt);
    }
    setWorkerStatus(worker, std::string(consts::worker_status::unloaded));
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
