#include "cluster_settings.hpp"

#include <cmath>
#include <string_view>

#include "core/printable.hpp"

namespace qtopology::detail {
namespace {

constexpr std::string_view kRebalanceInterval = "rebalance_interval_s";
constexpr std::string_view kWorkerDeadTimeout = "worker_dead_timeout_s";

std::optional<std::chrono::milliseconds> seconds(const StorageProperty& p, detail::Log log,
                                                 const std::string& worker) {
  try {
    std::size_t used = 0;
    const double value = std::stod(p.value, &used);
    if (used == p.value.size() && std::isfinite(value) && value > 0 && value < 1e9) {
      return std::chrono::milliseconds(std::llround(value * 1000.0));
    }
  } catch (const std::exception&) {
  }
  log.warn("worker {}: ignoring {} = '{}': not a positive number", escapeControl(worker), p.key,
           escapeControl(p.value));
  return std::nullopt;
}

}  // namespace

ClusterSettings clusterSettingsOf(const std::vector<StorageProperty>& properties, detail::Log log,
                                  const std::string& worker) {
  ClusterSettings settings;
  for (const auto& p : properties) {
    if (p.key == kRebalanceInterval) {
      settings.rebalance_interval = seconds(p, log, worker);
    } else if (p.key == kWorkerDeadTimeout) {
      settings.worker_dead_timeout = seconds(p, log, worker);
    }
  }
  return settings;
}

}  // namespace qtopology::detail
