// The leader's side of one worker: campaigning when the seat is free, and,
// while it holds the seat, every leader_loop: refreshStatuses(), the plan of
// leader_plan over what it read (less the invalid rows), written fenced by
// applyLeaderActions().
#pragma once

#include <chrono>

#include "invalid_rows.hpp"
#include "worker_context.hpp"

namespace qtopology::detail {

// Loop thread only. step() throws the storage's errors.
class LeaderDuties {
 public:
  explicit LeaderDuties(WorkerContext& context) : context_(context) {}

  bool isLeader() const { return leader_; }
  // What the heartbeat says about our seat wins over what we believed.
  void follow(const WorkerHeartbeat& beat);
  // Campaigns when no leader is alive; runs the leader loop when one is due.
  void step(const WorkerHeartbeat& beat);
  // A rebalance message: the next leader loop rebalances.
  void requestRebalance() { rebalance_requested_ = true; }
  // The seat is lost whatever the storage says (lease lapsed, found dead).
  void forget() { leader_ = false; }
  // Gives the seat up in the storage too; false when that write failed.
  bool resign();

 private:
  void loop();
  bool stillLeader(const std::vector<WorkerStatus>& workers);
  void logActions(const LeaderActions& actions);
  std::chrono::milliseconds rebalanceInterval() const;

  WorkerContext& context_;
  bool leader_ = false;
  bool rebalance_requested_ = false;
  SteadyTime next_loop_{};
  SteadyTime next_rebalance_{};
  InvalidRows invalid_rows_;  // left out of every plan
};

}  // namespace qtopology::detail
