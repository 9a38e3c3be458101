// ComposedCoordinationStorage: the atomic calls built from the basic calls,
// for storages that have nothing better (not fenced; see the header).
#include <qtopology/coordination_storage.hpp>

#include <set>

#include "leader_messages.hpp"
#include "leadership.hpp"
#include "validation.hpp"

namespace qtopology {

WorkerHeartbeat ComposedCoordinationStorage::heartbeat(const std::string& name) {
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

namespace {

// The topology's row for a report, NotFoundError named as every storage
// names the report's operation.
TopologyInfo reportedTopology(CoordinationStorage& storage, const std::string& operation,
                              const std::string& uuid) {
  const auto op = detail::checkedOperation(operation, "uuid", uuid);
  try {
    return storage.getTopologyInfo(uuid);
  } catch (const NotFoundError&) {
    throw NotFoundError(op + ": topology not found: " + uuid);
  }
}

}  // namespace

bool ComposedCoordinationStorage::reportTopologyStatus(const TopologyReport& report) {
  const auto current = reportedTopology(*this, "setTopologyStatus", report.uuid);
  if (current.epoch > report.epoch || (report.worker && current.worker != report.worker)) {
    return false;
  }
  setTopologyStatus({report.uuid, report.worker, report.status, report.error});
  return true;
}

bool ComposedCoordinationStorage::reportTopologyPid(const TopologyPidReport& report) {
  if (reportedTopology(*this, "setTopologyPid", report.uuid).epoch > report.epoch) return false;
  setTopologyPid(report.uuid, report.pid);
  return true;
}

bool ComposedCoordinationStorage::campaign(const std::string& name) {
  const auto op = detail::checkedOperation("campaign", "worker", name);
  try {
    announceLeaderCandidacy(name);
    return checkLeaderCandidacy(name);
  } catch (const NotFoundError&) {
    throw NotFoundError(op + ": worker not found: " + name);  // named as every storage names it
  }
}

bool ComposedCoordinationStorage::applyLeaderActions(const std::string& leader,
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
    if (w.status == WorkerState::dead) dead.insert(w.name);
    workers.insert(std::move(w.name));
  }
  for (auto& t : getTopologyStatus()) topologies.insert(std::move(t.uuid));
  detail::checkLeaderActionsExist(
      op, actions, [&](const std::string& w) { return workers.count(w) > 0; },
      [&](const std::string& t) { return topologies.count(t) > 0; });

  for (const auto& worker : actions.unload_workers) {
    // Only workers still dead: one that came back since the leader looked
    // keeps its status (its running topologies were unassigned when it was
    // declared dead).
    if (dead.count(worker) == 0) continue;
    for (const auto& t : getTopologiesForWorker(worker)) {
      if (t.status == TopologyState::error) continue;
      setTopologyStatus({t.uuid, worker, TopologyState::unassigned, std::nullopt});
    }
    setWorkerStatus(worker, WorkerState::unloaded);
  }
  for (const auto& uuid : actions.unassign_topologies) {
    setTopologyStatus({uuid, std::nullopt, TopologyState::unassigned, std::nullopt});
  }
  for (const auto& a : actions.assignments) assignTopology(a.uuid, a.worker);
  for (const auto& m : detail::leaderMessages(actions)) {
    sendMessageToWorker(m.worker, m.cmd, m.content, m.valid_for);
  }
  return true;
}

}  // namespace qtopology
