#include "worker_lease.hpp"

#include <algorithm>

#include <qtopology/text.hpp>

namespace qtopology::detail {

void WorkerLease::follow(const ClusterSettings& settings) {
  const auto& options = context_.options;
  auto lease = options.lease;
  if (settings.worker_dead_timeout) {
    const auto margin = 2 * options.tick;
    // Never below one tick: a lease shorter than the heartbeat's period
    // would lapse between any two heartbeats.
    lease = std::min(lease, std::max(*settings.worker_dead_timeout - margin, options.tick));
  }
  if (lease == lease_) return;
  lease_ = lease;
  watchdog_.setLease(lease);
  if (lease < options.lease && warned_for_ != lease) {
    warned_for_ = lease;
    context_.log().warn(
        "worker {}: lease shortened from {} ms to {} ms: the cluster declares a worker dead "
        "after {} ms, and the lease must end two ticks ({} ms) before that (how the settings "
        "set failover times: docs/worker.md#failover-time)",
        context_.shownName(), options.lease.count(), lease.count(),
        settings.worker_dead_timeout->count(), (2 * options.tick).count());
  } else if (lease == options.lease) {
    context_.log().info("worker {}: lease back to {} ms", context_.shownName(), lease.count());
  }
}

void WorkerLease::renewed(SteadyTime sent) {
  renewed_from_ = sent;
  watchdog_.renew(sent);
  try {
    context_.runner.renewLease(sent + lease_);
  } catch (const std::exception& e) {
    context_.log().error("worker {}: runner renewLease failed: {}", context_.shownName(),
                         escapeControl(e.what()));
  }
}

}  // namespace qtopology::detail
