// One worker's loop: the tick (heartbeat, the worker's own status, the
// lease, the leader's messages), shutdown and run(). The topologies it runs,
// its pending reports and its leader duties are parts of their own; the
// protocol facts are those of Node qtopology 2.3.2.
#include <qtopology/worker.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <utility>

#include <qtopology/text.hpp>
#include "core/validation.hpp"
#include "exit_queue.hpp"
#include "leader_duties.hpp"
#include "lease_watchdog.hpp"
#include "local_topologies.hpp"
#include "status_reports.hpp"
#include "worker_context.hpp"
#include "worker_lease.hpp"

namespace qtopology {
namespace {

using ws = WorkerState;
using ls = Leadership;
namespace msg = consts::leader_messages;

using detail::SteadyTime;

// The assigned topologies are re-read as a safety net only: every change
// reaches the worker as a message in its heartbeat, a start that is lost
// leaves the topology waiting, which the leader repairs after
// waiting_timeout_s (30 s), and a worker that finds itself dead or lapsed
// re-reads at once. Node's coordinator reads every fifth loop; every
// twentieth keeps a worker at about 1.05 round trips a second.
constexpr unsigned kReconcileEveryTicks = 20;
constexpr std::chrono::milliseconds kExitPollSlice{100};

const std::string* stringField(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return nullptr;
  return &found->get_ref<const std::string&>();
}

const Json* arrayField(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto found = object.find(key);
  if (found == object.end() || !found->is_array()) return nullptr;
  return &*found;
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
      : options(std::move(o)),
        context(s, r, options),
        exits(std::make_shared<detail::ExitQueue>()),
        watchdog(options.name, r, options.lease, options.clock, options.logger),
        lease(context, watchdog),
        reports(context),
        local(context, watchdog, reports),
        leader(context) {
    detail::checkIdentifier("TopologyWorker", "worker name", options.name);
    checkPositive("tick", options.tick);
    checkPositive("leader_loop", options.leader_loop);
    checkPositive("rebalance_interval", options.rebalance_interval);
    checkPositive("lease", options.lease);
    checkPositive("stop_timeout", options.stop_timeout);
    // The queue is shared with the callback, so a runner that reports after
    // the worker is gone writes into a queue nobody reads, not freed memory.
    r.setExitCallback([queue = exits](TopologyExit exit) { queue->push(std::move(exit)); });
  }

  ~Impl() {
    // A host that skipped shutdown() must not leave topologies running with
    // nobody watching them.
    watchdog.stop();
    local.killAll();
  }

  const std::string& name() const { return options.name; }
  const std::string& shownName() const { return context.shownName(); }
  detail::Log log() const { return context.log(); }
  CoordinationStorage& storage() { return context.storage; }

  // --- registration and the tick -----------------------------------------

  void start() {
    registered_at = context.now();
    storage().registerWorker(name());
    last_reply = context.now();
    watchdog.start();
    lease.renewed(registered_at);  // the registration wrote the ping
    started = true;
    log().info("worker {}: registered", shownName());
    readSettings();
  }

  // The cluster's settings: the lease follows its dead-worker timeout.
  void readSettings() {
    context.guarded("reading the cluster's settings", [&] {
      context.settings = detail::clusterSettingsOf(storage().getProperties(), log(), name());
    });
    lease.follow(context.settings);
  }

  bool tick() {
    // A first registration that failed is retried here, tick after tick.
    if (!started && !context.guarded("registering", [&] { start(); })) {
      return context.keepRunning();
    }
    processExits();
    checkLease();
    const auto beat = heartbeat();
    if (!beat) return context.keepRunning();
    noteStartTime(*beat);
    followOwnStatus(*beat);
    handleMessages(*beat);
    if (context.shutdown_message) return false;
    followDormancy();
    reports.retry();
    reconcileWhenDue();
    context.guarded("leadership", [&] { leader.step(*beat); });
    return context.keepRunning();
  }

  // A heartbeat that wrote the ping renews the lease, from when it was sent;
  // one that did not leaves it running from the last that did, unless half
  // of it is spent, when a ping of its own renews it. nullopt when the
  // heartbeat failed (logged).
  std::optional<WorkerHeartbeat> heartbeat() {
    WorkerHeartbeat beat;
    const auto sent = context.now();
    try {
      beat = storage().heartbeat(name());
    } catch (const NotFoundError& e) {
      // Deleted behind our back: whatever we run may be given away.
      log().warn("worker {}: {}; stopping every topology and registering again", shownName(),
                 escapeControl(e.what()));
      local.stopAll(true);
      leader.forget();
      context.guarded("registering again", [&] { storage().registerWorker(name()); });
      return std::nullopt;
    } catch (const StorageError& e) {
      log().warn("worker {}: heartbeat failed: {}", shownName(), escapeControl(e.what()));
      checkLease();
      return std::nullopt;
    }
    checkLease();  // the watchdog may have declared a lapse during the call
    last_reply = context.now();
    const bool renewed =
        beat.wrote ? (lease.renewed(sent), true) : lease.halfSpent(last_reply) && renewWithPing();
    // A lapse ends only with a renewal (a lapsed lease is always half spent).
    if (renewed && std::exchange(context.lease_lapsed, false)) reconcile_due = true;
    return beat;
  }

  // The storage's write interval is long against this worker's lease (or a
  // heartbeat's write was lost with its reply): a ping always writes.
  bool renewWithPing() {
    const auto sent = context.now();
    if (!context.guarded("renewing the lease", [&] { storage().pingWorker(name()); })) {
      return false;
    }
    lease.renewed(sent);
    return true;
  }

  // Messages sent before we started are not for us. The storage's clock
  // decides, so our start is the first heartbeat's time less what has passed
  // here since we registered; cut to whole seconds, as MySQL records them.
  void noteStartTime(const WorkerHeartbeat& beat) {
    if (start_time) return;
    start_time = std::chrono::floor<std::chrono::seconds>(
        beat.now - std::chrono::duration_cast<TimePoint::duration>(last_reply - registered_at));
  }

  // What the storage says about us wins over what we believed.
  void followOwnStatus(const WorkerHeartbeat& beat) {
    if (beat.status == ws::disabled) {
      if (!context.disabled) {
        log().info("worker {}: marked disabled; stopping every topology", shownName());
        context.disabled = true;
        local.stopAll(false);
      }
    } else if (context.disabled) {
      // Disabled until set_enabled, whatever rewrote our status meanwhile.
      reportStatus("reporting disabled", ws::disabled);
    } else if (beat.status != ws::alive) {
      // Declared dead (paused or cut off for the dead-worker timeout) or
      // unloaded. Whatever this worker ran is lost to it: refreshStatuses()
      // unassigned its running topologies when it declared it dead, and the
      // leader may have placed them elsewhere already. So it kills them and
      // registers again, as a new worker would.
      log().warn("worker {}: found myself {}; stopping every topology and registering again",
                 shownName(), beat.status);
      local.stopAll(true);
      leader.forget();
      reconcile_due = true;
      context.guarded("registering again", [&] { storage().registerWorker(name()); });
      return;
    }
    leader.follow(beat);
  }

  // Adopts a lapse, whether the watchdog's thread declared it or this call
  // does; either way the watchdog has killed every topology, once. Their exits
  // are expected, and nothing starts or campaigns until a heartbeat succeeds.
  void checkLease() {
    if (context.lease_lapsed || !watchdog.expireIfDue()) return;
    context.lease_lapsed = true;
    leader.forget();
    local.expectLapseExits();
  }

  // Also re-reads the cluster's settings.
  void reconcileWhenDue() {
    if (++ticks % kReconcileEveryTicks != 0 && !reconcile_due) return;
    readSettings();
    if (context.guarded("checking assigned topologies",
                        [&] { local.reconcile(storage().getTopologiesForWorker(name())); })) {
      reconcile_due = false;
    }
  }

  bool reportStatus(const char* what, WorkerState status) {
    return context.guarded(what, [&] { storage().setWorkerStatus(name(), status); });
  }

  // --- messages ------------------------------------------------------------

  void handleMessages(const WorkerHeartbeat& beat) {
    for (const auto& message : beat.messages) {
      if (message.created < *start_time) {
        log().info("worker {}: ignoring {} sent before this worker started", shownName(),
                   escapeControl(message.cmd));
        continue;
      }
      context.guarded(message.cmd.c_str(), [&] { handle(message); });
    }
  }

  void handle(const StorageMessage& m) {
    const auto& cmd = m.cmd;
    const auto* uuid = stringField(m.content, "uuid");
    if (cmd == msg::start_topology && uuid) {
      local.start(*uuid);
    } else if (const auto* uuids = arrayField(m.content, "uuids");
               cmd == msg::start_topologies && uuids) {
      for (const auto& item : *uuids) {
        if (item.is_string()) local.start(item.get<std::string>());
      }
    } else if ((cmd == msg::stop_topology || cmd == msg::kill_topology) && uuid) {
      local.stop(*uuid, cmd == msg::kill_topology);
    } else if (const auto* listed = arrayField(m.content, "stop_topologies");
               cmd == msg::stop_topologies && listed) {
      stopListed(*listed);
    } else if (cmd == msg::shutdown) {
      log().info("worker {}: received shutdown", shownName());
      context.shutdown_message = true;
    } else if (cmd == msg::rebalance) {
      leader.requestRebalance();
    } else if (cmd == msg::set_disabled) {
      disable();
    } else if (cmd == msg::set_enabled) {
      enable();
    } else {
      log().warn("worker {}: ignoring message {} {}", shownName(), escapeControl(cmd),
                 escapeControl(m.content.dump(-1, ' ', false, Json::error_handler_t::replace)));
    }
  }

  // A rebalance: each listed topology moves to another worker.
  void stopListed(const Json& listed) {
    for (const auto& item : listed) {
      const auto* uuid = stringField(item, "uuid");
      if (!uuid) continue;
      const auto* target = stringField(item, "worker_new");
      log().info("worker {}: rebalance moves {} to {}", shownName(), escapeControl(*uuid),
                 escapeControl(target ? *target : std::string("another worker")));
      local.stop(*uuid, false);
    }
  }

  void disable() {
    log().info("worker {}: set_disabled: giving up leadership and stopping every topology",
               shownName());
    context.disabled = true;
    leader.resign();
    reportStatus("reporting disabled", ws::disabled);
    local.stopAll(false);
  }

  void enable() {
    if (!context.disabled) return;
    log().info("worker {}: set_enabled", shownName());
    if (reportStatus("reporting alive", ws::alive)) context.disabled = false;
  }

  // A change of WorkerOptions::dormant's answer acts as the message would.
  void followDormancy() {
    if (!options.dormant) return;
    const bool now_dormant = options.dormant();
    if (now_dormant == dormant) return;
    dormant = now_dormant;
    log().info("worker {}: {} its dormant period", shownName(), dormant ? "entering" : "leaving");
    if (dormant) {
      disable();
    } else {
      enable();
    }
  }

  void processExits() {
    checkLease();  // before the exits: those the watchdog caused are expected
    for (auto& exit : exits->takeAll()) local.handleExit(std::move(exit));
  }

  // --- shutdown --------------------------------------------------------------------

  bool shutdown() {
    log().info("worker {}: shutting down", shownName());
    context.shutdown_message = true;  // accept nothing more
    bool ok = leader.resign();
    // Closing first, so the leader assigns nothing new while we stop.
    ok &= reportStatus("reporting closing", ws::closing);
    ok &= stopEverything();
    ok &= returnWaiting();
    reports.retry();
    ok &= reports.empty();
    ok &= reportStatus("reporting unloaded", ws::unloaded);
    watchdog.stop();  // nothing left to kill
    log().info("worker {}: shut down{}", shownName(), ok ? "" : " (some reports failed)");
    return ok;
  }

  // Stops, waits, kills what is left, waits again; false when some did not
  // exit even then.
  bool stopEverything() {
    local.stopAll(false);
    if (awaitExits()) return true;
    log().warn("worker {}: {} topologies did not stop within {} ms; killing them", shownName(),
               local.size(), options.stop_timeout.count());
    local.stopAll(true);
    if (awaitExits()) return true;
    log().error("worker {}: {} topologies did not exit after kill", shownName(), local.size());
    return false;
  }

  // Assigned but not started yet: give those back rather than let them wait
  // for the waiting timeout.
  bool returnWaiting() {
    return context.guarded("returning waiting topologies", [&] {
      for (const auto& t : storage().getTopologiesForWorker(name())) {
        if (t.status == TopologyState::waiting && !t.invalid) {
          reports.report(t.uuid, TopologyState::unassigned, std::nullopt, t.epoch);
        }
      }
    });
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
      while (!context.shutdown_requested && std::chrono::steady_clock::now() < next) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            next - std::chrono::steady_clock::now());
        // Exits are reported as they come, not only once per tick.
        if (exits->waitFor(std::clamp(left, std::chrono::milliseconds(1), kExitPollSlice))) {
          processExits();
        }
      }
      if (context.shutdown_requested) break;
    }
    shutdown();
  }

  WorkerOptions options;
  detail::WorkerContext context;
  std::shared_ptr<detail::ExitQueue> exits;
  detail::LeaseWatchdog watchdog;
  detail::WorkerLease lease;
  detail::StatusReports reports;
  detail::LocalTopologies local;
  detail::LeaderDuties leader;

  bool started = false;
  bool dormant = false;       // WorkerOptions::dormant's last answer
  bool reconcile_due = true;  // first tick: topologies left over from an earlier run
  // Starts at a phase of the worker's own, so that workers started together
  // (a deploy, a restart of every host) do not all re-read in the same second.
  unsigned ticks = static_cast<unsigned>(std::hash<std::string>{}(options.name));
  SteadyTime registered_at{};
  SteadyTime last_reply{};              // of the last successful heartbeat
  std::optional<TimePoint> start_time;  // storage clock
};

static_assert(std::atomic<bool>::is_always_lock_free,
              "requestShutdown() must be async-signal-safe");

TopologyWorker::TopologyWorker(CoordinationStorage& storage, TopologyRunner& runner,
                               WorkerOptions options)
    : impl_(std::make_unique<Impl>(storage, runner, std::move(options))) {}

TopologyWorker::~TopologyWorker() = default;

void TopologyWorker::run() { impl_->run(); }
void TopologyWorker::requestShutdown() { impl_->context.shutdown_requested = true; }
void TopologyWorker::start() { impl_->start(); }
bool TopologyWorker::tick() { return impl_->tick(); }
bool TopologyWorker::shutdown() { return impl_->shutdown(); }
bool TopologyWorker::isLeader() const { return impl_->leader.isLeader(); }
const std::string& TopologyWorker::name() const { return impl_->name(); }

}  // namespace qtopology
