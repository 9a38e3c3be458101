// qtopology-mysql: the operator's view of a QTopology cluster's MySQL/MariaDB
// coordination storage.
//
// Exit codes: 0 done, 1 the command failed (storage error, unknown uuid,
// unreadable file, ...), 2 the command line is wrong. Errors go to stderr as
// one line.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstddef>
#include <iostream>
#include <string_view>

#include <qtopology/mysql_coordinator.hpp>

#include "command_line.hpp"
#include "commands.hpp"
#include "secret_arguments.hpp"

namespace {

using namespace qtopology;
using namespace qtopology::cli;

struct Command {
  std::string_view name;
  std::string_view arguments;  // as shown in usage lines
  std::string_view summary;
  std::size_t min_args;
  std::size_t max_args;  // kMany: no limit
  void (*run)(Context&);
};

constexpr std::size_t kMany = static_cast<std::size_t>(-1);

// `history` has two forms; both are listed here, told apart by their first
// argument in findCommand().
constexpr Command kCommands[] = {
    {"migrate", "", "create or upgrade the schema to this build's version", 0, 0, migrateCommand},
    {"check", "", "verify the schema version (exit 1 if not current); show storage properties", 0,
     0, checkCommand},
    {"workers", "", "list workers with status, leadership, pid and last ping", 0, 0,
     workersCommand},
    {"list", "", "list topologies with status, worker, weight and affinity", 0, 0, listCommand},
    {"details", "<uuid>", "show one topology, with its configuration", 1, 1, detailsCommand},
    {"register", "<uuid> <file.json>",
     "add or update a topology from a JSON file (- for stdin): a command or a Node"
     " topology, or a host's own format with --format raw; new ones start disabled",
     2, 2, registerCommand},
    {"export", "<uuid> <file>", "write a topology's configuration to a file (- for stdout)", 2, 2,
     exportCommand},
    {"enable", "<uuid>...", "let the leader assign the topologies", 1, kMany, enableCommand},
    {"disable", "<uuid>...", "keep the leader from assigning the topologies", 1, kMany,
     disableCommand},
    {"stop", "<uuid>...", "disable the topologies and ask their workers to stop them", 1, kMany,
     stopCommand},
    {"kill", "<uuid>...", "disable the topologies and ask their workers to kill them", 1, kMany,
     killCommand},
    {"delete", "<uuid>...", "remove the topologies", 1, kMany, deleteCommand},
    {"clear-error", "<uuid>",
     "clear a topology's error: back on its last worker if alive, else unassigned", 1, 1,
     clearErrorCommand},
    {"set-error", "<uuid> <text>", "put a topology in error with the given text", 2, 2,
     setErrorCommand},
    {"shutdown-worker", "<name>", "send a worker the shutdown command (valid 60 s)", 1, 1,
     shutdownWorkerCommand},
    {"delete-worker", "<name>", "remove an unloaded worker", 1, 1, deleteWorkerCommand},
    {"history", "topology <uuid>", "changes of a topology, newest first (at most 100)", 2, 2,
     topologyHistoryCommand},
    {"history", "worker <name>", "changes of a worker, newest first (at most 100)", 2, 2,
     workerHistoryCommand},
    {"queue", "", "messages waiting to be read by workers", 0, 0, queueCommand},
    {"clear", "", "delete all workers, topologies, messages and history (asks first)", 0, 0,
     clearCommand},
    {"reset", "", "drop all qtopology tables and procedures (asks first)", 0, 0, resetCommand},
    {"settings", "[<name> <value>]",
     "list the cluster's timeouts and intervals with value, default, range and meaning; or"
     " set one",
     0, 2, settingsCommand},
    {"dashboard", "", "serve the web dashboard and qtopology's HTTP API (see docs/dashboard.md)", 0,
     0, dashboardCommand},
};

constexpr std::string_view kOptions = R"(options:
  --url URL   mysql://user@host:port/database?password_file=PATH&key=value...
              (default: $QTOPOLOGY_MYSQL_URL); without a password in it,
              $QTOPOLOGY_MYSQL_PASSWORD_FILE names a file holding it
  --json      print results as JSON, for scripts
  --yes, -y   do not ask before clear and reset
  --help, -h  show help (of a command, when given one)
)";

// Only the commands that have options of their own show them in their help.
constexpr std::string_view kRegisterOptions = R"(register options:
  --format auto|raw    auto (default): a command topology (general.command) or a Node
                       one, checked as such; raw: any JSON object, for a host's own
                       runner (only general.weight and general.worker_affinity checked)
  --validator CMD      run CMD (split at spaces, no shell, looked up on PATH) with the
                       config on stdin; it exits 0 to accept, else its message (stderr)
                       is shown and nothing is registered (at most 30 s)
)";

constexpr std::string_view kDashboardOptions = R"(dashboard options:
  --listen HOST:PORT   address to serve on (default 127.0.0.1:8080)
  --token TOKEN        the token reads and writes must send in the X-QTopology-Token
                       header (default: $QTOPOLOGY_DASHBOARD_TOKEN, else --token-file,
                       else a random one, printed in the page's URL and written to
                       --token-file, default $XDG_RUNTIME_DIR/qtopology-dashboard-PORT.token);
                       at least 128 random bits (32 hex digits, 22 base64url characters);
                       masked in ps once parsed
  --token-file PATH    an existing file: the token is read from it (mode 0600, this
                       user's); else where the token is written (a new file, mode 0600)
  --open-reads         reads need no token (loopback only, without --public-host)
  --open-writes        no token: any local user may read and write (loopback only)
  --read-only          refuse every write action
  --public-host NAME   a name clients use (repeatable); needed beyond loopback
  --tls-cert FILE, --tls-key FILE
                       serve HTTPS with this PEM certificate chain and key
  --allow-plain-http   allow plain HTTP beyond loopback (the token travels in clear)
  --max-connections N  open connections served at once (default 128), an eighth of them
                       kept for requests with the token and for /health and /metrics
  --request-timeout S  seconds a request may take to arrive, headers and body (default 30)
)";

std::string usageLine(const Command& c) {
  std::string line = "qtopology-mysql [options] " + std::string(c.name);
  if (!c.arguments.empty()) line += " " + std::string(c.arguments);
  return line;
}

void printHelp(std::ostream& out) {
  out << "usage: qtopology-mysql [options] <command> [arguments]\n\n"
         "Inspect and operate the coordination storage of a QTopology cluster.\n\ncommands:\n";
  for (const auto& c : kCommands) {
    std::string head = std::string(c.name) + " " + std::string(c.arguments);
    head.resize(std::max<std::size_t>(head.size() + 1, 34), ' ');
    out << "  " << head << c.summary << "\n";
  }
  out << "\n" << kOptions << kRegisterOptions << kDashboardOptions << "\nexit codes: 0 ok, 1 error, 2 usage\n";
}

void printCommandHelp(std::ostream& out, std::string_view name) {
  for (const auto& c : kCommands) {
    if (c.name == name) out << "usage: " << usageLine(c) << "\n  " << c.summary << "\n";
  }
  out << "\n" << kOptions;
  if (name == "register") out << kRegisterOptions;
  if (name == "dashboard") out << kDashboardOptions;
}

bool known(std::string_view name) {
  for (const auto& c : kCommands) {
    if (c.name == name) return true;
  }
  return false;
}

const Command& findCommand(const CommandLine& line) {
  if (!known(line.command)) {
    throw UsageError("unknown command '" + line.command + "' (see qtopology-mysql --help)");
  }
  const Command* match = nullptr;
  for (const auto& c : kCommands) {
    if (c.name != line.command) continue;
    const bool history = c.name == "history";
    if (history && (line.args.empty() || c.arguments.rfind(line.args[0] + " ", 0) != 0)) continue;
    match = &c;
  }
  if (!match) {
    throw UsageError("usage: qtopology-mysql history topology <uuid> | history worker <name>");
  }
  const auto n = line.args.size();
  if (n < match->min_args || n > match->max_args) {
    throw UsageError("wrong number of arguments; usage: " + usageLine(*match));
  }
  return *match;
}

// Whether the URL's query names `key`. The query starts at the first '?'
// after the last '@', as MySqlOptions::fromUrl reads it: a password holding
// "retries=" is not a parameter, nor is "max_retries".
bool urlSetsParameter(std::string_view url, std::string_view key) {
  const auto at = url.rfind('@');
  const auto question = url.find('?', at == std::string_view::npos ? 0 : at);
  if (question == std::string_view::npos) return false;
  for (auto query = url.substr(question + 1); !query.empty();) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    if (pair.substr(0, pair.find('=')) == key) return true;
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return false;
}

MySqlOptions connectionOptions(const CommandLine& line) {
  if (line.url.empty()) {
    throw UsageError("no database URL: pass --url or set QTOPOLOGY_MYSQL_URL");
  }
  MySqlOptions options;
  try {
    options = MySqlOptions::fromUrl(line.url);
    apps::applyPasswordFileVariable(options);
  } catch (const InvalidArgument& e) {
    throw UsageError(std::string("bad database URL: ") + e.what());
  }
  if (options.database.empty()) throw UsageError("the database URL names no database");
  // A person waiting at a prompt would rather hear "unreachable" after a
  // few seconds than after the library's worker-friendly 20 s of retries,
  // unless the URL asks for them.
  if (!urlSetsParameter(line.url, "retries") && !urlSetsParameter(line.url, "retry_timeout_ms")) {
    options.retries = 2;
    options.retry_timeout = std::chrono::milliseconds(500);
  }
  // The library's notes go to stderr, apart from the output scripts parse.
  // Only migrate's steps are worth showing: retry warnings would turn the
  // one-line error of a failed command into several.
  auto notes = spdlog::stderr_color_mt("qtopology-mysql");
  notes->set_pattern("%v");
  // A long-running dashboard logs retries too.
  notes->set_level(line.command == "migrate"     ? spdlog::level::info
                   : line.command == "dashboard" ? spdlog::level::warn
                                                 : spdlog::level::err);
  options.logger = spdlogLogger(notes->name());
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const CommandLine line = parseCommandLine(argc, argv);
    apps::hidePasswordsInArguments(argc, argv);
    apps::hideOptionValues(argc, argv, {"--token"});
    if (line.help || line.command == "help") {
      const std::string topic =
          line.command == "help" ? (line.args.empty() ? "" : line.args[0]) : line.command;
      if (topic.empty()) {
        printHelp(std::cout);
      } else if (known(topic)) {
        printCommandHelp(std::cout, topic);
      } else {
        throw UsageError("unknown command '" + topic + "' (see qtopology-mysql --help)");
      }
      return 0;
    }
    if (line.command.empty()) throw UsageError("no command given (see qtopology-mysql --help)");
    const Command& command = findCommand(line);
    Context context(line, connectionOptions(line), std::cout);
    command.run(context);
    return 0;
  } catch (const UsageError& e) {
    std::cerr << "qtopology-mysql: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    // StorageError, CommandError, and anything unforeseen (e.g. bad_alloc):
    // all are failures of the command, not of its command line.
    std::cerr << "qtopology-mysql: " << e.what() << "\n";
    return 1;
  }
}
