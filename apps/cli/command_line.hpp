// The CLI's command line: global options, the command and its arguments.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "usage_error.hpp"

namespace qtopology::cli {

// The command line is wrong: exit code 2.
using apps::UsageError;

// The command could not do its work for a reason of ours, not the storage's
// (unreadable file, declined confirmation): exit code 1.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CommandLine {
  std::string command;            // empty when none was given
  std::vector<std::string> args;  // what follows the command, options removed
  std::string url;                // --url, else $QTOPOLOGY_MYSQL_URL, else empty
  bool json = false;
  bool yes = false;
  bool help = false;
  // register
  std::string format = "auto";  // --format: auto or raw; the command checks it
  std::string validator;        // --validator CMD
  // dashboard
  std::string listen = "127.0.0.1:8080";
  std::string token;  // --token; the command falls back to $QTOPOLOGY_DASHBOARD_TOKEN
  std::string token_file;
  bool open_writes = false;
  bool open_reads = false;
  bool read_only = false;
  std::vector<std::string> public_hosts;
  std::string tls_cert;
  std::string tls_key;
  bool allow_plain_http = false;
  std::string max_connections;  // as given; the command checks it
  std::string request_timeout;
};

// Options may appear anywhere; "--" ends them, so a text argument may start
// with a dash. Throws UsageError for an unknown option or a missing value.
CommandLine parseCommandLine(int argc, char** argv);

// The command a name stands for: itself, or for one of Node qtopology's CLI
// verbs (stop-topology, clear-topology-error, set-topology-error,
// shut-down-worker) ours.
std::string canonicalCommand(const std::string& name);

}  // namespace qtopology::cli
