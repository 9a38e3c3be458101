// What crosses threads: exit reports from a runner's own threads, and
// concurrent calls on MemoryStorage. Meant for the TSan build as much as for
// the plain one.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "worker/exit_queue.hpp"
#include "worker_cluster.hpp"

namespace qtopology::testing {
namespace {

TEST(ExitQueue, ReportsFromManyThreadsAreEachTakenOnce) {
  detail::ExitQueue queue;
  constexpr int kThreads = 4, kEach = 500;
  std::vector<std::thread> reporters;
  for (int t = 0; t < kThreads; ++t) {
    reporters.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) queue.push({std::to_string(t) + "-" + std::to_string(i), {}});
    });
  }
  std::set<std::string> seen;
  while (seen.size() < kThreads * kEach) {
    queue.waitFor(10ms);
    for (auto& exit : queue.takeAll()) EXPECT_TRUE(seen.insert(exit.uuid).second) << exit.uuid;
  }
  for (auto& r : reporters) r.join();
  EXPECT_TRUE(queue.takeAll().empty());
}

// Reports every end from a thread of its own, a little later, as a runner
// watching child processes would. Thread-safe, as a worker's watchdog may kill.
class ThreadedRunner : public TopologyRunner {
 public:
  ~ThreadedRunner() override {
    std::lock_guard lock(mutex_);
    for (auto& t : threads_) t.join();
  }
  void setExitCallback(ExitCallback callback) override { exit_ = std::move(callback); }
  std::optional<int> start(const StartRequest&) override {
    ++starts;
    return std::nullopt;
  }
  void stop(const std::string& uuid) override { endLater(uuid, std::nullopt); }
  void kill(const std::string& uuid) override { endLater(uuid, std::nullopt); }
  void endLater(const std::string& uuid, std::optional<std::string> error) {
    std::lock_guard lock(mutex_);
    threads_.emplace_back([this, uuid, error] {
      std::this_thread::sleep_for(5ms);
      exit_({uuid, error});
    });
  }

  std::atomic<int> starts{0};

 private:
  ExitCallback exit_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

TEST(TopologyWorkerThreads, ExitsFromRunnerThreadsAreHandledOnTheLoop) {
  TestClock clock;
  MemoryStorageOptions so;
  so.clock = [&] { return clock.system(); };
  MemoryStorage storage(so);
  ThreadedRunner runner;
  WorkerOptions o;
  o.name = "w1";
  o.leader_loop = 1s;
  o.clock = [&] { return clock.steady(); };
  TopologyWorker worker(storage, runner, o);
  worker.start();
  for (auto uuid : {"a", "b", "c"}) {
    storage.registerTopology(uuid,
                             Json{{"general", {{"restart", {{"max", 1}, {"window_s", 60}}}}}});
    storage.enableTopology(uuid);
  }
  for (int i = 0; i < 3; ++i) {
    clock.advance(1s);
    worker.tick();
  }
  ASSERT_EQ(runner.starts, 3);
  for (auto uuid : {"a", "b", "c"}) runner.endLater(uuid, std::string("crashed"));
  // A restart each, then the second crash of each is an error.
  for (int i = 0; i < 200 && runner.starts < 6; ++i) {
    std::this_thread::sleep_for(2ms);
    worker.tick();
  }
  EXPECT_EQ(runner.starts, 6);
  for (auto uuid : {"a", "b", "c"}) runner.endLater(uuid, std::string("crashed"));
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(2ms);
    worker.tick();
    const auto all = storage.getTopologyStatus();
    if (std::all_of(all.begin(), all.end(),
                    [](const auto& t) { return t.status == TopologyState::error; })) {
      break;
    }
  }
  for (const auto& t : storage.getTopologyStatus())
    EXPECT_EQ(t.status, TopologyState::error) << t.uuid;
  EXPECT_TRUE(worker.shutdown());
}

TEST(MemoryStorageThreads, ConcurrentCampaignsElectExactlyOneLeader) {
  MemoryStorage storage;
  constexpr int kWorkers = 8;
  for (int i = 0; i < kWorkers; ++i) storage.registerWorker("w" + std::to_string(i));
  std::mutex mutex;
  std::set<std::string> winners;
  std::vector<std::thread> threads;
  for (int i = 0; i < kWorkers; ++i) {
    threads.emplace_back([&, i] {
      const auto name = "w" + std::to_string(i);
      for (int round = 0; round < 50; ++round) {
        storage.heartbeat(name);
        if (storage.campaign(name)) {
          std::lock_guard lock(mutex);
          winners.insert(name);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  int leaders = 0;
  std::string leader;
  for (const auto& w : storage.getWorkerStatus()) {
    if (w.lstatus == Leadership::leader) {
      ++leaders;
      leader = w.name;
    }
  }
  EXPECT_EQ(leaders, 1);
  // Whoever won first kept the seat: nobody else ever heard "leader".
  EXPECT_EQ(winners, std::set<std::string>{leader});
}

}  // namespace
}  // namespace qtopology::testing
