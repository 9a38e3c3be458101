// A logger that counts what the library logs, so a test can tell how many
// calls were retried without parsing text.
#pragma once

#include <atomic>
#include <memory>

#include <qtopology/logger.hpp>

namespace qtopology::testing {

class CountingLogger final : public Logger {
 public:
  std::atomic<long> warnings{0};
  std::atomic<long> errors{0};

  void log(LogLevel level, std::string_view) noexcept override {
    if (level == LogLevel::warn) ++warnings;
    if (level == LogLevel::error) ++errors;
  }
  // Only what is counted: the library formats nothing else.
  bool enabled(LogLevel level) const noexcept override { return level >= LogLevel::warn; }
};

}  // namespace qtopology::testing
