// Many threads on one coordinator: elections and message delivery under
// contention. Also run under ThreadSanitizer (ctest label "tsan").
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

#include "test_database.hpp"
#include "test_thread.hpp"

namespace qtopology {
namespace {

using namespace std::chrono_literals;
using testing::TestDatabase;

class Leadership : public ::testing::Test {
 protected:
  TestDatabase db;
  MySqlCoordinator storage{db.options()};
};

// 16 workers on 16 threads campaign 500 times each; a winner resigns at once,
// so every win is a new election. A sampler watches the table the whole
// time: two leaders at once must never be seen.
TEST_F(Leadership, ContestedElectionsNeverProduceTwoLeaders) {
  constexpr int kThreads = 16;
  constexpr int kRounds = 500;
  auto options = db.options();
  options.pool_size = kThreads;
  options.retries = 50;  // deadlocks between campaigners are expected and retried
  MySqlCoordinator shared(options);
  for (int i = 0; i < kThreads; ++i) shared.registerWorker("w" + std::to_string(i));

  std::atomic<bool> done{false};
  std::atomic<int> wins{0};
  long samples = 0, two_leader_samples = 0;
  std::chrono::steady_clock::duration longest_gap{};
  std::thread sampler = testing::testThread([&] {
    auto last_seen_leader = std::chrono::steady_clock::now();
    while (!done) {
      const int leaders =
          std::stoi(db.scalar("SELECT COUNT(*) FROM qtopology_worker WHERE lstatus = 'leader'"));
      const auto now = std::chrono::steady_clock::now();
      ++samples;
      if (leaders > 1) ++two_leader_samples;
      if (leaders > 0) last_seen_leader = now;
      longest_gap = std::max(longest_gap, now - last_seen_leader);
    }
  });
  std::vector<std::thread> campaigners;
  for (int t = 0; t < kThreads; ++t) {
    campaigners.push_back(testing::testThread([&, t] {
      const std::string name = "w" + std::to_string(t);
      for (int round = 0; round < kRounds; ++round) {
        shared.pingWorker(name);
        shared.announceLeaderCandidacy(name);
        if (shared.checkLeaderCandidacy(name)) {
          ++wins;
          shared.setWorkerLStatus(
              name, qtopology::Leadership::normal);  // step down: the next election starts
        }
      }
    }));
  }
  for (auto& c : campaigners) c.join();
  done = true;
  sampler.join();

  std::printf(
      "elections: %d won in %d campaigns; %ld samples, %ld with two leaders, "
      "longest leaderless time %lld ms\n",
      wins.load(), kThreads * kRounds, samples, two_leader_samples,
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(longest_gap).count()));
  EXPECT_EQ(two_leader_samples, 0);
  EXPECT_LE(std::stoi(db.scalar("SELECT COUNT(*) FROM qtopology_worker WHERE lstatus = 'leader'")),
            1);
  // Liveness: about one election per round completes (a round is 16 campaigns
  // racing for one seat), and a campaign after the storm succeeds.
  EXPECT_GE(wins.load(), kRounds / 2);
  bool someone_leads = false;
  for (int t = 0; t < kThreads && !someone_leads; ++t) {
    const std::string name = "w" + std::to_string(t);
    shared.announceLeaderCandidacy(name);
    someone_leads = shared.checkLeaderCandidacy(name);
  }
  EXPECT_TRUE(someone_leads);
}

class Messages : public ::testing::Test {
 protected:
  void SetUp() override { storage.registerWorker("w1"); }
  TestDatabase db;
  MySqlCoordinator storage{db.options()};
};

// Four readers drain one worker's queue while a sender fills it: every message
// is received exactly once.
TEST_F(Messages, ConcurrentReadersReceiveEveryMessageExactlyOnce) {
  constexpr int kMessages = 20000;
  constexpr int kReaders = 4;
  auto options = db.options();
  options.pool_size = kReaders + 1;
  options.retries = 50;
  MySqlCoordinator shared(options);

  std::atomic<bool> sending_done{false};
  std::mutex mutex;
  std::multiset<int> received;
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.push_back(testing::testThread([&, r] {
      std::vector<int> mine;
      while (true) {
        const bool finished = sending_done;
        std::vector<StorageMessage> batch;
        if (r % 2 == 0) {
          batch = shared.getMessages("w1");
        } else if (auto one = shared.getMessage("w1")) {
          batch.push_back(std::move(*one));
        }
        for (const auto& m : batch) mine.push_back(m.content["n"].get<int>());
        if (finished && batch.empty()) break;
      }
      std::lock_guard<std::mutex> lock(mutex);
      received.insert(mine.begin(), mine.end());
    }));
  }
  for (int n = 0; n < kMessages; ++n) shared.sendMessageToWorker("w1", "work", {{"n", n}}, 600s);
  sending_done = true;
  for (auto& r : readers) r.join();

  int duplicates = 0, lost = 0;
  for (int n = 0; n < kMessages; ++n) {
    const auto c = received.count(n);
    if (c == 0) ++lost;
    if (c > 1) duplicates += static_cast<int>(c - 1);
  }
  std::printf("messages: %d sent, %zu received, %d duplicated, %d lost\n", kMessages,
              received.size(), duplicates, lost);
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(lost, 0);
}

class MySqlWorkerLoop : public ::testing::Test {
 protected:
  TestDatabase db;
  MySqlCoordinator storage{db.options()};
};

// 16 workers campaign on 16 threads, a winner steps down at once; a sampler
// watches the table: never two leaders. They campaign until 100 elections were
// won, so a loaded machine runs more rounds instead of checking fewer elections.
TEST_F(MySqlWorkerLoop, ConcurrentCampaignsNeverMakeTwoLeaders) {
  constexpr int kThreads = 16;
  constexpr int kWinsWanted = 100;
  constexpr int kMaxRounds = 2000;  // per thread; ends the test if elections stall
  auto options = db.options();
  options.pool_size = kThreads;
  options.retries = 50;  // deadlocks between campaigners are expected and retried
  MySqlCoordinator shared(options);
  for (int i = 0; i < kThreads; ++i) shared.registerWorker("w" + std::to_string(i));

  std::atomic<bool> done{false};
  std::atomic<int> wins{0};
  long samples = 0, two_leader_samples = 0;
  std::thread sampler = testing::testThread([&] {
    while (!done) {
      ++samples;
      if (db.count("qtopology_worker", "lstatus = 'leader'") > 1) ++two_leader_samples;
    }
  });
  std::vector<std::thread> campaigners;
  for (int t = 0; t < kThreads; ++t) {
    campaigners.push_back(testing::testThread([&, t] {
      const std::string name = "w" + std::to_string(t);
      for (int round = 0; round < kMaxRounds && wins < kWinsWanted; ++round) {
        const auto beat = shared.heartbeat(name);
        if (beat.leader_alive && beat.leader != name) continue;
        if (shared.campaign(name)) {
          ++wins;
          shared.setWorkerLStatus(
              name, qtopology::Leadership::normal);  // step down: the next election starts
        }
      }
    }));
  }
  for (auto& c : campaigners) c.join();
  done = true;
  sampler.join();
  std::printf("campaigns: %d won; %ld samples, %ld with two leaders\n", wins.load(), samples,
              two_leader_samples);
  EXPECT_EQ(two_leader_samples, 0);
  EXPECT_GE(wins.load(), kWinsWanted);
  EXPECT_LE(db.count("qtopology_worker", "lstatus = 'leader'"), 1);
}

}  // namespace
}  // namespace qtopology
