// Where topologies go, as Node qtopology 2.3.2's leader decides it: the
// least loaded worker, counting a worker named in the topology's affinity
// with a fifth of its load, and a rebalance only when the current spread is
// far from a near-optimal one. Pure: no storage, no clock.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace qtopology::detail {

// Affinity pulls a topology this many times harder towards a worker.
inline constexpr double kAffinityFactor = 5.0;
// A rebalance moves topologies only at or above this deviation score.
inline constexpr double kRebalanceThreshold = 1.5;

struct PlacedTopology {
  std::string uuid;
  double weight = 1.0;
  std::vector<std::string> affinity;
  std::string worker;  // where it is now ("" when nowhere)
};

struct RebalanceMove {
  std::string uuid;
  std::string worker_old;
  std::string worker_new;
};

struct RebalancePlan {
  double score = 0.0;                // 0 when the load is spread as well as the greedy ideal
  std::vector<RebalanceMove> moves;  // empty below kRebalanceThreshold
};

class LoadBalancer {
 public:
  // Worker name -> its current load (sum of the weights it carries).
  explicit LoadBalancer(std::map<std::string, double> loads);

  // The worker for a new topology; its weight is added to that worker's
  // load. Picks the smallest (load + weight), divided by kAffinityFactor for
  // affinity workers; the first name wins ties. Requires at least one worker.
  const std::string& next(const std::vector<std::string>& affinity, double weight);

  // Places `topologies` greedily on empty copies of the workers (topologies
  // with affinity first, fewer names first; then heaviest first; then by
  // uuid), scores the current loads against that ideal, and proposes moving
  // every topology whose ideal worker differs, when the score reaches the
  // threshold.
  RebalancePlan rebalance(const std::vector<PlacedTopology>& topologies) const;

  const std::map<std::string, double>& loads() const { return loads_; }

 private:
  std::map<std::string, double> loads_;  // sorted by name: the tie-break
};

// How far `current` is from `ideal`: per worker of the ideal, the ratio of
// the larger to the smaller load (100 when the smaller is 0, 0 when equal),
// averaged.
double deviationScore(const std::map<std::string, double>& ideal,
                      const std::map<std::string, double>& current);

}  // namespace qtopology::detail
