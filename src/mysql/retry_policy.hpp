// The one retry policy of the library: how many times a failed step is tried
// again, and how long to wait before each try. Every retry loop (calls,
// connecting and migrating, schema statements, the migration lock) uses it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>

namespace qtopology {
struct MySqlOptions;
}

namespace qtopology::detail {

class RetryPolicy {
 public:
  using Sleep = std::function<void(std::chrono::milliseconds)>;
  // A number in [0, 1): where in its jitter range a wait falls.
  using Jitter = std::function<double()>;

  // `retries` tries after the first; waits start at `first_wait`, double, and
  // never exceed `longest_wait`. Tests pass their own sleep and jitter.
  RetryPolicy(int retries, std::chrono::milliseconds longest_wait,
              std::chrono::milliseconds first_wait = kFirstWait, Sleep sleep = {},
              Jitter jitter = {});

  // MySqlOptions::retries and retry_timeout.
  static RetryPolicy from(const MySqlOptions& options);

  int retries() const { return retries_; }

  // The wait before try number `failures` + 1, `failures` tries having failed:
  // between half and all of first_wait * 2^failures, capped. Jitter keeps
  // callers that failed together (a deadlock, a restart) from retrying in step.
  std::chrono::milliseconds delay(int failures) const;

  // After `failures` failed tries: the wait before the next one, or nothing
  // when the budget is spent.
  std::optional<std::chrono::milliseconds> nextWait(int failures) const;

  void sleep(std::chrono::milliseconds wait) const;

  // Runs `attempt` until it returns. When it throws an E for which
  // `retriable(e)` holds and the budget allows, reports the retry through
  // `on_retry(e, try_number, wait)`, waits and tries again; otherwise the
  // exception propagates unchanged.
  template <typename E, typename Attempt, typename Retriable, typename OnRetry>
  auto run(Attempt&& attempt, Retriable&& retriable, OnRetry&& on_retry) const
      -> decltype(attempt()) {
    for (int failures = 0;; ++failures) {
      try {
        return attempt();
      } catch (const E& e) {
        const auto wait = retriable(e) ? nextWait(failures) : std::nullopt;
        if (!wait) throw;
        on_retry(e, failures + 1, *wait);
        sleep(*wait);
      }
    }
  }

  static constexpr std::chrono::milliseconds kFirstWait{50};

 private:
  int retries_;
  std::chrono::milliseconds longest_wait_;
  std::chrono::milliseconds first_wait_;
  Sleep sleep_;
  Jitter jitter_;
};

}  // namespace qtopology::detail
