// Placement survives bad rows, with qtopology-worker processes: topology rows
// written by plain SQL that fail validation stay where they are, the leader
// logs each once, and a topology registered next is placed within two leader
// loops and runs as a child process.
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include "cluster_fixture.hpp"

namespace qtopology::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kLeaderLoop{1000};  // ClusterFixture's --leader-loop-ms

int occurrences(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class BadRowsTest : public ClusterFixture {};

TEST_F(BadRowsTest, ANewTopologyIsPlacedWithinTwoLeaderLoopsAndEachBadRowLoggedOnce) {
  db_.exec(
      "INSERT INTO qtopology_topology (uuid, config, status, worker, weight, worker_affinity, "
      "last_ping, error, enabled, pid) VALUES "
      "(CONCAT('e2e', CHAR(1), 'uuid'), '{}', 'unassigned', NULL, 1, '', NOW(), NULL, 1, NULL), "
      "('e2e-bad-status', '{}', 'paused', NULL, 1, '', NOW(), NULL, 1, NULL), "
      "('e2e-bad-config', '{\"general\": ', 'unassigned', NULL, 1, '', NOW(), NULL, 1, NULL)");
  const std::vector<std::string> shown = {"e2e\\x01uuid", "e2e-bad-status", "e2e-bad-config"};
  startWorker("w1");
  // Its first loops have seen the bad rows.
  ASSERT_TRUE(eventually(std::chrono::seconds(30), [&] {
    return occurrences(readFile(logOf("w1")), "is not placed") == 3;
  })) << readFile(logOf("w1"));

  storage_->registerTopology("fresh", {{"general", {{"command", {"sleep", "600"}}}}});
  const auto registered = Clock::now();
  storage_->enableTopology("fresh");
  ASSERT_TRUE(eventually(std::chrono::seconds(30),
                         [&] { return storage_->getTopologyInfo("fresh").worker.has_value(); }));
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - registered);
  std::printf("placed %lld ms after its registration (leader loop %lld ms)\n",
              static_cast<long long>(took.count()), static_cast<long long>(kLeaderLoop.count()));
  // Two loops, and the one tick a loop may wait for (the worker ticks every second).
  EXPECT_LE(took, 2 * kLeaderLoop + milliseconds(1000));
  ASSERT_TRUE(eventually(std::chrono::seconds(30),
                         [&] { return runsAsChildOfItsWorker(topologies().at("fresh")); }));

  // Five more loops: still one line per bad row.
  std::this_thread::sleep_for(5 * kLeaderLoop);
  const auto log = readFile(logOf("w1"));
  for (const auto& uuid : shown) {
    EXPECT_EQ(occurrences(log, "topology " + uuid + " is not placed"), 1) << uuid << "\n" << log;
  }
  std::printf("%d log lines about %zu bad rows\n", occurrences(log, "is not placed"), shown.size());
  for (unsigned char c : log) ASSERT_TRUE(c >= 0x20 || c == '\n') << log;
  // The bad rows are where they were: not assigned, listed as invalid.
  int invalid = 0;
  for (const auto& [uuid, t] : topologies()) {
    if (!t.invalid) continue;
    ++invalid;
    EXPECT_FALSE(t.worker.has_value()) << uuid;
  }
  EXPECT_EQ(invalid, 3);
}

}  // namespace
}  // namespace qtopology::testing
