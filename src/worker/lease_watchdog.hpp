// The lease, held whatever the worker's loop thread is doing: a storage call
// may block far longer than the lease (a silent partition, client timeouts
// retried), and a worker that only checks between calls would keep running
// topologies the leader has already given to another worker.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <qtopology/worker.hpp>

namespace qtopology::detail {

// Tracks the topologies the runner runs for one worker and, once the last
// renewal is older than the lease by `clock`, kills every one of them exactly
// once, from its own thread or from whichever thread calls expireIfDue()
// first. Thread-safe.
//
// With the steady clock (an empty `clock`) the thread sleeps until the lease
// could run out, about once per lease: a process may host thousands of
// workers. An injected clock, which real waits cannot follow, is polled
// every 100 ms instead.
class LeaseWatchdog {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // An empty `logger` is defaultLogger().
  LeaseWatchdog(std::string worker, TopologyRunner& runner, std::chrono::milliseconds lease,
                Clock clock, std::shared_ptr<Logger> logger = nullptr);
  ~LeaseWatchdog();
  LeaseWatchdog(const LeaseWatchdog&) = delete;
  LeaseWatchdog& operator=(const LeaseWatchdog&) = delete;

  // Starts the watching thread (again after stop()); renews the lease.
  void start();
  // Ends the watching thread; expireIfDue() still works without it.
  void stop();

  // A successful heartbeat: the lease runs from now again, or from `from`,
  // the moment that heartbeat was sent (on the watchdog's clock).
  void renew();
  void renew(std::chrono::steady_clock::time_point from);
  // The lease from now on, measured from the last renewal.
  void setLease(std::chrono::milliseconds lease);
  // Kills everything tracked when the lease ran out; true once it has (until
  // the next renew()).
  bool expireIfDue();

  // A topology the runner started: killed at once when the lease already ran
  // out (it may have been given away). False then.
  bool track(const std::string& uuid);
  // Its exit was seen: nothing to kill any more.
  void untrack(const std::string& uuid);

 private:
  using Lock = std::unique_lock<std::mutex>;
  bool due(const Lock&) const;
  std::chrono::steady_clock::time_point now() const;
  void expire(Lock&);
  void watch();

  const std::string shown_worker_;  // the worker's name, escaped for the log
  TopologyRunner& runner_;
  const Clock clock_;  // empty: the steady clock
  const std::shared_ptr<Logger> logger_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::chrono::milliseconds lease_;  // setLease() may change it
  std::chrono::steady_clock::time_point renewed_;
  bool expired_ = false;
  bool stopping_ = false;
  std::set<std::string> tracked_;
  std::thread thread_;
};

}  // namespace qtopology::detail
