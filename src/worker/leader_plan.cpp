#include "leader_plan.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "load_balancer.hpp"

namespace qtopology::detail {
namespace {

using ts = TopologyState;
using ws = WorkerState;

bool active(const TopologyStatus& t) { return t.status == ts::waiting || t.status == ts::running; }

// Steps 1 and 2: what goes back to the pool, applied to `topologies` too.
void reclaim(const std::vector<WorkerStatus>& workers, std::vector<TopologyStatus>& topologies,
             LeaderActions& actions) {
  std::set<std::string> registered, unloaded;
  for (const auto& w : workers) {
    registered.insert(w.name);
    if (w.status == ws::unloaded) unloaded.insert(w.name);
    if (w.status != ws::dead) continue;
    actions.unload_workers.push_back(w.name);
    for (auto& t : topologies) {
      if (t.worker == w.name && t.status != ts::error) t.status = ts::unassigned;
    }
  }
  for (auto& t : topologies) {
    const bool left_behind =
        active(t) && t.worker && (unloaded.count(*t.worker) || !registered.count(*t.worker));
    const bool nowhere = t.enabled && t.status == ts::running && !t.worker;
    if (!left_behind && !nowhere) continue;
    actions.unassign_topologies.push_back(t.uuid);
    t.status = ts::unassigned;
  }
}

std::set<std::string> aliveWorkers(const std::vector<WorkerStatus>& workers) {
  std::set<std::string> alive;
  for (const auto& w : workers) {
    if (w.status == ws::alive) alive.insert(w.name);
  }
  return alive;
}

// Enabled, waiting or running, on an alive worker: what counts as its load
// and what a rebalance may move.
bool placedOn(const TopologyStatus& t, const std::set<std::string>& alive) {
  return t.enabled && active(t) && t.worker && alive.count(*t.worker);
}

LoadBalancer balancerFor(const std::set<std::string>& alive,
                         const std::vector<TopologyStatus>& topologies) {
  std::map<std::string, double> loads;
  for (const auto& name : alive) loads[name] = 0.0;
  for (const auto& t : topologies) {
    if (placedOn(t, alive)) loads[*t.worker] += t.weight;
  }
  return LoadBalancer(std::move(loads));
}

// Step 3, applied to `topologies` too.
void place(LoadBalancer& balancer, std::vector<TopologyStatus>& topologies,
           LeaderActions& actions) {
  std::vector<TopologyStatus*> pending;
  for (auto& t : topologies) {
    if (t.enabled && t.status == ts::unassigned) pending.push_back(&t);
  }
  // Heaviest first: big topologies placed while every worker is still light
  // spread the total more evenly than the storage's order would. Ties by
  // uuid, so the plan does not depend on the order the storage lists them in.
  std::sort(pending.begin(), pending.end(), [](const auto* a, const auto* b) {
    return std::make_pair(-a->weight, a->uuid) < std::make_pair(-b->weight, b->uuid);
  });
  for (auto* t : pending) {
    t->worker = balancer.next(t->worker_affinity, t->weight);
    t->status = ts::waiting;
    actions.assignments.push_back({t->uuid, *t->worker});
  }
}

// Step 4.
void rebalanceRunning(LoadBalancer& balancer, const std::set<std::string>& alive,
                      const std::vector<TopologyStatus>& topologies, LeaderActions& actions) {
  std::vector<PlacedTopology> placed;
  std::set<std::string> running;
  for (const auto& t : topologies) {
    if (!placedOn(t, alive)) continue;
    placed.push_back({t.uuid, t.weight, t.worker_affinity, *t.worker});
    if (t.status == ts::running) running.insert(t.uuid);
  }
  for (auto& move : balancer.rebalance(placed).moves) {
    if (!running.count(move.uuid)) continue;
    actions.moves.push_back({move.uuid, move.worker_old, move.worker_new});
  }
}

}  // namespace

LeaderActions planLeaderActions(const std::vector<WorkerStatus>& workers,
                                const std::vector<TopologyStatus>& topologies_read,
                                bool rebalance) {
  LeaderActions actions;
  auto topologies = topologies_read;
  reclaim(workers, topologies, actions);
  const auto alive = aliveWorkers(workers);
  if (alive.empty()) return actions;
  auto balancer = balancerFor(alive, topologies);
  place(balancer, topologies, actions);
  if (rebalance) rebalanceRunning(balancer, alive, topologies, actions);
  return actions;
}

}  // namespace qtopology::detail
