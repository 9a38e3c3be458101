// A spdlog logger that counts what the library logs, so a test can tell how
// many calls were retried without parsing text.
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <mutex>

namespace qtopology::testing {

class CountingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::atomic<long> warnings{0};
  std::atomic<long> errors{0};

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level == spdlog::level::warn) ++warnings;
    if (msg.level >= spdlog::level::err) ++errors;
  }
  void flush_() override {}
};

inline std::shared_ptr<spdlog::logger> countingLogger(const std::shared_ptr<CountingSink>& sink) {
  auto logger = std::make_shared<spdlog::logger>("qtopology-test", sink);
  logger->set_level(spdlog::level::warn);
  return logger;
}

}  // namespace qtopology::testing
