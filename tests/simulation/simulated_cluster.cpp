#include "simulated_cluster.hpp"

#include <algorithm>
#include <sstream>
#include <utility>

namespace qtopology::simulation {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock::time_point;

const Steady kSteadyBase{std::chrono::hours(1000)};
const TimePoint kSystemBase = std::chrono::system_clock::from_time_t(1800000000) + 400ms;
constexpr Millis kStep{1000};
constexpr std::size_t kMaxFailures = 5;

std::string clockText(Millis t) {
  const auto s = t.count() / 1000;
  std::ostringstream out;
  out << s / 60 << "m" << (s % 60 < 10 ? "0" : "") << s % 60 << "s";
  return out.str();
}

class World;

// A topology process: alive until it exits, is killed, or its supervisor's
// lease runs out.
struct Child {
  std::string uuid;
  std::string worker;
  int pid = 0;
  std::optional<Millis> exits_at;  // a graceful stop in progress
};

// One worker incarnation's runner. Calls come from the worker's loop (the
// simulation's thread) except kill(), which the lease watchdog's thread may
// make: everything locks the world's mutex.
class ModelledRunner final : public TopologyRunner {
 public:
  ModelledRunner(World& world, std::string worker, Millis deadline)
      : world_(world), worker_(std::move(worker)), observed_deadline_(deadline) {}

  void setExitCallback(ExitCallback callback) override { exit_ = std::move(callback); }
  std::optional<int> start(const StartRequest& request) override;
  void stop(const std::string& uuid) override;
  void kill(const std::string& uuid) override;
  void renewLease(Steady deadline) override;

  // The lease as the supervisors hold it: what the worker sent, or, from a
  // worker that never sends it, the last heartbeat that reached it.
  Millis deadline() const { return renewed_ ? *renewed_ : observed_deadline_; }
  void observeHeartbeat(Millis deadline) { observed_deadline_ = deadline; }

  World& world_;
  const std::string worker_;
  ExitCallback exit_;
  std::map<std::string, int> running_;  // uuid -> pid of the live child
  bool crashed = false;                 // nothing reaches the worker any more
  Millis observed_deadline_;
  std::optional<Millis> renewed_;
};

class FaultyStorage;

struct Slot {
  std::string name;
  std::atomic<long long> clock_ms{0};  // the worker's clock; read by its watchdog
  bool paused = false;
  bool partitioned = false;
  bool down = false;  // crashed, not yet restarted
  double loss = 0;    // probability that a call's reply is lost
  Millis paused_until{0}, partition_until{0}, loss_until{0}, restart_at{0};
  std::unique_ptr<FaultyStorage> storage;
  std::unique_ptr<ModelledRunner> runner;
  std::unique_ptr<TopologyWorker> worker;
};

class World {
 public:
  World(std::uint64_t seed, const std::function<void(const std::string&)>& log, bool supervise)
      : supervised(supervise),
        config(SimulationConfig::fromSeed(seed)),
        rng(seed),
        log_(log),
        storage(storageOptions(config, now_ms)) {}

  static MemoryStorageOptions storageOptions(const SimulationConfig& c,
                                             const std::atomic<long long>& now) {
    MemoryStorageOptions o;
    o.clock = [&now] { return kSystemBase + Millis(now.load()); };
    o.worker_dead_timeout = c.worker_dead_timeout;
    o.leader_timeout = c.leader_timeout;
    o.waiting_timeout = c.waiting_timeout;
    o.properties.push_back({"rebalance_interval_s", std::to_string(c.rebalance_interval_s)});
    return o;
  }

  Millis now() const { return Millis(now_ms.load()); }

  void event(const std::string& what) {
    if (log_) log_("[" + clockText(now()) + "] " + what);
  }
  void fail(const std::string& what) {
    event("FAILURE: " + what);
    if (failures.size() < kMaxFailures) {
      failures.push_back("step " + std::to_string(steps) + " (" + clockText(now()) + "): " + what);
    }
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }
  long long between(long long lo, long long hi) {
    return std::uniform_int_distribution<long long>(lo, hi)(rng);
  }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(between(0, static_cast<long long>(v.size()) - 1))];
  }

  void run();

  // --- children (under mutex) ------------------------------------------------
  // The child dies; its worker hears of it unless the worker crashed.
  void endChild(int pid, std::optional<std::string> error) {
    const auto found = children.find(pid);
    if (found == children.end()) return;
    const std::string uuid = found->second.uuid;
    children.erase(found);
    auto* runner = owners.at(pid);
    owners.erase(pid);
    runner->running_.erase(uuid);
    if (!runner->crashed && runner->exit_) runner->exit_(TopologyExit{uuid, std::move(error)});
  }

  const bool supervised;
  SimulationConfig config;
  std::mt19937_64 rng;
  std::function<void(const std::string&)> log_;
  std::atomic<long long> now_ms{0};
  MemoryStorage storage;
  std::vector<std::unique_ptr<Slot>> slots;
  std::vector<std::string> uuids;
  std::recursive_mutex mutex;             // kill() may end a child whose exit callback runs inside
  std::map<int, Child> children;          // the live ones
  std::map<int, ModelledRunner*> owners;  // pid -> runner
  int next_pid = 1000;
  long steps = 0;
  SimulationTotals totals;
  std::vector<std::string> failures;

 private:
  void injectFaults();
  void endFaults();
  void heal();
  void advanceChildren();
  void tickWorkers();
  void checkStep();
  bool checkHealed(bool report);
  void launch(Slot& slot);
  void crash(Slot& slot);
  void restartGracefully(Slot& slot);
  void operatorAction();
  std::vector<Slot*> slotsWhere(const std::function<bool(const Slot&)>& ok);
  std::optional<std::string> liveLeader();
};

// Forwards every call to the shared storage, failing as the slot's faults
// say: partitioned or down, nothing reaches it; a lost reply, the call took
// effect and the worker hears an error.
class FaultyStorage final : public CoordinationStorage {
 public:
  FaultyStorage(World& world, Slot& slot) : world_(world), slot_(slot), inner_(world.storage) {}

  template <typename Call>
  auto call(const char* what, Call&& f) -> decltype(f()) {
    if (slot_.partitioned || slot_.down) {
      throw ConnectionError(std::string(what) + "(worker=" + slot_.name + "): cut off (simulated)");
    }
    const bool lost = slot_.loss > 0 && world_.chance(slot_.loss);
    const auto lose = [&] {
      ++world_.totals.faults["lost reply"];
      throw ConnectionError(std::string(what) + "(worker=" + slot_.name +
                            "): reply lost (simulated)");
    };
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      if (lost) lose();
    } else {
      auto result = f();
      if (lost) lose();
      return result;
    }
  }

  std::vector<WorkerStatus> getWorkerStatus() override {
    return call("getWorkerStatus", [&] { return inner_.getWorkerStatus(); });
  }
  std::vector<TopologyStatus> getTopologyStatus() override {
    return call("getTopologyStatus", [&] { return inner_.getTopologyStatus(); });
  }
  std::vector<TopologyStatus> getTopologiesForWorker(const std::string& worker) override {
    return call("getTopologiesForWorker", [&] { return inner_.getTopologiesForWorker(worker); });
  }
  TopologyInfo getTopologyInfo(const std::string& uuid) override {
    return call("getTopologyInfo", [&] { return inner_.getTopologyInfo(uuid); });
  }
  std::vector<TopologyStatusHistory> getTopologyHistory(const std::string& uuid) override {
    return call("getTopologyHistory", [&] { return inner_.getTopologyHistory(uuid); });
  }
  std::vector<WorkerStatusHistory> getWorkerHistory(const std::string& name) override {
    return call("getWorkerHistory", [&] { return inner_.getWorkerHistory(name); });
  }
  std::vector<MsgQueueItem> getMsgQueueContent() override {
    return call("getMsgQueueContent", [&] { return inner_.getMsgQueueContent(); });
  }
  std::vector<StorageProperty> getProperties() override {
    return call("getProperties", [&] { return inner_.getProperties(); });
  }
  std::vector<ClusterSetting> getSettings() override {
    return call("getSettings", [&] { return inner_.getSettings(); });
  }
  void setSetting(const std::string& name, std::int64_t value) override {
    call("setSetting", [&] { inner_.setSetting(name, value); });
  }
  std::vector<StorageMessage> getMessages(const std::string& worker) override {
    return call("getMessages", [&] { return inner_.getMessages(worker); });
  }
  std::optional<StorageMessage> getMessage(const std::string& worker) override {
    return call("getMessage", [&] { return inner_.getMessage(worker); });
  }
  void sendMessageToWorker(const std::string& worker, const std::string& cmd, const Json& content,
                           Millis valid_for) override {
    call("sendMessageToWorker",
         [&] { inner_.sendMessageToWorker(worker, cmd, content, valid_for); });
  }
  void registerWorker(const std::string& name) override {
    call("registerWorker", [&] { inner_.registerWorker(name); });
  }
  void pingWorker(const std::string& name) override {
    call("pingWorker", [&] { inner_.pingWorker(name); });
  }
  void announceLeaderCandidacy(const std::string& name) override {
    call("announceLeaderCandidacy", [&] { inner_.announceLeaderCandidacy(name); });
  }
  bool checkLeaderCandidacy(const std::string& name) override {
    return call("checkLeaderCandidacy", [&] { return inner_.checkLeaderCandidacy(name); });
  }
  void setWorkerStatus(const std::string& name, WorkerState status) override {
    call("setWorkerStatus", [&] { inner_.setWorkerStatus(name, status); });
  }
  void setWorkerLStatus(const std::string& name, Leadership lstatus) override {
    call("setWorkerLStatus", [&] { inner_.setWorkerLStatus(name, lstatus); });
  }
  void deleteWorker(const std::string& name) override {
    call("deleteWorker", [&] { inner_.deleteWorker(name); });
  }
  void shutDownWorker(const std::string& name) override {
    call("shutDownWorker", [&] { inner_.shutDownWorker(name); });
  }
  void registerTopology(const std::string& uuid, const Json& config) override {
    call("registerTopology", [&] { inner_.registerTopology(uuid, config); });
  }
  void assignTopology(const std::string& uuid, const std::string& worker) override {
    call("assignTopology", [&] { inner_.assignTopology(uuid, worker); });
  }
  void setTopologyStatus(const TopologyStatusChange& change) override {
    call("setTopologyStatus", [&] {
      if (change.worker && inner_.getTopologyInfo(change.uuid).worker != change.worker) {
        ++world_.totals.reports_rejected;
      }
      inner_.setTopologyStatus(change);
    });
  }
  // A worker's reports: the storage fences them, and the world counts what
  // it refused (a worker the topology left, or an older assignment's).
  bool reportTopologyStatus(const TopologyReport& report) override {
    return call("reportTopologyStatus", [&] {
      const bool written = inner_.reportTopologyStatus(report);
      if (!written) ++world_.totals.reports_rejected;
      return written;
    });
  }
  bool reportTopologyPid(const TopologyPidReport& report) override {
    return call("reportTopologyPid", [&] { return inner_.reportTopologyPid(report); });
  }
  void setTopologyPid(const std::string& uuid, std::optional<int> pid) override {
    call("setTopologyPid", [&] { inner_.setTopologyPid(uuid, pid); });
  }
  void disableTopology(const std::string& uuid) override {
    call("disableTopology", [&] { inner_.disableTopology(uuid); });
  }
  void enableTopology(const std::string& uuid) override {
    call("enableTopology", [&] { inner_.enableTopology(uuid); });
  }
  void stopTopology(const std::string& uuid) override {
    call("stopTopology", [&] { inner_.stopTopology(uuid); });
  }
  void killTopology(const std::string& uuid) override {
    call("killTopology", [&] { inner_.killTopology(uuid); });
  }
  void deleteTopology(const std::string& uuid) override {
    call("deleteTopology", [&] { inner_.deleteTopology(uuid); });
  }
  void clearTopologyError(const std::string& uuid) override {
    call("clearTopologyError", [&] { inner_.clearTopologyError(uuid); });
  }
  std::optional<std::string> clearTopologyErrorToLastWorker(const std::string& uuid) override {
    return call("clearTopologyErrorToLastWorker",
                [&] { return inner_.clearTopologyErrorToLastWorker(uuid); });
  }
  void refreshStatuses() override {
    call("refreshStatuses", [&] { inner_.refreshStatuses(); });
  }
  WorkerHeartbeat heartbeat(const std::string& name) override {
    auto beat = call("heartbeat", [&] { return inner_.heartbeat(name); });
    // The reply reached the worker, which renews its lease now.
    if (slot_.runner) {
      std::lock_guard lock(world_.mutex);
      slot_.runner->observeHeartbeat(Millis(slot_.clock_ms.load()) + world_.config.lease);
    }
    return beat;
  }
  bool campaign(const std::string& name) override {
    return call("campaign", [&] { return inner_.campaign(name); });
  }
  bool applyLeaderActions(const std::string& leader, const LeaderActions& actions) override {
    return call("applyLeaderActions", [&] { return inner_.applyLeaderActions(leader, actions); });
  }

 private:
  World& world_;
  Slot& slot_;
  MemoryStorage& inner_;
};

// --- the runner ----------------------------------------------------------------

std::optional<int> ModelledRunner::start(const StartRequest& request) {
  const std::string& uuid = request.uuid;
  std::lock_guard lock(world_.mutex);
  if (running_.count(uuid)) {
    world_.fail("worker " + worker_ + " started " + uuid + " while it still ran there");
    return running_[uuid];
  }
  const int pid = world_.next_pid++;
  world_.children[pid] = Child{uuid, worker_, pid, std::nullopt};
  world_.owners[pid] = this;
  running_[uuid] = pid;
  ++world_.totals.starts;
  world_.event(worker_ + " starts " + uuid + " as pid " + std::to_string(pid));
  return pid;
}

void ModelledRunner::stop(const std::string& uuid) {
  std::lock_guard lock(world_.mutex);
  const auto found = running_.find(uuid);
  if (found == running_.end()) return;
  auto& child = world_.children.at(found->second);
  // A graceful stop takes up to a few seconds; a stop during shutdown is
  // killed once the worker's (tiny) stop timeout passes.
  if (!child.exits_at) child.exits_at = world_.now() + Millis(world_.between(0, 3) * 1000);
}

void ModelledRunner::kill(const std::string& uuid) {
  std::lock_guard lock(world_.mutex);
  if (crashed) return;
  const auto found = running_.find(uuid);
  if (found == running_.end()) return;
  world_.endChild(found->second, std::nullopt);
}

void ModelledRunner::renewLease(Steady deadline) {
  std::lock_guard lock(world_.mutex);
  renewed_ = std::chrono::duration_cast<Millis>(deadline - kSteadyBase);
}

}  // namespace

// --- configuration ---------------------------------------------------------------

SimulationConfig SimulationConfig::fromSeed(std::uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  const auto between = [&](long long lo, long long hi) {
    return std::uniform_int_distribution<long long>(lo, hi)(rng);
  };
  SimulationConfig c;
  c.workers = static_cast<int>(between(2, 5));
  c.topologies = static_cast<int>(between(2, 10));
  c.worker_dead_timeout = Millis(between(10, 40) * 1000);
  c.leader_timeout =
      Millis(between(3, std::min<long long>(15, c.worker_dead_timeout.count() / 2000)) * 1000);
  c.waiting_timeout = Millis(between(10, 40) * 1000);
  // The lease ends before the leader may declare the worker dead, by more
  // than a tick.
  c.lease = c.worker_dead_timeout - Millis(between(2, 5) * 1000);
  c.leader_loop = Millis(between(1, 5) * 1000);
  c.rebalance_interval_s = static_cast<int>(between(120, 900));
  return c;
}

long SimulationTotals::faultCount() const {
  long n = 0;
  for (const auto& [kind, count] : faults) n += count;
  return n;
}

void SimulationTotals::add(const SimulationTotals& o) {
  simulated_hours += o.simulated_hours;
  steps += o.steps;
  for (const auto& [kind, count] : o.faults) faults[kind] += count;
  overlaps_unpaused += o.overlaps_unpaused;
  overlaps_any += o.overlaps_any;
  starts += o.starts;
  lease_kills += o.lease_kills;
  reports_rejected += o.reports_rejected;
  healed_topologies += o.healed_topologies;
  tick_throws += o.tick_throws;
}

namespace {

// --- the world ------------------------------------------------------------------

std::vector<Slot*> World::slotsWhere(const std::function<bool(const Slot&)>& ok) {
  std::vector<Slot*> out;
  for (auto& s : slots) {
    if (ok(*s)) out.push_back(s.get());
  }
  return out;
}

std::optional<std::string> World::liveLeader() {
  const auto beat_now = kSystemBase + now();
  for (const auto& w : storage.getWorkerStatus()) {
    if (w.lstatus == Leadership::leader && w.status == WorkerState::alive &&
        beat_now - w.last_ping <= config.leader_timeout) {
      return w.name;
    }
  }
  return std::nullopt;
}

void World::launch(Slot& slot) {
  slot.clock_ms = now_ms.load();
  slot.storage = std::make_unique<FaultyStorage>(*this, slot);
  slot.runner = std::make_unique<ModelledRunner>(*this, slot.name, now() + config.lease);
  WorkerOptions o;
  o.name = slot.name;
  o.tick = kStep;
  o.leader_loop = config.leader_loop;
  o.lease = config.lease;
  o.stop_timeout = 1ms;  // real time: a graceful stop in progress is killed at shutdown
  o.clock = [&slot] { return kSteadyBase + Millis(slot.clock_ms.load()); };
  slot.worker = std::make_unique<TopologyWorker>(*slot.storage, *slot.runner, o);
  try {
    slot.worker->start();
  } catch (const StorageError& e) {
    event(slot.name + " registration failed (" + e.what() + "); its first tick registers");
  }
}

void World::crash(Slot& slot) {
  {
    std::lock_guard lock(mutex);
    slot.runner->crashed = true;
    const auto pids = slot.runner->running_;
    for (const auto& [uuid, pid] : pids) endChild(pid, std::nullopt);
  }
  slot.down = true;
  slot.paused = slot.partitioned = false;
  slot.loss = 0;
  slot.worker.reset();  // its destructor's kills reach nothing: the runner crashed
  slot.runner.reset();
}

void World::restartGracefully(Slot& slot) {
  slot.clock_ms = now_ms.load();
  slot.worker->shutdown();
  {
    std::lock_guard lock(mutex);
    slot.runner->crashed = true;
    const auto pids = slot.runner->running_;
    for (const auto& [uuid, pid] : pids) {
      fail(slot.name + " shut down but " + uuid + " (pid " + std::to_string(pid) + ") still runs");
      endChild(pid, std::nullopt);
    }
  }
  slot.worker.reset();
  slot.runner.reset();
  launch(slot);
}

void World::operatorAction() {
  const auto& uuid = pick(uuids);
  const auto kind = between(0, 11);
  try {
    switch (kind) {
      case 0:
      case 1:
      case 2:
        storage.enableTopology(uuid);
        event("operator enables " + uuid);
        ++totals.faults["op enable"];
        break;
      case 3:
        storage.disableTopology(uuid);
        event("operator disables " + uuid);
        ++totals.faults["op disable"];
        break;
      case 4:
        storage.stopTopology(uuid);
        event("operator stops " + uuid);
        ++totals.faults["op stop"];
        break;
      case 5:
        storage.killTopology(uuid);
        event("operator kills " + uuid);
        ++totals.faults["op kill"];
        break;
      case 6:
        for (const auto& t : storage.getTopologyStatus()) {
          if (t.status == TopologyState::error) {
            // as qtopology-mysql clear-error does
            storage.clearTopologyErrorToLastWorker(t.uuid);
            event("operator clears the error of " + t.uuid);
            ++totals.faults["op clear-error"];
            break;
          }
        }
        break;
      case 7:
        storage.registerTopology(
            uuid, Json{{"general",
                        {{"weight", between(1, 3)}, {"restart", {{"max", 1}, {"window_s", 60}}}}}});
        event("operator re-registers " + uuid);
        ++totals.faults["op re-register"];
        break;
      case 8: {
        const auto leader = liveLeader();
        if (!leader) break;
        storage.sendMessageToWorker(*leader, std::string(consts::leader_messages::rebalance),
                                    Json::object(), 30s);
        event("operator asks " + *leader + " to rebalance");
        ++totals.faults["op rebalance"];
        break;
      }
      case 9:
      case 10:
      case 11: {
        const auto& slot = *pick(slots);
        const bool disable = kind == 9;
        storage.sendMessageToWorker(slot.name,
                                    std::string(disable ? consts::leader_messages::set_disabled
                                                        : consts::leader_messages::set_enabled),
                                    Json::object(), 30s);
        event(std::string("operator sends ") + (disable ? "set_disabled" : "set_enabled") + " to " +
              slot.name);
        ++totals.faults[disable ? "op set_disabled" : "op set_enabled"];
        break;
      }
      default:
        break;
    }
  } catch (const StorageError& e) {
    event(std::string("operator action failed: ") + e.what());
  }
}

void World::injectFaults() {
  const auto up = [](const Slot& s) { return !s.down && !s.paused; };
  if (chance(0.004)) {
    const auto candidates = slotsWhere([&](const Slot& s) { return up(s) && !s.partitioned; });
    if (!candidates.empty()) {
      auto& s = *pick(candidates);
      s.partitioned = true;
      s.partition_until = now() + Millis(between(3, 90) * 1000);
      ++totals.faults["partition"];
      event("partition " + s.name + " until " + clockText(s.partition_until));
    }
  }
  if (chance(0.004)) {
    const auto candidates = slotsWhere(up);
    if (!candidates.empty()) {
      auto& s = *pick(candidates);
      s.paused = true;
      s.paused_until = now() + Millis(between(3, 120) * 1000);
      ++totals.faults["pause"];
      event("pause " + s.name + " until " + clockText(s.paused_until));
    }
  }
  if (chance(0.002)) {
    const auto candidates = slotsWhere([](const Slot& s) { return !s.down; });
    if (!candidates.empty()) {
      auto& s = *pick(candidates);
      s.restart_at = now() + Millis(between(1, 90) * 1000);
      ++totals.faults["crash"];
      event("crash " + s.name + ", restart at " + clockText(s.restart_at));
      crash(s);
    }
  }
  if (chance(0.002)) {
    const auto candidates = slotsWhere([&](const Slot& s) { return up(s); });
    if (!candidates.empty()) {
      auto& s = *pick(candidates);
      ++totals.faults["graceful restart"];
      event("graceful restart of " + s.name);
      restartGracefully(s);
    }
  }
  if (chance(0.004)) {
    const auto candidates = slotsWhere([](const Slot& s) { return !s.down && s.loss == 0; });
    if (!candidates.empty()) {
      auto& s = *pick(candidates);
      s.loss = static_cast<double>(between(1, 5)) / 10.0;
      s.loss_until = now() + Millis(between(5, 60) * 1000);
      ++totals.faults["lossy link"];
      event("replies to " + s.name + " get lost until " + clockText(s.loss_until));
    }
  }
  if (chance(0.006)) {
    std::lock_guard lock(mutex);
    std::vector<int> live;
    for (const auto& [pid, child] : children) live.push_back(pid);
    if (!live.empty()) {
      const int pid = pick(live);
      ++totals.faults["topology crash"];
      event("topology " + children.at(pid).uuid + " (pid " + std::to_string(pid) + ") crashes");
      endChild(pid, std::string("simulated crash"));
    }
  }
  if (chance(0.012)) operatorAction();
}

void World::endFaults() {
  for (auto& s : slots) {
    if (s->paused && now() >= s->paused_until) {
      s->paused = false;
      event("resume " + s->name);
    }
    if (s->partitioned && now() >= s->partition_until) {
      s->partitioned = false;
      event("heal partition of " + s->name);
    }
    if (s->loss > 0 && now() >= s->loss_until) s->loss = 0;
    if (s->down && now() >= s->restart_at) {
      s->down = false;
      event("restart " + s->name);
      launch(*s);
    }
  }
}

// Faults stop: every worker runs and is reachable, every topology enabled and
// out of error, every worker enabled again.
void World::heal() {
  event("faults stop; the cluster heals");
  for (auto& s : slots) {
    s->paused = s->partitioned = false;
    s->loss = 0;
    if (s->down) {
      s->down = false;
      launch(*s);
    }
  }
  for (const auto& t : storage.getTopologyStatus()) {
    storage.enableTopology(t.uuid);
    if (t.status == TopologyState::error) storage.clearTopologyError(t.uuid);
  }
}

void World::advanceChildren() {
  std::lock_guard lock(mutex);
  std::vector<int> ending;
  for (const auto& [pid, child] : children) {
    const auto* runner = owners.at(pid);
    if (child.exits_at && *child.exits_at <= now()) {
      ending.push_back(pid);
    } else if (supervised && runner->deadline() < now()) {
      // The supervisor: the lease ran out without a renewal.
      ++totals.lease_kills;
      event("supervisor kills " + child.uuid + " (pid " + std::to_string(pid) + ") of " +
            child.worker + ": lease ran out at " + clockText(runner->deadline()));
      ending.push_back(pid);
    }
  }
  for (const int pid : ending) endChild(pid, std::nullopt);
}

void World::tickWorkers() {
  std::vector<Slot*> order;
  for (auto& s : slots) order.push_back(s.get());
  std::shuffle(order.begin(), order.end(), rng);
  for (auto* s : order) {
    if (s->down || s->paused) continue;
    s->clock_ms = now_ms.load();
    bool keep = true;
    try {
      keep = s->worker->tick();
    } catch (const StorageError& e) {
      // Only the first registration, when it failed, can throw here.
      ++totals.tick_throws;
      event(s->name + " tick threw: " + e.what());
    }
    if (!keep) {
      event(s->name + " was told to shut down; restarting it");
      restartGracefully(*s);
    }
  }
}

void World::checkStep() {
  std::lock_guard lock(mutex);
  std::map<std::string, std::vector<const Child*>> live;
  for (const auto& [pid, child] : children) live[child.uuid].push_back(&child);
  std::map<std::string, const Slot*> by_name;
  for (const auto& s : slots) by_name[s->name] = s.get();
  for (const auto& [uuid, instances] : live) {
    if (instances.size() < 2) continue;
    ++totals.overlaps_any;
    int unpaused = 0;
    std::string who;
    for (const auto* c : instances) {
      const bool paused = by_name.at(c->worker)->paused;
      unpaused += paused ? 0 : 1;
      who += " " + c->worker + (paused ? "(paused)" : "") + "/pid " + std::to_string(c->pid);
    }
    if (unpaused >= 2) ++totals.overlaps_unpaused;
    fail("two live instances of " + uuid + ":" + who);
  }
}

// Every enabled topology not in error runs once, where the storage says,
// with the pid it records.
bool World::checkHealed(bool report) {
  std::lock_guard lock(mutex);
  std::map<std::string, std::vector<const Child*>> live;
  for (const auto& [pid, child] : children) live[child.uuid].push_back(&child);
  bool ok = true;
  long checked = 0;
  const auto wrong = [&](const std::string& what) {
    ok = false;
    if (report) fail("after healing: " + what);
  };
  for (const auto& t : storage.getTopologyStatus()) {
    if (!t.enabled || t.status == TopologyState::error) continue;
    ++checked;
    const auto& instances = live[t.uuid];
    if (instances.size() != 1) {
      wrong(t.uuid + " runs " + std::to_string(instances.size()) + " times (storage: " +
            std::string(toString(t.status)) + " on " + t.worker.value_or("nobody") + ")");
      continue;
    }
    const auto& c = *instances.front();
    if (t.status != TopologyState::running || t.worker != c.worker || t.pid != c.pid) {
      wrong(t.uuid + " runs on " + c.worker + " as pid " + std::to_string(c.pid) +
            " but the storage says " + std::string(toString(t.status)) + " on " +
            t.worker.value_or("nobody") + " with pid " +
            (t.pid ? std::to_string(*t.pid) : std::string("none")));
    }
  }
  if (report) totals.healed_topologies += checked;
  return ok;
}

void World::run() {
  {
    std::ostringstream out;
    out << "cluster: " << config.workers << " workers, " << config.topologies
        << " topologies; dead " << config.worker_dead_timeout.count() << " ms, leader "
        << config.leader_timeout.count() << " ms, waiting " << config.waiting_timeout.count()
        << " ms, lease " << config.lease.count() << " ms, leader loop "
        << config.leader_loop.count() << " ms, rebalance " << config.rebalance_interval_s << " s";
    event(out.str());
  }
  for (int i = 0; i < config.topologies; ++i) {
    const std::string uuid = "t" + std::to_string(i + 1);
    uuids.push_back(uuid);
    Json general{{"weight", between(1, 3)}};
    if (chance(0.5)) general["restart"] = Json{{"max", between(1, 3)}, {"window_s", 60}};
    storage.registerTopology(uuid, Json{{"general", general}});
    storage.enableTopology(uuid);
  }
  for (int i = 0; i < config.workers; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->name = "w" + std::to_string(i + 1);
    slots.push_back(std::move(slot));
    launch(*slots.back());
  }
  bool healed = false;
  while (now() < config.duration) {
    now_ms = now_ms.load() + kStep.count();
    ++steps;
    if (now() < config.faults_until) {
      injectFaults();
      endFaults();
    } else if (!healed) {
      heal();
      healed = true;
    }
    // set_enabled to every worker after the heal, once the restarted ones
    // registered (a message older than a worker is not for it).
    if (healed && (now() == config.faults_until + 5s || now() == config.faults_until + 60s)) {
      for (const auto& s : slots) {
        storage.sendMessageToWorker(s->name, std::string(consts::leader_messages::set_enabled),
                                    Json::object(), 30s);
      }
    }
    advanceChildren();
    tickWorkers();
    checkStep();
  }
  // Moves and restarts in flight settle within a bound: up to ten more
  // minutes, then what is wrong is reported.
  const auto settle_until = now() + std::chrono::minutes(10);
  while (!checkHealed(false) && now() < settle_until) {
    now_ms = now_ms.load() + kStep.count();
    ++steps;
    advanceChildren();
    tickWorkers();
    checkStep();
  }
  checkHealed(true);
  for (auto& s : slots) {
    if (s->worker) s->worker.reset();
  }
  totals.steps = steps;
  totals.simulated_hours = static_cast<double>(now().count()) / 3.6e6;
}

}  // namespace

SimulationResult simulate(std::uint64_t seed, const std::function<void(const std::string&)>& log,
                          bool supervised) {
  World world(seed, log, supervised);
  world.run();
  return SimulationResult{world.failures, world.totals};
}

}  // namespace qtopology::simulation
