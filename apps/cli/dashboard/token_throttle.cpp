#include "token_throttle.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace qtopology::cli::dashboard {

std::optional<TokenThrottle::Clock::time_point> TokenThrottle::admit(const std::string& address,
                                                                     Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = entries_.find(address);
  if (it == entries_.end()) return now;
  auto& entry = it->second;
  const auto at = std::max(now, entry.next_check);
  if (at - now > limits_.longest_wait) return std::nullopt;
  // The next check waits behind this one, whatever its outcome: parallel
  // guesses are spaced as sequential ones are.
  entry.next_check = at + delayAfter(entry.failures);
  return at;
}

void TokenThrottle::failed(const std::string& address, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(address);
  if (it == entries_.end()) {
    makeRoom(now);
    it = entries_.emplace(address, Entry{0, now, now}).first;
  }
  auto& entry = it->second;
  if (entry.failures < 64) ++entry.failures;
  entry.last_failure = now;
  entry.next_check = std::max(entry.next_check, now + delayAfter(entry.failures));
}

void TokenThrottle::succeeded(const std::string& address) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.erase(address);
}

std::chrono::milliseconds TokenThrottle::delayAfter(unsigned failures) const {
  if (failures == 0) return std::chrono::milliseconds(0);
  auto delay = limits_.first_delay;
  for (unsigned i = 1; i < failures && delay < limits_.longest_delay; ++i) delay *= 2;
  return std::min(delay, limits_.longest_delay);
}

std::size_t TokenThrottle::addressesHeld() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

void TokenThrottle::makeRoom(Clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = now - it->second.last_failure > limits_.forget_after ? entries_.erase(it) : std::next(it);
  }
  while (entries_.size() >= limits_.addresses && !entries_.empty()) {
    entries_.erase(std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
      return a.second.last_failure < b.second.last_failure;
    }));
  }
}

std::string throttleKey(const std::string& address) {
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return address;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &v6.s6_addr[12], text, sizeof text);
    return text;
  }
  std::fill(std::begin(v6.s6_addr) + 8, std::end(v6.s6_addr), 0);
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &v6, text, sizeof text);
  return std::string(text) + "/64";
}

}  // namespace qtopology::cli::dashboard
