#include "exit_queue.hpp"

namespace qtopology::detail {

void ExitQueue::push(TopologyExit exit) {
  {
    std::lock_guard lock(mutex_);
    exits_.push_back(std::move(exit));
  }
  queued_.notify_one();
}

std::vector<TopologyExit> ExitQueue::takeAll() {
  std::lock_guard lock(mutex_);
  std::vector<TopologyExit> out(std::make_move_iterator(exits_.begin()),
                                std::make_move_iterator(exits_.end()));
  exits_.clear();
  return out;
}

bool ExitQueue::waitFor(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return queued_.wait_for(lock, timeout, [&] { return !exits_.empty(); });
}

}  // namespace qtopology::detail
