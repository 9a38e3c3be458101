// What the parts of one TopologyWorker share: the storage and the runner it
// was given, its options, its logger, whether it takes work, and the two
// rules every part follows for failures: a storage error is logged and the
// step retried later, a runner's exception is logged and survived.
#pragma once

#include "core/logging.hpp"

#include <atomic>
#include <chrono>
#include <exception>
#include <string>

#include <qtopology/worker.hpp>

#include "cluster_settings.hpp"
#include "core/logging.hpp"
#include "core/printable.hpp"

namespace qtopology::detail {

using SteadyTime = std::chrono::steady_clock::time_point;

// Used from the loop thread only, except `shutdown_requested`.
struct WorkerContext {
  WorkerContext(CoordinationStorage& s, TopologyRunner& r, const WorkerOptions& o)
      : storage(s), runner(r), options(o), shown_name_(escapeControl(o.name)) {}

  CoordinationStorage& storage;
  TopologyRunner& runner;
  const WorkerOptions& options;

  // Why the worker would not take work now. The tick and the messages set
  // them; every part reads them through accepting().
  std::atomic<bool> shutdown_requested{false};
  bool shutdown_message = false;
  bool disabled = false;
  bool lease_lapsed = false;
  // The cluster's settings as last read from the storage.
  ClusterSettings settings;

  const std::string& name() const { return options.name; }
  // The name as a log line shows it: every text from outside (names, uuids,
  // error texts, what a child wrote) goes through escapeControl there.
  const std::string& shownName() const { return shown_name_; }
  // An empty clock is the steady clock, here as in the watchdog.
  SteadyTime now() const {
    return options.clock ? options.clock() : std::chrono::steady_clock::now();
  }
  detail::Log log() const { return loggerOr(options.logger); }

  // Not accepting: stopping for good, disabled, or unsure the lease still
  // holds. Such a worker starts nothing and never campaigns.
  bool accepting() const {
    return !shutdown_message && !shutdown_requested && !disabled && !lease_lapsed;
  }
  bool keepRunning() const { return !shutdown_message && !shutdown_requested; }

  // Runs one storage step; false when it threw a StorageError (logged).
  template <typename Step>
  bool guarded(const char* what, Step&& step) {
    try {
      step();
      return true;
    } catch (const StorageError& e) {
      log().warn("worker {}: {} failed: {}", shownName(), escapeControl(what),
                 escapeControl(e.what()));
      return false;
    }
  }

  template <typename Call>
  void callRunner(const char* what, const std::string& uuid, Call&& call) noexcept {
    try {
      call();
    } catch (const std::exception& e) {
      log().error("worker {}: runner {} of topology {} failed: {}", shownName(), what,
                  escapeControl(uuid), escapeControl(e.what()));
    }
  }

 private:
  const std::string shown_name_;
};

}  // namespace qtopology::detail
