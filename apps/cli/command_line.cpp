#include "command_line.hpp"

#include <cstdlib>

namespace qtopology::cli {

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
    } else if (arg == "--listen" || arg == "--token") {
      if (i + 1 >= argc) throw UsageError(arg + " needs a value");
      (arg == "--listen" ? line.listen : line.token) = argv[++i];
    } else if (arg == "--read-only") {
      line.read_only = true;
    } else {
      throw UsageError("unknown option '" + arg + "'");
    }
  }
  if (!positional.empty()) {
    line.command = positional.front();
    line.args.assign(positional.begin() + 1, positional.end());
  }
  if (line.url.empty()) {
    if (const char* env = std::getenv("QTOPOLOGY_MYSQL_URL")) line.url = env;
  }
  return line;
}

}  // namespace qtopology::cli
