// How long this worker's lease is and where it runs from. The lease must end
// before the leader may declare the worker dead and give its topologies away,
// so it follows the cluster's worker_dead_timeout_s: the shorter of
// WorkerOptions::lease and that timeout less two ticks (a heartbeat that is
// due may come a tick late, and the leader's refresh runs on its own
// schedule). It runs from the moment a successful heartbeat that *wrote* the
// ping was *sent*: the storage stamps the ping when the call runs, which may
// be long before its reply arrives, and a heartbeat that skipped the write
// (WorkerHeartbeat::wrote) left the cluster judging the worker by the older
// ping. Each renewal goes to the watchdog and to the runner.
#pragma once

#include <chrono>
#include <optional>

#include "cluster_settings.hpp"
#include "lease_watchdog.hpp"
#include "worker_context.hpp"

namespace qtopology::detail {

// Loop thread only; never throws.
class WorkerLease {
 public:
  WorkerLease(WorkerContext& context, LeaseWatchdog& watchdog)
      : context_(context), watchdog_(watchdog), lease_(context.options.lease) {}

  // The cluster's settings as just read. Warns once for each shortened lease
  // it starts to use.
  void follow(const ClusterSettings& settings);
  // A ping written by a call sent at `sent` (registration, or a heartbeat
  // that wrote) succeeded.
  void renewed(SteadyTime sent);
  // Half the lease has passed since the last renewal's send: time to force a
  // ping, should the storage's write interval be long against this lease.
  bool halfSpent(SteadyTime now) const { return now - renewed_from_ >= lease_ / 2; }
  std::chrono::milliseconds duration() const { return lease_; }

 private:
  WorkerContext& context_;
  LeaseWatchdog& watchdog_;
  std::chrono::milliseconds lease_;
  SteadyTime renewed_from_{};
  std::optional<std::chrono::milliseconds> warned_for_;
};

}  // namespace qtopology::detail
