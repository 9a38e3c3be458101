// How much of one topology's stderr the worker logs: a token bucket over
// bytes, so that a child that floods its stderr costs its worker a bounded
// share of the log (and of a slow stdout), whatever it writes. What is not
// logged is counted and reported as one line now and then.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

namespace qtopology::worker {

class LogRateLimit {
 public:
  using Clock = std::chrono::steady_clock;
  // Each line costs its bytes plus this, for the prefix and the timestamp
  // the log adds: many short lines are no cheaper than a few long ones.
  static constexpr std::size_t kLineOverhead = 32;

  struct Dropped {
    std::size_t lines = 0;
    std::size_t bytes = 0;
  };

  // bytes_per_second 0: no limit. The bucket starts full (`burst` bytes).
  LogRateLimit(std::size_t bytes_per_second, std::size_t burst, Clock::time_point now);

  // Whether a line of `size` bytes may be logged now; if not, it is counted
  // as dropped.
  bool admit(std::size_t size, Clock::time_point now);
  // What was dropped since the last report, at most once a second unless
  // `final` (the child ended); nullopt when nothing was, or not yet due.
  std::optional<Dropped> report(Clock::time_point now, bool final);

 private:
  void refill(Clock::time_point now);

  std::size_t rate_;
  double burst_;
  double tokens_;
  Clock::time_point refilled_;
  Clock::time_point reported_;
  Dropped dropped_;
};

}  // namespace qtopology::worker
