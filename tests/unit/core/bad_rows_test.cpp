// Placement with rows another writer left that fail validation (a uuid with a
// control character, an unknown status, a bad affinity or weight): the
// leader skips them, logs each once, and places everything else. On
// MemoryStorage, whose checked writes cannot make such rows: TestStorage
// lists them beside its own.
#include <gtest/gtest.h>

#include "worker/invalid_rows.hpp"
#include "worker_cluster.hpp"

namespace qtopology::testing {
namespace {

using ts = TopologyState;

TopologyStatus foreign(std::string uuid, std::optional<std::string> invalid = std::nullopt) {
  TopologyStatus t;
  t.uuid = std::move(uuid);
  t.status = ts::unassigned;
  t.enabled = true;
  t.invalid = std::move(invalid);
  return t;
}

// The four kinds: flagged by the storage (a status it could not read), and
// three a storage that checks nothing would pass on unflagged.
std::vector<TopologyStatus> badRows() {
  std::vector<TopologyStatus> rows{
      foreign("bad-status", "status 'paused' is not a topology status"),
      foreign("bad\x01uuid\x1b[2J")};
  rows.push_back(foreign("bad-affinity"));
  rows.back().worker_affinity = {"w1", "evil\nline"};
  rows.push_back(foreign("bad-weight"));
  rows.back().weight = -2;
  return rows;
}

// Leader loops until `uuid` is assigned, at most `limit`.
int loopsUntilPlaced(Cluster& c, const std::string& uuid, int limit) {
  for (int loops = 1; loops <= limit; ++loops) {
    c.round();  // one second: one tick, and one leader loop (leader_loop = 1 s)
    if (c.info(uuid).worker) return loops;
  }
  return limit + 1;
}

TEST(BadRows, LeaderPlacesTheRestWithinOneLoopAndLogsEachBadRowOnce) {
  Cluster c;
  const auto sink = std::make_shared<LineSink>();
  c.logger = lineLogger(sink);
  c.storage.foreign_rows = badRows();
  c.add("w1");
  c.add("w2");
  c.round();  // w1 leads
  ASSERT_TRUE(c.worker("w1").isLeader());
  c.topology("new");
  EXPECT_EQ(loopsUntilPlaced(c, "new", 2), 1);
  c.rounds(12);
  EXPECT_EQ(c.info("new").status, ts::running);
  EXPECT_EQ(c.runningOn("new").size(), 1u);
  // One line per bad row, in 14 loops; its text escaped.
  for (const auto* shown : {"bad-status", "bad\\x01uuid\\x1b[2J", "bad-affinity", "bad-weight"}) {
    EXPECT_EQ(sink->count(std::string("topology ") + shown + " is not placed", LogLevel::warn), 1)
        << shown;
  }
  EXPECT_EQ(sink->count("contains a control character"), 2);  // uuid, affinity
  EXPECT_EQ(sink->count("weight must be a positive number, not -2"), 1);
  EXPECT_EQ(sink->count("failed"), 0);  // no loop failed
  for (const auto& line : sink->lines()) {
    for (unsigned char ch : line) ASSERT_TRUE(ch >= 0x20 && ch != 0x7F) << line;
  }
  // Nothing was sent or started for them.
  for (const auto& [name, runner] : c.runners) {
    for (const auto& started : runner->starts) EXPECT_EQ(started, "new") << name;
  }
}

TEST(BadRows, ARowFixedAndBrokenAgainIsLoggedAgain) {
  Cluster c;
  const auto sink = std::make_shared<LineSink>();
  c.logger = lineLogger(sink);
  c.storage.foreign_rows = {foreign("flaky", "status 'x' is not a topology status")};
  c.add("w1");
  c.rounds(3);
  EXPECT_EQ(sink->count("topology flaky is not placed"), 1);
  c.storage.foreign_rows.clear();  // deleted, or fixed
  c.rounds(2);
  c.storage.foreign_rows = {foreign("flaky", "status 'x' is not a topology status")};
  c.rounds(3);
  EXPECT_EQ(sink->count("topology flaky is not placed"), 2);
}

TEST(BadRows, AWorkerLeavesAnInvalidRowOfItsOwnAlone) {
  Cluster c;
  c.add("w1");
  c.topology("t1");
  c.rounds(3);
  ASSERT_EQ(c.runningOn("t1"), std::vector<std::string>{"w1"});
  // Its row now reads back bad (another writer changed the status): the
  // worker's check of its assignments neither kills it nor writes.
  c.storage.deleteTopology("t1");
  auto row = foreign("t1", "status 'paused' is not a topology status");
  row.worker = "w1";
  c.storage.foreign_rows = {row};
  c.rounds(40);  // the worker re-reads its assignments every few ticks
  EXPECT_EQ(c.runningOn("t1"), std::vector<std::string>{"w1"});
  EXPECT_TRUE(c.runner("w1").kills.empty());
}

TEST(BadRows, TheRememberedSetIsBounded) {
  const auto sink = std::make_shared<LineSink>();
  const detail::Log log(*sink);
  detail::InvalidRows rows;
  const std::size_t bad = detail::InvalidRows::kRemembered * 3;
  for (int loop = 0; loop < 5; ++loop) {
    std::vector<TopologyStatus> listed{foreign("good")};
    for (std::size_t i = 0; i < bad; ++i)
      listed.push_back(foreign("bad-" + std::to_string(i), "x"));
    rows.takeOut(listed, log, "w1");
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed.front().uuid, "good");
    EXPECT_LE(rows.remembered(), detail::InvalidRows::kRemembered);
  }
  // Each remembered one once; the rest as one line, once while their number stays.
  EXPECT_EQ(sink->count("is not placed: its row is invalid"),
            static_cast<int>(detail::InvalidRows::kRemembered));
  EXPECT_EQ(sink->count("2000 more topologies are not placed"), 1);
}

}  // namespace
}  // namespace qtopology::testing
