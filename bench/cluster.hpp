// (4) Cluster load: N real TopologyWorkers in this process against one
// MariaDB, ticked by a small thread pool, each with a runner that records
// what it is told to run and starts nothing.
#pragma once

#include <cstddef>
#include <vector>

#include "scenarios.hpp"

namespace bench {

struct ClusterStep {
  int workers = 0;
  // From when a worker's tick was due to when it returned: its heartbeat
  // plus what the heartbeat told it to do. The leader's ticks are left out.
  double heartbeat_p50_ms = 0;
  double heartbeat_p99_ms = 0;
  // Statements clients sent the server (its Questions counter) per worker
  // per second, over the measured window: every CALL is one.
  double round_trips_per_worker_s = 0;
  double leader_cycle_ms = 0;  // the leader's longest tick of the window
  // CPU used over the window, in cores (1 = one core busy): what the load
  // costs whatever else runs on the machine.
  double server_cores = 0;
  double client_cores = 0;
  double placement_s = 0;    // from enabling the topologies until every one ran
  std::size_t warnings = 0;  // logged by workers and the library (failed calls)
  bool placed = false;       // every topology was running when measuring began
  bool carried = false;      // placed, and heartbeat p99 < 100 ms
};

// Doubles N from 250 up to max_workers while heartbeats stay under a second,
// then halves the gap above the largest N carried twice.
std::vector<ClusterStep> runCluster(const Target& target, double seconds_per_step, int max_workers);

struct FailoverResult {
  int workers = 0;
  int stopped = 0;     // workers that stopped ticking at once (1%, at least one)
  int topologies = 0;  // that were running on them
  double seconds = 0;  // until every one of them ran on another worker
  bool complete = false;
};

// N workers reach a steady state; then 1% of them stop ticking.
FailoverResult runFailover(const Target& target, int workers);

}  // namespace bench
