// `qtopology-mysql dashboard`: serves the web page and qtopology's API until
// SIGINT or SIGTERM.
#include <malloc.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <qtopology/text.hpp>
#include "../commands.hpp"
#include "server.hpp"
#include "token.hpp"

namespace qtopology::cli {
namespace {

// A whole number from `min` to `max` given to `option`.
long wholeNumber(const std::string& option, const std::string& text, long min, long max) {
  const bool digits =
      !text.empty() && text.size() <= 9 &&
      std::all_of(text.begin(), text.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  const long value = digits ? std::stol(text) : -1;
  if (!digits || value < min || value > max) {
    throw UsageError(option + " wants a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", not '" + escapeControl(text) + "'");
  }
  return value;
}

// Checks the combination of options before anything is bound, and finds
// the token: --token, QTOPOLOGY_DASHBOARD_TOKEN, or an existing
// --token-file (`token_from_file` then tells so).
dashboard::ServerSettings settingsFrom(const CommandLine& line, bool& token_from_file) {
  dashboard::ServerSettings settings;
  try {
    settings.listen = dashboard::parseListenAddress(line.listen);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const bool loopback = dashboard::isLoopback(settings.listen.host);
  settings.token = line.token;
  std::string source = "--token";
  if (settings.token.empty()) {
    if (const char* env = std::getenv("QTOPOLOGY_DASHBOARD_TOKEN")) {
      settings.token = env;
      source = "QTOPOLOGY_DASHBOARD_TOKEN";
    }
  }
  struct stat info {};
  token_from_file = !line.token_file.empty() && ::lstat(line.token_file.c_str(), &info) == 0;
  if (token_from_file && !settings.token.empty()) {
    throw UsageError("--token-file names an existing file, and " + source +
                     " gives a token too: give one of them");
  }
  if (line.open_writes && (token_from_file || !settings.token.empty())) {
    throw UsageError(
        "--open-writes and a token (--token, QTOPOLOGY_DASHBOARD_TOKEN, --token-file) contradict");
  }
  if (line.open_writes && (!loopback || !line.public_hosts.empty())) {
    throw UsageError("--open-writes is for a dashboard on loopback only, without --public-host");
  }
  if (line.open_reads && (!loopback || !line.public_hosts.empty())) {
    throw UsageError(
        "--open-reads is for a dashboard on loopback only, without --public-host: beyond it "
        "reads always need the token");
  }
  if (token_from_file) {
    settings.token = dashboard::readTokenFile(line.token_file);  // exit 1 when unusable
  } else if (!settings.token.empty()) {
    try {
      dashboard::checkTokenStrength(settings.token, source);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  if (line.tls_cert.empty() != line.tls_key.empty()) {
    throw UsageError("HTTPS needs both --tls-cert and --tls-key");
  }
  if (!loopback) {
    if (line.public_hosts.empty()) {
      throw UsageError(
          "listening beyond loopback needs --public-host NAME: the name (or address) "
          "clients use, which their Host header must carry");
    }
    if (line.tls_cert.empty() && !line.allow_plain_http) {
      throw UsageError(
          "listening beyond loopback needs HTTPS (--tls-cert and --tls-key), or "
          "--allow-plain-http to send the token unencrypted");
    }
  }
  settings.read_only = line.read_only;
  settings.open_reads = line.open_reads;
  settings.public_hosts = line.public_hosts;
  settings.tls_cert_file = line.tls_cert;
  settings.tls_key_file = line.tls_key;
  if (!line.max_connections.empty()) {
    settings.limits.max_connections =
        static_cast<std::size_t>(wholeNumber("--max-connections", line.max_connections, 1, 100000));
  }
  if (!line.request_timeout.empty()) {
    settings.limits.request_deadline =
        std::chrono::seconds(wholeNumber("--request-timeout", line.request_timeout, 1, 3600));
  }
  settings.expected_schema_version = MySqlCoordinator::latestSchemaVersion();
  return settings;
}

// "host" or "[v6]".
std::string urlHost(const std::string& host) {
  return host.find(':') == std::string::npos ? host : "[" + host + "]";
}

}  // namespace

void dashboardCommand(Context& c) {
  bool token_from_file = false;
  auto settings = settingsFrom(c.line, token_from_file);
#ifdef M_MMAP_THRESHOLD
  // Request bodies of up to 16 MiB come and go. glibc's default raises its
  // mmap threshold to the size of each large block freed, after which such
  // blocks come from the heap and are seldom given back: a fixed threshold
  // keeps every large buffer mapped on its own and returned when freed.
  mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
#endif
  const bool generated = settings.token.empty() && !c.line.open_writes;
  if (generated) settings.token = dashboard::generateToken();

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

  // A token file the operator made stays; one made here goes at the end.
  std::string token_file;
  if (!token_from_file && (generated || !c.line.token_file.empty())) {
    token_file =
        c.line.token_file.empty() ? dashboard::defaultTokenPath(server.port()) : c.line.token_file;
    if (!token_file.empty()) dashboard::writeTokenFile(token_file, settings.token);
  }

  const auto& o = c.options();
  // Beyond loopback the URL a browser should open names the public host.
  const std::string host =
      c.line.public_hosts.empty() || dashboard::isLoopback(settings.listen.host)
          ? urlHost(settings.listen.host)
          : urlHost(c.line.public_hosts.front());
  // The address goes to stdout for scripts and tests (port 0 picks one). A
  // generated token rides in the fragment, which browsers never send, so
  // it reaches no server log; a token the operator chose is not repeated.
  // The database is named without its URL, which holds the password.
  // The URL comes last: whoever waits for it finds the rest printed.
  if (!token_file.empty()) {
    c.out << "token file: " << escapeControl(token_file) << std::endl;
  } else if (generated) {
    log->warn("no $XDG_RUNTIME_DIR and no --token-file: the token is only in the URL below");
  }
  c.out << "dashboard on " << (server.tls() ? "https" : "http") << "://" << host << ":"
        << server.port() << "/" << (generated ? "#token=" + settings.token : "") << std::endl;
  log->info(
      "serving database '{}' on {}; write actions: {}", escapeControl(o.database),
      escapeControl(o.unix_socket.empty() ? o.host + ":" + std::to_string(o.port) : o.unix_socket),
      server.writeMode());
  if (!c.line.token.empty()) {
    log->warn(
        "--token: other local users can read a command line until the dashboard masks it; "
        "--token-file or QTOPOLOGY_DASHBOARD_TOKEN keep the token out of it");
  }
  if (c.line.open_reads) {
    log->warn("--open-reads: every local user may read the cluster's configurations");
  }
  if (c.line.open_writes && !c.line.read_only) {
    log->warn(
        "--open-writes: every local user may change the cluster (and so run commands on "
        "its workers) through this dashboard");
  }
  if (!dashboard::isLoopback(settings.listen.host) && !server.tls()) {
    log->warn("--allow-plain-http: the token crosses the network unencrypted");
  }

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
  if (!token_file.empty()) ::unlink(token_file.c_str());
}

}  // namespace qtopology::cli
