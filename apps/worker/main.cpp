// qtopology-worker: the reference QTopology worker on MySQL/MariaDB, a thin
// host over the library's TopologyWorker that runs topologies as processes.
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <sys/prctl.h>

#include <csignal>
#include <iostream>
#include <memory>

#include <qtopology/mysql_coordinator.hpp>
#include <qtopology/text.hpp>

#include "node_runtime.hpp"
#include "process_runner.hpp"
#include "secret_arguments.hpp"
#include "simulated_runner.hpp"
#include "worker_options.hpp"

namespace {

qtopology::TopologyWorker* g_worker = nullptr;

extern "C" void onSignal(int) {
  if (g_worker) g_worker->requestShutdown();
}

void setUpLogging(const std::string& name, spdlog::level::level_enum level) {
  // Asynchronous, and dropping the oldest lines when the queue is full: a
  // slow stdout (a pipe to a log shipper that lags) must never hold up the
  // heartbeat, whose lease would run out, nor the runner's thread.
  spdlog::init_thread_pool(8192, 1);
  auto logger = spdlog::create_async_nb<spdlog::sinks::stdout_color_sink_mt>(name);
  // One line per event, prefixed with the worker so the logs of a cluster
  // can be read interleaved. The library logs through the same logger.
  logger->set_pattern("%H:%M:%S.%e %-9n %^%-5l%$ %v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace

int main(int argc, char** argv) {
  // The very first thing, before the options (the URL, maybe with its
  // password) are even read: topologies run as our user, and without this
  // any of them could read our environment and memory through /proc/PID.
  // Not dumpable, those files belong to root. Core dumps of the worker go
  // too.
  ::prctl(PR_SET_DUMPABLE, 0);
  using namespace qtopology;
  std::optional<worker::CommandLineOptions> options;
  try {
    options = worker::parseWorkerOptions(argc, argv);
    apps::hidePasswordsInArguments(argc, argv);
  } catch (const worker::UsageError& e) {
    std::cerr << "qtopology-worker: " << e.what() << "\n";
    return 2;
  }
  if (!options) return 0;
  setUpLogging(options->worker.name, options->trace     ? spdlog::level::trace
                                     : options->verbose ? spdlog::level::debug
                                                        : spdlog::level::info);

  try {
    std::unique_ptr<TopologyRunner> runner;
    if (options->simulate) {
      runner = std::make_unique<worker::SimulatedRunner>();
    } else {
      worker::ProcessRunnerOptions runner_options;
      runner_options.worker = options->worker.name;
      runner_options.grace = options->grace;
      runner_options.environment = options->environment;
      runner_options.overrides = options->overrides;
      // Once, at start: a worker that cannot run Node topologies says so
      // now, and refuses each of them with the same text.
      runner_options.node =
          worker::findNodeRuntime({options->node, options->node_modules, options->environment});
      if (runner_options.node.available()) {
        spdlog::info("Node topologies run on {} with qtopology {} ({})",
                     escapeControl(runner_options.node.node),
                     escapeControl(runner_options.node.version),
                     escapeControl(runner_options.node.wrapper));
      } else {
        spdlog::warn("{}", escapeControl(runner_options.node.problem));
      }
      runner_options.logger = options->worker.logger;  // the library's default unless set
      runner = std::make_unique<worker::ProcessRunner>(std::move(runner_options));
    }
    if (options->dormant) {
      auto schedule = std::make_shared<worker::DormancySchedule>(*options->dormant);
      options->worker.dormant = [schedule] { return schedule->includesNow(); };
      spdlog::info("dormant while the local time is inside '{}'", escapeControl(schedule->text()));
    }
    MySqlCoordinator storage(options->storage);
    TopologyWorker topology_worker(storage, *runner, options->worker);
    g_worker = &topology_worker;
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    topology_worker.run();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    g_worker = nullptr;
    spdlog::info("exiting");
    spdlog::shutdown();  // what the queue still holds reaches stdout
    return 0;
  } catch (const StorageError& e) {
    spdlog::error("{}", e.what());
    spdlog::shutdown();
    return 1;
  } catch (const std::runtime_error& e) {  // no supervisor to run topologies with
    spdlog::error("{}", e.what());
    spdlog::shutdown();
    return 1;
  }
}
