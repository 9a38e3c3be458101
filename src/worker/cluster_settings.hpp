// The settings a whole cluster shares through its storage's properties, as
// far as a worker follows them: one place that reads them, so every worker
// and every part of one agrees on their names and on what a bad value means.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/logging.hpp"

#include <qtopology/coordination_storage.hpp>

namespace qtopology::detail {

struct ClusterSettings {
  // "rebalance_interval_s": how often the leader rebalances by itself.
  std::optional<std::chrono::milliseconds> rebalance_interval;
  // "worker_dead_timeout_s": how long a silent worker stays alive for the
  // leader; the worker's lease must end before it.
  std::optional<std::chrono::milliseconds> worker_dead_timeout;
};

// Reads what getProperties() returned. A value that is not a positive number
// of seconds (below 1e9) is left out, with a warning naming it.
ClusterSettings clusterSettingsOf(const std::vector<StorageProperty>& properties, detail::Log log,
                                  const std::string& worker);

}  // namespace qtopology::detail
