#include "lease_watchdog.hpp"

#include "core/logging.hpp"

#include "core/printable.hpp"

#include <algorithm>
#include <utility>

namespace qtopology::detail {
namespace {

// An injected clock may be a test's, which real waits cannot follow: the
// thread looks at it at least this often.
constexpr std::chrono::milliseconds kInjectedClockPoll{100};

long long millis(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

LeaseWatchdog::LeaseWatchdog(std::string worker, TopologyRunner& runner,
                             std::chrono::milliseconds lease, Clock clock,
                             std::shared_ptr<Logger> logger)
    : shown_worker_(escapeControl(worker)),
      runner_(runner),
      clock_(std::move(clock)),
      logger_(std::move(logger)),
      lease_(lease),
      renewed_(now()) {}

LeaseWatchdog::~LeaseWatchdog() { stop(); }

void LeaseWatchdog::start() {
  renew();
  Lock lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { watch(); });
}

void LeaseWatchdog::stop() {
  {
    Lock lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaseWatchdog::renew() { renew(now()); }

void LeaseWatchdog::renew(std::chrono::steady_clock::time_point from) {
  bool was_expired = false;
  {
    Lock lock(mutex_);
    renewed_ = std::max(renewed_, from);
    was_expired = std::exchange(expired_, false);
  }
  // Only a thread parked on an expired lease needs waking: one waiting for
  // the old deadline finds the new one when it wakes. (Every tick notifying
  // was most of the client's CPU with thousands of workers in one process.)
  if (was_expired) changed_.notify_all();
}

void LeaseWatchdog::setLease(std::chrono::milliseconds lease) {
  {
    Lock lock(mutex_);
    lease_ = lease;
  }
  // A shorter lease may end before the deadline the thread sleeps towards.
  changed_.notify_all();
}

bool LeaseWatchdog::expireIfDue() {
  Lock lock(mutex_);
  if (!expired_ && due(lock)) expire(lock);
  return expired_;
}

bool LeaseWatchdog::track(const std::string& uuid) {
  Lock lock(mutex_);
  if (!expired_ && due(lock)) expire(lock);
  if (!expired_) {
    tracked_.insert(uuid);
    return true;
  }
  loggerOr(logger_).error("worker {}: lease lapsed while topology {} started; killing it",
                          shown_worker_, escapeControl(uuid));
  runner_.kill(uuid);
  return false;
}

void LeaseWatchdog::untrack(const std::string& uuid) {
  Lock lock(mutex_);
  tracked_.erase(uuid);
}

std::chrono::steady_clock::time_point LeaseWatchdog::now() const {
  return clock_ ? clock_() : std::chrono::steady_clock::now();
}

bool LeaseWatchdog::due(const Lock&) const { return now() - renewed_ > lease_; }

// Kills under the lock, so that a topology started meanwhile is either among
// these or killed by track(), and so that whoever next takes the lock sees
// the runner's state after the kills.
void LeaseWatchdog::expire(Lock&) {
  expired_ = true;
  loggerOr(logger_).error(
      "worker {}: no successful heartbeat for {} ms (lease {} ms); killing {} topologies before "
      "they may be reassigned",
      shown_worker_, millis(now() - renewed_), lease_.count(), tracked_.size());
  for (const auto& uuid : tracked_) {
    try {
      runner_.kill(uuid);
    } catch (const std::exception& e) {
      loggerOr(logger_).error("worker {}: runner kill of topology {} failed: {}", shown_worker_,
                              escapeControl(uuid), escapeControl(e.what()));
    }
  }
  tracked_.clear();
}

void LeaseWatchdog::watch() {
  Lock lock(mutex_);
  while (!stopping_) {
    if (expired_) {
      changed_.wait(lock, [&] { return stopping_ || !expired_; });
      continue;
    }
    if (due(lock)) {
      expire(lock);
      continue;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(renewed_ + lease_ - now()) +
                std::chrono::milliseconds(1);
    if (clock_) left = std::min(left, kInjectedClockPoll);
    changed_.wait_for(lock, std::max(left, std::chrono::milliseconds(1)));
  }
}

}  // namespace qtopology::detail
