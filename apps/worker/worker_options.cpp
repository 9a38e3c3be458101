#include "worker_options.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <qtopology/text.hpp>

#include "child_environment.hpp"
#include "secret_arguments.hpp"
#include "topology_overrides.hpp"

namespace qtopology::worker {
namespace {

constexpr const char* kUsage = R"(usage: qtopology-worker [options]

A QTopology worker: registers in the coordination storage, heartbeats, takes
part in leader election, and runs the topologies assigned to it as child
processes: a command topology's general.command, a Node topology's spouts
and bolts through qtopology's own child wrapper under node. SIGINT or
SIGTERM stops its topologies and unloads it cleanly.

options:
  --name NAME            worker name, unique in the cluster (default: HOST-PID)
  --url URL              mysql://user@host:port/database?password_file=PATH&...
                         (default: $QTOPOLOGY_MYSQL_URL); a password in the URL
                         is hidden from ps once parsed; without one,
                         $QTOPOLOGY_MYSQL_PASSWORD_FILE names a file holding it
  --tick-ms N            heartbeat and message poll interval (1000)
  --leader-loop-ms N     how often a leader places and repairs topologies (5000)
  --lease-ms N           without a successful heartbeat for this long, kill
                         every topology: keep it below the cluster's
                         worker_dead_timeout_s by more than a tick (20000)
  --grace-ms N           how long a stopped topology may take after SIGTERM
                         before it gets SIGKILL (5000)
  --pass-env NAME        give topologies the variable NAME although its name
                         looks like a credential (PASSWORD, TOKEN, SECRET...);
                         repeatable; never QTOPOLOGY_MYSQL_* or
                         QTOPOLOGY_DASHBOARD_*
  --env-allow NAME[,NAME...]
                         give topologies only these variables (NAME, or
                         PREFIX* for all that start so), the --pass-env ones
                         and PATH HOME USER LOGNAME SHELL LANG LANGUAGE LC_*
                         TZ TMPDIR NODE_PATH; credentials are still dropped;
                         repeatable. Without it: every variable but those
                         that look like credentials
  --node PATH            the node program for Node topologies (default: node in
                         PATH)
  --node-modules DIR     find the qtopology package from DIR rather than from
                         the working directory (Node's module resolution)
  --override NAME=VALUE  replace the topologies' variable NAME before their
                         config is compiled, as qtopology's overrides option;
                         ${NAME} in a command topology's general.command too;
                         repeatable
  --overrides-file FILE  the same from a JSON object of strings
  --dormant SCHEDULE     while the local time is inside SCHEDULE ("S M H DoM
                         Mon DoW", each * N or N-M; DoW 0-6 or sun-sat), act as
                         disabled: leadership and topologies go elsewhere
  --simulate             run no processes: topologies only "run" in the worker
  --verbose              also log the storage calls that change something
  --trace                also log every tick's calls, with their claim keys
  --help                 this text

exit codes: 0 clean shutdown, 1 storage failure or no qtopology-supervisor beside
the worker, 2 bad options
)";

std::string defaultName() {
  char host[256] = "worker";
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(::getpid());
}

// --env-allow's names: letters, digits and '_', optionally ending in '*'.
void addAllowedNames(apps::EnvironmentRules& rules, const std::string& list) {
  if (!rules.allowed) rules.allowed.emplace();
  if (list.empty() || list.back() == ',') {
    throw UsageError("--env-allow wants variable names (letters, digits, '_', a final '*'), not '" +
                     escapeControl(list) + "'");
  }
  std::stringstream names(list);
  for (std::string name; std::getline(names, name, ',');) {
    const auto stem = name.substr(0, name.size() - (!name.empty() && name.back() == '*'));
    const bool word = !stem.empty() && std::all_of(stem.begin(), stem.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '_';
    });
    if (!word) {
      throw UsageError(
          "--env-allow wants variable names (letters, digits, '_', a final '*'), not '" +
          escapeControl(name) + "'");
    }
    if (apps::isCoordinationVariable(stem)) {
      throw UsageError("--env-allow " + name +
                       ": the storage's and the dashboard's variables never reach topologies");
    }
    if (apps::isSecretVariable(stem)) {
      throw UsageError("--env-allow " + name +
                       ": the name looks like a credential, which the allow-list does not pass; "
                       "name it with --pass-env instead");
    }
    rules.allowed->push_back(name);
  }
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

std::optional<CommandLineOptions> parseWorkerOptions(int argc, char** argv) {
  CommandLineOptions o;
  std::string url;
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
      o.worker.name = next();
    } else if (arg == "--url") {
      url = next();
    } else if (arg == "--tick-ms") {
      o.worker.tick = positiveMillis(arg, next());
    } else if (arg == "--leader-loop-ms") {
      o.worker.leader_loop = positiveMillis(arg, next());
    } else if (arg == "--lease-ms") {
      o.worker.lease = positiveMillis(arg, next());
    } else if (arg == "--grace-ms") {
      o.grace = positiveMillis(arg, next());
    } else if (arg == "--pass-env") {
      const std::string name = next();
      if (name.empty() || name.find('=') != std::string::npos) {
        throw UsageError("--pass-env needs a variable name, not '" + name + "'");
      }
      if (apps::isCoordinationVariable(name)) {
        throw UsageError("--pass-env " + name +
                         ": the storage's and the dashboard's variables never reach topologies");
      }
      o.environment.passed.insert(name);
    } else if (arg == "--env-allow") {
      addAllowedNames(o.environment, next());
    } else if (arg == "--node") {
      o.node = next();
      if (o.node.empty()) throw UsageError("--node needs a program");
    } else if (arg == "--node-modules") {
      o.node_modules = next();
      if (o.node_modules.empty()) throw UsageError("--node-modules needs a folder");
    } else if (arg == "--override") {
      const std::string pair = next();
      const auto eq = pair.find('=');
      if (eq == 0 || eq == std::string::npos) {
        throw UsageError("--override needs NAME=VALUE, not '" + pair + "'");
      }
      o.overrides[pair.substr(0, eq)] = pair.substr(eq + 1);
    } else if (arg == "--overrides-file") {
      const std::string file = next();
      std::ifstream in(file);
      if (!in) throw UsageError("--overrides-file " + file + ": cannot read it");
      std::stringstream text;
      text << in.rdbuf();
      try {
        for (auto& [name, text_value] : apps::parseOverridesObject(text.str())) {
          o.overrides[name] = text_value;
        }
      } catch (const std::invalid_argument& e) {
        throw UsageError("--overrides-file " + file + ": " + e.what());
      }
    } else if (arg == "--dormant") {
      const std::string schedule = next();
      try {
        o.dormant.emplace(schedule);
      } catch (const std::invalid_argument& e) {
        throw UsageError("--dormant '" + schedule + "': " + e.what());
      }
    } else if (arg == "--simulate") {
      o.simulate = true;
    } else if (arg == "--verbose") {
      o.verbose = true;
    } else if (arg == "--trace") {
      o.trace = true;
    } else {
      throw UsageError("unknown option '" + arg + "' (see --help)");
    }
  }
  if (url.empty()) {
    if (const char* env = std::getenv("QTOPOLOGY_MYSQL_URL")) url = env;
  }
  if (url.empty()) throw UsageError("no database: pass --url or set QTOPOLOGY_MYSQL_URL");
  try {
    o.storage = MySqlOptions::fromUrl(url);
    apps::applyPasswordFileVariable(o.storage);
  } catch (const InvalidArgument& e) {
    throw UsageError(e.what());
  }
  if (o.worker.name.empty()) o.worker.name = defaultName();
  // Shutdown waits for stopped topologies: as long as their grace, and a
  // little for the SIGKILL that may follow it.
  o.worker.stop_timeout = o.grace + std::chrono::seconds(1);
  return o;
}

}  // namespace qtopology::worker
