#include "monitoring.hpp"

#include <map>
#include <optional>
#include <sstream>

#include <cstdlib>

namespace qtopology::cli::dashboard {
namespace {

const WorkerStatus* findLeader(const std::vector<WorkerStatus>& workers) {
  for (const auto& w : workers) {
    if (w.lstatus == Leadership::leader && w.status == WorkerState::alive) {
      return &w;
    }
  }
  return nullptr;
}

double secondsSince(TimePoint t) {
  const std::chrono::duration<double> age = std::chrono::system_clock::now() - t;
  return age.count() < 0 ? 0.0 : age.count();
}

class Exposition {
 public:
  void family(const char* name, const char* type, const char* help) {
    text_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }
  void sample(const std::string& name, double value,
              const std::vector<std::pair<const char*, std::string>>& labels = {}) {
    text_ << name;
    if (!labels.empty()) {
      text_ << "{";
      for (std::size_t i = 0; i < labels.size(); ++i) {
        text_ << (i ? "," : "") << labels[i].first << "=\"" << escapeLabelValue(labels[i].second)
              << "\"";
      }
      text_ << "}";
    }
    text_ << " " << value << "\n";
  }
  std::string str() const { return text_.str(); }

 private:
  std::ostringstream text_;
};

// Every status, so a series exists (at 0) before the first one appears;
// keyed by text, the series' label.
template <typename Status, std::size_t N>
std::map<std::string, int> zeroed(const Status (&statuses)[N]) {
  std::map<std::string, int> counts;
  for (const auto s : statuses) counts[std::string(toString(s))] = 0;
  return counts;
}

constexpr WorkerState kWorkerStatuses[] = {WorkerState::alive, WorkerState::closing,
                                           WorkerState::dead, WorkerState::disabled,
                                           WorkerState::unloaded};
constexpr TopologyState kTopologyStatuses[] = {TopologyState::unassigned, TopologyState::waiting,
                                               TopologyState::running, TopologyState::error};

void storageGauges(TrackedStorage& storage, Exposition& out) {
  const auto workers = storage.call("getWorkerStatus", [](auto& s) { return s.getWorkerStatus(); });
  const auto topologies =
      storage.call("getTopologyStatus", [](auto& s) { return s.getTopologyStatus(); });
  const auto queue =
      storage.call("getMsgQueueContent", [](auto& s) { return s.getMsgQueueContent(); });

  out.family("qtopology_storage_up", "gauge", "1 when the storage answered this scrape.");
  out.sample("qtopology_storage_up", 1);

  auto per_worker_status = zeroed(kWorkerStatuses);
  for (const auto& w : workers) ++per_worker_status[std::string(toString(w.status))];
  out.family("qtopology_workers", "gauge", "Workers by status.");
  for (const auto& [status, n] : per_worker_status) {
    out.sample("qtopology_workers", n, {{"status", status}});
  }

  auto per_topology_status = zeroed(kTopologyStatuses);
  int enabled = 0, invalid = 0;
  for (const auto& t : topologies) {
    // An invalid row's status may be one it could not read: not counted.
    if (t.invalid) {
      ++invalid;
      continue;
    }
    ++per_topology_status[std::string(toString(t.status))];
    enabled += t.enabled ? 1 : 0;
  }
  out.family("qtopology_topologies", "gauge", "Topologies by status.");
  for (const auto& [status, n] : per_topology_status) {
    out.sample("qtopology_topologies", n, {{"status", status}});
  }
  out.family("qtopology_topologies_enabled", "gauge", "Enabled topologies.");
  out.sample("qtopology_topologies_enabled", enabled);
  out.family("qtopology_topologies_invalid", "gauge",
             "Topology rows that fail validation, which no leader places.");
  out.sample("qtopology_topologies_invalid", invalid);

  const auto* leader = findLeader(workers);
  out.family("qtopology_leader_present", "gauge", "1 when an alive worker is the leader.");
  out.sample("qtopology_leader_present", leader ? 1 : 0);
  if (leader) {
    out.family("qtopology_leader_heartbeat_age_seconds", "gauge",
               "Seconds since the leader's last ping (absent without a leader).");
    out.sample("qtopology_leader_heartbeat_age_seconds", secondsSince(leader->last_ping),
               {{"worker", leader->name}});
  }

  out.family("qtopology_queued_messages", "gauge", "Unexpired messages not yet taken by workers.");
  out.sample("qtopology_queued_messages", static_cast<double>(queue.size()));
}

void callCounters(const CallCounts& counts, Exposition& out) {
  out.family("qtopology_dashboard_storage_calls_total", "counter",
             "Storage calls made by this dashboard, by call.");
  for (const auto& [call, n] : counts.calls) {
    out.sample("qtopology_dashboard_storage_calls_total", static_cast<double>(n), {{"call", call}});
  }
  out.family("qtopology_dashboard_storage_errors_total", "counter",
             "Failed storage calls of this dashboard, by call and exception class.");
  for (const auto& [key, n] : counts.errors) {
    out.sample("qtopology_dashboard_storage_errors_total", static_cast<double>(n),
               {{"call", key.first}, {"kind", key.second}});
  }
}

// The storage's "schema_version" property; -1 when it has none.
int schemaVersionOf(const std::vector<StorageProperty>& properties) {
  for (const auto& p : properties) {
    if (p.key == "schema_version") return std::atoi(p.value.c_str());
  }
  return -1;
}

}  // namespace

std::string escapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

Health checkHealth(TrackedStorage& storage, int expected) {
  Json body = {{"expected_schema_version", expected}};
  try {
    const int version =
        schemaVersionOf(storage.call("getProperties", [](auto& s) { return s.getProperties(); }));
    body["storage"] = "reachable";
    body["schema_version"] = version;
    if (version != expected) {
      body["status"] = "schema mismatch";
      return {503, body};
    }
    const auto workers =
        storage.call("getWorkerStatus", [](auto& s) { return s.getWorkerStatus(); });
    const auto* leader = findLeader(workers);
    body["leader"] = leader ? Json(leader->name) : Json(nullptr);
    body["leader_present"] = leader != nullptr;
    // No leader is a problem of the cluster, not of this server.
    body["status"] = leader ? "ok" : "no leader";
    return {200, body};
  } catch (const StorageError& e) {
    body["status"] = "unavailable";
    if (!body.contains("storage")) body["storage"] = "unreachable";
    body["error"] = e.what();
    return {503, body};
  }
}

std::string prometheusMetrics(TrackedStorage& storage) {
  Exposition out;
  try {
    storageGauges(storage, out);
  } catch (const StorageError&) {
    // Counted by TrackedStorage; a scrape of a half-filled exposition would
    // mislead, so start over with only what is known without the storage.
    out = Exposition();
    out.family("qtopology_storage_up", "gauge", "1 when the storage answered this scrape.");
    out.sample("qtopology_storage_up", 0);
  }
  callCounters(storage.counts(), out);
  return out.str();
}

}  // namespace qtopology::cli::dashboard
