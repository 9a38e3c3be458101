// Which processes run which topology, seen from the operating system: the
// rule "at most one live instance of a topology" is checked on /proc, not on
// what the workers report.
//
// A process belongs to topology U when its environment holds QTOPOLOGY_UUID=U
// (children of qtopology-worker) or its command line holds the argument
// "uuid:U" (the process Node qtopology forks per topology). Zombies are
// not live: they run nothing. (The e2e tests' processesWithEnvironment()
// finds one test's processes by environment; this finds both kinds, by
// topology, fast enough to sample every 20 ms.)
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace qtopology::testing {

// The live processes of the given topologies, by uuid (uuids without one are
// absent).
std::map<std::string, std::vector<pid_t>> liveTopologyProcesses(const std::set<std::string>& uuids);

// Samples liveTopologyProcesses() on a thread, every `period`, until stopped.
class ProcessSampler {
 public:
  struct Report {
    long samples = 0;
    // Samples in which some topology had two or more live processes.
    long double_samples = 0;
    // The longest stretch, per topology, between the first sample that saw
    // two live processes and the first one after it that did not.
    std::map<std::string, std::chrono::milliseconds> longest_overlap;
    // "uuid: pids" of each sample with two or more, first 20.
    std::vector<std::string> examples;
  };

  ProcessSampler(std::set<std::string> uuids, std::chrono::milliseconds period);
  ~ProcessSampler();
  ProcessSampler(const ProcessSampler&) = delete;
  ProcessSampler& operator=(const ProcessSampler&) = delete;

  // Starts a new count (the running one is dropped).
  void reset();
  Report report() const;
  // The last sample.
  std::map<std::string, std::vector<pid_t>> last() const;

 private:
  void run();

  const std::set<std::string> uuids_;
  const std::chrono::milliseconds period_;
  mutable std::mutex mutex_;
  Report report_;
  std::map<std::string, std::vector<pid_t>> last_;
  std::map<std::string, std::chrono::steady_clock::time_point> overlap_since_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace qtopology::testing
