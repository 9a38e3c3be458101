#include "command_line.hpp"

#include <cstdlib>

#include <qtopology/text.hpp>

namespace qtopology::cli {
namespace {

// The options that take one value (register's, the dashboard's): where it
// goes.
std::string* valueOption(CommandLine& line, const std::string& arg) {
  if (arg == "--format") return &line.format;
  if (arg == "--validator") return &line.validator;
  if (arg == "--listen") return &line.listen;
  if (arg == "--token") return &line.token;
  if (arg == "--token-file") return &line.token_file;
  if (arg == "--tls-cert") return &line.tls_cert;
  if (arg == "--tls-key") return &line.tls_key;
  if (arg == "--max-connections") return &line.max_connections;
  if (arg == "--request-timeout") return &line.request_timeout;
  return nullptr;
}

}  // namespace

CommandLine parseCommandLine(int argc, char** argv) {
  CommandLine line;
  std::vector<std::string> positional;
  bool options_ended = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (options_ended || arg.empty() || arg[0] != '-' || arg == "-") {
      positional.push_back(arg);
    } else if (arg == "--") {
      options_ended = true;
    } else if (arg == "--json") {
      line.json = true;
    } else if (arg == "--yes" || arg == "-y") {
      line.yes = true;
    } else if (arg == "--help" || arg == "-h") {
      line.help = true;
    } else if (arg == "--url") {
      if (i + 1 >= argc) throw UsageError("--url needs a value");
      line.url = argv[++i];
    } else if (arg.rfind("--url=", 0) == 0) {
      line.url = arg.substr(6);
    } else if (std::string* value = valueOption(line, arg)) {
      if (i + 1 >= argc) throw UsageError(arg + " needs a value");
      *value = argv[++i];
    } else if (arg == "--public-host") {
      if (i + 1 >= argc) throw UsageError(arg + " needs a value");
      line.public_hosts.emplace_back(argv[++i]);
    } else if (arg == "--read-only") {
      line.read_only = true;
    } else if (arg == "--open-writes") {
      line.open_writes = true;
    } else if (arg == "--open-reads") {
      line.open_reads = true;
    } else if (arg == "--allow-plain-http") {
      line.allow_plain_http = true;
    } else {
      throw UsageError("unknown option '" + escapeControl(arg) + "'");
    }
  }
  if (!positional.empty()) {
    line.command = canonicalCommand(positional.front());
    line.args.assign(positional.begin() + 1, positional.end());
  }
  if (line.url.empty()) {
    if (const char* env = std::getenv("QTOPOLOGY_MYSQL_URL")) line.url = env;
  }
  return line;
}

std::string canonicalCommand(const std::string& name) {
  // Node qtopology's CLI verbs for the same actions.
  static const std::pair<const char*, const char*> kAliases[] = {
      {"stop-topology", "stop"},
      {"clear-topology-error", "clear-error"},
      {"set-topology-error", "set-error"},
      {"shut-down-worker", "shutdown-worker"}};
  for (const auto& [alias, command] : kAliases) {
    if (name == alias) return command;
  }
  return name;
}

}  // namespace qtopology::cli
