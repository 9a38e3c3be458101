// Random keys for the server to recognise a caller by: message keys, claim
// keys, migration lock tokens.
#pragma once

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

namespace qtopology::detail {

// 128 random bits as 32 hex digits.
inline std::string randomKey() {
  thread_local std::mt19937_64 random([] {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }());
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(random()),
                static_cast<unsigned long long>(random()));
  return text;
}

}  // namespace qtopology::detail
