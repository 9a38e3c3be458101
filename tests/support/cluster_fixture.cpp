#include "cluster_fixture.hpp"

#include <signal.h>

#include <filesystem>
#include <iostream>

namespace qtopology::testing {

void ClusterFixture::SetUp() {
  std::filesystem::current_path(QTOPOLOGY_SOURCE_DIR);
  storage_ = std::make_unique<MySqlCoordinator>(db_.options());  // migrates
  db_.exec(
      "UPDATE qtopology_settings SET value = CASE name"
      " WHEN 'worker_dead_timeout_s' THEN '" +
      std::to_string(kWorkerDeadTimeoutS) + "' WHEN 'leader_timeout_s' THEN '" +
      std::to_string(kLeaderTimeoutS) + "' WHEN 'waiting_timeout_s' THEN '" +
      std::to_string(kWaitingTimeoutS) +
      "' END"
      " WHERE name IN ('worker_dead_timeout_s', 'leader_timeout_s', 'waiting_timeout_s')");
}

void ClusterFixture::TearDown() {
  // Ended before the logs are read, so each log is complete.
  for (auto& [name, worker] : workers_) {
    worker->signal(SIGTERM);
    worker->wait(std::chrono::seconds(10));
  }
  for (const auto& [name, worker] : workers_) {
    if (HasFailure()) std::cerr << "---- log of " << name << "\n" << readFile(logOf(name));
    std::remove(logOf(name).c_str());
  }
  workers_.clear();
}

std::string ClusterFixture::logOf(const std::string& worker) const {
  return ::testing::TempDir() + db_.name() + "-" + worker + ".log";
}

RunResult ClusterFixture::cli(std::vector<std::string> args, const std::string& input) {
  args.insert(args.begin(), {"--url", db_.url()});
  return run(QTOPOLOGY_CLI, args, input);
}

void ClusterFixture::startWorker(const std::string& name, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"--name",           name,   "--url",      db_.url(),
                                   "--leader-loop-ms", "1000", "--lease-ms", "3500"};
  args.insert(args.end(), extra.begin(), extra.end());
  // Inherited by every process the worker starts: tells them from those of
  // other tests running at the same time.
  const Environment marker{{{"QTOPOLOGY_TEST_RUN", db_.name()}}, {}};
  workers_[name] = std::make_unique<Child>(QTOPOLOGY_WORKER, args, logOf(name), marker);
}

std::vector<pid_t> ClusterFixture::processesOfThisTestWith(const std::string& entry) {
  return processesWithEnvironment({"QTOPOLOGY_TEST_RUN=" + db_.name(), entry});
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

bool ClusterFixture::runsAsChildOfItsWorker(const TopologyStatus& t) {
  if (t.status != TopologyState::running || !t.worker || !t.pid) return false;
  const auto process = workers_.find(*t.worker);
  // qtopology-worker runs each topology under its qtopology-supervisor.
  return process != workers_.end() && parentOf(parentOf(*t.pid)) == process->second->pid();
}

std::vector<std::string> ClusterFixture::leaders() {
  std::vector<std::string> out;
  for (const auto& [name, w] : workers()) {
    if (w.status == WorkerState::alive && w.lstatus == Leadership::leader) out.push_back(name);
  }
  return out;
}

}  // namespace qtopology::testing
