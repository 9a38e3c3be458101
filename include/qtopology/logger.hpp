// Where the library's parts write their log lines: an interface of the
// library's own, so that a host can route them anywhere (its own logging,
// its own spdlog build, a test's counter) with no logging library's type in
// this API.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace qtopology {

enum class LogLevel { trace, debug, info, warn, error };

// "trace", "debug", "info", "warn", "error".
std::string_view toString(LogLevel level) noexcept;

// Implemented by the host. Called from any of the library's threads (a
// worker's loop and its lease watchdog, a coordinator's callers), so
// log() and enabled() must be thread-safe. Neither may throw: a failure to
// log must not fail a storage call or a worker's tick.
class Logger {
 public:
  virtual ~Logger() = default;
  // One line; `message` has no trailing newline and is valid only for the call.
  virtual void log(LogLevel level, std::string_view message) noexcept = 0;
  // Whether a message at `level` would be kept: the library formats nothing
  // for a level that is not. The default keeps everything.
  virtual bool enabled(LogLevel level) const noexcept {
    static_cast<void>(level);
    return true;
  }
};

// The library's default, what a nullptr logger in the options means: spdlog's
// default logger, in the spdlog the library was built with.
std::shared_ptr<Logger> defaultLogger();

// A Logger writing to the spdlog logger registered as `name` in the spdlog
// the library was built with (spdlog::get), or to its default logger when
// none is. For hosts that configure spdlog themselves and share that build.
std::shared_ptr<Logger> spdlogLogger(const std::string& name);

}  // namespace qtopology
