// The worker side of a QTopology cluster, over any CoordinationStorage: the
// heartbeat, the leader election, the leader's messages, and the leader's own
// duties (placement, dead workers, rebalancing). The host decides how a
// topology runs by implementing TopologyRunner.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <qtopology/coordination_storage.hpp>
#include <qtopology/export.hpp>
#include <qtopology/logger.hpp>

namespace qtopology {

// How a topology ended. No error: it finished by itself with success (exit
// code 0), or it was stopped or killed on request.
struct TopologyExit {
  std::string uuid;
  std::optional<std::string> error;
};

// What TopologyRunner::start() is given. A struct, so that what the worker
// passes can grow without a new overload of start().
struct StartRequest {
  std::string uuid{};
  Json config{};  // the topology's config, as registered
  // The assignment's epoch (TopologyStatus::epoch), which grows on every
  // assignment: a runner hands it to the topology so that its sinks can
  // refuse writes from an older instance.
  std::int64_t epoch = 0;
};

// What a host implements: how a topology starts, stops and ends. The worker
// calls start/stop/kill from its loop thread, one call at a time, except
// kill(): the worker's lease watchdog thread may call it at any moment, also
// while the loop thread is inside start(), stop() or kill(), so the runner
// must be thread-safe at least for kill() against the others. A kill() for a
// uuid whose start() has not returned yet may be ignored: the worker kills it
// again once start() returns.
class QTOPOLOGY_EXPORT TopologyRunner {
 public:
  // Thread-safe; the runner may call it from any thread, also from inside
  // start(), stop() or kill().
  using ExitCallback = std::function<void(TopologyExit)>;

  virtual ~TopologyRunner() = default;
  // Called once, by the TopologyWorker's constructor, before anything else.
  virtual void setExitCallback(ExitCallback callback) = 0;
  // Start the topology; return its process id when it has one (recorded in
  // the storage), or nullopt. Throw a std::exception whose what() says why it
  // cannot start: the topology goes to "error" with that text.
  virtual std::optional<int> start(const StartRequest& request) = 0;
  // Ask it to stop gracefully (stop) or end it at once (kill). Neither waits:
  // the runner reports the end through the exit callback. Unknown uuids are
  // ignored.
  virtual void stop(const std::string& uuid) = 0;
  virtual void kill(const std::string& uuid) = 0;
  // After each renewal of the lease (a successful heartbeat that wrote the
  // worker's ping, see WorkerOptions::lease), from the loop thread: the lease
  // now ends at `deadline` (on WorkerOptions::clock, the steady clock unless
  // injected), and every topology must be gone by then unless renewed again.
  // A runner whose topologies outlive a paused or dead worker (separate
  // processes) enforces it beside them. The default does nothing: the
  // worker's own watchdog still kills through kill().
  virtual void renewLease(std::chrono::steady_clock::time_point deadline) {
    static_cast<void>(deadline);
  }
};

struct WorkerOptions {
  std::string name;
  // How often the worker heartbeats and reads its messages.
  std::chrono::milliseconds tick{1000};
  // How often a leader runs its duties (Node qtopology: 5 s).
  std::chrono::milliseconds leader_loop{5000};
  // How often a leader rebalances by itself (Node qtopology: 1 h), unless the
  // storage's getProperties() has "rebalance_interval_s", which wins so the
  // whole cluster agrees.
  std::chrono::milliseconds rebalance_interval{std::chrono::hours(1)};
  // The lease: a worker whose last successful heartbeat is older than this
  // kills all its topologies (TopologyRunner::kill, not a graceful stop), so
  // they are gone before the leader may declare it dead and reassign them.
  // A watchdog thread (from start() until shutdown() or destruction) holds
  // it even while the loop thread is blocked in a storage call.
  // It runs from the moment a successful heartbeat that wrote the worker's
  // ping (WorkerHeartbeat::wrote) was sent: the storage stamps the ping when
  // the call runs, not when its reply arrives, and the cluster judges the
  // worker by the last ping written. A worker whose lease is half spent
  // without such a heartbeat pings (pingWorker) to renew it. The
  // cluster's dead-worker timeout caps it: the worker uses the smaller of
  // this and the storage's "worker_dead_timeout_s" property less two ticks
  // (never less than one tick), read at start and with every re-read of its
  // assigned topologies, and warns once when that shortens it.
  std::chrono::milliseconds lease{std::chrono::seconds(20)};
  // shutdown() waits this long for the topologies it stopped to exit, then
  // kills the rest and waits as long again.
  std::chrono::milliseconds stop_timeout{std::chrono::seconds(10)};
  // The worker's own clock for its intervals (leader loop, rebalance, lease,
  // restart windows). Empty: std::chrono::steady_clock::now. Tests inject a
  // clock they advance. run() sleeps in real time regardless. Called from
  // the lease watchdog's thread too, so it must be thread-safe; the watchdog
  // looks at it at least every 100 ms of real time.
  std::function<std::chrono::steady_clock::time_point()> clock;
  // Where the worker and its lease watchdog log; nullptr means
  // defaultLogger(). Used from the watchdog's thread too.
  std::shared_ptr<Logger> logger;
  // Node qtopology's is_dormant_period: asked once a tick, from the loop
  // thread. When its answer turns true the worker acts as on set_disabled
  // (gives up leadership, reports itself disabled, stops its topologies),
  // when it turns false again as on set_enabled. Empty: never dormant.
  std::function<bool()> dormant;
};

// One worker's loop, speaking Node qtopology 2.3.2's protocol. Each tick:
// one heartbeat() (the ping, the messages, the leader's liveness), the
// messages, and a campaign when no leader is alive. Messages created before
// the worker started (by the storage's clock) are ignored. start_topology(ies)
// start only what is still assigned to this worker and waiting;
// stop_topologies stops only the listed ones; set_disabled gives up
// leadership, reports "disabled" and stops everything until set_enabled; after
// shutdown or set_disabled the worker never campaigns nor starts anything.
// A topology that exits with an error is restarted per its optional
// general.restart {max, window_s}, then reported "error" with the runner's
// text; a clean exit or a requested stop reports it "unassigned". Each
// instance starts with its assignment's epoch (TopologyStatus::epoch), its
// status and pid reports carry that epoch (reportTopologyStatus), and an
// instance of an older assignment is killed when the topology is assigned to
// this worker again. A worker that finds itself dead or unloaded has lost
// what it ran (the storage unassigned it): it kills everything and registers
// again. As leader,
// every leader_loop: refreshStatuses(), then placement, reclaiming and
// rebalancing written through applyLeaderActions(), fenced by the storage.
//
// Not thread-safe, except requestShutdown(); its own watchdog thread only
// kills topologies through the runner. Storage failures inside a tick are
// logged and retried on the next tick; they never escape tick().
class QTOPOLOGY_EXPORT TopologyWorker {
 public:
  // Neither the storage nor the runner is owned; both must outlive the worker.
  // Throws InvalidArgument for a bad name or a non-positive interval.
  TopologyWorker(CoordinationStorage& storage, TopologyRunner& runner, WorkerOptions options);
  ~TopologyWorker();
  TopologyWorker(const TopologyWorker&) = delete;
  TopologyWorker& operator=(const TopologyWorker&) = delete;

  // Registers, ticks every options.tick until a shutdown message or
  // requestShutdown(), then shuts down. Throws StorageError only when the
  // first registration fails.
  void run();
  // Thread-safe and async-signal-safe: makes run() shut down after its
  // current tick.
  void requestShutdown();

  // The steps of run(), for hosts that drive many workers from their own
  // threads. start() registers, and throws StorageError when that fails;
  // tick() runs one tick (registering first while no start() succeeded,
  // retried each tick, never throwing a StorageError) and returns false once
  // the worker should shut down; shutdown() gives up leadership, stops every
  // topology, and reports the worker unloaded. shutdown() returns false when
  // some report could not be written.
  void start();
  bool tick();
  bool shutdown();

  bool isLeader() const;
  const std::string& name() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qtopology
