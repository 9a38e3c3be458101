// The topologies this worker process runs, and their reports to the storage.
#pragma once

#include <set>
#include <string>

#include <qtopology/coordination_storage.hpp>

namespace qtopology::worker {

// Simulated: a real worker would build the topology's spouts and bolts in
// start() and tear them down in stop(); this one only keeps the set and
// reports each change, which is all the coordination storage can see anyway.
// Not thread-safe: the worker's one loop owns it.
class LocalTopologies {
 public:
  LocalTopologies(CoordinationStorage& storage, std::string worker);

  bool contains(const std::string& uuid) const { return running_.count(uuid) > 0; }
  const std::set<std::string>& uuids() const { return running_; }

  // Runs the topology and reports it running with this process's pid.
  void start(const std::string& uuid);
  // Stops it and reports it unassigned, so the leader may place it again
  // (unless it was disabled). `how` is "stopped" or "killed", for the log.
  void stop(const std::string& uuid, const char* how);
  // Stops without reporting: the storage already gave it to someone else.
  void forget(const std::string& uuid);

 private:
  CoordinationStorage& storage_;
  std::string worker_;
  std::set<std::string> running_;
};

}  // namespace qtopology::worker
