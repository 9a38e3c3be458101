#include "log_rate_limit.hpp"

#include <algorithm>
#include <utility>

namespace qtopology::worker {

LogRateLimit::LogRateLimit(std::size_t bytes_per_second, std::size_t burst, Clock::time_point now)
    : rate_(bytes_per_second),
      burst_(static_cast<double>(std::max(burst, bytes_per_second))),
      tokens_(burst_),
      refilled_(now),
      reported_(now) {}

void LogRateLimit::refill(Clock::time_point now) {
  if (now <= refilled_) return;
  const double seconds = std::chrono::duration<double>(now - refilled_).count();
  tokens_ = std::min(burst_, tokens_ + seconds * static_cast<double>(rate_));
  refilled_ = now;
}

bool LogRateLimit::admit(std::size_t size, Clock::time_point now) {
  if (rate_ == 0) return true;
  refill(now);
  const auto cost = static_cast<double>(size + kLineOverhead);
  if (tokens_ >= cost) {
    tokens_ -= cost;
    return true;
  }
  // A line larger than the whole bucket would never pass: it takes what is
  // there once the bucket is full.
  if (cost > burst_ && tokens_ >= burst_) {
    tokens_ = 0;
    return true;
  }
  ++dropped_.lines;
  dropped_.bytes += size;
  return false;
}

std::optional<LogRateLimit::Dropped> LogRateLimit::report(Clock::time_point now, bool final) {
  if (dropped_.lines == 0) return std::nullopt;
  if (!final && now - reported_ < std::chrono::seconds(1)) return std::nullopt;
  reported_ = now;
  return std::exchange(dropped_, Dropped{});
}

}  // namespace qtopology::worker
