// The two topology formats a cluster may hold, and what makes each valid.
//
// - A command topology has general.command: the program and its arguments,
//   which qtopology-worker runs as a child process. Optional
//   general.restart {max, window_s}.
// - A Node topology is what Node qtopology runs (spouts, bolts, variables),
//   checked against the rules of qtopology's topology schema.
//
// Which workers run which format is the operator's choice, through
// general.worker_affinity.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::apps {

enum class TopologyFormat { kCommand, kNode };

// kCommand exactly when general.command is present (valid or not).
TopologyFormat formatOf(const Json& config);

class InvalidTopology : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The program and arguments of a command topology. Throws InvalidTopology
// naming the field: no general.command (with what to do about a Node
// topology), or not a non-empty array of non-empty strings.
std::vector<std::string> commandOf(const Json& config);

// Checks `config` in its format. Throws InvalidTopology whose text names the
// format and every bad field by its path ("general.heartbeat: is required");
// a refused string value is shown too unless `show_values` is false.
void validateTopologyConfig(const Json& config, bool show_values = true);

}  // namespace qtopology::apps
