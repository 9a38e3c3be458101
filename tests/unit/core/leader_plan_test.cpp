// The leader's rules without a storage: placement, reclaiming, rebalancing.
#include <gtest/gtest.h>

#include <map>

#include "worker/leader_plan.hpp"
#include "worker/load_balancer.hpp"

namespace qtopology::detail {
namespace {

TopologyStatus topology(std::string uuid, double weight, std::string status = "unassigned",
                        std::optional<std::string> worker = std::nullopt,
                        std::vector<std::string> affinity = {}, bool enabled = true) {
  TopologyStatus t;
  t.uuid = std::move(uuid);
  t.weight = weight;
  t.status = parseTopologyState(status);  // the tables below spell statuses as text
  t.worker = std::move(worker);
  t.worker_affinity = std::move(affinity);
  t.enabled = enabled;
  return t;
}

std::vector<WorkerStatus> workers(std::map<std::string, std::string> statuses) {
  std::vector<WorkerStatus> out;
  for (auto& [name, status] : statuses)
    out.push_back({name, parseWorkerState(status), Leadership::normal, {}, std::nullopt});
  return out;
}

std::vector<WorkerStatus> alive(std::vector<std::string> names) {
  std::map<std::string, std::string> statuses;
  for (auto& n : names) statuses[n] = "alive";
  return workers(statuses);
}

std::map<std::string, std::string> placed(const LeaderActions& actions) {
  std::map<std::string, std::string> out;
  for (const auto& a : actions.assignments) out[a.uuid] = a.worker;
  return out;
}

// --- LoadBalancer -----------------------------------------------------------

TEST(LoadBalancer, LeastLoadedWinsAndTiesGoToTheFirstName) {
  LoadBalancer b({{"w2", 0}, {"w1", 5}, {"w3", 0}});
  EXPECT_EQ(b.next({}, 1), "w2");
  EXPECT_EQ(b.next({}, 1), "w3");
  EXPECT_EQ(b.next({}, 1), "w2");
  EXPECT_EQ(b.loads(), (std::map<std::string, double>{{"w1", 5}, {"w2", 2}, {"w3", 1}}));
}

TEST(LoadBalancer, AffinityDividesLoadPlusWeightByFive) {
  // w1: (4 + 1) / 5 = 1 against w2's 1 + 1 = 2.
  EXPECT_EQ(LoadBalancer({{"w1", 4}, {"w2", 1}}).next({"w1"}, 1), "w1");
  // w1: (11 + 1) / 5 = 2.4 against 2: affinity loses.
  EXPECT_EQ(LoadBalancer({{"w1", 11}, {"w2", 1}}).next({"w1"}, 1), "w2");
  // Equal loads: affinity decides.
  EXPECT_EQ(LoadBalancer({{"w1", 0}, {"w2", 0}}).next({"w2"}, 1), "w2");
}

TEST(LoadBalancer, BalancedLoadIsNotRebalanced) {
  const LoadBalancer b({{"w1", 2}, {"w2", 2}});
  const auto plan =
      b.rebalance({{"a", 1, {}, "w1"}, {"b", 1, {}, "w1"}, {"c", 1, {}, "w2"}, {"d", 1, {}, "w2"}});
  EXPECT_EQ(plan.score, 0.0);
  EXPECT_TRUE(plan.moves.empty());
}

TEST(LoadBalancer, SlightImbalanceStaysBelowTheThreshold) {
  // Ideal 5/4 against 6/3: (6/5 + 4/3) / 2 = 1.27.
  const LoadBalancer b({{"w1", 6}, {"w2", 3}});
  const auto plan =
      b.rebalance({{"a", 3, {}, "w1"}, {"b", 3, {}, "w1"}, {"c", 2, {}, "w2"}, {"d", 1, {}, "w2"}});
  EXPECT_NEAR(plan.score, (6.0 / 5 + 4.0 / 3) / 2, 1e-9);
  EXPECT_TRUE(plan.moves.empty());
}

TEST(LoadBalancer, AllOnOneWorkerMovesHalf) {
  const LoadBalancer b({{"w1", 4}, {"w2", 0}});
  const auto plan =
      b.rebalance({{"a", 1, {}, "w1"}, {"b", 1, {}, "w1"}, {"c", 1, {}, "w1"}, {"d", 1, {}, "w1"}});
  EXPECT_GE(plan.score, kRebalanceThreshold);
  ASSERT_EQ(plan.moves.size(), 2u);
  for (const auto& m : plan.moves) {
    EXPECT_EQ(m.worker_old, "w1");
    EXPECT_EQ(m.worker_new, "w2");
  }
}

TEST(LoadBalancer, DeviationScoreFollowsNodesFormula) {
  EXPECT_EQ(deviationScore({{"a", 2}, {"b", 2}}, {{"a", 2}, {"b", 2}}), 0.0);
  EXPECT_EQ(deviationScore({{"a", 2}, {"b", 2}}, {{"a", 4}, {"b", 0}}), (2.0 + 100.0) / 2);
  EXPECT_EQ(deviationScore({{"a", 1}}, {}), 100.0);
}

// --- planLeaderActions --------------------------------------------------------

TEST(LeaderPlan, NothingIsPlacedWithoutAnAliveWorker) {
  const auto actions = planLeaderActions(workers({{"w1", "disabled"}}), {topology("a", 1)}, false);
  EXPECT_TRUE(actions.empty());
}

TEST(LeaderPlan, OnlyEnabledUnassignedTopologiesArePlaced) {
  const auto actions = planLeaderActions(
      alive({"w1"}),
      {topology("off", 1, "unassigned", std::nullopt, {}, false), topology("err", 1, "error", "w1"),
       topology("run", 1, "running", "w1"), topology("new", 1)},
      false);
  EXPECT_EQ(placed(actions), (std::map<std::string, std::string>{{"new", "w1"}}));
}

TEST(LeaderPlan, WaitingCountsAsLoadButErrorsAndOtherWorkersDoNot) {
  const auto actions = planLeaderActions(
      alive({"w1", "w2"}),
      {topology("w", 3, "waiting", "w1"), topology("e", 9, "error", "w2"), topology("x", 1)},
      false);
  EXPECT_EQ(placed(actions).at("x"), "w2");
}

TEST(LeaderPlan, HeaviestFirstAndEachPlacementAddsLoad) {
  // The demo's six topologies on three empty workers.
  const auto actions = planLeaderActions(
      alive({"worker-1", "worker-2", "worker-3"}),
      {topology("audit-archiver", 1, "unassigned", std::nullopt, {"worker-2"}),
       topology("clickstream", 3), topology("email-digest", 1), topology("fraud-scoring", 3),
       topology("metrics-rollup", 2), topology("orders-ingest", 4)},
      false);
  ASSERT_EQ(actions.assignments.size(), 6u);
  EXPECT_EQ(actions.assignments.front().uuid, "orders-ingest");
  EXPECT_EQ(placed(actions), (std::map<std::string, std::string>{
                                 {"orders-ingest", "worker-1"},
                                 {"clickstream", "worker-2"},
                                 {"fraud-scoring", "worker-3"},
                                 {"metrics-rollup", "worker-2"},
                                 {"audit-archiver", "worker-2"},
                                 {"email-digest", "worker-3"},
                             }));
}

TEST(LeaderPlan, DeadWorkerIsUnloadedAndItsWorkMovesButErrorsStay) {
  const auto actions =
      planLeaderActions(workers({{"w1", "alive"}, {"w2", "dead"}}),
                        {topology("a", 1, "running", "w2"), topology("b", 1, "waiting", "w2"),
                         topology("e", 1, "error", "w2")},
                        false);
  EXPECT_EQ(actions.unload_workers, std::vector<std::string>{"w2"});
  EXPECT_EQ(placed(actions), (std::map<std::string, std::string>{{"a", "w1"}, {"b", "w1"}}));
}

TEST(LeaderPlan, WorkLeftOnAnUnloadedWorkerGoesBackToThePool) {
  auto actions = planLeaderActions(
      workers({{"w1", "alive"}, {"w2", "unloaded"}}),
      {topology("a", 1, "running", "w2"), topology("e", 1, "error", "w2")}, false);
  EXPECT_TRUE(actions.unload_workers.empty());
  EXPECT_EQ(actions.unassign_topologies, std::vector<std::string>{"a"});
  EXPECT_EQ(placed(actions), (std::map<std::string, std::string>{{"a", "w1"}}));
  // Nothing left: nothing to do.
  actions = planLeaderActions(workers({{"w1", "alive"}, {"w2", "unloaded"}}),
                              {topology("a", 1, "running", "w1")}, false);
  EXPECT_TRUE(actions.empty());
}

TEST(LeaderPlan, DisabledWorkerKeepsWhatItIsStopping) {
  const auto actions = planLeaderActions(workers({{"w1", "alive"}, {"w2", "disabled"}}),
                                         {topology("a", 1, "running", "w2")}, false);
  EXPECT_TRUE(actions.empty());
}

TEST(LeaderPlan, RunningWithoutWorkerAndWorkOfUnknownWorkersIsRepaired) {
  const auto actions = planLeaderActions(
      alive({"w1"}), {topology("a", 1, "running"), topology("b", 1, "waiting", "gone")}, false);
  EXPECT_EQ(actions.unassign_topologies, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(placed(actions), (std::map<std::string, std::string>{{"a", "w1"}, {"b", "w1"}}));
}

TEST(LeaderPlan, RebalanceMovesOnlyRunningTopologiesAndOnlyWhenAsked) {
  const std::vector<TopologyStatus> all_on_w1{
      topology("a", 1, "running", "w1"), topology("b", 1, "running", "w1"),
      topology("c", 1, "running", "w1"), topology("d", 1, "waiting", "w1")};
  EXPECT_TRUE(planLeaderActions(alive({"w1", "w2"}), all_on_w1, false).empty());
  const auto actions = planLeaderActions(alive({"w1", "w2"}), all_on_w1, true);
  EXPECT_FALSE(actions.moves.empty());
  for (const auto& m : actions.moves) {
    EXPECT_NE(m.uuid, "d");
    EXPECT_EQ(m.worker_old, "w1");
    EXPECT_EQ(m.worker_new, "w2");
  }
}

}  // namespace
}  // namespace qtopology::detail
