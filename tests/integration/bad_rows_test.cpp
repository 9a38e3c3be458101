// Placement survives bad rows, on the real server: topology rows that fail
// validation, written by plain SQL and by the Node package qtopology-mysql
// 2.2.1, and a TopologyWorker leading over MySqlCoordinator. The leader skips
// them, logs each once, and places a new topology in its next loop.
#include <gtest/gtest.h>

#include <cstdio>
#include <mutex>

#include <qtopology/mysql_coordinator.hpp>
#include <qtopology/worker.hpp>

#include "recording_runner.hpp"
#include "test_database.hpp"

namespace qtopology {
namespace {

using namespace std::chrono_literals;
using testing::sqlBytes;
using testing::TestDatabase;

// Every line the worker logs.
class Lines final : public Logger {
 public:
  void log(LogLevel, std::string_view message) noexcept override {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(message);
  }
  int count(const std::string& text) {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& line : lines_) n += line.find(text) != std::string::npos;
    return n;
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

class BadRowsOnMySql : public ::testing::Test {
 protected:
  // A row as plain SQL leaves it: enabled, unassigned unless `status` says.
  void insertRow(const std::string& uuid, const std::string& config,
                 const std::string& status = "unassigned", const std::string& affinity = "",
                 double weight = 1) {
    db_.exec(
        "INSERT INTO qtopology_topology (uuid, config, status, worker, weight, worker_affinity, "
        "last_ping, error, enabled, pid) VALUES (" +
        sqlBytes(uuid) + ", " + sqlBytes(config) + ", " + sqlBytes(status) + ", NULL, " +
        std::to_string(weight) + ", " + sqlBytes(affinity) + ", NOW(), NULL, 1, NULL)");
  }

  // The worker ticks once a second of its clock, and leads every second:
  // each loop() is one tick and one leader loop.
  void startWorker() {
    WorkerOptions o;
    o.name = "w1";
    o.tick = 1s;
    o.leader_loop = 1s;
    o.clock = [this] { return std::chrono::steady_clock::time_point(elapsed_.load()); };
    o.logger = lines_;
    worker_ = std::make_unique<TopologyWorker>(storage_, runner_, std::move(o));
    worker_->start();
  }
  void loop() {
    elapsed_ = elapsed_.load() + 1s;
    worker_->tick();
  }

  // Leader loops until `uuid` is assigned, at most `limit` (then limit + 1).
  int loopsUntilPlaced(const std::string& uuid, int limit) {
    for (int loops = 1; loops <= limit; ++loops) {
      loop();
      if (storage_.getTopologyInfo(uuid).worker) return loops;
    }
    return limit + 1;
  }

  // The leader's first two loops see only bad rows; then a new topology
  // comes, is placed within 2 loops, and runs; 10 loops later every bad row
  // has been logged once.
  void expectPlacementDespite(const std::vector<std::string>& bad_shown) {
    startWorker();
    loop();
    ASSERT_TRUE(worker_->isLeader());
    loop();
    storage_.registerTopology("new", Json{{"general", {{"weight", 1}}}});
    storage_.enableTopology("new");
    const int loops = loopsUntilPlaced("new", 2);
    std::printf("placed within %d leader loop(s) of its registration\n", loops);
    EXPECT_LE(loops, 2);
    for (int i = 0; i < 10; ++i) loop();
    EXPECT_EQ(storage_.getTopologyInfo("new").status, TopologyState::running);
    EXPECT_EQ(runner_.starts, std::vector<std::string>{"new"});
    for (const auto& shown : bad_shown) {
      EXPECT_EQ(lines_->count("topology " + shown + " is not placed"), 1) << shown;
    }
    EXPECT_EQ(lines_->count("is not placed"), static_cast<int>(bad_shown.size()));
    EXPECT_EQ(lines_->count("failed"), 0);  // no loop failed
    for (const auto& line : lines_->all()) {
      for (unsigned char c : line) ASSERT_TRUE(c >= 0x20 && c != 0x7F) << line;
    }
    std::printf("%zu bad rows, %d log lines about them in %d leader loops\n", bad_shown.size(),
                lines_->count("is not placed"), 12 + loops);
    // Every bad row is still there, listed and flagged, for an operator.
    int flagged = 0;
    for (const auto& t : storage_.getTopologyStatus()) flagged += t.invalid.has_value();
    EXPECT_EQ(flagged, static_cast<int>(bad_shown.size()));
  }

  TestDatabase db_;
  MySqlCoordinator storage_{db_.options()};
  std::shared_ptr<Lines> lines_ = std::make_shared<Lines>();
  testing::RecordingRunner runner_;
  std::atomic<std::chrono::steady_clock::duration> elapsed_{std::chrono::hours(1000)};
  std::unique_ptr<TopologyWorker> worker_;
};

TEST_F(BadRowsOnMySql, RowsWrittenBySqlAreSkippedAndTheRestIsPlaced) {
  insertRow("sql\x01uuid", "{}");
  insertRow("sql-bad-status", "{}", "paused");
  insertRow("sql-bad-config", "{\"general\": ");
  insertRow("sql-array-config", "[\"not\", \"an object\"]");
  insertRow("sql-bad-affinity", "{}", "unassigned", "w1,w\x1b[31m");
  insertRow("sql-bad-weight", "{}", "unassigned", "", -1);
  expectPlacementDespite({"sql\\x01uuid", "sql-bad-status", "sql-bad-config", "sql-array-config",
                          "sql-bad-affinity", "sql-bad-weight"});
}

// Runs tests/interop/node_peer.js (as interop_test.cpp does) in its bad-rows
// mode, which writes through the Node package's own calls.
TEST_F(BadRowsOnMySql, RowsWrittenByTheNodePackageAreSkippedAndTheRestIsPlaced) {
  const std::string command = std::string("NODE_PATH='") + QTOPOLOGY_NODE_PEER_DIR +
                              "/node_modules' node '" + QTOPOLOGY_SOURCE_DIR +
                              "/tests/interop/node_peer.js' --url '" + db_.url() +
                              "' --mode bad-rows 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  expectPlacementDespite(
      {"node\\x01bad\\x1b[2J", "node-bad-affinity", "node-bad-weight", "node-bad-status"});
}

}  // namespace
}  // namespace qtopology
