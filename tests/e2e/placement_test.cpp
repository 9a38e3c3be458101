// The leader's placement rule, without a cluster.
#include <gtest/gtest.h>

#include <map>

#include "placement.hpp"

namespace qtopology::worker {
namespace {

TopologyStatus topology(std::string uuid, double weight, std::string status = "unassigned",
                        std::optional<std::string> worker = std::nullopt,
                        std::vector<std::string> affinity = {}, bool enabled = true) {
  TopologyStatus t;
  t.uuid = std::move(uuid);
  t.weight = weight;
  t.status = std::move(status);
  t.worker = std::move(worker);
  t.worker_affinity = std::move(affinity);
  t.enabled = enabled;
  return t;
}

std::map<std::string, std::string> byUuid(const std::vector<Placement>& placements) {
  std::map<std::string, std::string> out;
  for (const auto& p : placements) out[p.uuid] = p.worker;
  return out;
}

TEST(Placement, NoAliveWorkerPlacesNothing) {
  EXPECT_TRUE(placeTopologies({}, {topology("a", 1)}).empty());
}

TEST(Placement, OnlyEnabledUnassignedTopologiesArePlaced) {
  const auto placed =
      byUuid(placeTopologies({"w1"}, {topology("off", 1, "unassigned", std::nullopt, {}, false),
                                      topology("err", 1, "error", "w1"),
                                      topology("run", 1, "running", "w1"), topology("new", 1)}));
  EXPECT_EQ(placed, (std::map<std::string, std::string>{{"new", "w1"}}));
}

TEST(Placement, LeastLoadedWorkerWinsAndTiesGoByName) {
  const auto placed = byUuid(placeTopologies(
      {"w2", "w1", "w3"}, {topology("busy", 5, "running", "w1"), topology("x", 1)}));
  EXPECT_EQ(placed.at("x"), "w2");  // w2 and w3 both empty: the smaller name
}

TEST(Placement, WaitingTopologiesCountAsLoadButErrorsAndDeadWorkersDoNot) {
  const auto placed = byUuid(placeTopologies(
      {"w1", "w2"}, {topology("w", 3, "waiting", "w1"), topology("e", 9, "error", "w2"),
                     topology("gone", 9, "running", "dead-worker"), topology("x", 1)}));
  EXPECT_EQ(placed.at("x"), "w2");
}

TEST(Placement, AffinityDividesTheLoadByFive) {
  // w1 carries 4 (4/5 = 0.8 with affinity), w2 carries 1: affinity wins.
  const auto placed = byUuid(placeTopologies(
      {"w1", "w2"}, {topology("a", 4, "running", "w1"), topology("b", 1, "running", "w2"),
                     topology("x", 1, "unassigned", std::nullopt, {"w1"})}));
  EXPECT_EQ(placed.at("x"), "w1");
  // w1 carries 6 (1.2): more than w2's 1, so affinity loses.
  const auto heavier = byUuid(placeTopologies(
      {"w1", "w2"}, {topology("a", 6, "running", "w1"), topology("b", 1, "running", "w2"),
                     topology("x", 1, "unassigned", std::nullopt, {"w1"})}));
  EXPECT_EQ(heavier.at("x"), "w2");
}

TEST(Placement, AffinityBreaksEqualLoads) {
  const auto placed =
      byUuid(placeTopologies({"w1", "w2"}, {topology("x", 1, "unassigned", std::nullopt, {"w2"})}));
  EXPECT_EQ(placed.at("x"), "w2");
}

TEST(Placement, HeaviestFirstAndEachPlacementAddsLoad) {
  // The demo's six topologies on three empty workers.
  const auto placements = placeTopologies(
      {"worker-1", "worker-2", "worker-3"},
      {topology("audit-archiver", 1, "unassigned", std::nullopt, {"worker-2"}),
       topology("clickstream", 3), topology("email-digest", 1), topology("fraud-scoring", 3),
       topology("metrics-rollup", 2), topology("orders-ingest", 4)});
  ASSERT_EQ(placements.size(), 6u);
  EXPECT_EQ(placements.front().uuid, "orders-ingest");
  EXPECT_EQ(byUuid(placements), (std::map<std::string, std::string>{
                                    {"orders-ingest", "worker-1"},
                                    {"clickstream", "worker-2"},
                                    {"fraud-scoring", "worker-3"},
                                    {"metrics-rollup", "worker-2"},
                                    {"audit-archiver", "worker-2"},
                                    {"email-digest", "worker-3"},
                                }));
}

}  // namespace
}  // namespace qtopology::worker
