// Reliability under contention, cut connections, bad input and failing
// migrations. Each test prints its figures.
#include <cppconn/connection.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <qtopology/mysql_coordinator.hpp>

#include "counting_logger.hpp"
#include "mysql/migrator.hpp"
#include "process.hpp"
#include "test_database.hpp"

namespace qtopology {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::TestDatabase;
using Clock = std::chrono::steady_clock;

long long ms(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string scratchDir(const std::string& name) {
  const auto dir = std::filesystem::path(QTOPOLOGY_STRESS_SCRATCH) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// --- 1. elections across processes --------------------------------------------

TEST(Stress, ElectionsAcrossProcessesNeverShowTwoLeaders) {
  constexpr int kProcesses = 8;
  constexpr int kRounds = 2000;
  TestDatabase db;
  { MySqlCoordinator migrate(db.options()); }
  db.exec("UPDATE qtopology_settings SET value = '2' WHERE name = 'leader_timeout_s'");

  std::vector<Child> agents;
  const auto dir = scratchDir("elections");
  for (int i = 0; i < kProcesses; ++i) {
    agents.emplace_back(QTOPOLOGY_STRESS_AGENT,
                        std::vector<std::string>{"elect", db.url(), "w" + std::to_string(i),
                                                 std::to_string(kRounds), std::to_string(i + 1)},
                        dir + "/agent" + std::to_string(i));
  }
  long samples = 0, two_leaders = 0;
  Clock::duration longest_gap{};
  auto last_leader_seen = Clock::now();
  bool any_running = true;
  while (any_running) {
    any_running = false;
    for (auto& a : agents) any_running = a.running() || any_running;
    // Rows marked leader (never two), and live leaders: marked, alive, and
    // pinged within the leader timeout. A stalled leader keeps its mark
    // until a successor takes over, so only the latter shows the gap.
    const auto counts = db.scalar(
        "SELECT CONCAT(COUNT(*), ' ', COALESCE(SUM(status = 'alive' AND "
        "last_ping >= NOW() - INTERVAL 2 SECOND), 0)) FROM qtopology_worker "
        "WHERE lstatus = 'leader'");
    int marked = 0, live = 0;
    std::sscanf(counts.c_str(), "%d %d", &marked, &live);
    const auto now = Clock::now();
    ++samples;
    if (marked > 1) ++two_leaders;
    if (live > 0) last_leader_seen = now;
    longest_gap = std::max(longest_gap, now - last_leader_seen);
    std::this_thread::sleep_for(1ms);
  }
  int wins = 0, stalls = 0;
  for (int i = 0; i < kProcesses; ++i) {
    EXPECT_EQ(agents[i].wait(), 0) << "agent " << i;
    std::ifstream output(dir + "/agent" + std::to_string(i));
    for (std::string line; std::getline(output, line);) {
      int w = 0, s = 0;
      if (std::sscanf(line.c_str(), "wins=%d stalls=%d", &w, &s) == 2) {
        wins += w;
        stalls += s;
      }
    }
  }
  std::printf(
      "[stress] elections: %d processes x %d rounds, %d won, %d leader stalls; "
      "%ld samples, %ld with two leaders, longest leaderless time %lld ms "
      "(leader timeout 2000 ms)\n",
      kProcesses, kRounds, wins, stalls, samples, two_leaders, ms(longest_gap));
  EXPECT_EQ(two_leaders, 0);
  EXPECT_GT(stalls, 0) << "no round exercised the replacement of a silent leader";
  // Liveness: a silent leader is replaced about one leader timeout after its
  // last ping (the clock has whole seconds, plus one campaign round).
  EXPECT_LT(ms(longest_gap), 2000 + 2000);
}

// --- 2. message delivery across processes ----------------------------------------

TEST(Stress, MessagesAcrossProcessesAreDeliveredOnceAndNeverExpired) {
  constexpr int kSenders = 2, kReaders = 4, kPerSender = 25000;
  TestDatabase db;
  {
    MySqlCoordinator setup(db.options());
    setup.registerWorker("w1");
  }
  const auto dir = scratchDir("messages");
  const auto stop_file = dir + "/stop";
  std::vector<Child> readers, senders;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back(QTOPOLOGY_STRESS_AGENT,
                         std::vector<std::string>{"read", db.url(), "w1",
                                                  dir + "/read" + std::to_string(r), stop_file});
  }
  const auto started = Clock::now();
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back(
        QTOPOLOGY_STRESS_AGENT,
        std::vector<std::string>{"send", db.url(), "w1", std::to_string(s * kPerSender),
                                 std::to_string(kPerSender)});
  }
  for (auto& s : senders) EXPECT_EQ(s.wait(), 0);
  const auto sent_in = Clock::now() - started;
  std::ofstream(stop_file).put('\n');
  for (auto& r : readers) EXPECT_EQ(r.wait(), 0);

  const int total = kSenders * kPerSender;
  std::vector<int> received(total, 0);
  int expired_returned = 0, lost = 0, duplicates = 0, expired_unread = 0;
  for (int r = 0; r < kReaders; ++r) {
    std::ifstream in(dir + "/read" + std::to_string(r));
    long long n, received_ms, created_s, life_ms;
    while (in >> n >> received_ms >> created_s >> life_ms) {
      ++received[n];
      // The server keeps whole seconds and rounds lifetimes up: a message may
      // be handed out until the end of its last valid second. The server runs
      // on this machine, so both clocks are the same clock.
      const long long deadline_ms = (created_s + (life_ms + 999) / 1000 + 1) * 1000 + 500;
      if (received_ms > deadline_ms) ++expired_returned;
    }
  }
  for (int n = 0; n < total; ++n) {
    if (received[n] > 1) duplicates += received[n] - 1;
    if (received[n] == 0) {
      if (n % 5 == 0) {
        ++expired_unread;  // lived one second: may expire before anyone reads it
      } else {
        ++lost;
      }
    }
  }
  std::printf(
      "[stress] messages: %d sent by %d processes in %lld ms, read by %d processes; "
      "%d duplicated, %d lost, %d returned after expiry, %d short-lived expired unread\n",
      total, kSenders, ms(sent_in), kReaders, duplicates, lost, expired_returned, expired_unread);
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(expired_returned, 0);
}

// --- 5. bad input corpus -------------------------------------------------------------

TEST(Stress, BadInputIsRejectedAndLeavesTablesUnchanged) {
  TestDatabase db;
  MySqlCoordinator storage(db.options());
  storage.registerWorker("w1");
  storage.registerTopology("t1", Json::object());

  const std::vector<std::string> bad_names = {"",
                                              std::string(101, 'x'),
                                              std::string(101, 'q') + "\xf0\x9f\x98\x80",
                                              std::string("nul\0byte", 8),
                                              "\xc3\x28",
                                              "\xed\xa0\x80",
                                              "\xff",
                                              "tab\there",
                                              "line\nbreak"};
  const std::vector<std::string> odd_but_valid = {
      "quote'name",
      "double\"quote",
      "back\\slash",
      "100%",
      "under_score",
      "emoji😀",
      "'; DROP TABLE qtopology_worker; --",
      std::string(100, 'z'),
      std::string(25, 'a') + "😀😀😀😀😀😀😀😀😀😀" + std::string(65, 'b')};
  int rejected = 0, round_tripped = 0;
  auto expectRejected = [&](const char* what, const std::function<void()>& call) {
    const auto before = db.dataChecksum();
    EXPECT_THROW(call(), InvalidArgument) << what;
    EXPECT_EQ(db.dataChecksum(), before) << what << " changed a table";
    ++rejected;
  };
  for (const auto& name : bad_names) {
    expectRejected("registerWorker", [&] { storage.registerWorker(name); });
    expectRejected("registerTopology", [&] { storage.registerTopology(name, Json::object()); });
    expectRejected("assignTopology", [&] { storage.assignTopology("t1", name); });
    expectRejected("sendMessageToWorker",
                   [&] { storage.sendMessageToWorker(name, "x", Json::object(), 1s); });
  }
  for (const auto& name : odd_but_valid) {
    storage.registerWorker(name);
    storage.registerTopology(name, {{"general", {{"worker_affinity", {name}}}}});
    bool worker_found = false;
    for (const auto& w : storage.getWorkerStatus()) worker_found = worker_found || w.name == name;
    EXPECT_TRUE(worker_found) << name;
    EXPECT_EQ(storage.getTopologyInfo(name).worker_affinity, std::vector<std::string>{name});
    ++round_tripped;
  }
  expectRejected("array config", [&] { storage.registerTopology("t2", Json::array({1, 2})); });
  expectRejected("string config", [&] { storage.registerTopology("t2", Json("config")); });
  expectRejected("null config", [&] { storage.registerTopology("t2", Json()); });
  expectRejected("zero weight", [&] {
    storage.registerTopology("t2", {{"general", {{"weight", 0}}}});
  });
  expectRejected("string weight", [&] {
    storage.registerTopology("t2", {{"general", {{"weight", "heavy"}}}});
  });
  expectRejected("17 MiB config", [&] {
    storage.registerTopology("t2", {{"blob", std::string(17 * 1024 * 1024, 'b')}});
  });
  expectRejected("negative lifetime",
                 [&] { storage.sendMessageToWorker("w1", "x", Json::object(), -5s); });
  expectRejected("unknown worker status",
                 [&] { storage.setWorkerStatus("w1", static_cast<WorkerState>(42)); });
  expectRejected("unknown leadership status",
                 [&] { storage.setWorkerLStatus("w1", static_cast<Leadership>(42)); });
  expectRejected("unknown topology status", [&] {
    storage.setTopologyStatus({"t1", std::nullopt, static_cast<TopologyState>(42), std::nullopt});
  });
  expectRejected("invalid UTF-8 content", [&] {
    storage.sendMessageToWorker("w1", "x", {{"text", "\xc3\x28"}}, 1s);
  });
  std::printf(
      "[stress] bad input: %d rejections with tables unchanged, %d odd names round-tripped\n",
      rejected, round_tripped);
}

// --- 6. migration under contention and failure ----------------------------------------

TEST(Stress, MigrationSurvivesAProcessKilledMidway) {
  std::mt19937 random(7);
  for (int attempt = 0; attempt < 3; ++attempt) {
    TestDatabase db;
    std::vector<Child> starters;
    for (int i = 0; i < 8; ++i) {
      starters.emplace_back(QTOPOLOGY_CONSTRUCT_COORDINATOR, std::vector<std::string>{db.url()});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10 + random() % 60));
    starters[0].signal(SIGKILL);
    const auto started = Clock::now();
    int ok = 0;
    for (std::size_t i = 1; i < starters.size(); ++i) ok += starters[i].wait() == 0;
    EXPECT_EQ(starters[0].wait(), 128 + SIGKILL);
    Child next(QTOPOLOGY_CONSTRUCT_COORDINATOR, {db.url()});
    EXPECT_EQ(next.wait(), 0);
    const auto files = db.count("qtopology_settings", "name LIKE 'schema\\_file:%'");
    std::printf(
        "[stress] migration %d: 8 starters, one killed; %d of 7 succeeded in %lld ms; "
        "%lld files recorded\n",
        attempt, ok, ms(Clock::now() - started), files);
    EXPECT_EQ(ok, 7);
    EXPECT_EQ(files, testing::freshUpgradeCount());
    EXPECT_EQ(db.scalar("SELECT value FROM qtopology_settings WHERE name = 'db_version'"),
              std::to_string(MySqlCoordinator::latestSchemaVersion()));
    EXPECT_GE(std::stoi(db.scalar("SELECT COUNT(*) FROM information_schema.routines WHERE "
                                  "routine_schema = DATABASE()")),
              14);
  }
}

// --- 7. schema mismatch ----------------------------------------------------------------

TEST(Stress, OlderLibraryLeavesNewerSchemaAloneAndCheckOnlyRefuses) {
  TestDatabase db;
  { MySqlCoordinator current(db.options()); }
  auto scripts = detail::upgradeScripts();
  scripts.erase(std::remove_if(scripts.begin(), scripts.end(),
                               [](const auto& s) {
                                 return s.version == MySqlCoordinator::latestSchemaVersion();
                               }),
                scripts.end());
  auto session = testing::connectRaw(db.options());
  auto sink = std::make_shared<testing::CountingLogger>();
  detail::Migrator older(*session, detail::Log(*sink), detail::RetryPolicy::from(db.options()),
                         "older", scripts);
  const auto settings_before = db.scalar(
      "SELECT GROUP_CONCAT(CONCAT(name, '=', value) ORDER BY name) FROM "
      "qtopology_settings");
  EXPECT_EQ(older.migrate(), MySqlCoordinator::latestSchemaVersion());
  EXPECT_EQ(sink->warnings, 1);
  EXPECT_EQ(db.scalar("SELECT GROUP_CONCAT(CONCAT(name, '=', value) ORDER BY name) FROM "
                      "qtopology_settings"),
            settings_before);
  EXPECT_THROW(older.check(), SchemaError);
}

}  // namespace
}  // namespace qtopology
