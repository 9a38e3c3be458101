#include "local_topologies.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

namespace qtopology::worker {

LocalTopologies::LocalTopologies(CoordinationStorage& storage, std::string worker)
    : storage_(storage), worker_(std::move(worker)) {}

void LocalTopologies::start(const std::string& uuid) {
  running_.insert(uuid);
  // The pid first: whoever sees the topology "running" also sees who runs it.
  storage_.setTopologyPid(uuid, static_cast<int>(::getpid()));
  // Passing our name makes the write a no-op if the leader has meanwhile
  // given the topology to another worker.
  storage_.setTopologyStatus(uuid, worker_, std::string(consts::topology_status::running),
                             std::nullopt);
  spdlog::info("started topology {} (pid {})", uuid, ::getpid());
}

void LocalTopologies::stop(const std::string& uuid, const char* how) {
  running_.erase(uuid);
  storage_.setTopologyStatus(uuid, worker_, std::string(consts::topology_status::unassigned),
                             std::nullopt);
  spdlog::info("{} topology {}", how, uuid);
}

void LocalTopologies::forget(const std::string& uuid) { running_.erase(uuid); }

}  // namespace qtopology::worker
