// Where the leader puts unassigned topologies: a pure function, so the rule
// can be tested without a cluster.
#pragma once

#include <string>
#include <vector>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::worker {

// Waiting or running: the topology is its worker's, and counts as its load.
bool isActive(const TopologyStatus& t);

struct Placement {
  std::string uuid;
  std::string worker;
  double weight = 1.0;
};

// Every enabled, unassigned topology goes to the alive worker with the least
// load, where load is the total weight of the topologies waiting or running on
// it. A worker named in a topology's affinity counts with a fifth of its load;
// on equal loads an affinity worker wins, then the smaller name. Heaviest
// topologies are placed first (then by uuid), and each placement adds to the
// chosen worker's load before the next one is placed. Returns nothing when
// no worker is alive.
std::vector<Placement> placeTopologies(const std::vector<std::string>& alive_workers,
                                       const std::vector<TopologyStatus>& topologies);

}  // namespace qtopology::worker
