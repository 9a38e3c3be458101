#include "leadership.hpp"

#include <cmath>

namespace qtopology::detail {

bool isLiveLeader(const WorkerStatus& w, TimePoint now, std::chrono::milliseconds timeout) {
  return w.lstatus == Leadership::leader && w.status == WorkerState::alive &&
         now - w.last_ping <= timeout;
}

void LeaderFinder::consider(const WorkerStatus& w) {
  if (w.lstatus != Leadership::leader) return;
  const bool live = isLiveLeader(w, now_, timeout_);
  if (leader_ && (alive_ > live || (alive_ == live && *leader_ > w.name))) return;
  leader_ = w.name;
  alive_ = live;
}

std::chrono::milliseconds leaderTimeoutOf(const std::vector<StorageProperty>& properties) {
  for (const auto& p : properties) {
    if (p.key != "leader_timeout_s") continue;
    try {
      const double seconds = std::stod(p.value);
      if (std::isfinite(seconds) && seconds > 0 && seconds < 1e9) {
        return std::chrono::milliseconds(std::llround(seconds * 1000.0));
      }
    } catch (const std::exception&) {
    }
  }
  return kDefaultLeaderTimeout;
}

}  // namespace qtopology::detail
