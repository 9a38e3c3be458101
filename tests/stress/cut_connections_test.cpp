// Server sessions killed under load: every call still succeeds and no
// message is lost or duplicated. Also run under ThreadSanitizer (ctest label
// "tsan").
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

#include "counting_logger.hpp"
#include "test_database.hpp"

namespace qtopology {
namespace {

using namespace std::chrono_literals;
using testing::TestDatabase;

// Kills every server-side session of the test's database except the killer's.
int killSessionsOf(TestDatabase& db) {
  const auto ids = db.scalar(
      "SELECT GROUP_CONCAT(id) FROM information_schema.processlist "
      "WHERE db = DATABASE() AND id <> CONNECTION_ID()");
  int killed = 0;
  std::stringstream list(ids == "NULL" ? "" : ids);
  for (std::string id; std::getline(list, id, ',');) {
    try {
      db.exec("KILL " + id);
      ++killed;
    } catch (const std::exception&) {
      // It ended on its own meanwhile.
    }
  }
  return killed;
}

TEST(Stress, CutConnectionsAreRecoveredWithoutTheCallerNoticing) {
  TestDatabase db;
  auto sink = std::make_shared<testing::CountingLogger>();
  auto options = db.options();
  options.pool_size = 4;
  options.retries = 12;
  options.logger = sink;
  MySqlCoordinator storage(options);
  storage.registerWorker("w1");
  storage.registerTopology("t1", Json::object());

  std::atomic<bool> stop{false};
  std::atomic<long> calls{0}, failures{0};
  std::atomic<int> sent{0};
  std::mutex received_mutex;
  std::vector<int> received;
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&, t] {
      while (!stop) {
        try {
          switch (t) {
            case 0:
              storage.pingWorker("w1");
              storage.setTopologyStatus({"t1", std::nullopt, TopologyState::running, std::nullopt});
              break;
            case 1: {
              const int n = sent.load();
              storage.sendMessageToWorker("w1", "work", {{"n", n}}, 600s);
              sent = n + 1;
              break;
            }
            default: {
              auto batch = storage.getMessages("w1");
              std::lock_guard<std::mutex> lock(received_mutex);
              for (const auto& m : batch) received.push_back(m.content["n"].get<int>());
            }
          }
          ++calls;
        } catch (const std::exception& e) {
          ++failures;
          std::printf("[stress] call failed: %s\n", e.what());
        }
      }
    });
  }
  int killed = 0;
  for (int round = 0; round < 40; ++round) {
    std::this_thread::sleep_for(50ms);
    killed += killSessionsOf(db);
  }
  stop = true;
  for (auto& t : load) t.join();

  // Idle: every pooled session dies while nobody uses it.
  killed += killSessionsOf(db);
  std::this_thread::sleep_for(100ms);
  EXPECT_NO_THROW(storage.pingWorker("w1"));
  for (const auto& m : storage.getMessages("w1")) received.push_back(m.content["n"].get<int>());

  std::sort(received.begin(), received.end());
  const auto unique = std::unique(received.begin(), received.end()) - received.begin();
  const long duplicates = static_cast<long>(received.size()) - unique;
  std::printf(
      "[stress] cut connections: %d sessions killed, %ld calls, %ld failed, %ld retries "
      "logged; messages %d sent, %ld received once, %ld duplicated\n",
      killed, calls.load(), failures.load(), sink->warnings.load(), sent.load(),
      static_cast<long>(unique), duplicates);
  EXPECT_GT(killed, 10);
  EXPECT_EQ(failures, 0);
  EXPECT_GT(sink->warnings, 0) << "no call noticed a cut connection: the test did not bite";
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(unique, sent.load());
}

}  // namespace
}  // namespace qtopology
