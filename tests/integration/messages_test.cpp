// Message queue: send order, expiry, once-only delivery, also on retries.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

#include "mysql/connection_pool.hpp"
#include "mysql/procedure_runner.hpp"
#include "test_database.hpp"
#include "test_thread.hpp"

namespace qtopology {
namespace {

using namespace std::chrono_literals;
using testing::TestDatabase;

class Messages : public ::testing::Test {
 protected:
  void SetUp() override { storage.registerWorker("w1"); }
  TestDatabase db;
  MySqlCoordinator storage{db.options()};
};

TEST_F(Messages, RefreshPurgesQueuesNobodyReads) {
  storage.registerWorker("w2");
  storage.sendMessageToWorker("w2", "stale", Json::object(), 30s);
  storage.sendMessageToWorker("w2", "fresh", Json::object(), 30s);
  db.exec(
      "UPDATE qtopology_message SET valid_until = NOW() - INTERVAL 1 SECOND "
      "WHERE cmd = 'stale'");
  storage.refreshStatuses();
  EXPECT_EQ(db.count("qtopology_message"), 1);
  EXPECT_EQ(db.scalar("SELECT cmd FROM qtopology_message"), "fresh");

  // Taken messages stay for a retry's sake until the retention has passed.
  ASSERT_EQ(storage.getMessages("w2").size(), 1u);
  storage.refreshStatuses();
  EXPECT_EQ(db.count("qtopology_message"), 1);
  db.exec("UPDATE qtopology_message SET claimed_at = NOW() - INTERVAL 121 SECOND");
  storage.refreshStatuses();
  EXPECT_EQ(db.count("qtopology_message"), 0);
}

// A deep queue comes in batches of 1,000, oldest first; each call is one
// bounded transaction and the rest stays queued, in order, for the next.
TEST_F(Messages, GetMessagesTakesADeepQueueInOrderedBatches) {
  constexpr int kQueued = 2500;
  std::string insert =
      "INSERT INTO qtopology_message (worker, cmd, content, created, valid_until) VALUES ";
  for (int seq = 0; seq < kQueued; ++seq) {
    if (seq > 0) insert += ",";
    insert +=
        "('w1', 'c', '{\"seq\":" + std::to_string(seq) + "}', NOW(), NOW() + INTERVAL 1 HOUR)";
  }
  db.exec(insert);
  std::vector<std::size_t> batches;
  int expected = 0;
  for (auto taken = storage.getMessages("w1"); !taken.empty(); taken = storage.getMessages("w1")) {
    batches.push_back(taken.size());
    for (const auto& m : taken) ASSERT_EQ(m.content.at("seq"), expected++);
  }
  EXPECT_EQ(expected, kQueued);
  EXPECT_EQ(batches, (std::vector<std::size_t>{1000, 1000, 500}));
}

// The server side of a retried call: the same keys come again after a lost
// reply. A send is not queued twice; a take returns what the lost one took.
TEST_F(Messages, RetriedCallsAreIdempotent) {
  db.exec("CALL qtopology_sp_send_message('w1', 'c', '{}', 30000, 'send-key-1')");
  db.exec("CALL qtopology_sp_send_message('w1', 'c', '{}', 30000, 'send-key-1')");
  EXPECT_EQ(db.count("qtopology_message"), 1);
  storage.sendMessageToWorker("w1", "d", Json::object(), 30s);

  const auto first = db.scalar("SELECT COUNT(*) FROM qtopology_message WHERE claimed_by IS NULL");
  EXPECT_EQ(first, "2");
  // A read and its retry with the same claim key (the reply of the first was
  // lost): the retry returns what the first took, and takes nothing more.
  const auto options = db.options();
  detail::ConnectionPool pool(options);
  detail::ProcedureRunner runner(pool, options);
  const auto take = [&] {
    auto rows =
        runner.call("take_messages", {std::string("w1"), std::string("claim-1"), std::int64_t{1}},
                    "getMessage(worker=w1)");
    std::vector<std::string> taken;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      taken.push_back(rows.takeText(i, rows.column("id")) + " " +
                      rows.takeText(i, rows.column("cmd")));
    }
    return taken;
  };
  const auto taken = take();
  const auto retried = take();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].substr(taken[0].find(' ') + 1), "c");  // the oldest message
  EXPECT_EQ(retried, taken);
  EXPECT_EQ(db.count("qtopology_message", "claimed_by = 'claim-1'"), 1);
  // The retried send of an already taken message is still not queued again.
  db.exec("CALL qtopology_sp_send_message('w1', 'c', '{}', 30000, 'send-key-1')");
  const auto remaining = storage.getMessages("w1");
  ASSERT_EQ(remaining.size(), 1u);
  EXPECT_EQ(remaining[0].cmd, "d");
}

}  // namespace
}  // namespace qtopology
