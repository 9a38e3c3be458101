// What one leader loop writes, decided from what it read: a pure function
// of the worker and topology rows, so every rule is unit-tested without a
// storage. TopologyWorker hands the result to applyLeaderActions().
#pragma once

#include <vector>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::detail {

// In this order, each step seeing the effect of the ones before:
// 1. Dead workers are unloaded: their topologies not in error go back to
//    the pool. A topology in error is never reassigned: it stays where an
//    operator can see what failed.
// 2. Waiting or running topologies left on an unloaded worker or on one not
//    registered at all, and enabled running topologies without a worker, go
//    back to the pool (unassign_topologies).
// 3. Every enabled unassigned topology goes to an alive worker, heaviest
//    first, through LoadBalancer::next (load = weights of the enabled
//    waiting and running topologies a worker carries).
// 4. With `rebalance`, LoadBalancer::rebalance over the enabled topologies on
//    alive workers; only running ones are moved (a waiting one has not
//    started yet, so there is nothing to stop).
// Nothing is placed when no worker is alive.
LeaderActions planLeaderActions(const std::vector<WorkerStatus>& workers,
                                const std::vector<TopologyStatus>& topologies, bool rebalance);

}  // namespace qtopology::detail
