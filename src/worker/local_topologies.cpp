#include "local_topologies.hpp"

#include <cstdio>
#include <set>

#include <qtopology/text.hpp>

namespace qtopology::detail {
namespace {

using ts = TopologyState;

// "60", "1.5": a duration in seconds as people write it.
std::string secondsText(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", std::chrono::duration<double>(duration).count());
  return text;
}

}  // namespace

bool LocalTopologies::start(const std::string& uuid) {
  auto log = context_.log();
  const auto& name = context_.name();
  const auto& shown = context_.shownName();
  if (!context_.accepting()) {
    log.info("worker {}: not starting {}: not accepting topologies", shown, escapeControl(uuid));
    return false;
  }
  const auto found = running_.find(uuid);
  if (found != running_.end() && found->second.stopping) {
    found->second.start_after_exit = true;
    log.info("worker {}: {} is still stopping; starting it once it exited", shown,
             escapeControl(uuid));
    return false;
  }
  TopologyInfo info;
  try {
    info = context_.storage.getTopologyInfo(uuid);
  } catch (const NotFoundError&) {
    log.warn("worker {}: not starting {}: it no longer exists", shown, escapeControl(uuid));
    return false;
  }
  if (info.invalid) {
    log.warn("worker {}: not starting {}: its row is invalid ({})", shown, escapeControl(uuid),
             escapeControl(*info.invalid));
    return false;
  }
  if (info.worker != name || info.status != ts::waiting) {
    log.info("worker {}: not starting {}: it is {} on {}", shown, escapeControl(uuid), info.status,
             escapeControl(info.worker.value_or("no worker")));
    return false;
  }
  if (found != running_.end()) {
    replaceIfOlder(found, info.epoch);
    return false;
  }
  return launch(uuid, std::move(info.config), info.epoch);
}

// Assigned here again (a newer epoch) while an instance of an earlier
// assignment runs: that one is killed, as its reports would be ignored, and
// the new assignment starts once its exit is seen.
void LocalTopologies::replaceIfOlder(Entry found, std::int64_t epoch) {
  const auto uuid = found->first;
  if (found->second.epoch >= epoch) {
    context_.log().info("worker {}: {} is already running here", context_.shownName(),
                        escapeControl(uuid));
    return;
  }
  context_.log().warn(
      "worker {}: {} runs here for epoch {} but is assigned here again (epoch {}); killing it "
      "and starting it again once it exited",
      context_.shownName(), escapeControl(uuid), found->second.epoch, epoch);
  stop(uuid, true);
  found->second.start_after_exit = true;
}

bool LocalTopologies::launch(const std::string& uuid, Json config, std::int64_t epoch) {
  reports_.drop(uuid);
  RestartPolicy policy;
  std::optional<int> pid;
  try {
    policy = restartPolicyOf(config);
    pid = context_.runner.start(StartRequest{uuid, config, epoch});
  } catch (const std::exception& e) {
    context_.log().error("worker {}: topology {} cannot start: {}", context_.shownName(),
                         escapeControl(uuid), escapeControl(e.what()));
    reports_.report(uuid, ts::error, std::string(e.what()), epoch);
    return false;
  }
  auto& t =
      running_.emplace(uuid, Local{std::move(config), epoch, RestartBudget(policy)}).first->second;
  if (!track(uuid, t)) return false;
  context_.log().info("worker {}: started topology {}{}", context_.shownName(), escapeControl(uuid),
                      pid ? " (pid " + std::to_string(*pid) + ")" : std::string());
  reports_.report(uuid, ts::running, std::nullopt, epoch);
  recordPid(uuid, pid, epoch);
  return true;
}

// False when the lease lapsed while it started: the watchdog killed it.
bool LocalTopologies::track(const std::string& uuid, Local& t) {
  if (watchdog_.track(uuid)) return true;
  t.stopping = true;
  return false;
}

void LocalTopologies::recordPid(const std::string& uuid, std::optional<int> pid,
                                std::int64_t epoch) {
  if (pid) reports_.reportPid(uuid, *pid, epoch);
}

void LocalTopologies::stop(const std::string& uuid, bool kill) {
  const auto found = running_.find(uuid);
  if (found == running_.end()) {
    context_.log().info("worker {}: {} {}: not running here", context_.shownName(),
                        kill ? "kill" : "stop", escapeControl(uuid));
    return;
  }
  found->second.stopping = true;
  found->second.start_after_exit = false;
  context_.log().info("worker {}: {} topology {}", context_.shownName(),
                      kill ? "killing" : "stopping", escapeControl(uuid));
  if (kill) {
    context_.callRunner("kill", uuid, [&] { context_.runner.kill(uuid); });
  } else {
    context_.callRunner("stop", uuid, [&] { context_.runner.stop(uuid); });
  }
}

void LocalTopologies::stopAll(bool kill) {
  // A runner may report an exit from inside stop(): iterate over a copy.
  std::vector<std::string> uuids;
  for (const auto& [uuid, t] : running_) uuids.push_back(uuid);
  for (const auto& uuid : uuids) stop(uuid, kill);
}

void LocalTopologies::killAll() noexcept {
  for (auto& [uuid, t] : running_) {
    context_.callRunner("kill", uuid, [&, &id = uuid] { context_.runner.kill(id); });
  }
}

void LocalTopologies::expectLapseExits() {
  for (auto& [uuid, t] : running_) {
    t.stopping = true;
    t.start_after_exit = false;
  }
}

void LocalTopologies::handleExit(TopologyExit exit) {
  const auto found = running_.find(exit.uuid);
  if (found == running_.end()) {
    context_.log().info("worker {}: exit of {}, which is not running here", context_.shownName(),
                        escapeControl(exit.uuid));
    return;
  }
  watchdog_.untrack(exit.uuid);
  if (found->second.stopping) return endStopped(found);
  if (!exit.error) return endFinished(found);
  if (restart(found->second, exit.uuid, *exit.error)) return;
  endFailed(found, std::move(*exit.error));
}

// Stopped on request: unassigned, unless it was given back meanwhile.
void LocalTopologies::endStopped(Entry found) {
  const auto uuid = found->first;
  const bool start_again = found->second.start_after_exit;
  const auto epoch = found->second.epoch;
  running_.erase(found);
  context_.log().info("worker {}: topology {} stopped", context_.shownName(), escapeControl(uuid));
  if (!start_again || !startAgain(uuid)) reports_.report(uuid, ts::unassigned, std::nullopt, epoch);
}

bool LocalTopologies::startAgain(const std::string& uuid) {
  bool started = false;
  context_.guarded("starting again", [&] { started = start(uuid); });
  return started;
}

void LocalTopologies::endFinished(Entry found) {
  const auto uuid = found->first;
  const auto epoch = found->second.epoch;
  running_.erase(found);
  context_.log().info("worker {}: topology {} finished", context_.shownName(), escapeControl(uuid));
  reports_.report(uuid, ts::unassigned, std::nullopt, epoch);
}

// True when it runs again within its restart policy. Otherwise `error` says
// why it does not.
bool LocalTopologies::restart(Local& t, const std::string& uuid, std::string& error) {
  const auto& policy = t.restarts.policy();
  if (!context_.accepting() || !t.restarts.allow(context_.now())) {
    if (policy.max > 0) {
      error += " (after " + std::to_string(t.restarts.used()) + " restarts within " +
               secondsText(policy.window) + " s)";
    }
    return false;
  }
  context_.log().warn("worker {}: topology {} failed ({}); restart {} of {} within {} s",
                      context_.shownName(), escapeControl(uuid), escapeControl(error),
                      t.restarts.used(), policy.max, secondsText(policy.window));
  std::optional<int> pid;
  try {
    pid = context_.runner.start(StartRequest{uuid, t.config, t.epoch});
  } catch (const std::exception& e) {
    error += "; restarting failed: " + std::string(e.what());
    return false;
  }
  if (track(uuid, t)) recordPid(uuid, pid, t.epoch);
  return true;
}

void LocalTopologies::endFailed(Entry found, std::string error) {
  const auto uuid = found->first;
  const auto epoch = found->second.epoch;
  running_.erase(found);
  context_.log().error("worker {}: topology {} failed: {}", context_.shownName(),
                       escapeControl(uuid), escapeControl(error));
  reports_.report(uuid, ts::error, error, epoch);
}

void LocalTopologies::reconcile(const std::vector<TopologyStatus>& assigned) {
  std::map<std::string, const TopologyStatus*> by_uuid;
  for (const auto& t : assigned) by_uuid[t.uuid] = &t;
  for (const auto& t : assigned) {
    if (t.invalid) continue;  // another writer's row: not ours to correct
    if (t.status == ts::running && !running_.count(t.uuid) && !reports_.pendingFor(t.uuid)) {
      context_.log().warn("worker {}: {} is recorded as running here but is not; unassigning it",
                          context_.shownName(), escapeControl(t.uuid));
      reports_.report(t.uuid, ts::unassigned, std::nullopt, t.epoch);
    }
  }
  std::vector<std::string> taken;
  std::vector<std::pair<std::string, std::int64_t>> stale;  // uuid, the newer epoch
  for (const auto& [uuid, t] : running_) {
    if (t.stopping) continue;
    const auto found = by_uuid.find(uuid);
    // Its row went bad while it runs here: it says nothing we can act on,
    // and no leader places it elsewhere meanwhile.
    if (found != by_uuid.end() && found->second->invalid) continue;
    if (found == by_uuid.end() ||
        (found->second->status != ts::running && found->second->status != ts::waiting)) {
      taken.push_back(uuid);
    } else if (found->second->status == ts::waiting && found->second->epoch > t.epoch) {
      stale.emplace_back(uuid, found->second->epoch);
    } else if (found->second->status == ts::waiting && !reports_.pendingFor(uuid)) {
      reports_.report(uuid, ts::running, std::nullopt, t.epoch);  // our first report was lost
    }
  }
  for (const auto& uuid : taken) {
    context_.log().warn("worker {}: {} is no longer assigned here; killing it",
                        context_.shownName(), escapeControl(uuid));
    stop(uuid, true);
  }
  for (const auto& [uuid, epoch] : stale) {
    const auto found = running_.find(uuid);
    if (found != running_.end()) replaceIfOlder(found, epoch);
  }
}

}  // namespace qtopology::detail
