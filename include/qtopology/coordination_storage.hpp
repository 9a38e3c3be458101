// The coordination storage of a QTopology cluster: what workers share.
//
// This header is backend-neutral. It holds the abstract interface, the records it
// returns, the status and command constants, and the exceptions it throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace qtopology {

using Json = nlohmann::json;
using TimePoint = std::chrono::system_clock::time_point;

namespace consts {
namespace worker_status {
inline constexpr std::string_view alive = "alive";
inline constexpr std::string_view closing = "closing";
inline constexpr std::string_view dead = "dead";
inline constexpr std::string_view disabled = "disabled";
inline constexpr std::string_view unloaded = "unloaded";
}  // namespace worker_status

namespace worker_lstatus {
inline constexpr std::string_view leader = "leader";
inline constexpr std::string_view candidate = "candidate";
inline constexpr std::string_view normal = "normal";
}  // namespace worker_lstatus

namespace topology_status {
inline constexpr std::string_view unassigned = "unassigned";
inline constexpr std::string_view waiting = "waiting";
inline constexpr std::string_view running = "running";
inline constexpr std::string_view error = "error";
}  // namespace topology_status

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
// Records. Statuses are plain strings holding one of the constants above; a
// leadership status written as '' by older peers is returned as "normal".

struct WorkerStatus {
  std::string name;
  std::string status;
  std::string lstatus;
  TimePoint last_ping;
  std::optional<int> pid;  // process id the worker registered with, if known
};

struct TopologyStatus {
  std::string uuid;
  std::string status;
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
};

struct TopologyInfo : TopologyStatus {
  Json config;
};

struct TopologyStatusHistory : TopologyStatus {
  TimePoint ts;  // when the change was recorded
};

struct WorkerStatusHistory {
  std::string name;
  std::string status;
  std::string lstatus;
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

// What one tick of a worker's loop needs, from CoordinationStorage::heartbeat().
struct WorkerHeartbeat {
  std::string status;   // the worker's own status after the ping (alive, disabled, ...)
  std::string lstatus;  // its own leadership status
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
class StorageError : public std::runtime_error {
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
class ConnectionError : public StorageError {
 public:
  using StorageError::StorageError;
};

// The database schema is at a version this library cannot work with, or a
// migration script failed.
class SchemaError : public StorageError {
 public:
  using StorageError::StorageError;
};

// The worker or topology named in the call does not exist. Nothing changed.
class NotFoundError : public StorageError {
 public:
  using StorageError::StorageError;
};

// The arguments are malformed, or the call is not allowed in the current state
// (e.g. clearing the error of a topology that is not in error). Nothing changed.
class InvalidArgument : public StorageError {
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
class CoordinationStorage {
 public:
  virtual ~CoordinationStorage() = default;

  // --- reads ---------------------------------------------------------------
  virtual std::vector<WorkerStatus> getWorkerStatus() = 0;
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
  virtual void setWorkerStatus(const std::string& name, const std::string& status) = 0;
  // "leader" and "candidate" are accepted only for an alive worker, and
  // "leader" only when no other live leader exists (else InvalidArgument).
  virtual void setWorkerLStatus(const std::string& name, const std::string& lstatus) = 0;
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
  // With a worker given, changes nothing unless the topology is assigned to it.
  virtual void setTopologyStatus(const std::string& uuid, const std::optional<std::string>& worker,
                                 const std::string& status,
                                 const std::optional<std::string>& error) = 0;
  virtual void setTopologyPid(const std::string& uuid, std::optional<int> pid) = 0;
  // The same two, from a worker that runs the assignment of `epoch`
  // (TopologyStatus::epoch when it started it): when the topology has been
  // assigned again since (its epoch is greater), nothing changes and
  // nothing is thrown, so a stale instance cannot flip the new one's status
  // or pid. They return whether the report was written. Errors as the calls
  // above. The defaults read the topology's epoch and then write, so they
  // fence only up to that read; an override checks and writes atomically.
  virtual bool reportTopologyStatus(const std::string& uuid,
                                    const std::optional<std::string>& worker,
                                    const std::string& status,
                                    const std::optional<std::string>& error, std::int64_t epoch);
  virtual bool reportTopologyPid(const std::string& uuid, std::optional<int> pid,
                                 std::int64_t epoch);
  virtual void disableTopology(const std::string& uuid) = 0;
  virtual void enableTopology(const std::string& uuid) = 0;
  // Disable and, if assigned, send the worker stop_topology / kill_topology
  // {"uuid": uuid} valid for 30 s, atomically.
  virtual void stopTopology(const std::string& uuid) = 0;
  virtual void killTopology(const std::string& uuid) = 0;
  virtual void deleteTopology(const std::string& uuid) = 0;
  // Only a topology in "error" (else InvalidArgument): back to unassigned.
  virtual void clearTopologyError(const std::string& uuid) = 0;

  // --- the leader's housekeeping -------------------------------------------
  // One transaction: silent workers become dead, silent leaders and
  // candidates lose that status, topologies waiting too long or running on
  // dead workers become unassigned. Safe for any worker to call: the outcome
  // depends only on the storage's clock and timeouts.
  virtual void refreshStatuses() = 0;

  // --- combined calls of the worker loop -------------------------------------
  // The defaults below are built from the calls above, so every storage has
  // them; a storage may do each in one step (one round trip).

  // The heartbeat of one tick: ping the worker (its status is left as it is:
  // a disabled worker stays disabled), take its messages, and report its own
  // status and the leader's liveness. NotFoundError when the worker is not
  // registered. The ping may be skipped while the last one is recent (see
  // WorkerHeartbeat::wrote); a leader's or candidate's, and one with a
  // message taken, never is. The default pings with pingWorker() every
  // time, reads every worker row, and knows the leader timeout from
  // getProperties()' leader_timeout_s (10 s without it); overrides are
  // O(1).
  virtual WorkerHeartbeat heartbeat(const std::string& name);
  // announceLeaderCandidacy + checkLeaderCandidacy: true when the worker is
  // (now) the one leader.
  virtual bool campaign(const std::string& name);
  // Applies a leader loop's writes, all or nothing, and returns true; or
  // writes nothing and returns false when `leader` is no longer an alive
  // leader, or no longer exists (fencing: a resumed old leader changes
  // nothing). Malformed actions throw InvalidArgument before that check. The
  // default checks leadership with checkLeaderCandidacy (which keeps a
  // silent leader nobody replaced) and then writes call by call, so it
  // fences only up to that check; an override checks and writes in one
  // transaction. A worker or topology that does not exist throws
  // NotFoundError and nothing is written (the default checks them all before
  // its first write, but a row deleted meanwhile can still stop it half way).
  virtual bool applyLeaderActions(const std::string& leader, const LeaderActions& actions);
};

}  // namespace qtopology
