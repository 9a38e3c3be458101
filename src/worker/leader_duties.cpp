#include "leader_duties.hpp"

#include <algorithm>

#include <qtopology/text.hpp>
#include "leader_plan.hpp"

namespace qtopology::detail {
namespace {

using ws = WorkerState;
using ls = Leadership;

}  // namespace

void LeaderDuties::follow(const WorkerHeartbeat& beat) {
  const bool marked = beat.lstatus == ls::leader && beat.status == ws::alive;
  if (leader_ && !marked)
    context_.log().warn("worker {}: no longer the leader", context_.shownName());
  leader_ = marked;
}

void LeaderDuties::step(const WorkerHeartbeat& beat) {
  if (!leader_ && !beat.leader_alive && beat.status == ws::alive && context_.accepting()) {
    leader_ = context_.storage.campaign(context_.name());
    if (leader_) {
      context_.log().info("worker {}: became the leader", context_.shownName());
      next_rebalance_ = context_.now() + rebalanceInterval();
      next_loop_ = context_.now();
    }
  }
  if (!leader_ || context_.now() < next_loop_) return;
  next_loop_ = context_.now() + context_.options.leader_loop;
  loop();
}

bool LeaderDuties::resign() {
  if (!leader_) return true;
  leader_ = false;
  return context_.guarded("giving up leadership",
                          [&] { context_.storage.setWorkerLStatus(context_.name(), ls::normal); });
}

void LeaderDuties::loop() {
  auto& storage = context_.storage;
  storage.refreshStatuses();
  const auto workers = storage.getWorkerStatus();
  if (!stillLeader(workers)) return;
  auto topologies = storage.getTopologyStatus();
  invalid_rows_.takeOut(topologies, context_.log(), context_.shownName());
  const auto interval = rebalanceInterval();
  const bool rebalance = rebalance_requested_ || context_.now() >= next_rebalance_;
  const auto actions = planLeaderActions(workers, topologies, rebalance);
  if (rebalance) {
    rebalance_requested_ = false;
    next_rebalance_ = context_.now() + interval;
  }
  if (actions.empty()) return;
  if (!storage.applyLeaderActions(context_.name(), actions)) {
    context_.log().warn("worker {}: lost leadership before writing; wrote nothing",
                        context_.shownName());
    leader_ = false;
    return;
  }
  logActions(actions);
}

// After refreshStatuses(): the seat may have been lost since the heartbeat.
bool LeaderDuties::stillLeader(const std::vector<WorkerStatus>& workers) {
  const auto self = std::find_if(workers.begin(), workers.end(),
                                 [&](const WorkerStatus& w) { return w.name == context_.name(); });
  if (self != workers.end() && self->lstatus == ls::leader && self->status == ws::alive) {
    return true;
  }
  context_.log().warn("worker {}: no longer the leader", context_.shownName());
  leader_ = false;
  return false;
}

void LeaderDuties::logActions(const LeaderActions& actions) {
  auto log = context_.log();
  const auto& shown = context_.shownName();
  for (const auto& w : actions.unload_workers) {
    log.info("worker {} (leader): unloaded worker {}, its topologies back to the pool", shown,
             escapeControl(w));
  }
  for (const auto& uuid : actions.unassign_topologies) {
    log.info("worker {} (leader): topology {} back to the pool", shown, escapeControl(uuid));
  }
  for (const auto& a : actions.assignments) {
    log.info("worker {} (leader): assigned {} to {}", shown, escapeControl(a.uuid),
             escapeControl(a.worker));
  }
  for (const auto& m : actions.moves) {
    log.info("worker {} (leader): rebalance moves {} from {} to {}", shown, escapeControl(m.uuid),
             escapeControl(m.worker_old), escapeControl(m.worker_new));
  }
}

// The storage's rebalance_interval_s, when it has one, so the whole cluster
// agrees; else the option.
std::chrono::milliseconds LeaderDuties::rebalanceInterval() const {
  return context_.settings.rebalance_interval.value_or(context_.options.rebalance_interval);
}

}  // namespace qtopology::detail
