#include "dashboard_process.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <stdexcept>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

namespace qtopology::testing {

void populateCluster(CoordinationStorage& s) {
  for (const char* name : {"worker-alpha", "worker-beta", "worker-gone", "worker-old"}) {
    s.registerWorker(name);
  }
  s.announceLeaderCandidacy("worker-alpha");
  if (!s.checkLeaderCandidacy("worker-alpha")) throw std::runtime_error("no leader elected");
  s.setWorkerStatus("worker-gone", WorkerState::dead);
  s.setWorkerStatus("worker-old", WorkerState::unloaded);

  const Json config = {{"general", {{"weight", 2}, {"worker_affinity", {"worker-alpha"}}}},
                       {"spouts", {{{"name", "pump"}, {"type", "inproc"}}}},
                       {"bolts", Json::array()}};
  for (const auto& uuid : {std::string("orders-pipeline"), std::string("billing-sync"),
                           std::string("reports-nightly"), kHostileUuid}) {
    s.registerTopology(uuid, config);
  }
  s.enableTopology("orders-pipeline");
  s.assignTopology("orders-pipeline", "worker-alpha");
  s.setTopologyStatus(
      {"orders-pipeline", std::string("worker-alpha"), TopologyState::running, std::nullopt});
  s.setTopologyPid("orders-pipeline", 4242);
  s.enableTopology("billing-sync");
  s.setTopologyStatus({"billing-sync", std::nullopt, TopologyState::error,
                       std::string("spout crashed: connection refused")});
  s.sendMessageToWorker("worker-beta", "start_topologies", {{"uuids", {"reports-nightly"}}},
                        std::chrono::minutes(5));
}

DashboardProcess::DashboardProcess(const std::string& url, const std::vector<std::string>& args,
                                   const Environment& env) {
  char path[] = "/tmp/qtopology-dashboard-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  log_file_ = path;
  std::vector<std::string> argv = {"--url", url, "dashboard"};
  bool listen_given = false;
  for (const auto& a : args) listen_given = listen_given || a == "--listen";
  if (!listen_given) argv.insert(argv.end(), {"--listen", "127.0.0.1:0"});
  argv.insert(argv.end(), args.begin(), args.end());
  Environment child_env = env;
  if (!child_env.set.count("XDG_RUNTIME_DIR")) {
    char dir[] = "/tmp/qtopology-dashboard-run-XXXXXX";
    if (!::mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
    runtime_dir_ = dir;
    child_env.set["XDG_RUNTIME_DIR"] = runtime_dir_;
  }
  child_ = std::make_unique<Child>(QTOPOLOGY_CLI, argv, log_file_, child_env);

  const std::regex announced("dashboard on (https?)://[^ ]*:([0-9]+)/(#token=([0-9a-f]+))?\n");
  const std::regex token_file("token file: ([^\n]+)\n");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch match;
    const auto text = log();
    if (std::regex_search(text, match, announced)) {
      https_ = match[1] == "https";
      port_ = std::stoi(match[2]);
      token_ = match[4];
      // Printed before the URL, when there is one.
      std::smatch file;
      if (std::regex_search(text, file, token_file)) token_file_ = file[1];
      return;
    }
    if (child_->wait(std::chrono::milliseconds(50))) break;
  }
  throw std::runtime_error("the dashboard did not start; its log:\n" + log());
}

DashboardProcess::~DashboardProcess() {
  child_.reset();
  std::remove(log_file_.c_str());
  if (!runtime_dir_.empty()) {
    // A killed dashboard leaves its token file behind.
    if (!token_file_.empty()) std::remove(token_file_.c_str());
    ::rmdir(runtime_dir_.c_str());
  }
}

std::string DashboardProcess::log() const { return readFile(log_file_); }

}  // namespace qtopology::testing
