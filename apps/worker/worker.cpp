#include "worker.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "leader_duties.hpp"
#include "placement.hpp"

namespace qtopology::worker {
namespace {

namespace status = consts::topology_status;
namespace messages = consts::leader_messages;

// One failing step must not starve the others: a worker that cannot read its
// messages should still heartbeat, and the other way round.
template <typename Step>
bool guarded(const char* what, Step&& step) {
  try {
    step();
    return true;
  } catch (const StorageError& e) {
    spdlog::warn("{} failed: {}", what, e.what());
    return false;
  }
}

std::string uuidOf(const StorageMessage& message) {
  const auto& c = message.content;
  if (c.is_object() && c.contains("uuid") && c["uuid"].is_string()) {
    return c["uuid"].get<std::string>();
  }
  return {};
}

}  // namespace

Worker::Worker(MySqlCoordinator& storage, WorkerSettings settings)
    : storage_(storage), settings_(std::move(settings)), local_(storage, settings_.name) {}

void Worker::registerSelf() {
  storage_.registerWorker(settings_.name);
  leader_ = false;  // registering resets the leadership status too
  spdlog::info("registered as worker {} (pid {})", settings_.name, ::getpid());
}

void Worker::tick() {
  guarded("heartbeat", [&] { heartbeat(); });
  guarded("reading messages", [&] { handleMessages(); });
  guarded("checking assigned topologies", [&] { reconcile(); });
  guarded("leadership", [&] { leadership(); });
}

void Worker::heartbeat() {
  try {
    storage_.pingWorker(settings_.name);
  } catch (const NotFoundError&) {
    // Deleted behind our back (e.g. `qtopology-mysql clear`): the check
    // below registers us again.
  }
  workers_ = storage_.getWorkerStatus();
  const auto self = std::find_if(workers_.begin(), workers_.end(),
                                 [&](const WorkerStatus& w) { return w.name == settings_.name; });
  if (self != workers_.end() && self->status == consts::worker_status::alive) return;
  // A leader declared us dead (we were paused or cut off), or an operator
  // changed our status: we are running, so say so.
  spdlog::warn("found myself {}; registering again",
               self == workers_.end() ? std::string("missing") : self->status);
  registerSelf();
  workers_ = storage_.getWorkerStatus();
}

void Worker::handleMessages() {
  for (const auto& message : storage_.getMessages(settings_.name)) {
    // Messages are gone from the queue once read: handle every one of them
    // even if another fails.
    guarded(message.cmd.c_str(), [&] { handle(message); });
  }
}

void Worker::handle(const StorageMessage& message) {
  const auto& cmd = message.cmd;
  const std::string uuid = uuidOf(message);
  const bool about_topology = cmd == messages::start_topology || cmd == messages::stop_topology ||
                              cmd == messages::kill_topology;
  if (about_topology && uuid.empty()) {
    spdlog::warn("ignoring {} without a uuid: {}", cmd, message.content.dump());
  } else if (cmd == messages::start_topology) {
    startTopology(uuid);
  } else if (cmd == messages::stop_topology || cmd == messages::kill_topology) {
    const char* how = cmd == messages::stop_topology ? "stopped" : "killed";
    if (local_.contains(uuid)) {
      local_.stop(uuid, how);
    } else {
      spdlog::info("{}: topology {} is not running here", cmd, uuid);
    }
  } else if (cmd == messages::stop_topologies) {
    spdlog::info("stopping all {} topologies on request", local_.uuids().size());
    for (const auto& running : std::set<std::string>(local_.uuids())) {
      local_.stop(running, "stopped");
    }
  } else if (cmd == messages::shutdown) {
    spdlog::info("received shutdown message");
    shutdown_requested_ = true;
  } else {
    spdlog::info("ignoring message {} {}", cmd, message.content.dump());
  }
}

void Worker::startTopology(const std::string& uuid) {
  if (local_.contains(uuid)) {
    spdlog::info("start_topology: {} is already running here", uuid);
    return;
  }
  TopologyInfo info;
  try {
    info = storage_.getTopologyInfo(uuid);
  } catch (const NotFoundError&) {
    spdlog::warn("start_topology: topology {} no longer exists", uuid);
    return;
  }
  // The message may be stale: the leader could have taken the topology back
  // (waiting too long) and given it to someone else since.
  if (info.worker != settings_.name || info.status != status::waiting) {
    spdlog::info("start_topology: not starting {}, it is {} on {}", uuid, info.status,
                 info.worker.value_or("no worker"));
    return;
  }
  local_.start(uuid);
}

void Worker::reconcile() {
  const auto mine = storage_.getTopologiesForWorker(settings_.name);
  for (const auto& uuid : std::set<std::string>(local_.uuids())) {
    const auto t = std::find_if(mine.begin(), mine.end(),
                                [&](const TopologyStatus& s) { return s.uuid == uuid; });
    if (t == mine.end() || !isActive(*t)) {
      local_.forget(uuid);
      spdlog::warn("topology {} is no longer assigned here; dropped it", uuid);
    }
  }
  for (const auto& t : mine) {
    // Left over from an earlier process with our name that died: nothing
    // runs it, so hand it back to the leader instead of waiting to be
    // declared dead.
    if (t.status == status::running && !local_.contains(t.uuid)) {
      storage_.setTopologyStatus(t.uuid, settings_.name, std::string(status::unassigned),
                                 std::nullopt);
      spdlog::warn("topology {} was recorded as running here but is not; unassigned it", t.uuid);
    }
  }
}

bool Worker::shouldCampaign() {
  const auto leader = std::find_if(workers_.begin(), workers_.end(), [](const WorkerStatus& w) {
    return w.lstatus == consts::worker_lstatus::leader && w.status == consts::worker_status::alive;
  });
  if (leader == workers_.end()) {
    seen_leader_ping_.reset();
    return true;
  }
  const auto now = std::chrono::steady_clock::now();
  const std::pair<std::string, TimePoint> ping{leader->name, leader->last_ping};
  if (seen_leader_ping_ != ping) {
    seen_leader_ping_ = ping;
    seen_leader_since_ = now;
    return false;
  }
  // A killed leader keeps its title until someone else's refresh removes
  // it, so a frozen heartbeat is the only sign we get.
  return now - seen_leader_since_ >= settings_.leader_stale_after;
}

void Worker::leadership() {
  if (leader_) {
    if (!storage_.checkLeaderCandidacy(settings_.name)) {
      leader_ = false;
      spdlog::warn("lost leadership");
      return;
    }
  } else {
    if (!shouldCampaign()) return;
    storage_.announceLeaderCandidacy(settings_.name);
    if (!storage_.checkLeaderCandidacy(settings_.name)) return;
    leader_ = true;
    spdlog::info("became leader");
  }
  runLeaderDuties(storage_, settings_.start_ttl);
}

bool Worker::shutdown() {
  spdlog::info("shutting down");
  bool ok = true;
  if (leader_) {
    ok &= guarded("giving up leadership", [&] {
      storage_.setWorkerLStatus(settings_.name, std::string(consts::worker_lstatus::normal));
      leader_ = false;
      spdlog::info("gave up leadership");
    });
  }
  // Closing first, so the leader assigns nothing new while we stop.
  ok &= guarded("reporting closing", [&] {
    storage_.setWorkerStatus(settings_.name, std::string(consts::worker_status::closing));
    spdlog::info("reported closing");
  });
  for (const auto& uuid : std::set<std::string>(local_.uuids())) {
    ok &= guarded("stopping a topology", [&] { local_.stop(uuid, "stopped"); });
  }
  // Assigned but not started yet: give those back too rather than let them
  // wait for the waiting timeout.
  ok &= guarded("returning waiting topologies", [&] {
    for (const auto& t : storage_.getTopologiesForWorker(settings_.name)) {
      if (t.status != status::waiting) continue;
      storage_.setTopologyStatus(t.uuid, settings_.name, std::string(status::unassigned),
                                 std::nullopt);
      spdlog::info("returned waiting topology {}", t.uuid);
    }
  });
  ok &= guarded("reporting unloaded", [&] {
    storage_.setWorkerStatus(settings_.name, std::string(consts::worker_status::unloaded));
    spdlog::info("reported unloaded");
  });
  return ok;
}

}  // namespace qtopology::worker
