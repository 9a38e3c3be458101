// A seeded cluster simulation: N TopologyWorkers on one MemoryStorage, driven
// step by step from one thread on one simulated clock, with faults drawn from
// the seed. Topology processes are modelled (ModelledRunner): each runs
// under a supervisor that kills it once the worker's lease deadline passes on
// the global clock, also while its worker is paused.
//
// Deterministic for a seed, with one exception: a worker's lease watchdog
// thread polls the worker's clock in real time, so it may kill an expired
// lease's topologies between the moment the simulation moves that worker's
// clock and the worker's own check at the start of its tick, a window of
// microseconds; either way the same topologies die before the tick handles
// anything.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <qtopology/memory_storage.hpp>
#include <qtopology/worker.hpp>

namespace qtopology::simulation {

using Millis = std::chrono::milliseconds;

// The cluster's settings and the fault mix, drawn from the seed.
struct SimulationConfig {
  int workers = 3;
  int topologies = 6;
  Millis worker_dead_timeout{30000};
  Millis leader_timeout{10000};
  Millis waiting_timeout{30000};
  Millis lease{20000};
  Millis leader_loop{2000};
  int rebalance_interval_s = 600;
  Millis duration{std::chrono::hours(1)};
  Millis faults_until{std::chrono::minutes(50)};  // then the cluster heals

  static SimulationConfig fromSeed(std::uint64_t seed);
};

struct SimulationTotals {
  double simulated_hours = 0;
  long steps = 0;
  std::map<std::string, long> faults;  // by kind
  long overlaps_unpaused = 0;  // steps x topologies with two live instances, owners not paused
  long overlaps_any = 0;       // the same, paused owners included
  long starts = 0;             // topology processes started
  long lease_kills = 0;        // killed by their supervisor's lease
  long reports_rejected = 0;   // status reports the storage ignored (not the owner)
  long healed_topologies = 0;  // enabled and not in error at the end, each checked
  long tick_throws = 0;        // tick() let a storage error out (a failed registration)

  long faultCount() const;
  void add(const SimulationTotals& other);
};

// Why a run failed: empty when it did not.
struct SimulationResult {
  std::vector<std::string> failures;  // each with the step and simulated time
  SimulationTotals totals;
};

// Runs one seed. `log`, when set, receives every event (for replaying).
// Without supervisors (`supervised` false) a topology outlives its paused
// worker's lease, as it did before the supervisor existed: the check that
// finds two live instances must then find some.
SimulationResult simulate(std::uint64_t seed, const std::function<void(const std::string&)>& log,
                          bool supervised = true);

}  // namespace qtopology::simulation
