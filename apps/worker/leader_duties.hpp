// What the one leader of the cluster does every tick.
#pragma once

#include <chrono>
#include <string>

#include <qtopology/mysql_coordinator.hpp>

namespace qtopology::worker {

// 1. refreshStatuses(): silent workers become dead, silent leaders lose the
//    title, topologies waiting too long or running on dead workers become
//    unassigned (timeouts from qtopology_settings).
// 2. Every dead worker: its waiting or running topologies become unassigned
//    and the worker `unloaded`, so it is handled once and not again each tick.
// 3. Every enabled, unassigned topology is assigned (see placement.hpp) and
//    its worker sent start_topology {"uuid": ...}, valid for `start_ttl`.
// Throws StorageError; a failed tick is simply repeated by the next one.
void runLeaderDuties(MySqlCoordinator& storage, std::chrono::milliseconds start_ttl);

}  // namespace qtopology::worker
