// The worker's command line.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

#include <qtopology/mysql_options.hpp>
#include <qtopology/worker.hpp>

#include "child_environment.hpp"
#include "dormancy_schedule.hpp"
#include "usage_error.hpp"

namespace qtopology::worker {

struct CommandLineOptions {
  WorkerOptions worker;
  MySqlOptions storage;
  // How long a stopped topology may take after SIGTERM before SIGKILL.
  std::chrono::milliseconds grace{std::chrono::seconds(5)};
  // What topologies get of the worker's environment: --pass-env, --env-allow.
  apps::EnvironmentRules environment;
  // Where Node topologies' node and qtopology come from.
  std::string node = "node";
  std::string node_modules;
  // --override and --overrides-file, the later winning.
  std::map<std::string, std::string> overrides;
  // --dormant: none, never dormant.
  std::optional<DormancySchedule> dormant;
  bool simulate = false;
  bool verbose = false;  // debug lines
  bool trace = false;    // trace lines too
};

using apps::UsageError;

// nullopt when --help was asked for (the usage text is then printed).
// Throws UsageError for anything malformed or missing, a bad URL included.
std::optional<CommandLineOptions> parseWorkerOptions(int argc, char** argv);

}  // namespace qtopology::worker
