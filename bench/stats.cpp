#include "stats.hpp"

#include <algorithm>
#include <cmath>

namespace bench {

void Recorder::merge(const Recorder& other) {
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  busy_ns_ += other.busy_ns_;
  sorted_ = false;
}

double Recorder::percentileUs(double p) const {
  if (samples_.empty()) return 0;
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  // nearest rank
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(samples_.size())));
  const std::size_t index = std::min(samples_.size() - 1, rank == 0 ? 0 : rank - 1);
  return static_cast<double>(samples_[index]) / 1000.0;
}

Summary Recorder::serial() const {
  Summary s;
  s.count = samples_.size();
  if (s.count == 0) return s;
  s.p50_us = percentileUs(50);
  s.p99_us = percentileUs(99);
  s.per_s = static_cast<double>(s.count) * 1e9 / static_cast<double>(busy_ns_);
  return s;
}

Summary Recorder::over(double wall_seconds) const {
  Summary s = serial();
  if (s.count > 0 && wall_seconds > 0) s.per_s = static_cast<double>(s.count) / wall_seconds;
  return s;
}

}  // namespace bench
