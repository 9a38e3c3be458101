// Latency samples and their summary.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bench {

struct Summary {
  double p50_us = 0;
  double p99_us = 0;
  double per_s = 0;  // calls per second
  std::size_t count = 0;
  bool valid() const { return count > 0; }
};

class Recorder {
 public:
  void add(std::chrono::nanoseconds d) {
    samples_.push_back(d.count());
    busy_ns_ += d.count();
  }
  void merge(const Recorder& other);
  std::size_t count() const { return samples_.size(); }
  // Single-thread figures: calls/s is 1 / mean latency of back-to-back calls,
  // so untimed set-up between calls (sending the message a read then takes)
  // does not count.
  Summary serial() const;
  // Concurrent figures: calls/s over the wall-clock time of the whole run.
  Summary over(double wall_seconds) const;
  double percentileUs(double p) const;

 private:
  mutable std::vector<std::int64_t> samples_;
  mutable bool sorted_ = false;
  std::int64_t busy_ns_ = 0;
};

using Clock = std::chrono::steady_clock;

template <class F>
std::chrono::nanoseconds timed(F&& f) {
  const auto start = Clock::now();
  f();
  return Clock::now() - start;
}

}  // namespace bench
