#include "cluster_fixture.hpp"

#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

namespace qtopology::testing {

bool eventually(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void figure(const std::string& name, const std::string& value) {
  std::cout << "[figures] " << name << ": " << value << std::endl;
}

void ClusterFixture::SetUp() {
  storage_ = std::make_unique<MySqlCoordinator>(db_.options());  // migrates
  db_.exec(
      "UPDATE qtopology_settings SET value = CASE name"
      " WHEN 'worker_dead_timeout_s' THEN '" +
      std::to_string(kWorkerDeadTimeoutS) + "' WHEN 'leader_timeout_s' THEN '" +
      std::to_string(kLeaderTimeoutS) + "' WHEN 'waiting_timeout_s' THEN '" +
      std::to_string(kWaitingTimeoutS) +
      "' END WHERE name IN ('worker_dead_timeout_s', 'leader_timeout_s',"
      " 'waiting_timeout_s')");
  std::random_device random;
  tag_ = std::to_string(random() % 100000000);
}

void ClusterFixture::TearDown() {
  // SIGTERM first, so the workers stop their children; whatever is left is
  // SIGKILLed by ~Child.
  for (auto& [name, child] : workers_) child->signal(SIGCONT);
  for (auto& [name, child] : workers_) child->signal(SIGTERM);
  for (auto& [name, child] : workers_) child->wait(std::chrono::seconds(10));
  for (auto& [name, child] : workers_) {
    const std::string log = ::testing::TempDir() + db_.name() + "-" + name + ".log";
    if (HasFailure() || std::getenv("QTOPOLOGY_TEST_SHOW_LOGS"))
      std::cerr << "---- log of " << name << "\n" << readFile(log);
    std::remove(log.c_str());
  }
  workers_.clear();
}

std::string ClusterFixture::uuid(const std::string& base) const { return base + "-" + tag_; }

void ClusterFixture::registerCommandTopology(const std::string& uuid,
                                             const std::vector<std::string>& affinity, int weight) {
  // /bin/sleep is one process that dies on SIGTERM: the process scan counts
  // exactly one live process per running instance.
  storage_->registerTopology(uuid, Json{{"general",
                                         {{"command", {"/bin/sleep", "3600"}},
                                          {"weight", weight},
                                          {"worker_affinity", affinity}}}});
}

void ClusterFixture::registerNodeTopology(const std::string& uuid,
                                          const std::vector<std::string>& affinity, int weight) {
  // qtopology's built-in timer spout and forward bolt; the wrapper pings are
  // short so that the forked process notices a dead parent within a second.
  const Json wrapper = {{"ping_child_interval", 250},
                        {"ping_child_timeout", 3000},
                        {"ping_parent_interval", 250},
                        {"ping_parent_timeout", 3000}};
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

void ClusterFixture::enableAll() {
  // One statement, so a leader sees them all in the same loop.
  db_.exec("UPDATE qtopology_topology SET enabled = 1");
}

void ClusterFixture::startCppWorker(const std::string& name, const std::string& url) {
  const std::string log = ::testing::TempDir() + db_.name() + "-" + name + ".log";
  const std::vector<std::string> args = {"--name",
                                         name,
                                         "--url",
                                         url.empty() ? db_.url() : url,
                                         "--tick-ms",
                                         std::to_string(kTick.count()),
                                         "--leader-loop-ms",
                                         "500",
                                         "--lease-ms",
                                         std::to_string(kLease.count()),
                                         "--stop-grace-ms",
                                         "2000"};
  workers_[name] = std::make_unique<Child>(QTOPOLOGY_WORKER, args, log);
}

void ClusterFixture::startNodeWorker(const std::string& name) {
  const std::string log = ::testing::TempDir() + db_.name() + "-" + name + ".log";
  // NODE_PATH: the packages live in the build tree (node_peer_install).
  workers_[name] = std::make_unique<Child>(
      "/usr/bin/env",
      std::vector<std::string>{
          std::string("NODE_PATH=") + QTOPOLOGY_NODE_PEER_DIR + "/node_modules", "node",
          QTOPOLOGY_NODE_WORKER, "--url", db_.url(), "--name", name, "--loop-ms", "250",
          "--leader-loop-ms", "500"},
      log);
}

std::map<std::string, WorkerStatus> ClusterFixture::workers() {
  std::map<std::string, WorkerStatus> out;
  for (auto& w : storage_->getWorkerStatus()) out[w.name] = w;
  return out;
}

std::map<std::string, TopologyStatus> ClusterFixture::topologies() {
  std::map<std::string, TopologyStatus> out;
  for (auto& t : storage_->getTopologyStatus()) out[t.uuid] = t;
  return out;
}

std::vector<std::string> ClusterFixture::leaders() {
  std::vector<std::string> out;
  for (const auto& [name, w] : workers()) {
    if (w.status == "alive" && w.lstatus == "leader") out.push_back(name);
  }
  return out;
}

bool ClusterFixture::allRunning(const std::set<std::string>& uuids,
                                const std::optional<std::string>& on) {
  const auto ws = workers();
  const auto ts = topologies();
  for (const auto& uuid : uuids) {
    const auto t = ts.find(uuid);
    if (t == ts.end() || t->second.status != "running" || !t->second.worker) return false;
    const auto w = ws.find(*t->second.worker);
    if (w == ws.end() || w->second.status != "alive") return false;
    if (on && *t->second.worker != *on) return false;
  }
  return true;
}

std::map<std::string, std::string> ClusterFixture::placement(const std::set<std::string>& uuids) {
  std::map<std::string, std::string> out;
  for (const auto& [uuid, t] : topologies()) {
    if (uuids.count(uuid)) out[uuid] = t.worker.value_or("");
  }
  return out;
}

}  // namespace qtopology::testing
