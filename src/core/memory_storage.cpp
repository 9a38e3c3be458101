// MemoryStorage: the rules of db/v19.sql's procedures, on maps under one
// mutex. Comments name the procedure whose behaviour a method mirrors.
#include <qtopology/memory_storage.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>

#include "leader_messages.hpp"
#include "leadership.hpp"
#include "validation.hpp"

namespace qtopology {

using detail::checkedOperation;

namespace {

using ws = WorkerState;
using ls = Leadership;
using ts = TopologyState;

constexpr std::size_t kHistoryRows = 100;
constexpr std::chrono::milliseconds kStopMessageLifetime{30000};
constexpr std::chrono::milliseconds kShutdownMessageLifetime{60000};
// start_topology after an operator's clear, as long as a leader's start.
constexpr std::chrono::milliseconds kRestartMessageLifetime{120000};
// What one heartbeat takes at most, as MySqlCoordinator's does.
constexpr std::size_t kHeartbeatMessageBatch = 1000;

struct Message {
  std::uint64_t id = 0;
  std::string worker;
  std::string cmd;
  Json content;
  TimePoint created;
  TimePoint valid_until;
};

[[noreturn]] void notFound(const std::string& op, std::string_view what, const std::string& key) {
  throw NotFoundError(op + ": " + std::string(what) + " not found: " + key);
}

template <typename Row>
std::vector<Row> newestFirst(const std::map<std::string, std::deque<Row>>& history,
                             const std::string& key) {
  const auto found = history.find(key);
  if (found == history.end()) return {};
  return {found->second.rbegin(), found->second.rend()};
}

template <typename Row>
void appendHistory(std::deque<Row>& rows, Row row) {
  rows.push_back(std::move(row));
  if (rows.size() > kHistoryRows) rows.pop_front();
}

}  // namespace

class MemoryStorage::Impl {
 public:
  explicit Impl(MemoryStorageOptions o) : options(std::move(o)) {
    if (!options.clock) options.clock = [] { return std::chrono::system_clock::now(); };
    for (auto timeout :
         {options.worker_dead_timeout, options.leader_timeout, options.waiting_timeout}) {
      if (timeout.count() <= 0) throw InvalidArgument("MemoryStorageOptions: timeouts must be > 0");
    }
  }

  TimePoint now() const { return options.clock(); }

  WorkerStatus& worker(const std::string& op, const std::string& name) {
    const auto found = workers.find(name);
    if (found == workers.end()) notFound(op, "worker", name);
    return found->second;
  }

  TopologyInfo& topology(const std::string& op, const std::string& uuid) {
    const auto found = topologies.find(uuid);
    if (found == topologies.end()) notFound(op, "topology", uuid);
    return found->second;
  }

  void recordWorker(const WorkerStatus& w, TimePoint ts) {
    appendHistory(worker_history[w.name],
                  WorkerStatusHistory{w.name, w.status, w.lstatus, ts, w.pid});
  }

  void recordTopology(const TopologyInfo& t, TimePoint ts) {
    TopologyStatusHistory row;
    static_cast<TopologyStatus&>(row) = t;
    row.epoch = 0;  // history rows do not record it
    row.ts = ts;
    row.last_ping = ts;
    appendHistory(topology_history[t.uuid], std::move(row));
  }

  // An effective leader: marked leader, alive, and pinged within the leader
  // timeout (the same for a fresh candidate).
  bool fresh(const WorkerStatus& w, Leadership lstatus, TimePoint at) const {
    return w.lstatus == lstatus && w.status == ws::alive &&
           at - w.last_ping <= options.leader_timeout;
  }

  const WorkerStatus* effectiveLeader(TimePoint at) const {
    for (const auto& [name, w] : workers) {
      if (detail::isLiveLeader(w, at, options.leader_timeout)) return &w;
    }
    return nullptr;
  }

  void setLStatus(WorkerStatus& w, Leadership lstatus, TimePoint at) {
    if (w.lstatus == lstatus) return;
    w.lstatus = lstatus;
    recordWorker(w, at);
  }

  // Every other leader or candidate steps back: at most one row is leader.
  void demoteOthers(const std::string& name, TimePoint at) {
    for (auto& [other, w] : workers) {
      if (other != name && (w.lstatus == ls::leader || w.lstatus == ls::candidate)) {
        setLStatus(w, ls::normal, at);
      }
    }
  }

  // announce_leader_candidacy
  void announce(const std::string& op, const std::string& name) {
    const auto at = now();
    auto& self = worker(op, name);
    if (self.status != ws::alive || self.lstatus == ls::leader || effectiveLeader(at)) return;
    self.last_ping = at;
    setLStatus(self, ls::candidate, at);
  }

  // check_leader_candidacy
  bool check(const std::string& op, const std::string& name) {
    const auto at = now();
    auto& self = worker(op, name);
    const auto leader = effectiveLeader(at);
    const bool other_leader = leader && leader->name != name;
    bool greater_candidate = false;
    for (auto it = workers.upper_bound(name); it != workers.end(); ++it) {
      greater_candidate = greater_candidate || fresh(it->second, ls::candidate, at);
    }
    if (other_leader || self.status != ws::alive ||
        (self.lstatus == ls::candidate && greater_candidate)) {
      setLStatus(self, ls::normal, at);
      return false;
    }
    if (self.lstatus == ls::leader) {
      self.last_ping = at;
      return true;
    }
    if (self.lstatus != ls::candidate) return false;
    demoteOthers(name, at);
    self.last_ping = at;
    setLStatus(self, ls::leader, at);
    return true;
  }

  // set_topology_status, after validation
  void setStatus(TopologyInfo& t, TopologyState status, std::optional<std::string> error,
                 TimePoint at) {
    t.status = status;
    t.error = std::move(error);
    t.last_ping = at;
    recordTopology(t, at);
  }

  // take_messages: valid messages of the worker in send order, removed from
  // the queue; expired ones are dropped on the way.
  std::vector<StorageMessage> take(const std::string& name, std::size_t limit) {
    const auto at = now();
    std::vector<StorageMessage> out;
    for (auto it = messages.begin(); it != messages.end();) {
      if (it->worker != name || out.size() >= limit) {
        ++it;
      } else if (it->valid_until < at) {
        it = messages.erase(it);
      } else {
        out.push_back({it->cmd, it->content, it->created});
        it = messages.erase(it);
      }
    }
    return out;
  }

  void send(const std::string& worker_name, std::string_view cmd, Json content,
            std::chrono::milliseconds valid_for, TimePoint at) {
    messages.push_back(
        {++last_message_id, worker_name, std::string(cmd), std::move(content), at, at + valid_for});
  }

  // stop_topology
  void stop(const std::string& op, const std::string& uuid, std::string_view cmd) {
    const auto at = now();
    auto& t = topology(op, uuid);
    t.enabled = false;
    recordTopology(t, at);
    if (t.worker) send(*t.worker, cmd, Json{{"uuid", uuid}}, kStopMessageLifetime, at);
  }

  void setEnabled(const std::string& op, const std::string& uuid, bool enabled) {
    auto& t = topology(op, uuid);
    t.enabled = enabled;
    recordTopology(t, now());
  }

  // refresh_statuses
  void refresh() {
    const auto at = now();
    for (auto& [name, w] : workers) {
      if ((w.status == ws::alive || w.status == ws::closing) &&
          at - w.last_ping > options.worker_dead_timeout) {
        w.status = ws::dead;
        w.lstatus = ls::normal;
        recordWorker(w, at);
      }
    }
    for (auto& [name, w] : workers) {
      if ((w.lstatus == ls::leader || w.lstatus == ls::candidate) &&
          (w.status != ws::alive || at - w.last_ping > options.leader_timeout)) {
        setLStatus(w, ls::normal, at);
      }
    }
    for (auto& [uuid, t] : topologies) {
      const bool waited_too_long =
          t.status == ts::waiting && at - t.last_ping > options.waiting_timeout;
      bool on_dead_worker = false;
      if (t.status == ts::running && t.worker) {
        const auto w = workers.find(*t.worker);
        on_dead_worker = w != workers.end() && w->second.status == ws::dead;
      }
      if (waited_too_long || on_dead_worker) {
        // The worker is kept, as the Node package does; last_ping is not
        // touched by the procedure either.
        t.status = ts::unassigned;
        recordTopology(t, at);
      }
    }
    messages.erase(std::remove_if(messages.begin(), messages.end(),
                                  [&](const Message& m) { return m.valid_until < at; }),
                   messages.end());
  }

  // A worker's report (qtopology_sp_report_topology_status): a worker
  // reporting on a topology given to someone else since, or from an
  // assignment older than the topology's, changes nothing.
  bool reportStatus(const std::string& op, const std::string& uuid,
                    const std::optional<std::string>& worker, TopologyState status,
                    const std::optional<std::string>& error, std::optional<std::int64_t> epoch) {
    auto& t = topology(op, uuid);
    if ((worker && t.worker != worker) || (epoch && *epoch < t.epoch)) return false;
    setStatus(t, status, error, now());
    return true;
  }

  bool reportPid(const std::string& op, const std::string& uuid, std::optional<int> pid,
                 std::optional<std::int64_t> epoch) {
    auto& t = topology(op, uuid);
    if (epoch && *epoch < t.epoch) return false;
    const auto at = now();
    t.pid = pid;
    t.last_ping = at;
    recordTopology(t, at);
    return true;
  }

  // Everything applyLeaderActions() names must exist before anything is
  // written.
  void validate(const std::string& op, const LeaderActions& actions) {
    detail::checkLeaderActionsExist(
        op, actions, [&](const std::string& name) { return workers.count(name) > 0; },
        [&](const std::string& uuid) { return topologies.count(uuid) > 0; });
  }

  void apply(const LeaderActions& actions, TimePoint at) {
    for (const auto& name : actions.unload_workers) {
      // One that came back since the leader looked keeps its status; its
      // running topologies were unassigned when it was declared dead.
      if (workers.at(name).status != ws::dead) continue;
      for (auto& [uuid, t] : topologies) {
        if (t.worker == name && t.status != ts::error) {
          setStatus(t, ts::unassigned, std::nullopt, at);
        }
      }
      // last_ping stays the last heartbeat; the history row has the unload.
      auto& w = workers.at(name);
      w.status = ws::unloaded;
      w.lstatus = ls::normal;
      recordWorker(w, at);
    }
    for (const auto& uuid : actions.unassign_topologies) {
      setStatus(topologies.at(uuid), ts::unassigned, std::nullopt, at);
    }
    for (const auto& a : actions.assignments) {
      auto& t = topologies.at(a.uuid);
      t.worker = a.worker;
      ++t.epoch;
      setStatus(t, ts::waiting, t.error, at);
    }
    for (auto& m : detail::leaderMessages(actions)) {
      send(m.worker, m.cmd, std::move(m.content), m.valid_for, at);
    }
  }

  MemoryStorageOptions options;

  // MemoryStorageOptions::heartbeat_write_interval, capped as
  // qtopology_sp_worker_heartbeat_v26 caps heartbeat_write_interval_s.
  std::chrono::milliseconds heartbeatWriteInterval() const {
    const auto cap = std::min(options.worker_dead_timeout, options.leader_timeout) / 2;
    return std::min(options.heartbeat_write_interval.value_or(cap), cap);
  }
  std::mutex mutex;
  // Settings with no option of their own (message_claim_retention_s).
  std::map<std::string, std::int64_t> other_settings;
  std::map<std::string, WorkerStatus> workers;
  std::map<std::string, TopologyInfo> topologies;
  std::map<std::string, std::deque<WorkerStatusHistory>> worker_history;
  std::map<std::string, std::deque<TopologyStatusHistory>> topology_history;
  std::deque<Message> messages;
  std::uint64_t last_message_id = 0;
};

MemoryStorage::MemoryStorage(MemoryStorageOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

MemoryStorage::~MemoryStorage() = default;

// --- reads ------------------------------------------------------------------

std::vector<WorkerStatus> MemoryStorage::getWorkerStatus() {
  std::lock_guard lock(impl_->mutex);
  std::vector<WorkerStatus> out;
  for (const auto& [name, w] : impl_->workers) out.push_back(w);
  return out;
}

std::vector<TopologyStatus> MemoryStorage::getTopologyStatus() {
  std::lock_guard lock(impl_->mutex);
  std::vector<TopologyStatus> out;
  for (const auto& [uuid, t] : impl_->topologies) out.push_back(t);
  return out;
}

std::vector<TopologyStatus> MemoryStorage::getTopologiesForWorker(const std::string& worker) {
  checkedOperation("getTopologiesForWorker", "worker", worker);
  std::lock_guard lock(impl_->mutex);
  std::vector<TopologyStatus> out;
  for (const auto& [uuid, t] : impl_->topologies) {
    if (t.worker == worker) out.push_back(t);
  }
  return out;
}

TopologyInfo MemoryStorage::getTopologyInfo(const std::string& uuid) {
  const auto op = checkedOperation("getTopologyInfo", "uuid", uuid);
  std::lock_guard lock(impl_->mutex);
  return impl_->topology(op, uuid);
}

std::vector<TopologyStatusHistory> MemoryStorage::getTopologyHistory(const std::string& uuid) {
  checkedOperation("getTopologyHistory", "uuid", uuid);
  std::lock_guard lock(impl_->mutex);
  return newestFirst(impl_->topology_history, uuid);
}

std::vector<WorkerStatusHistory> MemoryStorage::getWorkerHistory(const std::string& name) {
  checkedOperation("getWorkerHistory", "worker", name);
  std::lock_guard lock(impl_->mutex);
  return newestFirst(impl_->worker_history, name);
}

std::vector<MsgQueueItem> MemoryStorage::getMsgQueueContent() {
  std::lock_guard lock(impl_->mutex);
  const auto at = impl_->now();
  std::vector<MsgQueueItem> out;
  for (const auto& m : impl_->messages) {
    if (m.valid_until >= at) out.push_back({m.worker, m.cmd, m.content, m.created, m.valid_until});
  }
  return out;
}

std::vector<StorageProperty> MemoryStorage::getProperties() {
  const auto seconds = [](std::chrono::milliseconds d) {
    return std::to_string(std::chrono::duration<double>(d).count());
  };
  std::lock_guard lock(impl_->mutex);  // setSetting() changes them
  const auto& o = impl_->options;
  std::vector<StorageProperty> out{
      {"type", "MemoryStorage"},
      {"worker_dead_timeout_s", seconds(o.worker_dead_timeout)},
      {"leader_timeout_s", seconds(o.leader_timeout)},
      {"waiting_timeout_s", seconds(o.waiting_timeout)},
  };
  out.insert(out.end(), o.properties.begin(), o.properties.end());
  return out;
}

// --- messages -----------------------------------------------------------------

std::vector<StorageMessage> MemoryStorage::getMessages(const std::string& worker) {
  const auto op = checkedOperation("getMessages", "worker", worker);
  std::lock_guard lock(impl_->mutex);
  impl_->worker(op, worker);
  return impl_->take(worker, SIZE_MAX);
}

std::optional<StorageMessage> MemoryStorage::getMessage(const std::string& worker) {
  const auto op = checkedOperation("getMessage", "worker", worker);
  std::lock_guard lock(impl_->mutex);
  impl_->worker(op, worker);
  auto taken = impl_->take(worker, 1);
  if (taken.empty()) return std::nullopt;
  return std::move(taken.front());
}

void MemoryStorage::sendMessageToWorker(const std::string& worker, const std::string& cmd,
                                        const Json& content, std::chrono::milliseconds valid_for) {
  const auto op = checkedOperation("sendMessageToWorker", "worker", worker);
  detail::checkCommand(op, cmd);
  if (valid_for.count() <= 0) {
    throw InvalidArgument(op + ": valid_for must be positive, got " +
                          std::to_string(valid_for.count()) + " ms");
  }
  detail::serializeContent(op, content);  // the same limits as the MySQL column
  std::lock_guard lock(impl_->mutex);
  impl_->worker(op, worker);
  impl_->send(worker, cmd, content, valid_for, impl_->now());
}

// --- workers and leadership --------------------------------------------------

void MemoryStorage::registerWorker(const std::string& name) {
  checkedOperation("registerWorker", "worker", name);
  std::lock_guard lock(impl_->mutex);
  const auto at = impl_->now();
  auto& w = impl_->workers[name];
  w = WorkerStatus{name, ws::alive, ls::normal, at, ::getpid()};
  impl_->recordWorker(w, at);
}

void MemoryStorage::pingWorker(const std::string& name) {
  const auto op = checkedOperation("pingWorker", "worker", name);
  std::lock_guard lock(impl_->mutex);
  impl_->worker(op, name).last_ping = impl_->now();
}

void MemoryStorage::announceLeaderCandidacy(const std::string& name) {
  const auto op = checkedOperation("announceLeaderCandidacy", "worker", name);
  std::lock_guard lock(impl_->mutex);
  impl_->announce(op, name);
}

bool MemoryStorage::checkLeaderCandidacy(const std::string& name) {
  const auto op = checkedOperation("checkLeaderCandidacy", "worker", name);
  std::lock_guard lock(impl_->mutex);
  return impl_->check(op, name);
}

void MemoryStorage::setWorkerStatus(const std::string& name, WorkerState status) {
  const auto op = checkedOperation("setWorkerStatus", "worker", name);
  detail::checkWorkerStatus(op, status);
  std::lock_guard lock(impl_->mutex);
  auto& w = impl_->worker(op, name);
  const auto at = impl_->now();
  w.status = status;
  if (status != ws::alive) w.lstatus = ls::normal;  // only an alive worker may lead
  w.last_ping = at;
  impl_->recordWorker(w, at);
}

void MemoryStorage::setWorkerLStatus(const std::string& name, Leadership lstatus) {
  const auto op = checkedOperation("setWorkerLStatus", "worker", name);
  detail::checkLeadershipStatus(op, lstatus);
  std::lock_guard lock(impl_->mutex);
  auto& w = impl_->worker(op, name);
  const auto at = impl_->now();
  if (lstatus != ls::normal && w.status != ws::alive) {
    throw InvalidArgument(op + ": worker is " + std::string(toString(w.status)) + ", cannot be " +
                          std::string(toString(lstatus)) + ": " + name);
  }
  if (lstatus == ls::leader) {
    const auto leader = impl_->effectiveLeader(at);
    if (leader && leader->name != name) {
      throw InvalidArgument(op + ": another worker is leader, cannot promote: " + name);
    }
    impl_->demoteOthers(name, at);
  }
  w.lstatus = lstatus;
  w.last_ping = at;
  impl_->recordWorker(w, at);
}

void MemoryStorage::deleteWorker(const std::string& name) {
  const auto op = checkedOperation("deleteWorker", "worker", name);
  std::lock_guard lock(impl_->mutex);
  const auto& w = impl_->worker(op, name);
  if (w.status != ws::unloaded) {
    throw InvalidArgument(op + ": worker is " + std::string(toString(w.status)) +
                          ", not unloaded: " + name);
  }
  impl_->workers.erase(name);
}

void MemoryStorage::shutDownWorker(const std::string& name) {
  const auto op = checkedOperation("shutDownWorker", "worker", name);
  std::lock_guard lock(impl_->mutex);
  impl_->worker(op, name);
  impl_->send(name, consts::leader_messages::shutdown, Json::object(), kShutdownMessageLifetime,
              impl_->now());
}

// --- topologies -----------------------------------------------------------------

void MemoryStorage::registerTopology(const std::string& uuid, const Json& config) {
  const auto op = checkedOperation("registerTopology", "uuid", uuid);
  const auto columns = detail::topologyColumns(op, config);
  std::lock_guard lock(impl_->mutex);
  const auto at = impl_->now();
  auto [it, inserted] = impl_->topologies.try_emplace(uuid);
  auto& t = it->second;
  if (inserted) {
    t.uuid = uuid;
    t.status = ts::unassigned;
    t.enabled = false;
    t.last_ping = at;
  }
  t.config = config;
  t.weight = columns.weight;
  t.worker_affinity = detail::splitAffinity(columns.worker_affinity);
  impl_->recordTopology(t, at);
}

void MemoryStorage::assignTopology(const std::string& uuid, const std::string& worker) {
  const auto op = checkedOperation("assignTopology", "uuid", uuid);
  detail::checkIdentifier(op, "worker", worker);
  std::lock_guard lock(impl_->mutex);
  impl_->worker(op, worker);
  auto& t = impl_->topology(op, uuid);
  t.worker = worker;
  ++t.epoch;
  impl_->setStatus(t, ts::waiting, t.error, impl_->now());
}

void MemoryStorage::setTopologyStatus(const TopologyStatusChange& c) {
  const auto op = detail::checkedTopologyStatusCall(c.uuid, c.worker, c.status, c.error);
  std::lock_guard lock(impl_->mutex);
  impl_->reportStatus(op, c.uuid, c.worker, c.status, c.error, std::nullopt);
}

void MemoryStorage::setTopologyPid(const std::string& uuid, std::optional<int> pid) {
  const auto op = checkedOperation("setTopologyPid", "uuid", uuid);
  std::lock_guard lock(impl_->mutex);
  impl_->reportPid(op, uuid, pid, std::nullopt);
}

bool MemoryStorage::reportTopologyStatus(const TopologyReport& r) {
  const auto op = detail::checkedTopologyStatusCall(r.uuid, r.worker, r.status, r.error);
  std::lock_guard lock(impl_->mutex);
  return impl_->reportStatus(op, r.uuid, r.worker, r.status, r.error, r.epoch);
}

bool MemoryStorage::reportTopologyPid(const TopologyPidReport& r) {
  const auto op = checkedOperation("setTopologyPid", "uuid", r.uuid);
  std::lock_guard lock(impl_->mutex);
  return impl_->reportPid(op, r.uuid, r.pid, r.epoch);
}

void MemoryStorage::disableTopology(const std::string& uuid) {
  const auto op = checkedOperation("disableTopology", "uuid", uuid);
  std::lock_guard lock(impl_->mutex);
  impl_->setEnabled(op, uuid, false);
}

void MemoryStorage::enableTopology(const std::string& uuid) {
  const auto op = checkedOperation("enableTopology", "uuid", uuid);
  std::lock_guard lock(impl_->mutex);
  impl_->setEnabled(op, uuid, true);
}

void MemoryStorage::stopTopology(const std::string& uuid) {
  const auto op = checkedOperation("stopTopology", "uuid", uuid);
  std::lock_guard lock(impl_->mutex);
  impl_->stop(op, uuid, consts::leader_messages::stop_topology);
}

void MemoryStorage::killTopology(const std::string& uuid) {
  const auto op = checkedOperation("killTopology", "uuid", uuid);
  std::lock_guard lock(impl_->mutex);
  impl_->stop(op, uuid, consts::leader_messages::kill_topology);
}

void MemoryStorage::deleteTopology(const std::string& uuid) {
  const auto op = checkedOperation("deleteTopology", "uuid", uuid);
  std::lock_guard lock(impl_->mutex);
  impl_->topology(op, uuid);
  impl_->topologies.erase(uuid);
}

void MemoryStorage::clearTopologyError(const std::string& uuid) {
  const auto op = checkedOperation("clearTopologyError", "uuid", uuid);
  std::lock_guard lock(impl_->mutex);
  auto& t = impl_->topology(op, uuid);
  if (t.status != ts::error) {
    throw InvalidArgument(op + ": topology is " + std::string(toString(t.status)) +
                          ", not in error: " + uuid);
  }
  impl_->setStatus(t, ts::unassigned, std::nullopt, impl_->now());
}

std::optional<std::string> MemoryStorage::clearTopologyErrorToLastWorker(const std::string& uuid) {
  const auto op = checkedOperation("clearTopologyErrorToLastWorker", "uuid", uuid);
  std::lock_guard lock(impl_->mutex);
  auto& t = impl_->topology(op, uuid);
  if (t.status != ts::error) {
    throw InvalidArgument(op + ": topology is " + std::string(toString(t.status)) +
                          ", not in error: " + uuid);
  }
  const auto at = impl_->now();
  const auto last = t.enabled && t.worker ? impl_->workers.find(*t.worker) : impl_->workers.end();
  if (last == impl_->workers.end() || last->second.status != ws::alive) {
    impl_->setStatus(t, ts::unassigned, std::nullopt, at);
    return std::nullopt;
  }
  ++t.epoch;
  impl_->setStatus(t, ts::waiting, std::nullopt, at);
  impl_->send(*t.worker, consts::leader_messages::start_topology, Json{{"uuid", uuid}},
              kRestartMessageLifetime, at);
  return t.worker;
}

// --- cluster settings -------------------------------------------------------------
// The three timeouts and the write interval are the options the storage goes
// by; rebalance_interval_s is one of the properties, for TopologyWorker; the
// claim retention is only kept (claims here are gone once taken).

namespace {

constexpr std::string_view kRebalanceInterval = "rebalance_interval_s";

std::int64_t wholeSeconds(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

// The timeout options that are settings of the same name, or nullptr.
std::chrono::milliseconds* timeoutOption(MemoryStorageOptions& o, std::string_view name) {
  if (name == "worker_dead_timeout_s") return &o.worker_dead_timeout;
  if (name == "leader_timeout_s") return &o.leader_timeout;
  if (name == "waiting_timeout_s") return &o.waiting_timeout;
  return nullptr;
}

}  // namespace

std::vector<ClusterSetting> MemoryStorage::getSettings() {
  std::lock_guard lock(impl_->mutex);
  auto& o = impl_->options;
  const auto text = [](std::chrono::milliseconds d) { return std::to_string(wholeSeconds(d)); };
  std::vector<ClusterSetting> out;
  for (const auto& spec : clusterSettingSpecs()) {
    ClusterSetting setting{std::string(spec.name), spec.default_value, std::nullopt};
    if (const auto* timeout = timeoutOption(o, spec.name)) {
      setting.stored = text(*timeout);
    } else if (spec.name == "heartbeat_write_interval_s") {
      if (o.heartbeat_write_interval) setting.stored = text(*o.heartbeat_write_interval);
    } else if (spec.name == kRebalanceInterval) {
      for (const auto& p : o.properties) {
        if (p.key == kRebalanceInterval) setting.stored = p.value;
      }
    } else if (const auto found = impl_->other_settings.find(setting.name);
               found != impl_->other_settings.end()) {
      setting.stored = std::to_string(found->second);
    }
    if (spec.name == "heartbeat_write_interval_s") {
      setting.value = wholeSeconds(impl_->heartbeatWriteInterval());
    } else if (setting.stored) {
      try {
        setting.value = std::stoll(*setting.stored);
      } catch (const std::exception&) {
        // a property that is no number: TopologyWorker ignores it too
      }
    }
    out.push_back(std::move(setting));
  }
  return out;
}

void MemoryStorage::setSetting(const std::string& name, std::int64_t value) {
  const auto& spec = checkSetting(name, value);
  const std::chrono::milliseconds ms = std::chrono::seconds(value);
  std::lock_guard lock(impl_->mutex);
  auto& o = impl_->options;
  if (auto* timeout = timeoutOption(o, spec.name)) {
    *timeout = ms;
  } else if (spec.name == "heartbeat_write_interval_s") {
    o.heartbeat_write_interval = ms;
  } else if (spec.name == kRebalanceInterval) {
    auto& properties = o.properties;
    properties.erase(std::remove_if(properties.begin(), properties.end(),
                                    [](const auto& p) { return p.key == kRebalanceInterval; }),
                     properties.end());
    properties.push_back({std::string(kRebalanceInterval), std::to_string(value)});
  } else {
    impl_->other_settings[name] = value;
  }
}

void MemoryStorage::refreshStatuses() {
  std::lock_guard lock(impl_->mutex);
  impl_->refresh();
}

// --- combined calls -------------------------------------------------------------

WorkerHeartbeat MemoryStorage::heartbeat(const std::string& name) {
  const auto op = checkedOperation("heartbeat", "worker", name);
  std::lock_guard lock(impl_->mutex);
  const auto at = impl_->now();
  auto& self = impl_->worker(op, name);
  WorkerHeartbeat beat;
  beat.messages = impl_->take(name, kHeartbeatMessageBatch);
  // When due, as MySqlCoordinator's heartbeat decides it (see db/v27.sql).
  beat.wrote = !beat.messages.empty() || self.lstatus == ls::candidate || self.last_ping > at ||
               at - self.last_ping >= impl_->heartbeatWriteInterval();
  if (beat.wrote) self.last_ping = at;
  beat.status = self.status;
  beat.lstatus = self.lstatus;
  beat.now = at;
  detail::LeaderFinder finder(at, impl_->options.leader_timeout);
  for (const auto& [other, w] : impl_->workers) finder.consider(w);
  beat.leader = finder.leader();
  beat.leader_alive = finder.alive();
  return beat;
}

bool MemoryStorage::campaign(const std::string& name) {
  const auto op = checkedOperation("campaign", "worker", name);
  std::lock_guard lock(impl_->mutex);
  impl_->announce(op, name);
  return impl_->check(op, name);
}

bool MemoryStorage::applyLeaderActions(const std::string& leader, const LeaderActions& actions) {
  const auto op = checkedOperation("applyLeaderActions", "leader", leader);
  detail::checkLeaderActions(op, actions);
  std::lock_guard lock(impl_->mutex);
  const auto at = impl_->now();
  const auto self = impl_->workers.find(leader);
  // A deleted leader is no longer one either.
  if (self == impl_->workers.end() ||
      !detail::isLiveLeader(self->second, at, impl_->options.leader_timeout)) {
    return false;
  }
  impl_->validate(op, actions);
  impl_->apply(actions, at);
  return true;
}

}  // namespace qtopology
