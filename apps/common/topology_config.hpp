// The two topology formats a cluster may hold, and what makes each valid.
//
// - A command topology has general.command: the program and its arguments,
//   which qtopology-worker runs as a child process. Optional
//   general.restart {max, window_s}.
// - A Node topology is what Node qtopology runs (spouts, bolts, variables),
//   checked against the rules of qtopology's topology schema.
// - A host's own format (register's "raw"): any JSON object, for a host
//   with a TopologyRunner of its own. Only what the storage reads from
//   every config is checked: general.weight and general.worker_affinity.
//
// Which workers run which format is the operator's choice, through
// general.worker_affinity.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
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

// The fields the storage reads from any config, checked by their path:
// general (when present) an object, general.weight a positive number,
// general.worker_affinity an array of non-empty worker names without ','.
// Throws InvalidTopology naming the field and what it holds.
void checkStorageFields(const Json& config);

// How register checks a config: kAuto as validateTopologyConfig() (a
// command or a Node topology), kRaw only checkStorageFields() (a host's own
// format).
enum class RegisterFormat { kAuto, kRaw };

// "auto" or "raw"; nullopt for anything else.
std::optional<RegisterFormat> registerFormatNamed(std::string_view name);

// Checks `config` as `format` says (show_values as above). Throws
// InvalidTopology.
void validateTopologyConfig(const Json& config, RegisterFormat format, bool show_values = true);

}  // namespace qtopology::apps
