// Leader election: at most one leader, whatever the interleaving.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

#include "test_database.hpp"
#include "test_thread.hpp"

namespace qtopology {
namespace {

using testing::TestDatabase;

class Leadership : public ::testing::Test {
 protected:
  TestDatabase db;
  MySqlCoordinator storage{db.options()};
};

TEST_F(Leadership, LoneCandidateBecomesAndStaysLeader) {
  storage.registerWorker("w1");
  EXPECT_FALSE(storage.checkLeaderCandidacy("w1"));  // never announced
  storage.announceLeaderCandidacy("w1");
  EXPECT_EQ(storage.leadershipStatusCounts()["candidate"], 1);
  EXPECT_TRUE(storage.checkLeaderCandidacy("w1"));
  EXPECT_TRUE(storage.checkLeaderCandidacy("w1"));  // the leader asking again keeps it
  EXPECT_EQ(storage.leadershipStatusCounts()["leader"], 1);
  EXPECT_EQ(storage.getWorkerHistory("w1")[0].lstatus, "leader");
}

TEST_F(Leadership, TwoCandidatesMakeOneLeader) {
  storage.registerWorker("w1");
  storage.registerWorker("w2");
  storage.announceLeaderCandidacy("w1");
  storage.announceLeaderCandidacy("w2");
  const bool first = storage.checkLeaderCandidacy("w1");
  const bool second = storage.checkLeaderCandidacy("w2");
  EXPECT_NE(first, second);
  EXPECT_EQ(storage.leadershipStatusCounts()["leader"], 1);
  // A late announcement changes nothing while the leader lives.
  storage.announceLeaderCandidacy(first ? "w2" : "w1");
  EXPECT_FALSE(storage.checkLeaderCandidacy(first ? "w2" : "w1"));
  EXPECT_EQ(storage.leadershipStatusCounts()["leader"], 1);
}

TEST_F(Leadership, OnlyAliveWorkersCampaign) {
  storage.registerWorker("w1");
  storage.setWorkerStatus("w1", "closing");
  storage.announceLeaderCandidacy("w1");
  EXPECT_FALSE(storage.checkLeaderCandidacy("w1"));
  EXPECT_EQ(storage.leadershipStatusCounts()["leader"], 0);
  EXPECT_THROW(storage.announceLeaderCandidacy("ghost"), NotFoundError);
  EXPECT_THROW(storage.checkLeaderCandidacy("ghost"), NotFoundError);
}

TEST_F(Leadership, SilentLeaderIsReplaced) {
  storage.registerWorker("w1");
  storage.registerWorker("w2");
  storage.announceLeaderCandidacy("w1");
  ASSERT_TRUE(storage.checkLeaderCandidacy("w1"));
  db.exec("UPDATE qtopology_worker SET last_ping = NOW() - INTERVAL 11 SECOND WHERE name = 'w1'");
  storage.announceLeaderCandidacy("w2");
  EXPECT_TRUE(storage.checkLeaderCandidacy("w2"));
  EXPECT_FALSE(storage.checkLeaderCandidacy("w1"));
  EXPECT_EQ(storage.leadershipStatusCounts()["leader"], 1);
  storage.refreshStatuses();
  EXPECT_EQ(db.scalar("SELECT lstatus FROM qtopology_worker WHERE name = 'w1'"), "normal");
}

TEST_F(Leadership, RefreshDemotesSilentLeader) {
  storage.registerWorker("w1");
  storage.announceLeaderCandidacy("w1");
  ASSERT_TRUE(storage.checkLeaderCandidacy("w1"));
  db.exec("UPDATE qtopology_worker SET last_ping = NOW() - INTERVAL 11 SECOND");
  storage.refreshStatuses();
  EXPECT_EQ(storage.leadershipStatusCounts()["leader"], 0);
  EXPECT_EQ(storage.getWorkerStatus()[0].status, "alive");  // not dead yet: 30 s for that
}

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
          shared.setWorkerLStatus(name, "normal");  // step down: the next election starts
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

}  // namespace
}  // namespace qtopology
