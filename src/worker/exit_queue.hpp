// Where a TopologyRunner's exit reports wait for the worker's loop thread:
// the runner may report from any thread, the loop handles them in order.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include <qtopology/worker.hpp>

namespace qtopology::detail {

class ExitQueue {
 public:
  void push(TopologyExit exit);
  std::vector<TopologyExit> takeAll();
  // Waits up to `timeout` for a report; true when one is queued.
  bool waitFor(std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<TopologyExit> exits_;
};

}  // namespace qtopology::detail
