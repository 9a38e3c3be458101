// qtopology-worker: the reference QTopology worker on MySQL/MariaDB.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

#include "worker.hpp"
#include "worker_options.hpp"

namespace {

std::atomic<int> g_signal{0};

extern "C" void onSignal(int signal) { g_signal = signal; }

// Sleeps until `until` in short slices, so a signal is acted on promptly.
void sleepUntil(std::chrono::steady_clock::time_point until) {
  constexpr auto kSlice = std::chrono::milliseconds(50);
  while (g_signal == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        kSlice, until - std::chrono::steady_clock::now()));
  }
}

void setUpLogging(const std::string& name, bool verbose) {
  auto logger = spdlog::stdout_color_mt(name);
  // One line per event, prefixed with the worker so the logs of a cluster
  // can be read interleaved. The library logs through the same logger.
  logger->set_pattern("%H:%M:%S.%e %-9n %^%-5l%$ %v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace qtopology;
  std::optional<worker::WorkerOptions> options;
  try {
    options = worker::parseWorkerOptions(argc, argv);
  } catch (const worker::UsageError& e) {
    std::cerr << "qtopology-worker: " << e.what() << "\n";
    return 2;
  }
  if (!options) return 0;
  setUpLogging(options->name, options->verbose);
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);

  try {
    MySqlCoordinator storage(MySqlOptions::fromUrl(options->url));
    worker::WorkerSettings settings;
    settings.name = options->name;
    settings.start_ttl = options->start_ttl;
    worker::Worker worker(storage, settings);
    worker.registerSelf();
    while (g_signal == 0 && !worker.shutdownRequested()) {
      const auto next = std::chrono::steady_clock::now() + options->tick;
      spdlog::debug("tick");
      worker.tick();
      sleepUntil(next);
    }
    if (g_signal != 0) spdlog::info("received {}", g_signal == SIGINT ? "SIGINT" : "SIGTERM");
    const bool clean = worker.shutdown();
    spdlog::info("exiting");
    return clean ? 0 : 1;
  } catch (const StorageError& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
