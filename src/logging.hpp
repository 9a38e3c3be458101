// The logger all parts of the library write to.
#pragma once

#include <spdlog/spdlog.h>

#include <qtopology/mysql_options.hpp>

namespace qtopology::detail {

inline spdlog::logger& loggerOf(const MySqlOptions& options) {
  return options.logger ? *options.logger : *spdlog::default_logger_raw();
}

}  // namespace qtopology::detail
