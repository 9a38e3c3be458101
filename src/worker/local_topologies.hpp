// The topologies one worker runs: starting them (only what the storage still
// assigns to it), stopping and killing them, and what each exit means:
// stopped, finished, restarted under its policy, or failed. Reports go
// through StatusReports; every start is tracked by the lease watchdog.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lease_watchdog.hpp"
#include "restart_policy.hpp"
#include "status_reports.hpp"
#include "worker_context.hpp"

namespace qtopology::detail {

// Loop thread only. start() throws the storage's errors; nothing else throws.
class LocalTopologies {
 public:
  LocalTopologies(WorkerContext& context, LeaseWatchdog& watchdog, StatusReports& reports)
      : context_(context), watchdog_(watchdog), reports_(reports) {}

  // Starts the topology if it is still assigned here and waiting: a start
  // message may be stale, the leader could have given it to someone else.
  // One still stopping here starts once its exit is seen. True when started.
  bool start(const std::string& uuid);
  void stop(const std::string& uuid, bool kill);
  void stopAll(bool kill);
  // Kills every one at once without waiting, for a worker going away.
  void killAll() noexcept;
  // The watchdog killed them all: their exits are expected.
  void expectLapseExits();
  void handleExit(TopologyExit exit);
  // Against the storage's view of this worker's topologies: a topology
  // taken from this worker is killed, one recorded as running here that
  // does not is handed back, a lost "running" report is written again, and
  // one assigned here again since it started is started again. Invalid
  // rows (TopologyStatus::invalid) change nothing.
  void reconcile(const std::vector<TopologyStatus>& assigned);

  bool empty() const { return running_.empty(); }
  std::size_t size() const { return running_.size(); }

 private:
  // A topology started here and not yet seen exit.
  struct Local {
    Json config;
    std::int64_t epoch = 0;  // of the assignment it was started for
    RestartBudget restarts;
    bool stopping = false;          // stop or kill requested: its exit is expected
    bool start_after_exit = false;  // given back to us while it was stopping
  };
  using Entry = std::map<std::string, Local>::iterator;

  bool launch(const std::string& uuid, Json config, std::int64_t epoch);
  bool track(const std::string& uuid, Local& t);
  void recordPid(const std::string& uuid, std::optional<int> pid, std::int64_t epoch);
  bool startAgain(const std::string& uuid);
  void replaceIfOlder(Entry found, std::int64_t epoch);
  void endStopped(Entry found);
  void endFinished(Entry found);
  bool restart(Local& t, const std::string& uuid, std::string& error);
  void endFailed(Entry found, std::string error);

  WorkerContext& context_;
  LeaseWatchdog& watchdog_;
  StatusReports& reports_;
  std::map<std::string, Local> running_;
};

}  // namespace qtopology::detail
