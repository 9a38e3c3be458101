#include <qtopology/mysql_coordinator.hpp>

#include <cppconn/connection.h>
#include <cppconn/exception.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <optional>

#include <qtopology/bounded_json.hpp>
#include "connection_pool.hpp"
#include "core/leader_messages.hpp"
#include "core/logging.hpp"
#include "core/validation.hpp"
#include "migrator.hpp"
#include "procedure_runner.hpp"
#include "random_key.hpp"
#include "server_errors.hpp"
#include "session_options.hpp"

namespace qtopology {

using detail::checkedOperation;
using detail::randomKey;
using detail::ResultTable;
using detail::SqlValue;

namespace {

constexpr std::chrono::milliseconds kShutdownMessageLifetime{60000};

// The most messages getMessages takes in one call; the rest stay queued, in
// order, for the next. Unbounded, a deep queue became one transaction that
// rewrote every row: on Galera any single claim committed meanwhile on another
// node aborted it, and its retries, longer each time the queue grew, starved
// (a 20,000-message backlog took minutes). It also bounds the reply's memory.
constexpr std::int64_t kMessageBatch = 1000;

// Fresh keys as parameters: debug logs leave them out (TraceOnly).
SqlValue claimKey() { return detail::TraceOnly{randomKey(), "claim key"}; }
SqlValue messageKey() { return detail::TraceOnly{randomKey(), "message key"}; }

// A worker status column's text, typed. Text none of the spellings (a peer
// of a newer release, a hand-edited row) is the storage's error, not the
// caller's. (A topology row's status is read by TopologyReader, which flags
// the row instead.)
template <typename Parse>
auto statusColumn(Parse parse, std::string_view text, std::string_view column) {
  try {
    return parse(text);
  } catch (const InvalidArgument& e) {
    throw StorageError("column " + std::string(column) + ": " + e.what());
  }
}

WorkerState workerStateColumn(std::string_view text) {
  return statusColumn(parseWorkerState, text, "status");
}
// Older peers wrote '' for normal.
Leadership leadershipColumn(std::string_view text) {
  return statusColumn(parseLeadership, text, "lstatus");
}

// A column holds up to 16 MiB: room for more values than a request body may
// carry, never for a document deep enough to exhaust the stack.
constexpr JsonLimits kStoredJsonLimits{64, 1000000};

Json parseStoredJson(const std::optional<std::string>& text, const std::string& what) {
  try {
    // Upstream tolerates comments in topology configs; so do we. Anyone who
    // can write the table wrote this text: bounded, as any outside input.
    return parseBoundedJson(text.value_or("null"), kStoredJsonLimits, true);
  } catch (const JsonInputError& e) {
    throw StorageError(what + ": stored JSON does not parse: " + e.what());
  }
}

// The column positions of a result, looked up once.
class ColumnIndex {
 protected:
  explicit ColumnIndex(std::vector<std::string> columns) : columns_(std::move(columns)) {}
  std::size_t index(std::string_view name) const { return detail::columnIndex(columns_, name); }
  // For a column only some results have (history rows have no epoch).
  std::optional<std::size_t> optionalIndex(std::string_view name) const {
    const auto found = std::find(columns_.begin(), columns_.end(), name);
    if (found == columns_.end()) return std::nullopt;
    return static_cast<std::size_t>(found - columns_.begin());
  }
  const std::string& name(std::size_t column) const { return columns_[column]; }

 private:
  const std::vector<std::string> columns_;
};

// A row of a ResultTable as the readers below take rows: `cell(column)`. The
// rows a RowSink receives are read the same way.
auto tableRow(const ResultTable& table, std::size_t row) {
  return [&table, row](std::size_t column) { return table.view(row, column); };
}

// Topology rows of the status, info and history results; `time_column` is
// the one that fills last_ping.
class TopologyReader : ColumnIndex {
 public:
  TopologyReader(std::vector<std::string> columns, std::string_view time_column)
      : ColumnIndex(std::move(columns)),
        uuid_(index("uuid")),
        status_(index("status")),
        worker_(index("worker")),
        error_(index("error")),
        pid_(index("pid")),
        weight_(index("weight")),
        enabled_(index("enabled")),
        time_(index(time_column)),
        affinity_(index("worker_affinity")),
        epoch_(optionalIndex("epoch")),
        pending_config_(optionalIndex("pending_config")) {}

  // A row that fails validation is filled as far as it reads, with
  // `invalid` saying why: one bad row written by another writer must not
  // make the whole read fail (the leader's loop reads every row).
  template <typename Cell>
  void fill(TopologyStatus& t, const Cell& cell) const {
    t.uuid = cell(uuid_);
    std::optional<std::string> problem;
    const std::string_view status = cell(status_);
    try {
      t.status = parseTopologyState(status);
    } catch (const InvalidArgument&) {
      problem = "status " + detail::quotedMasked(status) + " is not a topology status";
    }
    t.worker = detail::optTextCell(cell(worker_));
    t.error = detail::optTextCell(cell(error_));
    t.pid = detail::optIntCell(cell(pid_), name(pid_));
    t.weight = detail::numberCell(cell(weight_), name(weight_));
    t.enabled = detail::numberCell(cell(enabled_), name(enabled_)) != 0;
    t.last_ping = detail::timeCell(cell(time_), name(time_));
    t.worker_affinity = detail::splitAffinity(cell(affinity_));
    t.epoch = epoch_ ? static_cast<std::int64_t>(detail::numberCell(cell(*epoch_), "epoch")) : 0;
    if (!problem) problem = detail::topologyRowProblem(t);
    // The procedure sends the config only of rows a leader would place.
    if (!problem && pending_config_ && t.enabled && t.status == TopologyState::unassigned) {
      problem = configProblem(cell(*pending_config_));
    }
    t.invalid = std::move(problem);
  }

 private:
  // As getTopologyInfo would read it, and a JSON object.
  static std::optional<std::string> configProblem(std::string_view text) {
    if (!text.data()) return std::string("config is NULL");
    try {
      const auto config = parseBoundedJson(text, kStoredJsonLimits, true);
      if (!config.is_object()) {
        return std::string("config is ") + config.type_name() + ", not a JSON object";
      }
    } catch (const JsonInputError& e) {
      return "config does not parse: " + detail::masked(e.what(), 200);
    }
    return std::nullopt;
  }

  const std::size_t uuid_, status_, worker_, error_, pid_, weight_, enabled_, time_, affinity_;
  const std::optional<std::size_t> epoch_, pending_config_;
};

// Worker rows of the status and history results; `time_column` is the one
// that fills last_ping.
class WorkerReader : ColumnIndex {
 public:
  WorkerReader(std::vector<std::string> columns, std::string_view time_column)
      : ColumnIndex(std::move(columns)),
        name_(index("name")),
        status_(index("status")),
        lstatus_(index("lstatus")),
        time_(index(time_column)),
        pid_(index("pid")) {}

  template <typename Cell>
  void fill(WorkerStatus& w, const Cell& cell) const {
    w.name = cell(name_);
    w.status = workerStateColumn(cell(status_));
    w.lstatus = leadershipColumn(cell(lstatus_));
    w.last_ping = detail::timeCell(cell(time_), name(time_));
    w.pid = detail::optIntCell(cell(pid_), name(pid_));
  }

 private:
  const std::size_t name_, status_, lstatus_, time_, pid_;
};

std::vector<TopologyStatus> topologiesFrom(const ResultTable& table) {
  const TopologyReader reader(table.columns(), "last_ping_unix");
  std::vector<TopologyStatus> out(table.size());
  for (std::size_t i = 0; i < out.size(); ++i) reader.fill(out[i], tableRow(table, i));
  return out;
}

// The leader's reads of every worker and every topology: records are built
// as the rows arrive, with no ResultTable in between (the copy into it was
// the client's largest cost for 10,000 topologies; docs/performance.md).
// `expected` rows (the last read's count) are reserved at once: growing by
// doubling moved every record built so far at each step.
template <typename Reader, typename Record>
class RecordSink final : public detail::RowSink {
 public:
  explicit RecordSink(std::size_t expected) : expected_(expected) {}
  void start(const std::vector<std::string>& columns) override {
    records.clear();
    records.reserve(expected_ + expected_ / 16);
    reader_.emplace(columns, "last_ping_unix");
  }
  void row(const std::vector<std::string_view>& cells) override {
    reader_->fill(records.emplace_back(), [&](std::size_t column) { return cells[column]; });
  }

  std::vector<Record> records;

 private:
  const std::size_t expected_;
  std::optional<Reader> reader_;
};

std::vector<StorageMessage> messagesFrom(ResultTable table, const std::string& op) {
  const auto cmd = table.column("cmd"), content = table.column("content"),
             created = table.column("created_unix");
  std::vector<StorageMessage> out;
  out.reserve(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    out.push_back({table.takeText(i, cmd), parseStoredJson(table.take(i, content), op),
                   table.time(i, created)});
  }
  return out;
}

// The text of a one-row result's column; "" when there is no row.
std::string firstText(ResultTable table, std::string_view column) {
  return table.empty() ? std::string() : table.takeText(0, table.column(column));
}

}  // namespace

class MySqlCoordinator::Impl {
 public:
  explicit Impl(MySqlOptions o) : options(std::move(o)), pool(options), runner(pool, options) {
    if (options.database.empty()) throw InvalidArgument("MySqlOptions: database is empty");
    if (options.pool_size == 0) throw InvalidArgument("MySqlOptions: pool_size is 0");
    if (options.retries < 0) throw InvalidArgument("MySqlOptions: retries is negative");
    bringSchemaUpToDate();
  }

  ResultTable call(std::string_view procedure, const std::vector<SqlValue>& args,
                   const std::string& op) {
    return runner.call(procedure, args, op);
  }
  // A call a worker repeats every tick or every few: logged at trace only.
  ResultTable routine(std::string_view procedure, const std::vector<SqlValue>& args,
                      const std::string& op) {
    return runner.call(procedure, args, op, LogLevel::trace);
  }
  // A procedure without parameters that only reads (ProcedureRunner::read).
  ResultTable read(std::string_view procedure, const std::string& op) {
    return runner.read(procedure, op);
  }

  // A read of every row of a kind, its records built as the rows arrive;
  // `rows_last_read` sizes the next read of the same kind.
  template <typename Reader, typename Record>
  std::vector<Record> readEvery(std::string_view procedure,
                                std::atomic<std::size_t>& rows_last_read, const std::string& op) {
    RecordSink<Reader, Record> sink(rows_last_read);
    runner.read(procedure, sink, op);
    rows_last_read = sink.records.size();
    return std::move(sink.records);
  }

  // The servers, as "h1:3306,h2:3307", or the socket path.
  std::string servers() const {
    if (!options.unix_socket.empty()) return options.unix_socket;
    std::string out;
    for (const auto& e : options.endpoints()) {
      out += (out.empty() ? "" : ",") + detail::serverName(&e, options);
    }
    return out;
  }

  std::string where() const { return options.user + "@" + servers() + "/" + options.database; }

  // Connects, then migrates (or checks). A session that breaks on the way,
  // while connecting or mid-migration, is a ConnectionError, retried under
  // the retry policy like any call: the scripts are re-runnable, and the
  // restarted migration takes its own lock back. Anything else the migration
  // hits is a SchemaError, at once.
  void bringSchemaUpToDate() {
    auto log = detail::loggerOr(options.logger);
    const auto policy = detail::RetryPolicy::from(options);
    const std::string lock_token = randomKey();
    policy.run<ConnectionError>(
        [&] {
          std::unique_ptr<sql::Connection> connection;
          try {
            // No read timeout: an ALTER of a large table may take long.
            connection = pool.connect(std::chrono::seconds(0));
          } catch (const detail::ServerFailure& failure) {
            std::rethrow_exception(
                failure.toStorageError("MySqlCoordinator: connecting to " + where()));
          }
          detail::Migrator migrator(*connection, log, policy, lock_token);
          if (options.db_check_only) {
            migrator.check();
          } else {
            migrator.migrate();
          }
        },
        [](const ConnectionError& e) {
          return detail::isRetriable(detail::classifyServerError(e.code(), e.sqlstate()));
        },
        [&](const ConnectionError& e, int retry, std::chrono::milliseconds wait) {
          log.warn("qtopology: {} ({}); retry {}/{} in {} ms", e.what(), where(), retry,
                   policy.retries(), wait.count());
        });
  }

  void setTopologyEnabled(const std::string& uuid, bool enabled, const char* method) {
    const auto op = checkedOperation(method, "uuid", uuid);
    call("set_topology_enabled", {uuid, std::int64_t{enabled ? 1 : 0}}, op);
  }

  void stop(const std::string& uuid, std::string_view cmd, const char* method) {
    const auto op = checkedOperation(method, "uuid", uuid);
    call("stop_topology", {uuid, std::string(cmd), messageKey()}, op);
  }

  void send(const std::string& worker, const std::string& cmd, const std::string& content,
            std::chrono::milliseconds valid_for, const std::string& op) {
    call("send_message", {worker, cmd, content, std::int64_t{valid_for.count()}, messageKey()}, op);
  }

  MySqlOptions options;
  detail::ConnectionPool pool;
  detail::ProcedureRunner runner;
  std::atomic<std::size_t> workers_read{0}, topologies_read{0};  // for readEvery()
};

MySqlCoordinator::MySqlCoordinator(MySqlOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

MySqlCoordinator::~MySqlCoordinator() = default;

int MySqlCoordinator::latestSchemaVersion() {
  return detail::latestVersionOf(detail::upgradeScripts());
}

int MySqlCoordinator::schemaVersion() {
  auto table = impl_->read("storage_properties", "schemaVersion()");
  return table.empty() ? 0 : table.optInt(0, table.column("db_version")).value_or(0);
}

// --- reads ------------------------------------------------------------------

std::vector<WorkerStatus> MySqlCoordinator::getWorkerStatus() {
  return impl_->readEvery<WorkerReader, WorkerStatus>("workers", impl_->workers_read,
                                                      "getWorkerStatus()");
}

std::vector<TopologyStatus> MySqlCoordinator::getTopologyStatus() {
  return impl_->readEvery<TopologyReader, TopologyStatus>("topologies", impl_->topologies_read,
                                                          "getTopologyStatus()");
}

std::vector<TopologyStatus> MySqlCoordinator::getTopologiesForWorker(const std::string& worker) {
  const auto op = checkedOperation("getTopologiesForWorker", "worker", worker);
  return topologiesFrom(impl_->routine("topologies_for_worker", {worker}, op));
}

TopologyInfo MySqlCoordinator::getTopologyInfo(const std::string& uuid) {
  const auto op = checkedOperation("getTopologyInfo", "uuid", uuid);
  auto table = impl_->call("topology_info", {uuid}, op);
  if (table.empty()) throw NotFoundError(op + ": topology not found: " + uuid);
  TopologyInfo info;
  TopologyReader(table.columns(), "last_ping_unix").fill(info, tableRow(table, 0));
  info.config = parseStoredJson(table.take(0, table.column("config")), op);
  return info;
}

std::vector<TopologyStatusHistory> MySqlCoordinator::getTopologyHistory(const std::string& uuid) {
  const auto op = checkedOperation("getTopologyHistory", "uuid", uuid);
  auto table = impl_->call("topology_history", {uuid}, op);
  const TopologyReader reader(table.columns(), "ts_unix");
  std::vector<TopologyStatusHistory> out(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    reader.fill(out[i], tableRow(table, i));
    out[i].ts = out[i].last_ping;
  }
  return out;
}

std::vector<WorkerStatusHistory> MySqlCoordinator::getWorkerHistory(const std::string& name) {
  const auto op = checkedOperation("getWorkerHistory", "worker", name);
  auto table = impl_->call("worker_history", {name}, op);
  const WorkerReader reader(table.columns(), "ts_unix");
  std::vector<WorkerStatusHistory> out;
  out.reserve(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    WorkerStatus w;
    reader.fill(w, tableRow(table, i));
    out.push_back({std::move(w.name), w.status, w.lstatus, w.last_ping, w.pid});
  }
  return out;
}

std::vector<MsgQueueItem> MySqlCoordinator::getMsgQueueContent() {
  const std::string op = "getMsgQueueContent()";
  auto table = impl_->read("message_queue", op);
  const auto worker = table.column("worker"), cmd = table.column("cmd"),
             content = table.column("content"), created = table.column("created_unix"),
             valid_until = table.column("valid_until_unix");
  std::vector<MsgQueueItem> out;
  out.reserve(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    out.push_back({table.takeText(i, worker), table.takeText(i, cmd),
                   parseStoredJson(table.take(i, content), op), table.time(i, created),
                   table.time(i, valid_until)});
  }
  return out;
}

std::vector<StorageProperty> MySqlCoordinator::getProperties() {
  auto table = impl_->read("storage_properties", "getProperties()");
  const auto& o = impl_->options;
  std::vector<StorageProperty> out{
      {"type", "MySqlCoordinator"},
      {"host", o.unix_socket.empty() ? o.host : o.unix_socket},
      {"port", std::to_string(o.port)},
      {"servers", impl_->servers()},  // every server of a cluster, in the order tried
      {"database", o.database},
      {"user", o.user},
      {"pool_size", std::to_string(o.pool_size)},
  };
  if (!table.empty()) {
    out.push_back({"schema_version", table.takeText(0, table.column("db_version"))});
    out.push_back({"server_version", table.takeText(0, table.column("server_version"))});
    // The cluster-wide settings TopologyWorker follows: its rebalancing
    // interval, and its lease below the dead-worker timeout.
    for (const char* setting : {"rebalance_interval_s", "worker_dead_timeout_s", "leader_timeout_s",
                                "waiting_timeout_s"}) {
      if (auto value = table.take(0, table.column(setting))) {
        out.push_back({setting, std::move(*value)});
      }
    }
  }
  return out;
}

// --- cluster settings -----------------------------------------------------------

std::vector<ClusterSetting> MySqlCoordinator::getSettings() {
  const std::string op = "getSettings()";
  auto table = impl_->read("settings_v27", op);
  const auto name = table.column("name"), stored = table.column("stored"),
             value = table.column("value");
  std::vector<ClusterSetting> out;
  out.reserve(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    out.push_back({table.takeText(i, name), static_cast<std::int64_t>(table.number(i, value)),
                   table.take(i, stored)});
  }
  return out;
}

void MySqlCoordinator::setSetting(const std::string& name, std::int64_t value) {
  const auto& spec = checkSetting(name, value);
  impl_->call("set_setting_v27", {std::string(spec.name), value},
              "setSetting(" + std::string(spec.name) + ")");
}

// --- messages -----------------------------------------------------------------

std::vector<StorageMessage> MySqlCoordinator::getMessages(const std::string& worker) {
  const auto op = checkedOperation("getMessages", "worker", worker);
  return messagesFrom(
      impl_->routine("take_messages", {worker, claimKey(), std::int64_t{kMessageBatch}}, op), op);
}

std::optional<StorageMessage> MySqlCoordinator::getMessage(const std::string& worker) {
  const auto op = checkedOperation("getMessage", "worker", worker);
  auto messages =
      messagesFrom(impl_->routine("take_messages", {worker, claimKey(), std::int64_t{1}}, op), op);
  if (messages.empty()) return std::nullopt;
  return std::move(messages.front());
}

void MySqlCoordinator::sendMessageToWorker(const std::string& worker, const std::string& cmd,
                                           const Json& content,
                                           std::chrono::milliseconds valid_for) {
  const auto op = checkedOperation("sendMessageToWorker", "worker", worker);
  detail::checkCommand(op, cmd);
  if (valid_for.count() <= 0) {
    throw InvalidArgument(op + ": valid_for must be positive, got " +
                          std::to_string(valid_for.count()) + " ms");
  }
  impl_->send(worker, cmd, detail::serializeContent(op, content), valid_for, op);
}

// --- workers and leadership --------------------------------------------------

void MySqlCoordinator::registerWorker(const std::string& name) {
  const auto op = checkedOperation("registerWorker", "worker", name);
  // The pid is the calling process's: a worker registers itself.
  impl_->call("register_worker_process", {name, std::int64_t{::getpid()}}, op);
}

void MySqlCoordinator::pingWorker(const std::string& name) {
  const auto op = checkedOperation("pingWorker", "worker", name);
  impl_->routine("worker_ping", {name}, op);
}

void MySqlCoordinator::announceLeaderCandidacy(const std::string& name) {
  const auto op = checkedOperation("announceLeaderCandidacy", "worker", name);
  impl_->routine("announce_leader_candidacy", {name}, op);
}

bool MySqlCoordinator::checkLeaderCandidacy(const std::string& name) {
  const auto op = checkedOperation("checkLeaderCandidacy", "worker", name);
  return leadershipColumn(firstText(impl_->routine("check_leader_candidacy", {name}, op),
                                    "status")) == Leadership::leader;
}

void MySqlCoordinator::setWorkerStatus(const std::string& name, WorkerState status) {
  const auto op = checkedOperation("setWorkerStatus", "worker", name);
  detail::checkWorkerStatus(op, status);
  impl_->call("set_worker_status", {name, std::string(toString(status))}, op);
}

void MySqlCoordinator::setWorkerLStatus(const std::string& name, Leadership lstatus) {
  const auto op = checkedOperation("setWorkerLStatus", "worker", name);
  detail::checkLeadershipStatus(op, lstatus);
  impl_->call("set_worker_lstatus", {name, std::string(toString(lstatus))}, op);
}

void MySqlCoordinator::deleteWorker(const std::string& name) {
  const auto op = checkedOperation("deleteWorker", "worker", name);
  impl_->call("delete_worker", {name}, op);
}

void MySqlCoordinator::shutDownWorker(const std::string& name) {
  const auto op = checkedOperation("shutDownWorker", "worker", name);
  impl_->send(name, std::string(consts::leader_messages::shutdown), "{}", kShutdownMessageLifetime,
              op);
}

// --- combined calls of the worker loop -----------------------------------------

WorkerHeartbeat MySqlCoordinator::heartbeat(const std::string& name) {
  const auto op = checkedOperation("heartbeat", "worker", name);
  // v26's heartbeat, which pings only when due and says whether it did
  // (qtopology_sp_worker_heartbeat is v25's, for workers of that release).
  auto table = impl_->routine("worker_heartbeat_v26", {name, claimKey()}, op);
  // The procedure signals an unknown worker; no row would mean it vanished
  // between the ping and the read.
  if (table.empty()) throw NotFoundError(op + ": worker not found: " + name);
  WorkerHeartbeat beat;
  beat.status = workerStateColumn(table.takeText(0, table.column("status")));
  beat.lstatus = leadershipColumn(table.takeText(0, table.column("lstatus")));
  beat.leader = table.take(0, table.column("leader"));
  beat.leader_alive = table.number(0, table.column("leader_alive")) != 0;
  beat.now = table.time(0, table.column("now_unix"));
  beat.wrote = table.number(0, table.column("wrote")) != 0;
  // Without a message the one row has NULL message columns.
  if (table.optInt(0, table.column("id"))) beat.messages = messagesFrom(std::move(table), op);
  return beat;
}

bool MySqlCoordinator::campaign(const std::string& name) {
  const auto op = checkedOperation("campaign", "worker", name);
  return leadershipColumn(firstText(impl_->routine("campaign", {name}, op), "status")) ==
         Leadership::leader;
}

bool MySqlCoordinator::applyLeaderActions(const std::string& leader, const LeaderActions& actions) {
  const auto op = checkedOperation("applyLeaderActions", "leader", leader);
  detail::checkLeaderActions(op, actions);
  Json assignments = Json::array();
  for (const auto& a : actions.assignments) {
    assignments.push_back({{"uuid", a.uuid}, {"worker", a.worker}});
  }
  Json messages = Json::array();
  for (const auto& m : detail::leaderMessages(actions)) {
    // One key per message: a retried call sends none of them twice.
    messages.push_back({{"worker", m.worker},
                        {"cmd", m.cmd},
                        {"content", detail::serializeContent(op, m.content)},
                        {"valid_ms", m.valid_for.count()},
                        {"msg_key", randomKey()}});
  }
  const Json body{{"unload_workers", actions.unload_workers},
                  {"unassign_topologies", actions.unassign_topologies},
                  {"assignments", std::move(assignments)},
                  {"messages", std::move(messages)}};
  return firstText(
             impl_->call(
                 "apply_leader_actions",
                 {leader, SqlValue(detail::TraceOnly{body.dump(), "actions with message keys"})},
                 op),
             "applied") == "1";
}

void MySqlCoordinator::refreshStatuses() {
  impl_->routine("refresh_statuses", {}, "refreshStatuses()");
}

std::map<Leadership, int> MySqlCoordinator::leadershipStatusCounts() {
  auto table = impl_->read("worker_statuses", "leadershipStatusCounts()");
  const auto lstatus = table.column("lstatus"), count = table.column("cnt");
  std::map<Leadership, int> out;
  for (std::size_t i = 0; i < table.size(); ++i) {
    out[leadershipColumn(table.takeText(i, lstatus))] += static_cast<int>(table.number(i, count));
  }
  return out;
}

// --- topologies -----------------------------------------------------------------

void MySqlCoordinator::registerTopology(const std::string& uuid, const Json& config) {
  const auto op = checkedOperation("registerTopology", "uuid", uuid);
  auto columns = detail::topologyColumns(op, config);
  impl_->call("register_topology",
              {uuid, std::move(columns.config), columns.weight, std::move(columns.worker_affinity)},
              op);
}

void MySqlCoordinator::assignTopology(const std::string& uuid, const std::string& worker) {
  const auto op = checkedOperation("assignTopology", "uuid", uuid);
  detail::checkIdentifier(op, "worker", worker);
  impl_->call("assign_topology", {uuid, worker}, op);
}

namespace {
SqlValue optionalText(const std::optional<std::string>& v) { return v ? SqlValue(*v) : SqlValue(); }
SqlValue optionalPid(std::optional<int> pid) {
  return pid ? SqlValue(std::int64_t{*pid}) : SqlValue();
}
}  // namespace

void MySqlCoordinator::setTopologyStatus(const TopologyStatusChange& c) {
  const auto op = detail::checkedTopologyStatusCall(c.uuid, c.worker, c.status, c.error);
  impl_->call(
      "set_topology_status",
      {c.uuid, optionalText(c.worker), std::string(toString(c.status)), optionalText(c.error)}, op);
}

void MySqlCoordinator::setTopologyPid(const std::string& uuid, std::optional<int> pid) {
  const auto op = checkedOperation("setTopologyPid", "uuid", uuid);
  impl_->call("set_topology_pid", {uuid, optionalPid(pid)}, op);
}

bool MySqlCoordinator::reportTopologyStatus(const TopologyReport& r) {
  const auto op = detail::checkedTopologyStatusCall(r.uuid, r.worker, r.status, r.error);
  return firstText(impl_->call("report_topology_status",
                               {r.uuid, optionalText(r.worker), std::string(toString(r.status)),
                                optionalText(r.error), r.epoch},
                               op),
                   "applied") == "1";
}

bool MySqlCoordinator::reportTopologyPid(const TopologyPidReport& r) {
  const auto op = checkedOperation("setTopologyPid", "uuid", r.uuid);
  return firstText(impl_->call("report_topology_pid", {r.uuid, optionalPid(r.pid), r.epoch}, op),
                   "applied") == "1";
}

void MySqlCoordinator::disableTopology(const std::string& uuid) {
  impl_->setTopologyEnabled(uuid, false, "disableTopology");
}

void MySqlCoordinator::enableTopology(const std::string& uuid) {
  impl_->setTopologyEnabled(uuid, true, "enableTopology");
}

void MySqlCoordinator::stopTopology(const std::string& uuid) {
  impl_->stop(uuid, consts::leader_messages::stop_topology, "stopTopology");
}

void MySqlCoordinator::killTopology(const std::string& uuid) {
  impl_->stop(uuid, consts::leader_messages::kill_topology, "killTopology");
}

void MySqlCoordinator::deleteTopology(const std::string& uuid) {
  const auto op = checkedOperation("deleteTopology", "uuid", uuid);
  impl_->call("delete_topology", {uuid}, op);
}

void MySqlCoordinator::clearTopologyError(const std::string& uuid) {
  const auto op = checkedOperation("clearTopologyError", "uuid", uuid);
  impl_->call("clear_topology_error", {uuid}, op);
}

std::optional<std::string> MySqlCoordinator::clearTopologyErrorToLastWorker(
    const std::string& uuid) {
  const auto op = checkedOperation("clearTopologyErrorToLastWorker", "uuid", uuid);
  auto table = impl_->call("clear_topology_error_v27", {uuid, messageKey()}, op);
  if (table.empty()) return std::nullopt;
  return table.take(0, table.column("worker"));
}

}  // namespace qtopology
