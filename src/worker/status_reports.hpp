// The worker's reports of its topologies' statuses: written at once when the
// storage answers, else kept and retried every tick, so that an outage never
// loses a topology's end or its error text. Each carries the epoch of the
// assignment it is about, so the storage ignores one that has gone stale
// (the topology was assigned again meanwhile).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "worker_context.hpp"

namespace qtopology::detail {

class StatusReports {
 public:
  explicit StatusReports(WorkerContext& context) : context_(context) {}

  // Writes it now, or keeps it for retry() when the storage fails. The error
  // text is cut to what the storage holds.
  void report(const std::string& uuid, TopologyState status,
              const std::optional<std::string>& error, std::int64_t epoch);
  // The same for the pid an instance runs as: a restart during an outage
  // must not leave the storage naming the previous instance's pid.
  void reportPid(const std::string& uuid, int pid, std::int64_t epoch);
  // Writes what is kept, in order; what fails again stays.
  void retry();
  // A fresh start of the topology supersedes what was kept for it.
  void drop(const std::string& uuid);
  bool pendingFor(const std::string& uuid) const;
  bool empty() const { return pending_.empty(); }

 private:
  struct Report {
    std::string uuid;
    std::optional<TopologyState> status;  // none: a pid report
    std::optional<std::string> error;
    std::int64_t epoch = 0;
    int pid = 0;
  };
  void keepOrWrite(Report r);
  bool write(const Report& r);

  WorkerContext& context_;
  std::vector<Report> pending_;
};

}  // namespace qtopology::detail
