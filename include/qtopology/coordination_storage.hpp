// The coordination storage of a QTopology cluster: what workers share.
//
// This header is backend-neutral. It holds the abstract interface, the records it
// returns, the status and command constants, and the exceptions it throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <qtopology/export.hpp>

namespace qtopology {

using Json = nlohmann::json;
using TimePoint = std::chrono::system_clock::time_point;

// ---------------------------------------------------------------------------
// Statuses. Typed in the API; text (Node qtopology's spellings, shown beside
// each value) only where they leave the process: in a storage's rows, in JSON
// and on command lines. toString() gives that text, parse...() reads it back
// and throws InvalidArgument naming text it does not know.

// WorkerStatus::status: a worker's own life cycle.
enum class WorkerState {
  alive,     // "alive": pinging
  closing,   // "closing": shutting down
  dead,      // "dead": silent past the dead-worker timeout
  disabled,  // "disabled": pinging, but takes no work
  unloaded,  // "unloaded": gone; its topologies were taken away
};

// WorkerStatus::lstatus: a worker's part in the leader election.
enum class Leadership {
  normal,     // "normal" (older peers write '', which reads as normal)
  candidate,  // "candidate"
  leader,     // "leader"
};

// TopologyStatus::status.
enum class TopologyState {
  unassigned,  // "unassigned"
  waiting,     // "waiting": assigned, not yet started by its worker
  running,     // "running"
  error,       // "error": TopologyStatus::error says why
};

// The text of a status, as storages and peers spell it. Never throws.
QTOPOLOGY_EXPORT std::string_view toString(WorkerState state) noexcept;
QTOPOLOGY_EXPORT std::string_view toString(Leadership leadership) noexcept;
QTOPOLOGY_EXPORT std::string_view toString(TopologyState state) noexcept;
// The reverse; InvalidArgument (defined below) names text that is none of
// the spellings. parseLeadership reads "" as Leadership::normal.
QTOPOLOGY_EXPORT WorkerState parseWorkerState(std::string_view text);
QTOPOLOGY_EXPORT Leadership parseLeadership(std::string_view text);
QTOPOLOGY_EXPORT TopologyState parseTopologyState(std::string_view text);

// The text, on a stream (log lines, test failure messages).
QTOPOLOGY_EXPORT std::ostream& operator<<(std::ostream& out, WorkerState state);
QTOPOLOGY_EXPORT std::ostream& operator<<(std::ostream& out, Leadership leadership);
QTOPOLOGY_EXPORT std::ostream& operator<<(std::ostream& out, TopologyState state);

// The statuses in JSON (nlohmann's ADL hooks): their text, as above.
inline void to_json(Json& json, WorkerState state) { json = std::string(toString(state)); }
inline void to_json(Json& json, Leadership leadership) { json = std::string(toString(leadership)); }
inline void to_json(Json& json, TopologyState state) { json = std::string(toString(state)); }
inline void from_json(const Json& json, WorkerState& state) {
  state = parseWorkerState(json.get<std::string>());
}
inline void from_json(const Json& json, Leadership& leadership) {
  leadership = parseLeadership(json.get<std::string>());
}
inline void from_json(const Json& json, TopologyState& state) {
  state = parseTopologyState(json.get<std::string>());
}

namespace consts {
namespace leader_messages {
inline constexpr std::string_view start_topology = "start_topology";
inline constexpr std::string_view start_topologies = "start_topologies";
inline constexpr std::string_view stop_topology = "stop_topology";
inline constexpr std::string_view stop_topologies = "stop_topologies";
inline constexpr std::string_view kill_topology = "kill_topology";
inline constexpr std::string_view shutdown = "shutdown";
inline constexpr std::string_view rebalance = "rebalance";
inline constexpr std::string_view set_enabled = "set_enabled";
inline constexpr std::string_view set_disabled = "set_disabled";
}  // namespace leader_messages
}  // namespace consts

// ---------------------------------------------------------------------------
// Records.

struct WorkerStatus {
  std::string name;
  WorkerState status = WorkerState::alive;
  Leadership lstatus = Leadership::normal;
  TimePoint last_ping;
  std::optional<int> pid;  // process id the worker registered with, if known
};

struct TopologyStatus {
  std::string uuid;
  TopologyState status = TopologyState::unassigned;
  std::optional<std::string> worker;  // assigned worker, if any
  std::optional<std::string> error;   // error text of a topology in "error"
  std::optional<int> pid;
  double weight = 1.0;
  bool enabled = false;
  TimePoint last_ping;
  std::vector<std::string> worker_affinity;
  // The assignment's fencing token: grows by one each time the topology is
  // assigned to a worker (assignTopology, applyLeaderActions' assignments),
  // whoever assigns it. The instance started for an assignment carries it,
  // and reports made with an older one are ignored (reportTopologyStatus).
  // 0 before the first assignment, and in history rows.
  std::int64_t epoch = 0;
  // Set when the stored row fails the checks this library's writes make
  // (another writer's row: a Node peer, plain SQL): what is wrong, any of
  // the row's own text in it masked (control characters and invalid bytes
  // as '?'). A field that could not be read keeps its default above, and
  // the other texts are as stored, so show such a record escaped
  // (escapeControl) and act on it no further. Reads list such a row this
  // way instead of failing. The leader neither places, moves nor unassigns
  // it, and a worker starts none.
  std::optional<std::string> invalid;
};

struct TopologyInfo : TopologyStatus {
  Json config;
};

struct TopologyStatusHistory : TopologyStatus {
  TimePoint ts;  // when the change was recorded
};

struct WorkerStatusHistory {
  std::string name;
  WorkerState status = WorkerState::alive;
  Leadership lstatus = Leadership::normal;
  TimePoint ts;
  std::optional<int> pid;
};

struct StorageMessage {
  std::string cmd;
  Json content;
  TimePoint created;
};

struct MsgQueueItem {
  std::string name;  // the worker the message is for
  std::string cmd;
  Json data;
  TimePoint created;
  TimePoint valid_until;
};

struct StorageProperty {
  std::string key;
  std::string value;
};

// ---------------------------------------------------------------------------
// Cluster settings: the timeouts and intervals a whole cluster shares through
// its storage (MySqlCoordinator: rows of qtopology_settings, which Node
// qtopology-mysql's procedures read too). Whole seconds.

// One known setting. clusterSettingSpecs() is the one list of them: the CLI,
// the dashboard and docs/worker.md show it.
struct SettingSpec {
  std::string_view name;  // e.g. "worker_dead_timeout_s"
  std::int64_t default_value;
  std::int64_t min;  // the range setSetting() accepts, both included
  std::int64_t max;
  std::string_view meaning;  // one sentence
};

// Every known setting, in a fixed order. Never throws.
QTOPOLOGY_EXPORT const std::vector<SettingSpec>& clusterSettingSpecs() noexcept;
// The setting called `name`, or nullptr.
QTOPOLOGY_EXPORT const SettingSpec* findSettingSpec(std::string_view name) noexcept;
// The setting called `name` when `value` is in its range; else throws
// InvalidArgument (defined below) naming the setting and its range, or, for
// an unknown name, listing the known ones. What setSetting() checks first.
QTOPOLOGY_EXPORT const SettingSpec& checkSetting(std::string_view name, std::int64_t value);

// A setting as a storage has it, from getSettings().
struct ClusterSetting {
  std::string name;
  // The value the storage goes by: the stored one, or the default when it
  // stores none (heartbeat_write_interval_s: capped, see its meaning).
  std::int64_t value = 0;
  // What the storage holds, as text; none when it holds nothing and the
  // default applies.
  std::optional<std::string> stored;
};

// What one tick of a worker's loop needs, from CoordinationStorage::heartbeat().
struct WorkerHeartbeat {
  WorkerState status = WorkerState::alive;  // its own status after the ping
  Leadership lstatus = Leadership::normal;  // its own leadership status
  // Messages taken for this worker, as getMessages() takes them (once only).
  std::vector<StorageMessage> messages;
  std::optional<std::string> leader;  // the worker holding lstatus "leader", if any
  // That leader is alive and has pinged within the leader timeout: when
  // false, a worker should campaign.
  bool leader_alive = false;
  TimePoint now;  // the storage's clock at the heartbeat
  // This call wrote the worker's ping. A storage may skip the write while
  // the last ping is recent (MySqlCoordinator and MemoryStorage: younger
  // than heartbeat_write_interval_s); the cluster then judges the worker by
  // the last ping that was written, so its lease runs from the last
  // heartbeat that wrote. A retried call may write where its first attempt
  // did not; false only ever means this call wrote nothing.
  bool wrote = true;
};

// setTopologyStatus(): a topology's new status. Set the fields by name (in
// C++20 with designated initializers): worker and error have the same type.
struct TopologyStatusChange {
  std::string uuid{};
  // With a worker given, nothing changes unless the topology is assigned to it.
  std::optional<std::string> worker{};
  TopologyState status = TopologyState::unassigned;
  // The error text, for TopologyState::error.
  std::optional<std::string> error{};
};

// reportTopologyStatus(): the same, from the instance started for the
// assignment of `epoch` (TopologyStatus::epoch when it started).
struct TopologyReport {
  std::string uuid{};
  std::optional<std::string> worker{};
  TopologyState status = TopologyState::unassigned;
  std::optional<std::string> error{};
  std::int64_t epoch = 0;
};

// reportTopologyPid(): the process id of the instance of `epoch`, or none.
struct TopologyPidReport {
  std::string uuid{};
  std::optional<int> pid{};
  std::int64_t epoch = 0;
};

// Place a topology on a worker: it becomes "waiting" there.
struct TopologyAssignment {
  std::string uuid;
  std::string worker;
};

// Take a running topology away from its worker during a rebalance: the worker
// is sent stop_topologies {stop_topologies: [{uuid, worker_new}]}.
struct TopologyMove {
  std::string uuid;
  std::string worker_old;
  std::string worker_new;
};

// The writes of one leader loop. applyLeaderActions() applies them only while
// the named worker is still the leader.
struct LeaderActions {
  // Dead workers: their topologies not in "error" become unassigned, and the
  // worker becomes "unloaded". A named worker that is no longer dead when the
  // actions are applied (it came back) keeps its status; its topologies are
  // lost to it all the same: refreshStatuses() unassigned the running ones
  // when it declared the worker dead, and a worker that finds itself dead
  // kills what it runs and registers again.
  std::vector<std::string> unload_workers;
  // Enabled topologies marked running without a worker: back to unassigned.
  std::vector<std::string> unassign_topologies;
  // Each worker that gets topologies is sent one start_topologies {uuids}.
  std::vector<TopologyAssignment> assignments;
  // Grouped by worker_old into one stop_topologies message each.
  std::vector<TopologyMove> moves;
  std::chrono::milliseconds start_valid_for{120000};
  std::chrono::milliseconds stop_valid_for{30000};

  bool empty() const {
    return unload_workers.empty() && unassign_topologies.empty() && assignments.empty() &&
           moves.empty();
  }
};

// ---------------------------------------------------------------------------
// Errors. Every message names the operation and the worker or uuid concerned,
// and never contains a password.

// Base of everything a storage throws. When the backend reported an error
// code, code() and sqlstate() say which, as the message does; a check made
// before the backend was asked leaves them 0 and "".
class QTOPOLOGY_EXPORT StorageError : public std::runtime_error {
 public:
  explicit StorageError(const std::string& what) : std::runtime_error(what) {}
  explicit StorageError(const char* what) : std::runtime_error(what) {}
  StorageError(const std::string& what, int code, std::string sqlstate)
      : std::runtime_error(what), code_(code), sqlstate_(std::move(sqlstate)) {}

  // The backend's error number (a database server's, say); 0 when there
  // was none.
  int code() const noexcept { return code_; }
  // The backend's five-character SQLSTATE (e.g. "40001"); "" when unknown.
  const std::string& sqlstate() const noexcept { return sqlstate_; }

 private:
  int code_ = 0;
  std::string sqlstate_;
};

// The backend could not be reached, or the connection broke, and the retry
// budget is spent. The call may or may not have taken effect.
class QTOPOLOGY_EXPORT ConnectionError : public StorageError {
 public:
  using StorageError::StorageError;
};

// The database schema is at a version this library cannot work with, or a
// migration script failed.
class QTOPOLOGY_EXPORT SchemaError : public StorageError {
 public:
  using StorageError::StorageError;
};

// The worker or topology named in the call does not exist. Nothing changed.
class QTOPOLOGY_EXPORT NotFoundError : public StorageError {
 public:
  using StorageError::StorageError;
};

// The arguments are malformed, or the call is not allowed in the current state
// (e.g. clearing the error of a topology that is not in error). Nothing changed.
class QTOPOLOGY_EXPORT InvalidArgument : public StorageError {
 public:
  using StorageError::StorageError;
};

// ---------------------------------------------------------------------------
// The interface a QTopology worker talks to. Method names follow upstream's
// ICoordinationStorage.
//
// Every method is synchronous, thread-safe, and throws a StorageError (one of
// the classes above) on failure. Each call is atomic: it happens entirely or
// not at all. Calls that name a worker or topology throw NotFoundError when it
// does not exist, except the list and history queries, which return empty.
class QTOPOLOGY_EXPORT CoordinationStorage {
 public:
  virtual ~CoordinationStorage() = default;

  // --- reads ---------------------------------------------------------------
  virtual std::vector<WorkerStatus> getWorkerStatus() = 0;
  // The topology reads never fail because of what one row holds: a row that
  // fails validation comes with TopologyStatus::invalid set, beside the
  // good ones. getTopologyStatus checks the config, too, of the rows a
  // leader would place (enabled and unassigned): it must parse and be a
  // JSON object. getTopologyInfo fails with StorageError when the config
  // does not parse, as then there is nothing to return.
  virtual std::vector<TopologyStatus> getTopologyStatus() = 0;
  virtual std::vector<TopologyStatus> getTopologiesForWorker(const std::string& worker) = 0;
  virtual TopologyInfo getTopologyInfo(const std::string& uuid) = 0;
  // Newest first, at most 100 rows.
  virtual std::vector<TopologyStatusHistory> getTopologyHistory(const std::string& uuid) = 0;
  virtual std::vector<WorkerStatusHistory> getWorkerHistory(const std::string& name) = 0;
  // Unexpired messages not yet taken, in send order.
  virtual std::vector<MsgQueueItem> getMsgQueueContent() = 0;
  virtual std::vector<StorageProperty> getProperties() = 0;

  // --- messages --------------------------------------------------------------
  // Take the unexpired messages of a worker, oldest first: getMessages all of
  // them, or a bounded batch the storage chooses (MySqlCoordinator: 1,000 a
  // call, the rest stay queued in order for the next); getMessage the oldest
  // one. What is returned is removed from the queue in the
  // same transaction: concurrent readers never get the same message, and a
  // call retried after a lost reply returns what the first attempt took.
  virtual std::vector<StorageMessage> getMessages(const std::string& worker) = 0;
  virtual std::optional<StorageMessage> getMessage(const std::string& worker) = 0;
  // Queue a message, expiring valid_for after the storage's now. A retried call
  // never queues it twice.
  virtual void sendMessageToWorker(const std::string& worker, const std::string& cmd,
                                   const Json& content, std::chrono::milliseconds valid_for) = 0;

  // --- workers and leadership -----------------------------------------------
  // Insert or revive a worker: alive, not leader, pinged now.
  virtual void registerWorker(const std::string& name) = 0;
  virtual void pingWorker(const std::string& name) = 0;
  // Become candidate if the worker is alive and there is no live leader.
  virtual void announceLeaderCandidacy(const std::string& name) = 0;
  // True when the worker is (now) the one leader. Never two leaders: both
  // calls are serialised with every other election step of the storage.
  virtual bool checkLeaderCandidacy(const std::string& name) = 0;
  virtual void setWorkerStatus(const std::string& name, WorkerState status) = 0;
  // leader and candidate are accepted only for an alive worker, and leader
  // only when no other live leader exists (else InvalidArgument).
  virtual void setWorkerLStatus(const std::string& name, Leadership lstatus) = 0;
  // Only an "unloaded" worker can be deleted (else InvalidArgument).
  virtual void deleteWorker(const std::string& name) = 0;
  // Sends the worker "shutdown", valid for 60 s.
  virtual void shutDownWorker(const std::string& name) = 0;

  // --- topologies -------------------------------------------------------------
  // Insert (unassigned, disabled) or update config, weight and affinity. The
  // config must be a JSON object; general.weight (positive number, default 1)
  // and general.worker_affinity (array of worker names) are read from it.
  virtual void registerTopology(const std::string& uuid, const Json& config) = 0;
  virtual void assignTopology(const std::string& uuid, const std::string& worker) = 0;
  virtual void setTopologyStatus(const TopologyStatusChange& change) = 0;
  virtual void setTopologyPid(const std::string& uuid, std::optional<int> pid) = 0;
  // The same two, from a worker that runs the assignment of `epoch`
  // (TopologyStatus::epoch when it started it): when the topology has been
  // assigned again since (its epoch is greater), or a worker is named and
  // the topology is not assigned to it, nothing changes and nothing is
  // thrown, so a stale instance cannot flip the new one's status or pid.
  // They return whether the report was written. Errors as the calls above.
  // The check and the write are one atomic step (fencing).
  virtual bool reportTopologyStatus(const TopologyReport& report) = 0;
  virtual bool reportTopologyPid(const TopologyPidReport& report) = 0;
  virtual void disableTopology(const std::string& uuid) = 0;
  virtual void enableTopology(const std::string& uuid) = 0;
  // Disable and, if assigned, send the worker stop_topology / kill_topology
  // {"uuid": uuid} valid for 30 s, atomically.
  virtual void stopTopology(const std::string& uuid) = 0;
  virtual void killTopology(const std::string& uuid) = 0;
  virtual void deleteTopology(const std::string& uuid) = 0;
  // Only a topology in "error" (else InvalidArgument): back to unassigned.
  virtual void clearTopologyError(const std::string& uuid) = 0;
  // An operator's clear, as upstream's (qtopology's
  // TopologyLeader.clearTopologyError, behind its CLI and dashboard): only a
  // topology in "error" (else InvalidArgument). When it is enabled and the
  // worker it failed on is alive, it goes back there ("waiting", a new
  // epoch) and that worker is sent start_topology {"uuid": uuid} valid for
  // 120 s, so that what it left there locally is taken up again; otherwise
  // it becomes unassigned, as with clearTopologyError. Atomic; returns the
  // worker it went back to, if any. A retry after a lost reply fails with
  // InvalidArgument (it is no longer in error) and queues nothing twice.
  virtual std::optional<std::string> clearTopologyErrorToLastWorker(const std::string& uuid) = 0;

  // --- the leader's housekeeping -------------------------------------------
  // One transaction: silent workers become dead, silent leaders and
  // candidates lose that status, topologies waiting too long or running on
  // dead workers become unassigned. Safe for any worker to call: the outcome
  // depends only on the storage's clock and timeouts.
  virtual void refreshStatuses() = 0;

  // --- cluster settings ------------------------------------------------------
  // Every setting of clusterSettingSpecs(), in its order.
  virtual std::vector<ClusterSetting> getSettings() = 0;
  // Stores one setting for the whole cluster; workers and the storage's own
  // timeouts follow it from their next read. InvalidArgument, with nothing
  // written, for a name not in clusterSettingSpecs() or a value outside its
  // range (checkSetting()). Safe to retry.
  virtual void setSetting(const std::string& name, std::int64_t value) = 0;

  // --- combined calls of the worker loop -------------------------------------
  // Each is one atomic step of the storage (one round trip for a remote
  // one). ComposedCoordinationStorage (below) builds them, and the two
  // reports, from the calls above for a storage that cannot, at the price
  // of fencing.

  // The heartbeat of one tick: ping the worker (its status is left as it is:
  // a disabled worker stays disabled), take its messages, and report its own
  // status and the leader's liveness. NotFoundError when the worker is not
  // registered. The ping may be skipped while the last one is recent (see
  // WorkerHeartbeat::wrote); a candidate's, and one with a message taken,
  // never is.
  virtual WorkerHeartbeat heartbeat(const std::string& name) = 0;
  // announceLeaderCandidacy + checkLeaderCandidacy: true when the worker is
  // (now) the one leader.
  virtual bool campaign(const std::string& name) = 0;
  // Applies a leader loop's writes, all or nothing, and returns true; or
  // writes nothing and returns false when `leader` is no longer an alive
  // leader, or no longer exists (fencing: a resumed old leader changes
  // nothing). The check and the writes are one transaction. Malformed
  // actions throw InvalidArgument before that check. A worker or topology
  // that does not exist throws NotFoundError and nothing is written. Only
  // workers still dead are unloaded.
  virtual bool applyLeaderActions(const std::string& leader, const LeaderActions& actions) = 0;
};

// For a storage that has only the basic calls: reportTopologyStatus,
// reportTopologyPid, heartbeat, campaign and applyLeaderActions composed
// from them, call by call. NOT FENCED: the reports read the topology's epoch
// and then write, and applyLeaderActions checks leadership and then writes,
// so each is fenced only up to that read; a stale instance or a demoted
// leader that runs between the read and the write still writes. heartbeat
// pings with pingWorker() on every call (WorkerHeartbeat::wrote is always
// true), reads every worker row and the leader timeout from getProperties()'
// leader_timeout_s (10 s without it). A worker or topology deleted during
// applyLeaderActions can stop it half way. The conformance suite reports a
// storage built on this base as "not fenced". Opt in only when the backend
// cannot check and write in one step.
class QTOPOLOGY_EXPORT ComposedCoordinationStorage : public CoordinationStorage {
 public:
  bool reportTopologyStatus(const TopologyReport& report) override;
  bool reportTopologyPid(const TopologyPidReport& report) override;
  WorkerHeartbeat heartbeat(const std::string& name) override;
  bool campaign(const std::string& name) override;
  bool applyLeaderActions(const std::string& leader, const LeaderActions& actions) override;
};

}  // namespace qtopology
