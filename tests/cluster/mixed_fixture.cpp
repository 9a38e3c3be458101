#include "mixed_fixture.hpp"

#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <random>

namespace qtopology::testing {

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void figure(const std::string& name, const std::string& value) {
  std::cout << "[figures] " << name << ": " << value << std::endl;
}

void MixedFixture::SetUp() {
  ClusterFixture::SetUp();
  db_.exec(
      "UPDATE qtopology_settings SET value = CASE name"
      " WHEN 'worker_dead_timeout_s' THEN '" +
      std::to_string(kMixedWorkerDeadTimeoutS) + "' WHEN 'waiting_timeout_s' THEN '" +
      std::to_string(kMixedWaitingTimeoutS) +
      "' END WHERE name IN ('worker_dead_timeout_s', 'waiting_timeout_s')");
  std::random_device random;
  tag_ = std::to_string(random() % 100000000);
}

void MixedFixture::TearDown() {
  for (auto& [name, child] : workers_) child->signal(SIGCONT);
  if (!HasFailure() && std::getenv("QTOPOLOGY_TEST_SHOW_LOGS")) {
    for (auto& [name, child] : workers_) {
      child->signal(SIGTERM);
      child->wait(std::chrono::seconds(10));
      std::cerr << "---- log of " << name << "\n" << readFile(logOf(name));
    }
  }
  ClusterFixture::TearDown();
}

std::string MixedFixture::uuid(const std::string& base) const { return base + "-" + tag_; }

void MixedFixture::registerCommandTopology(const std::string& uuid,
                                           const std::vector<std::string>& affinity, int weight) {
  // /bin/sleep is one process that dies on SIGTERM: the process scan counts
  // exactly one live process per running instance.
  storage_->registerTopology(uuid, Json{{"general",
                                         {{"command", {"/bin/sleep", "3600"}},
                                          {"weight", weight},
                                          {"worker_affinity", affinity}}}});
}

void MixedFixture::registerNodeTopology(const std::string& uuid,
                                        const std::vector<std::string>& affinity, int weight) {
  // qtopology's built-in timer spout and forward bolt. The forked process
  // checks every ping_child_interval whether its parent is still connected,
  // so it ends within 250 ms of its worker's death; the ping timeouts stay
  // long, as a loaded machine may take seconds to start a Node process.
  const Json wrapper = {{"ping_child_interval", 250},
                        {"ping_child_timeout", 30000},
                        {"ping_parent_interval", 250},
                        {"ping_parent_timeout", 30000}};
  storage_->registerTopology(
      uuid, Json{{"general",
                  {{"heartbeat", 1000},
                   {"weight", weight},
                   {"worker_affinity", affinity},
                   {"wrapper", wrapper}}},
                 {"spouts", Json::array({{{"name", "tick"},
                                          {"type", "sys"},
                                          {"working_dir", "."},
                                          {"cmd", "timer"},
                                          {"init", Json::object()}}})},
                 {"bolts", Json::array({{{"name", "sink"},
                                         {"type", "sys"},
                                         {"working_dir", "."},
                                         {"cmd", "forward"},
                                         {"inputs", Json::array({{{"source", "tick"}}})},
                                         {"init", Json::object()}}})},
                 {"variables", Json::object()}});
}

void MixedFixture::enableAll() {
  // One statement, so a leader sees them all in the same loop.
  db_.exec("UPDATE qtopology_topology SET enabled = 1");
}

void MixedFixture::startCppWorker(const std::string& name, const std::string& url) {
  std::vector<std::string> extra = {
      "--tick-ms",  std::to_string(kTick.count()),  "--leader-loop-ms", "500",
      "--lease-ms", std::to_string(kLease.count()), "--grace-ms",       "2000"};
  if (!url.empty()) extra.insert(extra.end(), {"--url", url});  // the last --url counts
  startWorker(name, extra);
}

void MixedFixture::startNodeWorker(const std::string& name) {
  // NODE_PATH: the packages live in the build tree (node_peer_install).
  const Environment env{{{"NODE_PATH", std::string(QTOPOLOGY_NODE_PEER_DIR) + "/node_modules"}},
                        {}};
  workers_[name] = std::make_unique<Child>(
      "/usr/bin/env",
      std::vector<std::string>{"node", QTOPOLOGY_NODE_WORKER, "--url", db_.url(), "--name", name,
                               "--loop-ms", "250", "--leader-loop-ms", "500"},
      logOf(name), env);
}

bool MixedFixture::allRunning(const std::set<std::string>& uuids,
                              const std::optional<std::string>& on) {
  const auto ws = workers();
  const auto ts = topologies();
  for (const auto& uuid : uuids) {
    const auto t = ts.find(uuid);
    if (t == ts.end() || t->second.status != TopologyState::running || !t->second.worker)
      return false;
    const auto w = ws.find(*t->second.worker);
    if (w == ws.end() || w->second.status != WorkerState::alive) return false;
    if (on && *t->second.worker != *on) return false;
  }
  return true;
}

std::map<std::string, std::string> MixedFixture::placement(const std::set<std::string>& uuids) {
  std::map<std::string, std::string> out;
  for (const auto& [uuid, t] : topologies()) {
    if (uuids.count(uuid)) out[uuid] = t.worker.value_or("");
  }
  return out;
}

}  // namespace qtopology::testing
