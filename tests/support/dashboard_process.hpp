// What the dashboard tests share: a `qtopology-mysql dashboard` child on a
// free loopback port, and a small cluster's state for it to show.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <qtopology/coordination_storage.hpp>

#include "process.hpp"

namespace qtopology::testing {

// A topology whose name is markup: every page must show it as text.
inline const std::string kHostileUuid = "<img src=x onerror=alert(1)>";

// Workers: worker-alpha (alive, leader), worker-beta (alive), worker-gone
// (dead), worker-old (unloaded). Topologies: orders-pipeline (running on
// worker-alpha, pid 4242), billing-sync (enabled, in error),
// reports-nightly (disabled) and kHostileUuid (disabled). One message
// queued for worker-beta.
void populateCluster(CoordinationStorage& storage);

class DashboardProcess {
 public:
  // Starts the dashboard on `url` with `--listen 127.0.0.1:0` unless `args`
  // give --listen, and waits until it serves. Throws with its log when it
  // does not start.
  DashboardProcess(const std::string& url, const std::vector<std::string>& args = {},
                   const Environment& env = {});
  ~DashboardProcess();

  int port() const { return port_; }
  std::string baseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const;
  Child& child() { return *child_; }

 private:
  std::string log_file_;
  std::unique_ptr<Child> child_;
  int port_ = 0;
};

}  // namespace qtopology::testing
