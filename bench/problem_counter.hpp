// Counts the warnings and errors the workers log, so a cluster step can say
// whether it ran cleanly without anyone reading the log.
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

namespace bench {

class ProblemCounter final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  long count() const { return problems_.load(); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level >= spdlog::level::warn) ++problems_;
  }
  void flush_() override {}

 private:
  std::atomic<long> problems_{0};
};

}  // namespace bench
