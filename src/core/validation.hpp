// Argument checks that run before anything is sent to the server, so bad
// input fails with InvalidArgument and nothing is half written.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::detail {

// The length in bytes of the UTF-8 sequence starting at s[i] (i < s.size()),
// or 0 when it is not valid: overlong forms and surrogates included, which
// utf8mb4 columns reject.
std::size_t utf8SequenceLength(std::string_view s, std::size_t i);

// Text from outside as error texts show it: cut to `max_bytes` ("..."
// marks the cut), every control character (C0, DEL, C1) and invalid byte as
// '?'. quotedMasked: 40 bytes, in single quotes.
std::string masked(std::string_view s, std::size_t max_bytes);
std::string quotedMasked(std::string_view s);

// "assignTopology(uuid=t1)": names the call in errors and logs. The subject
// is shown cut and with control characters masked, since it may be the very
// input being rejected.
std::string operationName(std::string_view method, std::string_view key, const std::string& value);

// The operation's name, after checking its subject (a worker name or a
// topology uuid): every call that names one starts with this.
std::string checkedOperation(std::string_view method, std::string_view key,
                             const std::string& value);

// Worker names and topology uuids: 1-100 characters of valid UTF-8, no
// control characters. `what` is "worker" or "uuid".
void checkIdentifier(std::string_view operation, std::string_view what, const std::string& value);
// The same check without throwing: what checkIdentifier would say after the
// operation's name, or nullopt.
std::optional<std::string> identifierProblem(std::string_view what, const std::string& value);

// What is wrong with a topology row a storage read, or nullopt: its uuid,
// worker and affinity names as checkIdentifier sees them, its weight
// (positive, finite) and its status (one of the enumerators). The row's text
// appears as quotedMasked() shows it.
std::optional<std::string> topologyRowProblem(const TopologyStatus& t);

void checkWorkerStatus(std::string_view operation, WorkerState status);
void checkLeadershipStatus(std::string_view operation, Leadership lstatus);
void checkTopologyStatus(std::string_view operation, TopologyState status);
void checkErrorText(std::string_view operation, const std::optional<std::string>& error);
void checkCommand(std::string_view operation, const std::string& cmd);

// Every argument of setTopologyStatus(); returns the operation's name.
std::string checkedTopologyStatusCall(const std::string& uuid,
                                      const std::optional<std::string>& worker,
                                      TopologyState status,
                                      const std::optional<std::string>& error);

// Every name and validity of a leader loop's actions (InvalidArgument naming
// the list, e.g. "worker in assignments is empty"), the same for every
// storage; `operation` is applyLeaderActions(leader=...).
void checkLeaderActions(std::string_view operation, const LeaderActions& actions);

// Every worker and topology the actions name exists, or NotFoundError for
// the first that does not: workers (unload_workers, the assignments' and the
// moves' old workers, who get messages) before topologies
// (unassign_topologies, the assignments'), as the MySQL procedure checks.
void checkLeaderActionsExist(std::string_view operation, const LeaderActions& actions,
                             const std::function<bool(const std::string&)>& worker_exists,
                             const std::function<bool(const std::string&)>& topology_exists);

// Makes any text fit checkErrorText(): invalid UTF-8 bytes and control
// characters other than newline and tab become '?', and the text is cut to
// the column's 1000 characters.
std::string fitErrorText(std::string_view text);

// Serialises message content; must fit the column and be valid UTF-8.
std::string serializeContent(std::string_view operation, const Json& content);

// What registerTopology stores besides the config text.
struct TopologyColumns {
  std::string config;  // serialised
  double weight = 1.0;
  std::string worker_affinity;  // comma-separated, as the Node package stores it
};
TopologyColumns topologyColumns(std::string_view operation, const Json& config);

// Reads the comma-separated affinity column.
std::vector<std::string> splitAffinity(std::string_view column);

}  // namespace qtopology::detail
