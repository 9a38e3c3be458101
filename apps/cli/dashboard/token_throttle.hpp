// Slows down guessing: each wrong token from a client address makes the
// next token from that address wait longer before it is checked.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace qtopology::cli::dashboard {

struct ThrottleLimits {
  // The wait after the first wrong token; each further one doubles it, up
  // to `longest_delay`.
  std::chrono::milliseconds first_delay{100};
  std::chrono::milliseconds longest_delay{10000};
  // A token that would have to wait longer than this (others from the same
  // address are queued before it) is refused at once, unchecked.
  std::chrono::milliseconds longest_wait{10000};
  // Addresses remembered at once; past it the one that failed least
  // recently is forgotten.
  std::size_t addresses = 1024;
  // An address with no failure for this long is forgotten.
  std::chrono::milliseconds forget_after{std::chrono::minutes(15)};
};

// Thread-safe. The caller asks admit() when a request that carries a token
// arrives, waits until the time it answers without holding a thread, then
// checks the token and reports the outcome with failed() or succeeded().
// Checks from one address are spaced by its current delay, so parallel
// connections do not guess faster than one.
class TokenThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit TokenThrottle(ThrottleLimits limits = {}) : limits_(limits) {}

  // When a token from `address` may be checked (`now` when it has no
  // recent failure); nullopt when that would be more than longest_wait away:
  // refuse the request (429) without checking its token.
  std::optional<Clock::time_point> admit(const std::string& address, Clock::time_point now);
  void failed(const std::string& address, Clock::time_point now);
  // The address starts afresh.
  void succeeded(const std::string& address);

  // The delay after `failures` wrong tokens in a row.
  std::chrono::milliseconds delayAfter(unsigned failures) const;
  std::size_t addressesHeld() const;

 private:
  struct Entry {
    unsigned failures = 0;
    Clock::time_point next_check;    // no check before this
    Clock::time_point last_failure;  // for forgetting
  };
  void makeRoom(Clock::time_point now);

  const ThrottleLimits limits_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

// The key of a client address: an IPv4 address whole, an IPv6 one by its
// /64 (one host usually holds a whole /64), an IPv4-mapped one as IPv4.
std::string throttleKey(const std::string& address);

}  // namespace qtopology::cli::dashboard
