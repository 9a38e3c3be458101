#include "retry_policy.hpp"

#include <qtopology/mysql_options.hpp>

#include <algorithm>
#include <random>
#include <thread>

namespace qtopology::detail {
namespace {

double randomJitter() {
  thread_local std::minstd_rand random(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(random);
}

}  // namespace

RetryPolicy::RetryPolicy(int retries, std::chrono::milliseconds longest_wait,
                         std::chrono::milliseconds first_wait, Sleep sleep, Jitter jitter)
    : retries_(std::max(retries, 0)),
      longest_wait_(longest_wait),
      first_wait_(first_wait),
      sleep_(sleep ? std::move(sleep)
                   : Sleep([](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); })),
      jitter_(jitter ? std::move(jitter) : Jitter(randomJitter)) {}

RetryPolicy RetryPolicy::from(const MySqlOptions& options) {
  return RetryPolicy(options.retries, options.retry_timeout);
}

std::chrono::milliseconds RetryPolicy::delay(int failures) const {
  // 2^10 doublings of 50 ms is far past any sensible cap; stop there so the
  // shift cannot overflow
  const double full = static_cast<double>(first_wait_.count()) *
                      static_cast<double>(1L << std::clamp(failures, 0, 10));
  const double jitter = std::clamp(jitter_(), 0.0, 1.0);
  const auto wait = std::chrono::milliseconds(static_cast<long long>(full / 2 + jitter * full / 2));
  return std::min(wait, longest_wait_);
}

std::optional<std::chrono::milliseconds> RetryPolicy::nextWait(int failures) const {
  if (failures >= retries_) return std::nullopt;
  return delay(failures);
}

void RetryPolicy::sleep(std::chrono::milliseconds wait) const { sleep_(wait); }

}  // namespace qtopology::detail
