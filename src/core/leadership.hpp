// The "live leader" rule, the one every storage and the interface's default
// heartbeat apply: a worker row is the live leader when it is marked
// "leader", is "alive", and pinged at most the leader timeout before the
// storage's now (the boundary included, as MySQL's `last_ping >= now -
// interval` is).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::detail {

// What a storage that reports no leader_timeout_s assumes; the MySQL
// schema's default for the setting.
inline constexpr std::chrono::seconds kDefaultLeaderTimeout{10};

bool isLiveLeader(const WorkerStatus& w, TimePoint now, std::chrono::milliseconds timeout);

// Which row a heartbeat reports as the leader. Several rows may be marked
// leader when a peer wrote them (or one went silent): a live one wins over
// a stale one, and among equals the greatest name, which is what MySQL's
// heartbeat reports. Feed it every worker row, in any order.
class LeaderFinder {
 public:
  LeaderFinder(TimePoint now, std::chrono::milliseconds timeout) : now_(now), timeout_(timeout) {}
  void consider(const WorkerStatus& w);
  const std::optional<std::string>& leader() const { return leader_; }
  bool alive() const { return alive_; }

 private:
  TimePoint now_;
  std::chrono::milliseconds timeout_;
  std::optional<std::string> leader_;
  bool alive_ = false;
};

// The storage's leader_timeout_s property (seconds, may be fractional), or
// kDefaultLeaderTimeout when it is absent or not a positive number.
std::chrono::milliseconds leaderTimeoutOf(const std::vector<StorageProperty>& properties);

}  // namespace qtopology::detail
