// The logger a part of the library writes to: the one its options name, else
// the library's default (spdlog's default logger), behind a front that
// formats with fmt only when the level is kept.
#pragma once

#include <fmt/format.h>

#include <memory>
#include <string>
#include <utility>

#include <qtopology/coordination_storage.hpp>
#include <qtopology/logger.hpp>

namespace qtopology::detail {

// Cheap to copy; refers to a Logger that outlives it (the options' shared
// pointer, or the process-wide default).
class Log {
 public:
  explicit Log(Logger& logger) : logger_(&logger) {}

  template <typename... Args>
  void trace(fmt::format_string<Args...> format, Args&&... args) const {
    write(LogLevel::trace, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) const {
    write(LogLevel::debug, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) const {
    write(LogLevel::info, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void warn(fmt::format_string<Args...> format, Args&&... args) const {
    write(LogLevel::warn, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void error(fmt::format_string<Args...> format, Args&&... args) const {
    write(LogLevel::error, format, std::forward<Args>(args)...);
  }

  Logger& logger() const { return *logger_; }

 private:
  template <typename... Args>
  void write(LogLevel level, fmt::format_string<Args...> format, Args&&... args) const {
    if (!logger_->enabled(level)) return;
    std::string line;
    try {
      line = fmt::format(format, std::forward<Args>(args)...);
    } catch (const std::exception&) {
      return;  // out of memory while formatting: lose the line, not the call
    }
    logger_->log(level, line);
  }

  Logger* logger_;
};

// The process-wide default behind defaultLogger(), never destroyed.
Logger& defaultLoggerRef();

inline Log loggerOr(const std::shared_ptr<Logger>& logger) {
  return Log(logger ? *logger : defaultLoggerRef());
}

}  // namespace qtopology::detail

// Statuses in log lines, by their spelling.
namespace qtopology::detail {
template <typename Status>
struct StatusFormatter : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(Status status, Context& context) const {
    return fmt::formatter<std::string_view>::format(qtopology::toString(status), context);
  }
};
}  // namespace qtopology::detail

template <>
struct fmt::formatter<qtopology::WorkerState>
    : qtopology::detail::StatusFormatter<qtopology::WorkerState> {};
template <>
struct fmt::formatter<qtopology::Leadership>
    : qtopology::detail::StatusFormatter<qtopology::Leadership> {};
template <>
struct fmt::formatter<qtopology::TopologyState>
    : qtopology::detail::StatusFormatter<qtopology::TopologyState> {};
