#include <ostream>

#include <qtopology/text.hpp>

#include "commands.hpp"
#include "output.hpp"
#include "topology_config.hpp"
#include "topology_file.hpp"
#include "topology_validator.hpp"

namespace qtopology::cli {
namespace {

// Long enough for a validator that loads a schema or asks a service; short
// enough that a hung one does not hold the operator's prompt.
constexpr std::chrono::seconds kValidatorTimeout{30};

// enable, disable, stop, kill and delete take one or more uuids, applied in
// order; the first failure ends the command (the earlier ones stay done).
template <typename Action>
void forEachUuid(Context& c, const char* done_text, Action action) {
  for (const auto& uuid : c.line.args) action(uuid);
  std::string uuids;
  for (const auto& uuid : c.line.args) uuids += " " + uuid;
  c.done(std::string(done_text) + uuids);
}

}  // namespace

void listCommand(Context& c) {
  const auto topologies = c.storage().getTopologyStatus();
  if (c.line.json) return printJsonList(c.out, topologies);
  Table table(
      {"UUID", "STATUS", "ENABLED", "WORKER", "WEIGHT", "AFFINITY", "PID", "LAST PING", "ERROR"});
  for (const auto& t : topologies) {
    // An invalid row (another writer's) says why in place of its error.
    table.add({t.uuid, t.invalid ? "invalid" : std::string(toString(t.status)),
               t.enabled ? "yes" : "no", workerCell(t), number(t.weight),
               joined(t.worker_affinity), pidText(t.pid), localTime(t.last_ping),
               t.invalid ? "invalid row: " + *t.invalid : t.error.value_or("")});
  }
  table.print(c.out);
}

void detailsCommand(Context& c) {
  const auto t = c.storage().getTopologyInfo(c.line.args.at(0));
  if (c.line.json) return printJson(c.out, toJson(t));
  Table table({"uuid:", t.uuid});
  table.add({"status:", std::string(toString(t.status))});
  table.add({"enabled:", t.enabled ? "yes" : "no"});
  table.add({"worker:", workerCell(t, true)});
  table.add({"weight:", number(t.weight)});
  table.add({"affinity:", joined(t.worker_affinity)});
  table.add({"pid:", pidText(t.pid)});
  table.add({"last ping:", localTime(t.last_ping)});
  table.add({"error:", t.error.value_or("")});
  if (t.invalid) table.add({"invalid:", *t.invalid});
  table.print(c.out);
  c.out << "config:\n" << t.config.dump(2) << "\n";
}

// The checks come first, then the validator, then the one write: a config
// refused by any of them writes nothing.
void registerCommand(Context& c) {
  const auto& uuid = c.line.args.at(0);
  const auto& path = c.line.args.at(1);
  const auto format = apps::registerFormatNamed(c.line.format);
  if (!format) {
    throw UsageError(
        "--format must be auto (a command or a Node topology) or raw (any JSON "
        "object), not '" +
        escapeControl(c.line.format) + "'");
  }
  const auto validator =
      c.line.validator.empty() ? std::vector<std::string>() : validatorArgv(c.line.validator);
  const std::string name = path == "-" ? std::string("<stdin>") : path;
  const Json config = readTopologyFile(path);
  try {
    apps::validateTopologyConfig(config, *format);
  } catch (const apps::InvalidTopology& e) {
    throw CommandError(name + ": " + e.what());
  }
  if (!validator.empty()) {
    if (const auto why = runValidator(validator, config.dump(), kValidatorTimeout)) {
      throw CommandError(name + ": refused by the validator (" + *why + "); nothing registered");
    }
  }
  c.storage().registerTopology(uuid, config);
  c.done("registered topology " + uuid + " (a new topology starts disabled: enable it to run it)");
}

void exportCommand(Context& c) {
  const auto& uuid = c.line.args.at(0);
  const auto& path = c.line.args.at(1);
  const auto info = c.storage().getTopologyInfo(uuid);
  writeTopologyFile(path, info.config);
  if (path != "-") c.done("exported topology " + uuid + " to " + path);
}

void enableCommand(Context& c) {
  forEachUuid(c, "enabled", [&](const std::string& uuid) { c.storage().enableTopology(uuid); });
}

void disableCommand(Context& c) {
  forEachUuid(c, "disabled", [&](const std::string& uuid) { c.storage().disableTopology(uuid); });
}

void stopCommand(Context& c) {
  forEachUuid(c, "disabled and asked its worker to stop:", [&](const std::string& uuid) {
    c.storage().stopTopology(uuid);
  });
}

void killCommand(Context& c) {
  forEachUuid(c, "disabled and asked its worker to kill:", [&](const std::string& uuid) {
    c.storage().killTopology(uuid);
  });
}

void deleteCommand(Context& c) {
  forEachUuid(c, "deleted", [&](const std::string& uuid) { c.storage().deleteTopology(uuid); });
}

// As upstream's clear: back on its last worker when that is alive
// (CoordinationStorage::clearTopologyErrorToLastWorker).
void clearErrorCommand(Context& c) {
  const auto& uuid = c.line.args.at(0);
  if (const auto worker = c.storage().clearTopologyErrorToLastWorker(uuid)) {
    c.done("cleared the error of topology " + uuid + "; it starts again on its last worker " +
           *worker);
  } else {
    c.done("cleared the error of topology " + uuid + "; it is unassigned again");
  }
}

void setErrorCommand(Context& c) {
  const auto& uuid = c.line.args.at(0);
  // No worker given: an operator may put any topology in error, wherever
  // it runs.
  TopologyStatusChange change;
  change.uuid = uuid;
  change.status = TopologyState::error;
  change.error = c.line.args.at(1);
  c.storage().setTopologyStatus(change);
  c.done("topology " + uuid + " is now in error");
}

void topologyHistoryCommand(Context& c) {
  const auto history = c.storage().getTopologyHistory(c.line.args.at(1));
  if (c.line.json) return printJsonList(c.out, history);
  Table table({"TIME", "STATUS", "ENABLED", "WORKER", "WEIGHT", "PID", "ERROR"});
  for (const auto& h : history) {
    table.add({localTime(h.ts), std::string(toString(h.status)), h.enabled ? "yes" : "no",
               workerCell(h), number(h.weight), pidText(h.pid), h.error.value_or("")});
  }
  table.print(c.out);
}

}  // namespace qtopology::cli
