// The logger a part of the library writes to: the one its options name, else
// spdlog's default logger.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace qtopology::detail {

inline spdlog::logger& loggerOr(const std::shared_ptr<spdlog::logger>& logger) {
  return logger ? *logger : *spdlog::default_logger_raw();
}

}  // namespace qtopology::detail
