#include "worker_options.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace qtopology::worker {
namespace {

constexpr const char* kUsage = R"(usage: qtopology-worker [options]

A QTopology worker: registers in the coordination storage, heartbeats, takes
part in leader election, and runs the (simulated) topologies assigned to it.
SIGINT or SIGTERM stops its topologies and unloads it cleanly.

options:
  --name NAME          worker name, unique in the cluster (default: HOST-PID)
  --url URL            mysql://user:password@host:port/database?... (default:
                       $QTOPOLOGY_MYSQL_URL)
  --tick-ms N          heartbeat, message poll and leader interval (1000)
  --start-ttl-ms N     lifetime of the start_topology messages it sends as
                       leader (30000)
  --verbose            also log every tick
  --help               this text
)";

std::string defaultName() {
  char host[256] = "worker";
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(::getpid());
}

std::chrono::milliseconds positiveMillis(const std::string& option, const std::string& value) {
  try {
    std::size_t used = 0;
    const long n = std::stol(value, &used);
    if (used == value.size() && n > 0) return std::chrono::milliseconds(n);
  } catch (const std::logic_error&) {
  }
  throw UsageError(option + " needs a positive number of milliseconds, not '" + value + "'");
}

}  // namespace

std::optional<WorkerOptions> parseWorkerOptions(int argc, char** argv) {
  WorkerOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
      has_value = true;
    }
    const auto next = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) throw UsageError(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return std::nullopt;
    } else if (arg == "--name") {
      o.name = next();
    } else if (arg == "--url") {
      o.url = next();
    } else if (arg == "--tick-ms") {
      o.tick = positiveMillis(arg, next());
    } else if (arg == "--start-ttl-ms") {
      o.start_ttl = positiveMillis(arg, next());
    } else if (arg == "--verbose") {
      o.verbose = true;
    } else {
      throw UsageError("unknown option '" + arg + "' (see --help)");
    }
  }
  if (o.url.empty()) {
    if (const char* env = std::getenv("QTOPOLOGY_MYSQL_URL")) o.url = env;
  }
  if (o.url.empty()) throw UsageError("no database: pass --url or set QTOPOLOGY_MYSQL_URL");
  if (o.name.empty()) o.name = defaultName();
  return o;
}

}  // namespace qtopology::worker
