// One worker's loop: heartbeat, messages, the topologies it runs, and, when
// elected, the leader's duties (planned by leader_plan, written fenced by
// the storage). The protocol facts are those of Node qtopology 2.3.2.
#include <qtopology/worker.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

#include "core/validation.hpp"
#include "exit_queue.hpp"
#include "leader_plan.hpp"
#include "lease_watchdog.hpp"
#include "restart_policy.hpp"

namespace qtopology {
namespace {

namespace ts = consts::topology_status;
namespace ws = consts::worker_status;
namespace ls = consts::worker_lstatus;
namespace msg = consts::leader_messages;

using SteadyTime = std::chrono::steady_clock::time_point;

// The assigned topologies are re-read as a safety net only: every change
// reaches the worker as a message in its heartbeat, a start that is lost
// leaves the topology waiting, which the leader repairs after
// waiting_timeout_s (30 s), and a worker that finds itself dead or lapsed
// re-reads at once. Node's coordinator reads every fifth loop; every
// twentieth keeps a worker at about 1.05 round trips a second.
constexpr unsigned kReconcileEveryTicks = 20;
constexpr std::chrono::milliseconds kExitPollSlice{100};
constexpr std::string_view kRebalanceIntervalProperty = "rebalance_interval_s";

// "60", "1.5": a duration in seconds as people write it.
std::string secondsText(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", std::chrono::duration<double>(duration).count());
  return text;
}

// A topology this worker has started and not yet seen exit.
struct LocalTopology {
  Json config;
  detail::RestartBudget restarts;
  bool stopping = false;          // stop or kill requested: its exit is expected
  bool start_after_exit = false;  // given back to us while it was stopping
};

// A status report that could not be written; retried every tick.
struct PendingReport {
  std::string uuid;
  std::string status;
  std::optional<std::string> error;
};

const std::string* stringField(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return nullptr;
  return &found->get_ref<const std::string&>();
}

void checkPositive(const char* what, std::chrono::milliseconds value) {
  if (value.count() <= 0) {
    throw InvalidArgument(std::string("WorkerOptions: ") + what + " must be positive, got " +
                          std::to_string(value.count()) + " ms");
  }
}

}  // namespace

class TopologyWorker::Impl {
 public:
  Impl(CoordinationStorage& s, TopologyRunner& r, WorkerOptions o)
      : storage(s),
        runner(r),
        options(std::move(o)),
        exits(std::make_shared<detail::ExitQueue>()),
        watchdog(options.name, r, options.lease, options.clock) {
    detail::checkIdentifier("TopologyWorker", "worker name", options.name);
    checkPositive("tick", options.tick);
    checkPositive("leader_loop", options.leader_loop);
    checkPositive("rebalance_interval", options.rebalance_interval);
    checkPositive("lease", options.lease);
    checkPositive("stop_timeout", options.stop_timeout);
    // The queue is shared with the callback, so a runner that reports after
    // the worker is gone writes into a queue nobody reads, not freed memory.
    runner.setExitCallback([queue = exits](TopologyExit exit) { queue->push(std::move(exit)); });
  }

  ~Impl() {
    // A host that skipped shutdown() must not leave topologies running with
    // nobody watching them.
    watchdog.stop();
    for (auto& [uuid, t] : local) callRunner("kill", uuid, [&] { runner.kill(uuid); });
  }

  // An empty clock is the steady clock, here as in the watchdog.
  SteadyTime now() const {
    return options.clock ? options.clock() : std::chrono::steady_clock::now();
  }
  const std::string& name() const { return options.name; }

  // Not accepting: stopping for good, disabled, or unsure we still hold our
  // lease. Such a worker starts nothing and never campaigns.
  bool accepting() const {
    return !shutdown_message && !shutdown_requested && !disabled && !lease_lapsed;
  }

  template <typename Step>
  bool guarded(const char* what, Step&& step) {
    try {
      step();
      return true;
    } catch (const StorageError& e) {
      spdlog::warn("worker {}: {} failed: {}", name(), what, e.what());
      return false;
    }
  }

  template <typename Call>
  void callRunner(const char* what, const std::string& uuid, Call&& call) noexcept {
    try {
      call();
    } catch (const std::exception& e) {
      spdlog::error("worker {}: runner {} of topology {} failed: {}", name(), what, uuid, e.what());
    }
  }

  // --- registration and the tick -----------------------------------------

  void start() {
    registered_at = now();
    storage.registerWorker(name());
    last_heartbeat = now();
    watchdog.start();
    started = true;
    spdlog::info("worker {}: registered", name());
  }

  bool tick() {
    if (!started) start();
    processExits();
    checkLease();
    WorkerHeartbeat beat;
    try {
      beat = storage.heartbeat(name());
    } catch (const NotFoundError& e) {
      // Deleted behind our back: whatever we run may be given away.
      spdlog::warn("worker {}: {}; stopping every topology and registering again", name(),
                   e.what());
      stopAll(true);
      leader = false;
      guarded("registering again", [&] { storage.registerWorker(name()); });
      return keepRunning();
    } catch (const StorageError& e) {
      spdlog::warn("worker {}: heartbeat failed: {}", name(), e.what());
      checkLease();
      return keepRunning();
    }
    checkLease();  // the watchdog may have declared a lapse during the call
    const bool lapsed = lease_lapsed;
    last_heartbeat = now();
    watchdog.renew();
    // The runner's own copy of the lease, for topologies that outlive a
    // paused worker (separate processes).
    runner.renewLease(last_heartbeat + options.lease);
    lease_lapsed = false;
    if (lapsed) reconcile_due = true;
    if (!start_time) {
      // Messages sent before we started are not for us. The storage's clock
      // decides, so our start is the heartbeat's time less what has passed
      // here since we registered; cut to whole seconds, as MySQL records them.
      start_time = std::chrono::floor<std::chrono::seconds>(
          beat.now -
          std::chrono::duration_cast<TimePoint::duration>(last_heartbeat - registered_at));
    }
    followOwnStatus(beat);
    for (const auto& message : beat.messages) {
      if (message.created < *start_time) {
        spdlog::info("worker {}: ignoring {} sent before this worker started", name(), message.cmd);
        continue;
      }
      guarded(message.cmd.c_str(), [&] { handle(message); });
    }
    if (shutdown_message) return false;
    retryReports();
    if (++ticks % kReconcileEveryTicks == 0 || reconcile_due) {
      if (guarded("checking assigned topologies", [&] { reconcile(); })) reconcile_due = false;
    }
    guarded("leadership", [&] { leadership(beat); });
    return keepRunning();
  }

  bool keepRunning() const { return !shutdown_message && !shutdown_requested; }

  // What the storage says about us wins over what we believed.
  void followOwnStatus(const WorkerHeartbeat& beat) {
    if (beat.status == ws::disabled) {
      if (!disabled) {
        spdlog::info("worker {}: marked disabled; stopping every topology", name());
        disabled = true;
        stopAll(false);
      }
    } else if (disabled) {
      // Disabled until set_enabled, whatever rewrote our status meanwhile.
      guarded("reporting disabled",
              [&] { storage.setWorkerStatus(name(), std::string(ws::disabled)); });
    } else if (beat.status != ws::alive) {
      // Declared dead (we were paused or cut off) or unloaded: the leader may
      // have given our topologies away already.
      spdlog::warn("worker {}: found myself {}; stopping every topology and registering again",
                   name(), beat.status);
      stopAll(true);
      leader = false;
      reconcile_due = true;
      guarded("registering again", [&] { storage.registerWorker(name()); });
      return;
    }
    const bool marked = beat.lstatus == ls::leader && beat.status == ws::alive;
    if (leader && !marked) spdlog::warn("worker {}: no longer the leader", name());
    leader = marked;
  }

  // Adopts a lapse, whether the watchdog's thread declared it or this call
  // does; either way the watchdog has killed every topology, once. Their exits
  // are expected, and nothing starts or campaigns until a heartbeat succeeds.
  void checkLease() {
    if (lease_lapsed || !watchdog.expireIfDue()) return;
    lease_lapsed = true;
    leader = false;
    for (auto& [uuid, t] : local) {
      t.stopping = true;
      t.start_after_exit = false;
    }
  }

  // --- messages ------------------------------------------------------------

  void handle(const StorageMessage& m) {
    const auto& cmd = m.cmd;
    const auto* uuid = stringField(m.content, "uuid");
    if (cmd == msg::start_topology && uuid) {
      startTopology(*uuid);
    } else if (cmd == msg::start_topologies && m.content.contains("uuids") &&
               m.content["uuids"].is_array()) {
      for (const auto& item : m.content["uuids"]) {
        if (item.is_string()) startTopology(item.get<std::string>());
      }
    } else if ((cmd == msg::stop_topology || cmd == msg::kill_topology) && uuid) {
      stopTopology(*uuid, cmd == msg::kill_topology);
    } else if (cmd == msg::stop_topologies && m.content.contains("stop_topologies") &&
               m.content["stop_topologies"].is_array()) {
      for (const auto& item : m.content["stop_topologies"]) {
        const auto* listed = stringField(item, "uuid");
        if (!listed) continue;
        const auto* target = stringField(item, "worker_new");
        spdlog::info("worker {}: rebalance moves {} to {}", name(), *listed,
                     target ? *target : std::string("another worker"));
        stopTopology(*listed, false);
      }
    } else if (cmd == msg::shutdown) {
      spdlog::info("worker {}: received shutdown", name());
      shutdown_message = true;
    } else if (cmd == msg::rebalance) {
      rebalance_requested = true;
    } else if (cmd == msg::set_disabled) {
      disable();
    } else if (cmd == msg::set_enabled) {
      enable();
    } else {
      spdlog::warn("worker {}: ignoring message {} {}", name(), cmd, m.content.dump());
    }
  }

  void disable() {
    spdlog::info("worker {}: set_disabled: giving up leadership and stopping every topology",
                 name());
    disabled = true;
    if (leader) {
      guarded("giving up leadership",
              [&] { storage.setWorkerLStatus(name(), std::string(ls::normal)); });
      leader = false;
    }
    guarded("reporting disabled",
            [&] { storage.setWorkerStatus(name(), std::string(ws::disabled)); });
    stopAll(false);
  }

  void enable() {
    if (!disabled) return;
    spdlog::info("worker {}: set_enabled", name());
    if (guarded("reporting alive",
                [&] { storage.setWorkerStatus(name(), std::string(ws::alive)); })) {
      disabled = false;
    }
  }

  // --- local topologies ------------------------------------------------------

  // Starts the topology if it is still assigned to us and waiting: a start
  // message may be stale, the leader could have given it to someone else.
  bool startTopology(const std::string& uuid) {
    if (!accepting()) {
      spdlog::info("worker {}: not starting {}: not accepting topologies", name(), uuid);
      return false;
    }
    const auto found = local.find(uuid);
    if (found != local.end()) {
      if (found->second.stopping) {
        found->second.start_after_exit = true;
        spdlog::info("worker {}: {} is still stopping; starting it once it exited", name(), uuid);
      } else {
        spdlog::info("worker {}: {} is already running here", name(), uuid);
      }
      return false;
    }
    TopologyInfo info;
    try {
      info = storage.getTopologyInfo(uuid);
    } catch (const NotFoundError&) {
      spdlog::warn("worker {}: not starting {}: it no longer exists", name(), uuid);
      return false;
    }
    if (info.worker != name() || info.status != ts::waiting) {
      spdlog::info("worker {}: not starting {}: it is {} on {}", name(), uuid, info.status,
                   info.worker.value_or("no worker"));
      return false;
    }
    return launch(uuid, std::move(info.config));
  }

  bool launch(const std::string& uuid, Json config) {
    dropPendingReports(uuid);
    detail::RestartPolicy policy;
    std::optional<int> pid;
    try {
      policy = detail::restartPolicyOf(config);
      pid = runner.start(uuid, config);
    } catch (const std::exception& e) {
      spdlog::error("worker {}: topology {} cannot start: {}", name(), uuid, e.what());
      report(uuid, ts::error, std::string(e.what()));
      return false;
    }
    auto& t = local.emplace(uuid, LocalTopology{std::move(config), detail::RestartBudget(policy)})
                  .first->second;
    if (!watchdog.track(uuid)) {
      t.stopping = true;  // killed: the lease lapsed while it started
      return false;
    }
    spdlog::info("worker {}: started topology {}{}", name(), uuid,
                 pid ? " (pid " + std::to_string(*pid) + ")" : std::string());
    report(uuid, ts::running, std::nullopt);
    if (pid) guarded("recording the pid", [&] { storage.setTopologyPid(uuid, pid); });
    return true;
  }

  void stopTopology(const std::string& uuid, bool kill) {
    const auto found = local.find(uuid);
    if (found == local.end()) {
      spdlog::info("worker {}: {} {}: not running here", name(), kill ? "kill" : "stop", uuid);
      return;
    }
    found->second.stopping = true;
    found->second.start_after_exit = false;
    spdlog::info("worker {}: {} topology {}", name(), kill ? "killing" : "stopping", uuid);
    if (kill) {
      callRunner("kill", uuid, [&] { runner.kill(uuid); });
    } else {
      callRunner("stop", uuid, [&] { runner.stop(uuid); });
    }
  }

  void stopAll(bool kill) {
    std::vector<std::string> uuids;
    for (const auto& [uuid, t] : local) uuids.push_back(uuid);
    for (const auto& uuid : uuids) stopTopology(uuid, kill);
  }

  void processExits() {
    checkLease();  // before the exits: those the watchdog caused are expected
    for (auto& exit : exits->takeAll()) handleExit(std::move(exit));
  }

  void handleExit(TopologyExit exit) {
    const auto found = local.find(exit.uuid);
    if (found == local.end()) {
      spdlog::info("worker {}: exit of {}, which is not running here", name(), exit.uuid);
      return;
    }
    auto& t = found->second;
    const auto uuid = exit.uuid;
    watchdog.untrack(uuid);
    if (t.stopping) {
      const bool start_again = t.start_after_exit;
      local.erase(found);
      spdlog::info("worker {}: topology {} stopped", name(), uuid);
      if (!start_again || !guardedStart(uuid)) report(uuid, ts::unassigned, std::nullopt);
      return;
    }
    if (!exit.error) {
      local.erase(found);
      spdlog::info("worker {}: topology {} finished", name(), uuid);
      report(uuid, ts::unassigned, std::nullopt);
      return;
    }
    if (accepting() && t.restarts.allow(now())) {
      spdlog::warn("worker {}: topology {} failed ({}); restart {} of {} within {} s", name(), uuid,
                   *exit.error, t.restarts.used(), t.restarts.policy().max,
                   secondsText(t.restarts.policy().window));
      try {
        const auto pid = runner.start(uuid, t.config);
        if (!watchdog.track(uuid)) {
          t.stopping = true;
          return;
        }
        if (pid) guarded("recording the pid", [&] { storage.setTopologyPid(uuid, pid); });
        return;
      } catch (const std::exception& e) {
        *exit.error += "; restarting failed: " + std::string(e.what());
      }
    } else if (t.restarts.policy().max > 0) {
      *exit.error += " (after " + std::to_string(t.restarts.used()) + " restarts within " +
                     secondsText(t.restarts.policy().window) + " s)";
    }
    local.erase(found);
    spdlog::error("worker {}: topology {} failed: {}", name(), uuid, *exit.error);
    report(uuid, ts::error, exit.error);
  }

  bool guardedStart(const std::string& uuid) {
    bool started_again = false;
    guarded("starting again", [&] { started_again = startTopology(uuid); });
    return started_again;
  }

  // --- status reports ----------------------------------------------------------

  void report(const std::string& uuid, std::string_view status,
              const std::optional<std::string>& error) {
    PendingReport r{uuid, std::string(status),
                    error ? std::optional(detail::fitErrorText(*error)) : std::nullopt};
    if (!write(r)) pending.push_back(std::move(r));
  }

  bool write(const PendingReport& r) {
    return guarded("reporting a topology status",
                   [&] { storage.setTopologyStatus(r.uuid, name(), r.status, r.error); });
  }

  void retryReports() {
    auto todo = std::move(pending);
    pending.clear();
    for (auto& r : todo) {
      if (!write(r)) pending.push_back(std::move(r));
    }
  }

  void dropPendingReports(const std::string& uuid) {
    pending.erase(std::remove_if(pending.begin(), pending.end(),
                                 [&](const PendingReport& r) { return r.uuid == uuid; }),
                  pending.end());
  }

  bool hasPendingReport(const std::string& uuid) const {
    return std::any_of(pending.begin(), pending.end(),
                       [&](const PendingReport& r) { return r.uuid == uuid; });
  }

  // The storage's view of our topologies against what runs here: a
  // topology taken from us is killed, one recorded as running here that
  // does not is handed back.
  void reconcile() {
    const auto mine = storage.getTopologiesForWorker(name());
    std::map<std::string, const TopologyStatus*> assigned;
    for (const auto& t : mine) assigned[t.uuid] = &t;
    for (const auto& t : mine) {
      if (t.status == ts::running && !local.count(t.uuid) && !hasPendingReport(t.uuid)) {
        spdlog::warn("worker {}: {} is recorded as running here but is not; unassigning it", name(),
                     t.uuid);
        report(t.uuid, ts::unassigned, std::nullopt);
      }
    }
    std::vector<std::string> taken;
    for (const auto& [uuid, t] : local) {
      if (t.stopping) continue;
      const auto found = assigned.find(uuid);
      if (found == assigned.end() ||
          (found->second->status != ts::running && found->second->status != ts::waiting)) {
        taken.push_back(uuid);
      } else if (found->second->status == ts::waiting && !hasPendingReport(uuid)) {
        report(uuid, ts::running, std::nullopt);  // our first report was lost
      }
    }
    for (const auto& uuid : taken) {
      spdlog::warn("worker {}: {} is no longer assigned here; killing it", name(), uuid);
      stopTopology(uuid, true);
    }
  }

  // --- leadership ----------------------------------------------------------------

  void leadership(const WorkerHeartbeat& beat) {
    if (!leader && !beat.leader_alive && beat.status == ws::alive && accepting()) {
      leader = storage.campaign(name());
      if (leader) {
        spdlog::info("worker {}: became the leader", name());
        next_rebalance = now() + rebalanceInterval();
        next_leader_loop = now();
      }
    }
    if (!leader || now() < next_leader_loop) return;
    next_leader_loop = now() + options.leader_loop;
    leaderLoop();
  }

  void leaderLoop() {
    storage.refreshStatuses();
    const auto workers = storage.getWorkerStatus();
    const auto self = std::find_if(workers.begin(), workers.end(),
                                   [&](const WorkerStatus& w) { return w.name == name(); });
    if (self == workers.end() || self->lstatus != ls::leader || self->status != ws::alive) {
      spdlog::warn("worker {}: no longer the leader", name());
      leader = false;
      return;
    }
    const auto topologies = storage.getTopologyStatus();
    const auto interval = rebalanceInterval();
    const bool rebalance = rebalance_requested || now() >= next_rebalance;
    const auto actions = detail::planLeaderActions(workers, topologies, rebalance);
    if (rebalance) {
      rebalance_requested = false;
      next_rebalance = now() + interval;
    }
    if (actions.empty()) return;
    if (!storage.applyLeaderActions(name(), actions)) {
      spdlog::warn("worker {}: lost leadership before writing; wrote nothing", name());
      leader = false;
      return;
    }
    logActions(actions);
  }

  void logActions(const LeaderActions& actions) {
    for (const auto& w : actions.unload_workers) {
      spdlog::info("worker {} (leader): unloaded worker {}, its topologies back to the pool",
                   name(), w);
    }
    for (const auto& uuid : actions.unassign_topologies) {
      spdlog::info("worker {} (leader): topology {} back to the pool", name(), uuid);
    }
    for (const auto& a : actions.assignments) {
      spdlog::info("worker {} (leader): assigned {} to {}", name(), a.uuid, a.worker);
    }
    for (const auto& m : actions.moves) {
      spdlog::info("worker {} (leader): rebalance moves {} from {} to {}", name(), m.uuid,
                   m.worker_old, m.worker_new);
    }
  }

  // The storage's rebalance_interval_s property, when it has one, so the
  // whole cluster agrees; else the option.
  std::chrono::milliseconds rebalanceInterval() {
    for (const auto& p : storage.getProperties()) {
      if (p.key != kRebalanceIntervalProperty) continue;
      try {
        const double seconds = std::stod(p.value);
        if (std::isfinite(seconds) && seconds > 0 && seconds < 1e9) {
          return std::chrono::milliseconds(std::llround(seconds * 1000.0));
        }
      } catch (const std::exception&) {
      }
      spdlog::warn("worker {}: ignoring {} = '{}': not a positive number", name(), p.key, p.value);
    }
    return options.rebalance_interval;
  }

  // --- shutdown --------------------------------------------------------------------

  bool shutdown() {
    spdlog::info("worker {}: shutting down", name());
    shutdown_message = true;  // accept nothing more
    bool ok = true;
    if (leader) {
      ok &= guarded("giving up leadership",
                    [&] { storage.setWorkerLStatus(name(), std::string(ls::normal)); });
      leader = false;
    }
    // Closing first, so the leader assigns nothing new while we stop.
    ok &= guarded("reporting closing",
                  [&] { storage.setWorkerStatus(name(), std::string(ws::closing)); });
    stopAll(false);
    if (!awaitExits()) {
      spdlog::warn("worker {}: {} topologies did not stop within {} ms; killing them", name(),
                   local.size(), options.stop_timeout.count());
      stopAll(true);
      if (!awaitExits()) {
        spdlog::error("worker {}: {} topologies did not exit after kill", name(), local.size());
        ok = false;
      }
    }
    // Assigned but not started yet: give those back rather than let them
    // wait for the waiting timeout.
    ok &= guarded("returning waiting topologies", [&] {
      for (const auto& t : storage.getTopologiesForWorker(name())) {
        if (t.status == ts::waiting) report(t.uuid, ts::unassigned, std::nullopt);
      }
    });
    retryReports();
    ok &= pending.empty();
    ok &= guarded("reporting unloaded",
                  [&] { storage.setWorkerStatus(name(), std::string(ws::unloaded)); });
    watchdog.stop();  // nothing left to kill
    spdlog::info("worker {}: shut down{}", name(), ok ? "" : " (some reports failed)");
    return ok;
  }

  // Real time, whatever the options' clock: a runner's exits take real time.
  bool awaitExits() {
    const auto deadline = std::chrono::steady_clock::now() + options.stop_timeout;
    processExits();
    while (!local.empty() && std::chrono::steady_clock::now() < deadline) {
      exits->waitFor(kExitPollSlice);
      processExits();
    }
    return local.empty();
  }

  void run() {
    start();
    while (true) {
      const auto next = std::chrono::steady_clock::now() + options.tick;
      if (!tick()) break;
      while (!shutdown_requested && std::chrono::steady_clock::now() < next) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            next - std::chrono::steady_clock::now());
        // Exits are reported as they come, not only once per tick.
        if (exits->waitFor(std::clamp(left, std::chrono::milliseconds(1), kExitPollSlice))) {
          processExits();
        }
      }
      if (shutdown_requested) break;
    }
    shutdown();
  }

  CoordinationStorage& storage;
  TopologyRunner& runner;
  WorkerOptions options;
  std::shared_ptr<detail::ExitQueue> exits;
  detail::LeaseWatchdog watchdog;
  std::map<std::string, LocalTopology> local;
  std::vector<PendingReport> pending;

  std::atomic<bool> shutdown_requested{false};
  bool shutdown_message = false;
  bool started = false;
  bool disabled = false;
  bool leader = false;
  bool lease_lapsed = false;
  bool rebalance_requested = false;
  bool reconcile_due = true;  // first tick: topologies left over from an earlier run
  // Starts at a phase of the worker's own, so that workers started together
  // (a deploy, a restart of every host) do not all re-read in the same second.
  unsigned ticks = static_cast<unsigned>(std::hash<std::string>{}(options.name));
  SteadyTime registered_at{};
  SteadyTime last_heartbeat{};
  SteadyTime next_leader_loop{};
  SteadyTime next_rebalance{};
  std::optional<TimePoint> start_time;  // storage clock
};

static_assert(std::atomic<bool>::is_always_lock_free,
              "requestShutdown() must be async-signal-safe");

TopologyWorker::TopologyWorker(CoordinationStorage& storage, TopologyRunner& runner,
                               WorkerOptions options)
    : impl_(std::make_unique<Impl>(storage, runner, std::move(options))) {}

TopologyWorker::~TopologyWorker() = default;

void TopologyWorker::run() { impl_->run(); }
void TopologyWorker::requestShutdown() { impl_->shutdown_requested = true; }
void TopologyWorker::start() { impl_->start(); }
bool TopologyWorker::tick() { return impl_->tick(); }
bool TopologyWorker::shutdown() { return impl_->shutdown(); }
bool TopologyWorker::isLeader() const { return impl_->leader; }
const std::string& TopologyWorker::name() const { return impl_->name(); }

}  // namespace qtopology
