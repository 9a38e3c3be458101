// The worker's command line.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include "usage_error.hpp"

namespace qtopology::worker {

struct WorkerOptions {
  std::string name;
  std::string url;
  std::chrono::milliseconds tick{1000};
  std::chrono::milliseconds start_ttl{30000};
  bool verbose = false;
};

using apps::UsageError;

// nullopt when --help was asked for (the usage text is then printed).
// Throws UsageError for anything malformed or missing.
std::optional<WorkerOptions> parseWorkerOptions(int argc, char** argv);

}  // namespace qtopology::worker
