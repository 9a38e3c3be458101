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

}  // namespace
}  // namespace qtopology
