#include "placement.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace qtopology::worker {
namespace {

constexpr double kAffinityDivisor = 5.0;

bool prefers(const TopologyStatus& t, const std::string& worker) {
  return std::find(t.worker_affinity.begin(), t.worker_affinity.end(), worker) !=
         t.worker_affinity.end();
}

}  // namespace

bool isActive(const TopologyStatus& t) {
  return t.status == consts::topology_status::waiting ||
         t.status == consts::topology_status::running;
}

std::vector<Placement> placeTopologies(const std::vector<std::string>& alive_workers,
                                       const std::vector<TopologyStatus>& topologies) {
  if (alive_workers.empty()) return {};
  // std::map keeps workers sorted by name, which is the final tie-break.
  std::map<std::string, double> load;
  for (const auto& name : alive_workers) load[name] = 0.0;
  std::vector<const TopologyStatus*> pending;
  for (const auto& t : topologies) {
    if (t.enabled && t.status == consts::topology_status::unassigned) {
      pending.push_back(&t);
    } else if (isActive(t) && t.worker && load.count(*t.worker)) {
      load[*t.worker] += t.weight;
    }
  }
  // Heaviest first: placing big topologies while every worker is still light
  // spreads the total more evenly than arrival order would.
  std::sort(pending.begin(), pending.end(), [](const auto* a, const auto* b) {
    return std::tie(b->weight, a->uuid) < std::tie(a->weight, b->uuid);
  });

  std::vector<Placement> placements;
  for (const auto* t : pending) {
    const std::string* best = nullptr;
    std::tuple<double, bool> best_key{0.0, false};
    for (const auto& [name, worker_load] : load) {
      const bool affine = prefers(*t, name);
      // Ordering by (effective load, not affine): affinity also breaks ties.
      const std::tuple<double, bool> key{affine ? worker_load / kAffinityDivisor : worker_load,
                                         !affine};
      if (!best || key < best_key) {
        best = &name;
        best_key = key;
      }
    }
    load[*best] += t->weight;
    placements.push_back({t->uuid, *best, t->weight});
  }
  return placements;
}

}  // namespace qtopology::worker
