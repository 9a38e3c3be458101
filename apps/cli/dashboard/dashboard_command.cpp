// `qtopology-mysql dashboard`: serves the web page and qtopology's API until
// SIGINT or SIGTERM.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "../commands.hpp"
#include "server.hpp"

namespace qtopology::cli {

void dashboardCommand(Context& c) {
  dashboard::ServerSettings settings;
  try {
    settings.listen = dashboard::parseListenAddress(c.line.listen);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  settings.token = c.line.token;
  if (settings.token.empty()) {
    if (const char* env = std::getenv("QTOPOLOGY_DASHBOARD_TOKEN")) settings.token = env;
  }
  settings.read_only = c.line.read_only;
  settings.expected_schema_version = MySqlCoordinator::latestSchemaVersion();

  // Blocked before any thread starts, so all inherit the mask and the one
  // thread below receives the signals, where stopping the server is safe.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto log = spdlog::stderr_color_mt("dashboard");
  log->set_pattern("%Y-%m-%d %H:%M:%S.%e dashboard %v");
  auto& storage = c.storage();
  dashboard::Server server(storage, settings, log);
  const auto& o = c.options();
  const std::string host = settings.listen.host.find(':') == std::string::npos
                               ? settings.listen.host
                               : "[" + settings.listen.host + "]";
  // The address goes to stdout for scripts and tests (port 0 picks one);
  // the database is named without its URL, which holds the password.
  c.out << "dashboard on http://" << host << ":" << server.port() << "/" << std::endl;
  log->info("serving database '{}' on {}; write actions: {}", o.database,
            o.unix_socket.empty() ? o.host + ":" + std::to_string(o.port) : o.unix_socket,
            server.writeMode());

  std::thread stopper([&] {
    int received = 0;
    sigwait(&stop_signals, &received);
    log->info("stopping on signal {}", received);
    server.stop();
  });
  server.run();
  // run() also returns on a listen failure; let the stopper go either way.
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
}

}  // namespace qtopology::cli
