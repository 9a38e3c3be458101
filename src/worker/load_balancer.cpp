#include "load_balancer.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <tuple>

namespace qtopology::detail {
namespace {

constexpr double kMissingWorkerPenalty = 100.0;

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Topologies with affinity go first (the fewer workers they accept, the
// earlier), so the unconstrained ones fill the gaps they leave.
bool placeBefore(const PlacedTopology* a, const PlacedTopology* b) {
  const bool a_affine = !a->affinity.empty(), b_affine = !b->affinity.empty();
  return std::make_tuple(!a_affine, a->affinity.size(), -a->weight, a->uuid) <
         std::make_tuple(!b_affine, b->affinity.size(), -b->weight, b->uuid);
}

}  // namespace

LoadBalancer::LoadBalancer(std::map<std::string, double> loads) : loads_(std::move(loads)) {}

const std::string& LoadBalancer::next(const std::vector<std::string>& affinity, double weight) {
  if (loads_.empty()) throw std::logic_error("LoadBalancer::next: no workers");
  auto best = loads_.end();
  double best_load = std::numeric_limits<double>::max();
  for (auto it = loads_.begin(); it != loads_.end(); ++it) {
    double load = it->second + weight;
    if (contains(affinity, it->first)) load /= kAffinityFactor;
    if (load < best_load) {
      best = it;
      best_load = load;
    }
  }
  best->second += weight;
  return best->first;
}

RebalancePlan LoadBalancer::rebalance(const std::vector<PlacedTopology>& topologies) const {
  std::map<std::string, double> empty;
  for (const auto& [name, load] : loads_) empty[name] = 0.0;
  LoadBalancer ideal(std::move(empty));

  std::vector<const PlacedTopology*> order;
  for (const auto& t : topologies) order.push_back(&t);
  std::sort(order.begin(), order.end(), placeBefore);

  RebalancePlan plan;
  for (const auto* t : order) {
    const auto& worker = ideal.next(t->affinity, t->weight);
    if (worker != t->worker) plan.moves.push_back({t->uuid, t->worker, worker});
  }
  plan.score = deviationScore(ideal.loads(), loads_);
  if (plan.score < kRebalanceThreshold) plan.moves.clear();
  return plan;
}

double deviationScore(const std::map<std::string, double>& ideal,
                      const std::map<std::string, double>& current) {
  if (ideal.empty()) return 0.0;
  double total = 0.0;
  for (const auto& [name, best] : ideal) {
    const auto found = current.find(name);
    if (found == current.end()) {
      total += kMissingWorkerPenalty;
      continue;
    }
    const double now = found->second;
    const double low = std::min(best, now), high = std::max(best, now);
    if (low == high) continue;
    total += low == 0.0 ? kMissingWorkerPenalty : high / low;
  }
  return total / static_cast<double>(ideal.size());
}

}  // namespace qtopology::detail
