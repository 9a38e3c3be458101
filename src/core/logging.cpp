// The library's one tie to spdlog: the default logger and the adapter.
#include "logging.hpp"

#include <spdlog/spdlog.h>

namespace qtopology {
namespace {

spdlog::level::level_enum spdlogLevel(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return spdlog::level::trace;
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      break;
  }
  return spdlog::level::err;
}

// Looks the spdlog logger up at each line rather than holding it, so that a
// host replacing spdlog's default logger (spdlog::set_default_logger) or
// registering `name` later is followed.
class SpdlogLogger final : public Logger {
 public:
  explicit SpdlogLogger(std::string name) : name_(std::move(name)) {}

  void log(LogLevel level, std::string_view message) noexcept override {
    try {
      target()->log(spdlogLevel(level), "{}", message);
    } catch (...) {
      // A sink that throws must not fail the library's call.
    }
  }
  bool enabled(LogLevel level) const noexcept override {
    try {
      return target()->should_log(spdlogLevel(level));
    } catch (...) {
      return false;
    }
  }

 private:
  std::shared_ptr<spdlog::logger> target() const {
    if (!name_.empty()) {
      if (auto named = spdlog::get(name_)) return named;
    }
    return spdlog::default_logger();
  }

  std::string name_;
};

}  // namespace

std::string_view toString(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::trace:
      return "trace";
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      break;
  }
  return "error";
}

std::shared_ptr<Logger> defaultLogger() {
  // Never destroyed: a worker's watchdog may log while statics are.
  static const auto* const instance =
      new std::shared_ptr<Logger>(std::make_shared<SpdlogLogger>(std::string()));
  return *instance;
}

std::shared_ptr<Logger> spdlogLogger(const std::string& name) {
  return std::make_shared<SpdlogLogger>(name);
}

namespace detail {
Logger& defaultLoggerRef() {
  static Logger& instance = *defaultLogger();
  return instance;
}
}  // namespace detail

}  // namespace qtopology
