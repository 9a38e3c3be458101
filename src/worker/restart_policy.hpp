// The optional restart policy of a topology, general.restart {max, window_s}:
// a topology that fails is started again up to `max` times within any
// `window_s` seconds before it is reported in error. Generic for every
// TopologyRunner, so it lives in the worker, not in a runner.
#pragma once

#include <chrono>
#include <deque>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::detail {

struct RestartPolicy {
  int max = 0;  // 0: never restart (no general.restart)
  std::chrono::milliseconds window{0};
};

// Reads general.restart of a topology config. Throws InvalidArgument naming
// the field when it is there but malformed: max must be a non-negative
// integer, window_s a positive number.
RestartPolicy restartPolicyOf(const Json& config);

// The restarts one running topology has used.
class RestartBudget {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RestartBudget(RestartPolicy policy) : policy_(policy) {}

  // True, and counted, when one more restart at `now` stays within the
  // policy: fewer than max restarts in the window that ends now.
  bool allow(Clock::time_point now);
  // Restarts counted within the window that ended at the last allow().
  int used() const { return static_cast<int>(restarts_.size()); }
  const RestartPolicy& policy() const { return policy_; }

 private:
  RestartPolicy policy_;
  std::deque<Clock::time_point> restarts_;
};

}  // namespace qtopology::detail
