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
  // does not start. Its token file goes to a fresh temporary directory
  // ($XDG_RUNTIME_DIR) unless `env` sets one.
  DashboardProcess(const std::string& url, const std::vector<std::string>& args = {},
                   const Environment& env = {});
  ~DashboardProcess();

  int port() const { return port_; }
  // The address the dashboard announced, reached through 127.0.0.1.
  std::string baseUrl() const {
    return (https_ ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_);
  }
  // The page's URL with the generated token in its fragment, as printed;
  // baseUrl() when the token was not generated.
  std::string pageUrl() const {
    return token_.empty() ? baseUrl() : baseUrl() + "/#token=" + token_;
  }
  // The generated token from the announced URL; empty when none was
  // generated (a fixed token, --open-writes).
  const std::string& token() const { return token_; }
  // The token file it announced; empty when none.
  const std::string& tokenFile() const { return token_file_; }
  const std::string& runtimeDir() const { return runtime_dir_; }
  std::string log() const;
  Child& child() { return *child_; }

 private:
  std::string log_file_;
  std::string runtime_dir_;  // made here, removed with the process
  std::unique_ptr<Child> child_;
  int port_ = 0;
  bool https_ = false;
  std::string token_;
  std::string token_file_;
};

}  // namespace qtopology::testing
